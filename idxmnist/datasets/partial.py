"""Resumable partial downloads: ``.NAME.part`` and what is known about it.

A download in progress is written to ``.NAME.part`` in the destination
directory. Beside it, ``.NAME.part.json`` records the URL the bytes come from,
the server's validators (``ETag``, ``Last-Modified``), the total size it
announced and how many bytes of the ``.part`` have been fsync'ed: the
*verified length*. After an interruption the next attempt cuts the ``.part``
back to that length and asks for the rest with an HTTP ``Range`` request;
whatever happens, the checksum of the finished file decides.

A ``.part`` is kept only for a server that accepts ranges; the record is
written before the first byte, so a ``.part`` without one is never resumed.
Only the process holding the directory's download lock touches these files;
under that lock :func:`sweep` removes every temporary file that is not a
resumable download, and resumable ones left alone for :data:`MAX_AGE`.
(``atomic_write``'s temporary files, ``.NAME.XXXXXXXX.part``, have no
record, so they are swept too.)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["Meta", "Partial", "sweep", "temporary", "MAX_AGE"]

#: a resumable download untouched for this long is removed by the next sweep
MAX_AGE = 7 * 24 * 3600.0
_RECORD = ".json"


@dataclass(frozen=True, slots=True)
class Meta:
    """What is known about a ``.part``: its URL, validators, announced total, fsync'ed bytes."""

    url: str
    etag: str | None
    last_modified: str | None
    total: int | None
    synced: int

    @property
    def validator(self) -> str | None:
        """What ``If-Range`` may carry: a strong ETag, else the Last-Modified date."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified


def _load(path: Path) -> Meta | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        meta = Meta(
            url=raw["url"],
            etag=raw["etag"],
            last_modified=raw["last_modified"],
            total=raw["total"],
            synced=raw["synced"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = (
        isinstance(meta.url, str)
        and isinstance(meta.synced, int)
        and meta.synced >= 0
        and (meta.total is None or isinstance(meta.total, int))
        and all(v is None or isinstance(v, str) for v in (meta.etag, meta.last_modified))
    )
    return meta if ok else None


class Partial:
    """The resumable download of ``name`` in ``directory``: ``.name.part`` and its record."""

    def __init__(self, directory: str | os.PathLike[str], name: str) -> None:
        self.path = Path(directory) / f".{name}.part"
        self.record = self.path.with_name(self.path.name + _RECORD)

    def resume_point(self, url: str) -> tuple[int, Meta | None]:
        """How many verified bytes of ``url`` are here, and their record; ``(0, None)`` if none.

        The ``.part`` is cut back to its verified length; one from another
        URL, or without a usable record, is removed.
        """
        meta = _load(self.record)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = -1
        if meta is None or meta.url != url or size <= 0 or meta.synced == 0:
            self.discard()
            return 0, None
        offset = min(size, meta.synced)
        if meta.total is not None and offset >= meta.total:
            self.discard()  # nothing left to ask for: start over, the hash decides
            return 0, None
        if size != offset:
            os.truncate(self.path, offset)
        return offset, meta

    def meta(self) -> Meta | None:
        """The record of this ``.part``, if it has a usable one."""
        return _load(self.record)

    def in_progress(self, key: str) -> bool:
        """True when a resumable download of ``key`` (a URL) has bytes here (nothing changed)."""
        meta = _load(self.record)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return False
        return meta is not None and meta.url == key and size > 0 and meta.synced > 0

    def save(self, meta: Meta) -> None:
        """Record ``meta`` (after fsync'ing the ``meta.synced`` bytes it vouches for)."""
        with open(self.record, "w", encoding="utf-8") as f:
            json.dump(asdict(meta), f)
            f.flush()
            os.fsync(f.fileno())

    def forget(self) -> None:
        """Drop the record: the ``.part`` is no longer resumable."""
        self.record.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove the ``.part`` and its record."""
        self.forget()
        self.path.unlink(missing_ok=True)


def sweep(directory: str | os.PathLike[str], max_age: float = MAX_AGE) -> None:
    """Remove leftover temporary files in ``directory`` (call it holding the download lock).

    Every hidden ``*.part`` without a record (a killed writer's temporary
    file, or a download that could not be resumed), every record without its
    ``.part``, and resumable downloads whose record is older than ``max_age``.
    """
    directory = Path(directory)
    cutoff = time.time() - max_age
    for part in directory.glob(".*.part"):
        record = part.with_name(part.name + _RECORD)
        try:
            stale = not record.is_file() or record.stat().st_mtime < cutoff
        except FileNotFoundError:
            stale = True
        if stale:
            record.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
    for record in directory.glob(f".*.part{_RECORD}"):
        if not record.with_name(record.name[: -len(_RECORD)]).exists():
            record.unlink(missing_ok=True)


@contextmanager
def temporary(directory: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A hidden ``.XXXX.part`` in ``directory`` (swept like any leftover); removed on error."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, path
    except BaseException:
        path.unlink(missing_ok=True)
        raise
