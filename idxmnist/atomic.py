"""Safe files: written whole or not at all, and locked across processes.

:func:`atomic_write`: the data goes to a temporary file in the destination's
directory, is flushed and fsync'ed, then renamed over the destination (atomic
on POSIX). If anything fails, or the process is killed, the destination is
untouched; a failed write removes its temporary file, and one left by a killed
process is named ``.<dest>.<random>.part`` and swept by :func:`sweep_stale`.

:func:`file_lock`: an exclusive lock on a file, held across processes (the
``filelock`` package, imported only when a lock is taken), so that concurrent
first calls build or download each file once.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "publish", "sweep_stale", "file_lock", "TEMP_SUFFIX"]

TEMP_SUFFIX = ".part"
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


def sweep_stale(dest: str | os.PathLike[str], older_than: float = 3600.0) -> None:
    """Remove temporary files of ``dest`` left by killed writers."""
    dest = Path(dest)
    cutoff = time.time() - older_than
    for tmp in dest.parent.glob(f".{dest.name}.*{TEMP_SUFFIX}"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` (created, with its folder, if needed).

    Raises ``OSError`` if the lock file cannot be created.
    """
    from filelock import FileLock

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
