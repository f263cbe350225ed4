"""Content checksums: the SHA-256 of a file's decompressed IDX bytes, whatever holds them.

A file's *container* checksum changes when it is re-gzipped, decompressed by
a browser or recompressed with xz; its *content* checksum, over the IDX bytes
themselves (header and payload), does not. :func:`idx_digest` streams any
container (gzip of any level, xz, bz2 or raw, detected from the bytes, never
the name) through the hash in bounded chunks, and can write the IDX bytes out
in the same pass.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import IdxError, TruncatedError
from ..idx import compression
from ..idx.format import IdxHeader, parse_dims, parse_magic
from .registry import RemoteFile

__all__ = ["IdxContent", "idx_digest", "content_mismatch", "SUFFIX", "reason_of"]

CHUNK = 1 << 20
#: the file-name suffix of each container kind
SUFFIX = {"gzip": ".gz", "xz": ".xz", "bz2": ".bz2", "raw": ""}


class Writable(Protocol):
    """Anything with a ``write(bytes)``: a file, a ``GzipFile``, a hash wrapper."""

    def write(self, data: Any, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class IdxContent:
    """What one IDX file holds: its container ``kind``, header, and content sha256.

    ``sha256`` is None when the payload was not hashed (its size was not one
    asked for).
    """

    kind: str
    header: IdxHeader
    sha256: str | None

    @property
    def size(self) -> int:
        """The length of the IDX bytes: header and payload."""
        return self.header.total_size

    def describe(self) -> str:
        """``uint8 (60000, 28, 28)``."""
        return f"{self.header.dtype.name} {self.header.shape}"


def reason_of(exc: BaseException, name: str) -> str:
    """An error's message without the leading ``name: `` the format layer puts there."""
    text = str(exc)
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text


def idx_digest(
    path: str | os.PathLike[str],
    *,
    sizes: Collection[int] | None = None,
    out: Writable | None = None,
) -> IdxContent:
    """The container, header and content sha256 of the IDX file at ``path``.

    With ``sizes``, a file whose header declares another total size is not
    hashed (``sha256`` None). With ``out``, the IDX bytes are also written
    there. Raises :class:`IdxError` for anything that is not exactly one
    IDX file (:class:`TruncatedError` when it ends early).
    """
    name = os.fspath(path)
    with open(path, "rb") as f:
        kind = compression.sniff(f.read(6))
        f.seek(0)
        stream = compression.Stream(f, kind, name)
        magic = stream.read_exact(4)
        code, ndim = parse_magic(magic, name)
        dims = stream.read_exact(4 * ndim)
        header = parse_dims(code, ndim, dims, name)
        if sizes is not None and header.total_size not in sizes:
            return IdxContent(kind, header, None)
        digest = hashlib.sha256(magic)
        digest.update(dims)
        if out is not None:
            out.write(magic + dims)
        buf = memoryview(bytearray(min(CHUNK, max(header.payload_size, 1))))
        left = header.payload_size
        while left:
            n = stream.readinto(buf[: min(len(buf), left)])
            if n == 0:
                done = header.payload_size - left
                raise TruncatedError(
                    f"{name}: ends after {done} of the {header.payload_size} payload bytes "
                    f"its IDX header declares: the file is truncated (an interrupted download?)"
                )
            digest.update(buf[:n])
            if out is not None:
                out.write(buf[:n])
            left -= n
        stream.finish()
    return IdxContent(kind, header, digest.hexdigest())


def content_mismatch(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Why the IDX bytes in ``path`` are not ``remote``'s pinned content; None if they are."""
    if remote.content is None:
        return "no content hash is pinned for this file"
    name = os.fspath(path)
    sizes = None if remote.content_size is None else (remote.content_size,)
    try:
        found = idx_digest(path, sizes=sizes)
    except IdxError as exc:
        return reason_of(exc, name)
    if found.sha256 is None:
        return (
            f"its IDX header declares {found.describe()}, {found.size} bytes; "
            f"expected {remote.content_size} bytes"
        )
    if found.sha256 != remote.content:
        return f"sha256 of the IDX bytes is {found.sha256}, expected {remote.content}"
    return None
