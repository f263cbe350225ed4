"""Is this file the registry's? By its container checksum, else by its content.

The size is compared first (a stat, free), the digest only when it matches;
files are hashed in bounded chunks. :func:`verdict` accepts a file whose
exact bytes match (the *container* check), else one whose decompressed IDX
bytes match the pinned content hash (the *content* check), and otherwise
says which check failed and why.

:class:`Tally` is the one place bytes are hashed as they pass (a download, a
member copied out of an archive, an export), and :func:`container_mismatch`
the one comparison of a size and digest with a pin.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..datasets.spec import RemoteFile
from ..errors import IdxError, reason_of
from ..files import CHUNK, open_regular
from ..idx.compression import Container, sniff
from ..idx.digest import idx_digest

__all__ = [
    "Tally",
    "copy_tallied",
    "hash_file",
    "container_mismatch",
    "mismatch",
    "content_mismatch",
    "Verdict",
    "verdict",
]


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


class _Writable(Protocol):
    def write(self, data: Any, /) -> Any: ...


class Tally:
    """The length, checksum and first bytes of a stream, counted while it passes."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm, usedforsecurity=False)
        self.size = 0
        self.lead = b""

    def update(self, chunk: bytes | memoryview) -> None:
        self._hash.update(chunk)
        if len(self.lead) < 6:
            self.lead += bytes(chunk[: 6 - len(self.lead)])
        self.size += len(chunk)

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def mismatch(self, remote: RemoteFile) -> str | None:
        """Why the bytes so far are not ``remote``'s exact bytes; None if they are."""
        return container_mismatch(self.size, self.digest, remote)


def copy_tallied(src: _Readable, out: _Writable, algorithm: str) -> Tally:
    """Copy ``src`` to ``out`` in chunks, tallying the bytes on the way."""
    tally = Tally(algorithm)
    while chunk := src.read(CHUNK):
        tally.update(chunk)
        out.write(chunk)
    return tally


def hash_file(
    path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)
) -> dict[str, str]:
    """``{algorithm: hexdigest}`` of the file at ``path``, in one pass."""
    names = list(dict.fromkeys(algorithms))
    with open_regular(path) as f:
        if len(names) == 1:
            (alg,) = names
            found = hashlib.file_digest(f, lambda: hashlib.new(alg, usedforsecurity=False))
            return {alg: found.hexdigest()}
        hashes = {alg: hashlib.new(alg, usedforsecurity=False) for alg in names}
        while chunk := f.read(CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


def container_mismatch(size: int, digest: str, remote: RemoteFile) -> str | None:
    """Why ``size`` bytes hashing to ``digest`` are not ``remote``; None if they are."""
    if size != remote.size:
        return f"{size} bytes, expected {remote.size}"
    if digest != remote.digest:
        return f"{remote.algorithm} {digest}, expected {remote.digest}"
    return None


def mismatch(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Why the file at ``path`` is not ``remote`` (size first, then digest); None if it is."""
    size = os.stat(path).st_size
    if size != remote.size:
        return container_mismatch(size, "", remote)
    digest = hash_file(path, (remote.algorithm,))[remote.algorithm]
    return container_mismatch(size, digest, remote)


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


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a file verified (``"container"``, ``"content"``), or None and ``reason``.

    ``kind`` is the container found in it (``gzip``, ``xz``, ``bz2``, ``raw``).
    """

    how: Literal["container", "content"] | None
    kind: Container
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.how is not None


def verdict(path: str | os.PathLike[str], remote: RemoteFile) -> Verdict:
    """Whether ``path`` holds ``remote``: its exact bytes, else its IDX content."""
    with open_regular(path) as f:
        kind = sniff(f.read(6))
    container = mismatch(path, remote)
    if container is None:
        return Verdict("container", kind)
    if remote.content is None:
        return Verdict(
            None,
            kind,
            f"container check failed: {container} (no content hash is pinned for "
            f"{remote.name}, so only its exact upstream bytes verify)",
        )
    content = content_mismatch(path, remote)
    if content is None:
        return Verdict("content", kind)
    return Verdict(
        None, kind, f"container check failed: {container}; content check failed: {content}"
    )
