"""Content checksums: the SHA-256 of a file's decompressed IDX bytes, whatever holds them.

A file's *container* checksum changes when it is re-gzipped, decompressed by
a browser or recompressed with xz; its *content* checksum, over the IDX bytes
themselves (header and payload), does not. :func:`idx_digest` streams any
container (gzip of any level, xz, bz2 or raw, detected from the bytes, never
the name) through the hash in bounded chunks, and can write the IDX bytes out
in the same pass. The header is read and checked by the reader's own
:func:`~idxmnist.idx.reader.idx_stream`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import TruncatedError
from ..files import CHUNK
from .compression import Container
from .format import IdxHeader, encode_header
from .reader import idx_stream

__all__ = ["IdxContent", "idx_digest", "Writable"]


class Writable(Protocol):
    """Anything with a ``write(bytes)``: a file, a ``GzipFile``, a hash wrapper."""

    def write(self, data: Any, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class IdxContent:
    """What one IDX file holds: its container ``kind``, header, and content sha256.

    ``sha256`` is None when the payload was not hashed (its size was not one
    asked for).
    """

    kind: Container
    header: IdxHeader
    sha256: str | None

    @property
    def size(self) -> int:
        """The length of the IDX bytes: header and payload."""
        return self.header.total_size

    def describe(self) -> str:
        """``uint8 (60000, 28, 28)``."""
        return f"{self.header.dtype.name} {self.header.shape}"


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
    with idx_stream(path) as (stream, header):
        if sizes is not None and header.total_size not in sizes:
            return IdxContent(stream.kind, header, None)
        head = encode_header(header.dtype, header.shape)
        digest = hashlib.sha256(head)
        if out is not None:
            out.write(head)
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
    return IdxContent(stream.kind, header, digest.hexdigest())
