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
under that lock ``idxmnist.files.sweep`` removes every temporary file that is
not a resumable download, and resumable ones left alone for a week. They are
opened through ``files.open_own``, never through a symbolic link: a ``.part``
that is anything but a regular file is removed (the link itself), never
followed, cut or written through.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from ..files import RECORD_SUFFIX, TEMP_SUFFIX, open_own

__all__ = ["Meta", "Partial"]


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


#: a record is under 1 KB; a larger file under its name is not one, and is not read whole
MAX_RECORD = 1 << 16


def _load(path: Path) -> Meta | None:
    try:
        with open_own(path, "r") as f:
            text = f.read(MAX_RECORD + 1)
        if len(text) > MAX_RECORD:
            return None
        raw = json.loads(text.decode("utf-8"))
        meta = Meta(
            url=raw["url"],
            etag=raw["etag"],
            last_modified=raw["last_modified"],
            total=raw["total"],
            synced=raw["synced"],
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None  # RecursionError: JSON nested deeper than Python's recursion limit
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
        self.path = Path(directory) / f".{name}{TEMP_SUFFIX}"
        self.record = self.path.with_name(self.path.name + RECORD_SUFFIX)

    def resume_point(self, url: str) -> tuple[int, Meta | None]:
        """How many verified bytes of ``url`` are here, and their record; ``(0, None)`` if none.

        The ``.part`` is cut back to its verified length; one from another
        URL, or without a usable record, is removed.
        """
        meta = _load(self.record)
        size = self._size()
        if meta is None or meta.url != url or size <= 0 or meta.synced == 0:
            self.discard()
            return 0, None
        offset = min(size, meta.synced)
        if meta.total is not None and offset >= meta.total:
            self.discard()  # nothing left to ask for: start over, the hash decides
            return 0, None
        if size != offset:
            with open_own(self.path, "t") as f:
                os.ftruncate(f.fileno(), offset)
        return offset, meta

    def _size(self) -> int:
        """The ``.part``'s length; -1 if it is missing or not a regular file (never followed)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return -1
        return st.st_size if stat.S_ISREG(st.st_mode) else -1

    def meta(self) -> Meta | None:
        """The record of this ``.part``, if it has a usable one."""
        return _load(self.record)

    def in_progress(self, key: str) -> bool:
        """True when a resumable download of ``key`` (a URL) has bytes here (nothing changed)."""
        meta = _load(self.record)
        return meta is not None and meta.url == key and self._size() > 0 and meta.synced > 0

    def save(self, meta: Meta) -> None:
        """Record ``meta`` (after fsync'ing the ``meta.synced`` bytes it vouches for)."""
        with open_own(self.record, "w") as f:
            f.write(json.dumps(asdict(meta)).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

    def forget(self) -> None:
        """Drop the record: the ``.part`` is no longer resumable."""
        self.record.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove the ``.part`` and its record."""
        self.forget()
        self.path.unlink(missing_ok=True)
