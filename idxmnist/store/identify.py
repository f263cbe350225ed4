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
from pathlib import Path
from typing import Literal

from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import IdxError, TruncatedError, reason_of
from ..files import not_regular, open_regular
from ..idx.compression import Container, looks_like_html, sniff
from ..idx.digest import IdxContent, idx_digest
from .kept import kept_name
from .pins import Learnt
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
    """The files of ``specs``, indexed by container size and by content checksum.

    ``cache``: also the content pins learnt in that cache directory's dataset
    folders (``store/pins.py``).
    """

    def __init__(
        self, specs: Iterable[DatasetSpec], cache: str | os.PathLike[str] | None = None
    ) -> None:
        self.specs = tuple(specs)
        self._by_size: dict[int, list[tuple[DatasetSpec, RemoteFile]]] = {}
        self._by_content: dict[str, tuple[DatasetSpec, RemoteFile]] = {}
        self._content_sizes: set[int] = set()
        self._largest: dict[tuple[str, str], int] = {}  # each file's largest form
        learnt = {}
        if cache is not None:
            learnt = {s.subdir: Learnt(Path(cache) / s.subdir) for s in self.specs}
        for spec in self.specs:
            for remote in spec.remote_files:
                self._by_size.setdefault(remote.size, []).append((spec, remote))
                self._largest[spec.subdir, remote.name] = remote.size
                pinned = learnt[spec.subdir].of(remote) if spec.subdir in learnt else remote
                self.add_content(spec, remote, pinned)
        whole = {s.name for s in self.specs if all(r.content for r in s.remote_files)}
        some = {s.name for s in self.specs if any(r.content for r in s.remote_files)} - whole
        self.pinned = tuple(s.name for s in self.specs if s.name in whole)
        self.partly = tuple(s.name for s in self.specs if s.name in some)
        self.unpinned = tuple(s.name for s in self.specs if s.name not in whole)

    def add_content(self, spec: DatasetSpec, remote: RemoteFile, pinned: RemoteFile) -> None:
        """Recognise ``remote`` by its content from now on, as ``pinned`` (``remote`` with
        its content pin: the registry's, or one learnt) gives it."""
        if pinned.content is not None:
            self._by_content.setdefault(pinned.content, (spec, remote))
            if pinned.content_size is not None:
                self._content_sizes.add(pinned.content_size)
                key = spec.subdir, remote.name
                self._largest[key] = max(self._largest.get(key, 0), pinned.content_size)

    @property
    def max_size(self) -> int:
        """The largest file (container or IDX bytes) any entry can be."""
        sizes = [*self._by_size, *self._content_sizes, 0]
        return max(sizes)

    @property
    def total_size(self) -> int:
        """What one copy of every entry takes, each in its largest form (its container
        or its IDX bytes), with room for a packing that gained nothing (1/64 and 64 KiB)."""
        return sum(n + n // 64 + (1 << 16) for n in self._largest.values())

    def identify(self, path: str | os.PathLike[str]) -> Known | Unknown:
        """What the file at ``path`` is (see the module docstring)."""
        name = os.fspath(path)
        why = not_regular(path)
        if why is not None:
            return Unknown(why)
        size = os.stat(path).st_size
        if size == 0:
            return Unknown(EMPTY)
        with open_regular(path) as f:
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
        partly = ", and some of the others' files" if self.partly else ""
        if self.unpinned and self.pinned:
            hint = (
                f" (the content of {', '.join(self.pinned)}'s files is pinned{partly}; any "
                "other file verifies only as its exact upstream file, or by a content pin "
                "learnt from that file in this cache)"
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
