"""Which registered file is this? Identify a file by its container or content checksum.

A :class:`Catalog` of datasets answers for any file: the dataset and file it
is (``Known``: by its exact bytes, or by its decompressed IDX bytes), or what
it is instead (``Unknown``: empty, an HTML page, truncated, not IDX at all,
or an IDX file that matches nothing registered). The size filters first, so
only plausible files are hashed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import IdxError, TruncatedError, reason_of
from ..idx.compression import Container, looks_like_html, sniff
from ..idx.digest import IdxContent, idx_digest
from .kept import kept_name
from .verify import hash_file

__all__ = ["Catalog", "Known", "Unknown", "EMPTY", "HTML"]

EMPTY = "empty (0 bytes): a leftover of an interrupted download or copy"
HTML = "an HTML page (a mirror's error or login page), not data"


@dataclass(frozen=True, slots=True)
class Known:
    """``spec``'s file ``remote``, verified ``how``, in a ``kind`` container."""

    spec: DatasetSpec
    remote: RemoteFile
    how: Literal["container", "content"]
    kind: Container

    @property
    def install_name(self) -> str:
        """Its name in the cache: the registry's, or its stem and its container's suffix."""
        return kept_name(self.remote, self.how, self.kind)

    def describe(self) -> str:
        return f"{self.spec.name} {self.remote.stem} (by {self.how} sha256)"


@dataclass(frozen=True, slots=True)
class Unknown:
    """Not a registered file, and why; ``content`` is its IDX header if it has one."""

    reason: str
    content: IdxContent | None = None


class Catalog:
    """The files of ``specs``, indexed by container size and by content checksum."""

    def __init__(self, specs: Iterable[DatasetSpec]) -> None:
        self.specs = tuple(specs)
        self._by_size: dict[int, list[tuple[DatasetSpec, RemoteFile]]] = {}
        self._by_content: dict[str, tuple[DatasetSpec, RemoteFile]] = {}
        self._content_sizes: set[int] = set()
        for spec in self.specs:
            for remote in spec.remote_files:
                self._by_size.setdefault(remote.size, []).append((spec, remote))
                if remote.content is not None:
                    self._by_content.setdefault(remote.content, (spec, remote))
                    if remote.content_size is not None:
                        self._content_sizes.add(remote.content_size)
        self.unpinned = tuple(
            s.name for s in self.specs if any(r.content is None for r in s.remote_files)
        )
        self.pinned = tuple(s.name for s in self.specs if s.name not in self.unpinned)

    @property
    def max_size(self) -> int:
        """The largest file (container or IDX bytes) any entry can be."""
        sizes = [*self._by_size, *self._content_sizes, 0]
        return max(sizes)

    def identify(self, path: str | os.PathLike[str]) -> Known | Unknown:
        """What the file at ``path`` is (see the module docstring)."""
        name = os.fspath(path)
        size = os.stat(path).st_size
        if size == 0:
            return Unknown(EMPTY)
        with open(path, "rb") as f:
            lead = f.read(512)
        kind = sniff(lead)
        same_size = self._by_size.get(size, [])
        if same_size:
            digests = hash_file(path, {r.algorithm for _, r in same_size})
            for spec, remote in same_size:
                if digests[remote.algorithm] == remote.digest:
                    return Known(spec, remote, "container", kind)
        if kind == "raw" and looks_like_html(lead):
            return Unknown(HTML)
        try:
            found = idx_digest(path, sizes=self._content_sizes)
        except TruncatedError as exc:
            return Unknown(f"truncated: {reason_of(exc, name)}")
        except IdxError as exc:  # not IDX, or a damaged container: the message says which
            return Unknown(reason_of(exc, name))
        entry = None if found.sha256 is None else self._by_content.get(found.sha256)
        if entry is not None:
            return Known(entry[0], entry[1], "content", found.kind)
        hint = ""
        if self.unpinned and self.pinned:
            hint = (
                f" (the content of {', '.join(self.pinned)}'s files is pinned; every other "
                "dataset's files verify only as their exact upstream files)"
            )
        elif self.unpinned:
            hint = (
                f" ({', '.join(self.unpinned)} pin only their exact upstream files, "
                "so only those verify)"
            )
        return Unknown(
            f"an IDX file ({found.describe()}, {found.kind}) that matches no registered file{hint}",
            found,
        )
