"""Safe files: written whole or not at all, temporary files and their one sweep, locks.

* :func:`atomic_write`: the data goes to a temporary file in the destination's
  directory, is flushed and fsync'ed, then renamed over the destination
  (atomic on POSIX). If anything fails, or the process is killed, the
  destination is untouched.
* :func:`temporary` and :func:`work_dir`: hidden scratch files
  (``.NAME.XXXXXXXX.part``) and folders (``.import.XXXXXXXX``) beside the
  files they become.
* :func:`sweep`: removes what killed processes left of those, and nothing
  else. A resumable download (``.NAME.part`` with its record
  ``.NAME.part.json``, ``fetch/partial.py``) is kept for
  :data:`RESUMABLE_MAX_AGE`.
* :func:`file_lock`: an exclusive lock on a file, held across processes (the
  ``filelock`` package, imported only when a lock is taken), so that
  concurrent first calls build or download each file once.

:data:`CHUNK` is the one read size for streaming a file: hashing, copying,
inflating, downloading.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "CHUNK",
    "TEMP_SUFFIX",
    "RECORD_SUFFIX",
    "WORK_PREFIX",
    "RESUMABLE_MAX_AGE",
    "atomic_write",
    "publish",
    "temporary",
    "work_dir",
    "sweep",
    "file_lock",
]

#: bytes read per step when a file is streamed (256 KiB: it stays in the L2 cache)
CHUNK = 1 << 18
#: every temporary file idxmnist creates is hidden and ends so
TEMP_SUFFIX = ".part"
#: a resumable download's record, beside its ``.part``
RECORD_SUFFIX = ".json"
#: the hidden work folders of ``idxmnist import``
WORK_PREFIX = ".import."
#: a resumable download untouched for this long is removed by the next sweep
RESUMABLE_MAX_AGE = 7 * 24 * 3600.0
#: errors that mean "no room": reported naming the destination
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@contextmanager
def atomic_write(dest: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``dest``; rename it to ``dest`` on success."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, dest)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
            raise OSError(
                exc.errno,
                f"could not write {dest}: {exc.strerror} (the disk is full, or a "
                "quota or file-size limit was hit); the temporary file was removed "
                "and any previous file is unchanged",
            ) from exc
        raise


def publish(tmp: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Rename the finished, fsync'ed file ``tmp`` to ``dest`` (same directory), durably.

    The file gets the permissions a new file would (``0o666`` less the umask).
    """
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)
    _fsync_dir(Path(dest).parent)


@contextmanager
def temporary(directory: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A hidden ``.XXXXXXXX.part`` in ``directory``, open for writing; removed on error.

    On success it is the caller's: publish it, or remove it.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=TEMP_SUFFIX)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def work_dir(parent: Path) -> Path:
    """A new hidden work folder in ``parent`` (``.import.XXXXXXXX``); the caller removes it."""
    return Path(tempfile.mkdtemp(dir=parent, prefix=WORK_PREFIX))


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def sweep(directory: str | os.PathLike[str], older_than: float = 3600.0) -> None:
    """Remove what killed processes left in ``directory``: idxmnist's own temporaries only.

    * a hidden ``*.part`` file with no record beside it, last written more
      than ``older_than`` seconds ago (an hour by default: no writer takes so
      long; 0 under a lock that every writer of the folder holds, when none
      can be in use);
    * a resumable download whose record is older than :data:`RESUMABLE_MAX_AGE`,
      and a record whose ``.part`` is gone;
    * a work folder (``.import.*``) older than ``older_than``.

    Nothing else is ever touched: no file without these hidden names, no
    file another tool owns.
    """
    directory = Path(directory)
    now = time.time()
    for part in directory.glob(f".*{TEMP_SUFFIX}"):
        record = part.with_name(part.name + RECORD_SUFFIX)
        if record.is_file():
            stale = _age(record, now) > RESUMABLE_MAX_AGE
        else:
            stale = _age(part, now) > older_than
        if stale and part.is_file():
            record.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
    for record in directory.glob(f".*{TEMP_SUFFIX}{RECORD_SUFFIX}"):
        if not record.with_name(record.name[: -len(RECORD_SUFFIX)]).exists():
            record.unlink(missing_ok=True)
    for work in directory.glob(f"{WORK_PREFIX}*"):
        if work.is_dir() and not work.is_symlink() and _age(work, now) > older_than:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` (created, with its folder, if needed).

    Raises ``OSError`` if the lock file cannot be created.
    """
    from filelock import FileLock  # only a build or a download takes a lock

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(os.fspath(path)):
        yield


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
