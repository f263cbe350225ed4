"""``idxmnist import``: install verified dataset files from copies already at hand.

Takes files, folders (walked recursively) and archives (a keras-layout
``.npz``, a ``.zip``, a ``.tar`` in any compression), in any layout:
torchvision's ``MNIST/raw/``, keras's ``mnist.npz``, a folder of ``.gz`` or
decompressed files. Each file is identified by its container or content
checksum against every registered dataset (``identify.Catalog``, with the
content pins learnt in the cache); each one that verifies is copied into
``<cache dir>/<subdir>/`` as a download would keep it (``store.kept.keep``:
the upstream bytes under the registry's name, content as raw IDX bytes), so
later loads work offline. What is installed is the verified copy: the file
is copied first and the copy identified again. Where several verified copies
of one file are offered, the exact upstream file wins: in each folder the
files that verify by their container are installed first, and one that
arrives when the cache holds only a content copy replaces it.
A file that is itself a registered file (Kuzushiji-49's ``.npz`` files,
EMNIST's members) is installed as it is; any other archive (EMNIST's
``gzip.zip``: every member, so every split) is opened and its members looked
at.

Each path (or archive member, ``ARCHIVE:MEMBER``) comes back as an
:class:`Outcome`: recognised (what it is, where it went, or that the cache
already had it) or skipped (why).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..datasets.registry import DATASETS
from ..datasets.spec import DatasetSpec
from ..errors import IdxError, printable
from ..files import CHUNK, file_lock, open_regular, sweep, temporary, work_dir
from ..store import unpack
from ..store.identify import Catalog, Known, Unknown
from ..store.kept import LOCK_NAME, find_verified, keep
from ..store.pins import Learnt

__all__ = ["Outcome", "import_paths", "summary"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One file looked at: ``known`` (and where it went) or the ``reason`` it was skipped.

    ``installed`` is None for a recognised file the cache already held.
    """

    source: str
    known: Known | None = None
    installed: Path | None = None
    reason: str = ""

    def __str__(self) -> str:
        """One line, whatever the names hold (:func:`~idxmnist.errors.printable`)."""
        source = printable(self.source)
        if self.known is None:
            return f"skipped     {source}: {printable(self.reason)}"
        where = (
            f"-> {printable(str(self.installed))}" if self.installed else "(already in the cache)"
        )
        return f"recognised  {source}: {self.known.describe()} {where}"


def _walk(path: Path) -> Iterator[Path]:
    """``path`` itself, or every visible file under it, in a stable order."""
    if not path.is_dir():
        yield path
        return
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(root) / name


class _Importer:
    def __init__(self, cache: Path, catalog: Catalog) -> None:
        self.cache, self.catalog = cache, catalog
        self.work = work_dir(cache)

    def install(self, copy: Path, source: str) -> Outcome:
        """Identify the private ``copy`` and move it into the cache if it verifies (and the
        cache does not hold it yet, or holds only a content copy of an upstream file)."""
        found = self.catalog.identify(copy)
        if isinstance(found, Unknown):
            return Outcome(source, reason=found.reason)
        folder = self.cache / found.spec.subdir
        folder.mkdir(parents=True, exist_ok=True)
        with file_lock(folder / LOCK_NAME):
            learnt = Learnt(folder)
            have, _ = find_verified(folder, found.remote, learnt)
            upstream = have is not None and have.name == found.remote.name
            if have is not None and (upstream or found.how == "content"):
                return Outcome(source, found)
            target = keep(copy, found.remote, found.how, found.kind, learnt)
            self.catalog.add_content(found.spec, found.remote, learnt.of(found.remote))
        return Outcome(source, found, target)

    def look(self, path: Path) -> Known | Unknown | OSError:
        """What ``path`` is, cheaply (an archive is looked into later)."""
        try:
            return self.catalog.identify(path)
        except OSError as exc:
            return exc

    def file(self, path: Path, first: Known | Unknown | OSError | None = None) -> list[Outcome]:
        source = os.fspath(path)
        if first is None:
            first = self.look(path)
        try:
            if isinstance(first, OSError):
                raise first
            # cheap first: only a file that identifies is copied, and the copy checked again
            kind = None if isinstance(first, Known) else unpack.kind_of(path)
        except OSError as exc:
            return [Outcome(source, reason=f"cannot be read ({exc.strerror or exc})")]
        if kind is not None:  # an archive that is not itself a registered file: its members
            return self.archive(path, kind)
        if isinstance(first, Unknown):
            return [Outcome(source, reason=first.reason)]
        with temporary(self.work) as (out, copy), open_regular(path) as src:
            shutil.copyfileobj(src, out, CHUNK)
        return [self.install(copy, source)]

    def archive(self, path: Path, kind: str) -> list[Outcome]:
        outcomes = []
        limit = self.catalog.max_size + (1 << 20)
        try:
            for member in unpack.members(path, self.work, limit=limit):
                source = f"{path}:{member.name}"
                if member.path is None:
                    outcomes.append(Outcome(source, reason=member.problem))
                else:
                    outcomes.append(self.install(member.path, source))
        except IdxError as exc:
            outcomes.append(Outcome(os.fspath(path), reason=f"a {kind} archive, but: {exc}"))
        return outcomes

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def import_paths(
    paths: Iterable[str | os.PathLike[str]],
    cache_dir: str | os.PathLike[str] | None = None,
    specs: Iterable[DatasetSpec] | None = None,
) -> list[Outcome]:
    """Install every file under ``paths`` that verifies as a file of ``specs`` (all registered).

    Returns one :class:`Outcome` per file or archive member looked at. A path
    that does not exist raises ``FileNotFoundError`` before anything is done.
    """
    roots = [Path(p).expanduser() for p in paths]
    for root in roots:
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such file or directory")
    cache = config.cache_dir(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    sweep(cache)  # what imports killed an hour ago or more left
    importer = _Importer(cache, Catalog(DATASETS.values() if specs is None else specs, cache))
    outcomes: list[Outcome] = []
    try:
        for root in roots:
            looked = [(f, importer.look(f)) for f in _walk(root)]
            # the exact upstream files first: a decompressed copy of one is then a duplicate
            looked.sort(key=lambda fk: not (isinstance(fk[1], Known) and fk[1].how == "container"))
            for f, first in looked:
                # what matched nothing may match a content pin learnt from a file just installed
                outcomes.extend(importer.file(f, first if isinstance(first, Known) else None))
    finally:
        importer.close()
    return outcomes


def summary(
    outcomes: Iterable[Outcome], cache_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """One line per dataset touched: how many of its files the cache now holds, verified."""
    cache = config.cache_dir(cache_dir)
    lines = []
    specs = {o.known.spec.name: o.known.spec for o in outcomes if o.known is not None}
    for spec in specs.values():
        remotes = spec.remote_files
        learnt = Learnt(cache / spec.subdir)
        have = sum(find_verified(cache / spec.subdir, r, learnt)[0] is not None for r in remotes)
        state = "loads offline now" if have == len(remotes) else "not complete yet"
        lines.append(
            f"{spec.name}: {have} of {len(remotes)} files verified in "
            f"{cache / spec.subdir} ({state})"
        )
    return lines
