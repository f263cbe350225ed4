"""Is this file the registry's? By its container checksum, else by its content.

The size is compared first (a stat, free), the digest only when it matches;
files are hashed in bounded chunks. :func:`verdict` accepts a file whose
exact bytes match (the *container* check), else one whose decompressed IDX
bytes match the pinned content hash (the *content* check, see ``content.py``),
and otherwise says which check failed and why.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .registry import RemoteFile

__all__ = ["hash_file", "mismatch", "verdict", "Verdict"]

CHUNK = 1 << 20


def hash_file(
    path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)
) -> dict[str, str]:
    """``{algorithm: hexdigest}`` of the file at ``path``, in one pass."""
    hashes = {alg: hashlib.new(alg, usedforsecurity=False) for alg in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


def mismatch(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Why the file at ``path`` is not ``remote`` (size first, then digest); None if it is."""
    size = os.stat(path).st_size
    if size != remote.size:
        return f"{size} bytes, expected {remote.size}"
    digest = hash_file(path, (remote.algorithm,))[remote.algorithm]
    if digest != remote.digest:
        return f"{remote.algorithm} {digest}, expected {remote.digest}"
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a file verified (``"container"``, ``"content"``), or None and ``reason``.

    ``kind`` is the container found in it (``gzip``, ``xz``, ``bz2``, ``raw``).
    """

    how: Literal["container", "content"] | None
    kind: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.how is not None


def verdict(path: str | os.PathLike[str], remote: RemoteFile) -> Verdict:
    """Whether ``path`` holds ``remote``: its exact bytes, else its IDX content."""
    from ..idx.compression import sniff
    from .content import content_mismatch

    with open(path, "rb") as f:
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
