"""Safe files: written whole or not at all, temporary files and their one sweep, locks.

* :func:`atomic_write`: the data goes to a temporary file in the destination's
  directory, is flushed and fsync'ed, then renamed over the destination
  (atomic on POSIX). If anything fails, or the process is killed, the
  destination is untouched.
* :func:`temporary` and :func:`work_dir`: hidden scratch files
  (``.XXXXXXXX.part``, fsync'ed when written, so they can be published) and
  folders (``.import.XXXXXXXX``) beside the files they become.
* :func:`no_room`: a full disk, quota or file-size limit is an ``OSError``
  naming the file that could not be written (never blamed on anything else).
* :func:`sweep`: removes what killed processes left of those, and nothing
  else. A resumable download (``.NAME.part`` with its record
  ``.NAME.part.json``, ``fetch/partial.py``) is kept for
  :data:`RESUMABLE_MAX_AGE`.
* :func:`file_lock`: an exclusive lock on a file, held across processes, so
  that concurrent first calls build or download each file once. On POSIX it
  is ``flock`` on the file, taken only once the path still names the file
  locked (so a lock file may be removed while held: a waiter on the removed
  one tries again); elsewhere the ``filelock`` package. :func:`untidy` removes
  what a failed call left: a lock file, and a folder holding nothing else.
* :func:`open_regular`: the one way a file idxmnist did not create is opened
  by path: only a regular file (a symbolic link to one is followed), never a
  FIFO, device or socket, which could hang the process or never end.
  :func:`open_own`: the one way idxmnist's own files (``.part`` downloads and
  their records) are opened, never through a symbolic link (``O_NOFOLLOW``),
  created with ``O_EXCL``.
* :func:`writable_by_others`: whether other users can plant files in a folder.

:data:`CHUNK` is the one read size for streaming a file: hashing, copying,
inflating, downloading.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

from .errors import IdxError, describe

__all__ = [
    "CHUNK",
    "TEMP_SUFFIX",
    "RECORD_SUFFIX",
    "WORK_PREFIX",
    "RESUMABLE_MAX_AGE",
    "atomic_write",
    "publish",
    "no_room",
    "temporary",
    "work_dir",
    "sweep",
    "file_lock",
    "untidy",
    "not_regular",
    "open_regular",
    "open_own",
    "writable_by_others",
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
        full = no_room(
            exc, dest, "the temporary file was removed and any previous file is unchanged"
        )
        if full is not None:
            raise full from exc
        raise


def no_room(exc: BaseException, dest: str | os.PathLike[str], done: str) -> OSError | None:
    """The error to raise for ``exc`` if it says there is no room (a full disk, a quota, a
    file-size limit: ENOSPC, EDQUOT, EFBIG): the same ``errno``, naming ``dest`` (the file
    that could not be written) and saying ``done`` (what was cleaned up). None otherwise:
    any other error is raised as it is."""
    if not (isinstance(exc, OSError) and exc.errno in _NO_ROOM):
        return None
    return OSError(
        exc.errno,
        f"could not write {os.fspath(dest)}: {exc.strerror} (the disk is full, or a quota or "
        f"file-size limit was hit); {done}",
    )


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

    When the block ends, the file is flushed and fsync'ed (so that it can be
    published) and closed; on success it is the caller's: publish it, or
    remove it. No room to write it is an ``OSError`` naming it.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=TEMP_SUFFIX)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, path
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        path.unlink(missing_ok=True)
        full = no_room(exc, path, "the temporary file was removed")
        if full is not None:
            raise full from exc
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
def file_lock(path: str | os.PathLike[str], *, remove: bool = False) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` (created, with its folder, if needed).

    ``remove``: the lock file goes when the lock is released (POSIX only), so
    that none is left behind (``~/.keras/datasets`` is not idxmnist's alone).

    Raises ``OSError`` if the lock file cannot be created, or when ``path`` is
    anything but a regular file (a symbolic link is never followed: some
    versions of ``filelock`` truncate what the link points at).
    """
    path = os.fspath(path)
    if sys.platform == "win32":
        from filelock import FileLock  # only a build or a download takes a lock

        _check_lock(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with FileLock(path):
            yield
        return
    fd = _flock(path)
    try:
        yield
        if remove:
            _unlink_own(path, fd)
    finally:
        os.close(fd)  # releases the lock


def _check_lock(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
        raise OSError(
            errno.ELOOP if stat.S_ISLNK(mode) else code,
            f"{path}: the lock file is {_what(mode)}, not a regular file; "
            "idxmnist takes only a regular file as a lock, never through a link: remove it",
        )


def _flock(path: str) -> int:
    """An open descriptor of ``path``, locked, that ``path`` still names."""
    import fcntl  # POSIX only

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        _check_lock(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:  # the folder went (untidy) between the two: again
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                _check_lock(path)  # says what is there
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, f"{path}: the lock file is not a regular file")
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(path))
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)  # removed (or replaced) while this process waited: lock the new one


def _unlink_own(path: str, fd: int) -> None:
    """Remove ``path`` if it is still the file ``fd`` locks (called holding the lock)."""
    try:
        if os.path.samestat(os.fstat(fd), os.lstat(path)):
            os.unlink(path)
    except OSError:
        pass  # already gone, or not ours to remove: left as it is


def untidy(folder: str | os.PathLike[str], lock_name: str, *, remove_folder: bool) -> None:
    """Remove ``folder/lock_name`` if the folder holds nothing else, and then the
    folder itself if ``remove_folder``: what a call that failed before it stored
    anything leaves (POSIX only).

    The lock is taken first, so a process using the folder is never disturbed.
    """
    lock = Path(folder) / lock_name
    try:
        if {p.name for p in Path(folder).iterdir()} != {lock_name}:
            return
        with file_lock(lock, remove=True):
            if {p.name for p in Path(folder).iterdir()} != {lock_name}:
                raise _Kept
    except (_Kept, OSError):
        return
    if not remove_folder:
        return
    try:
        Path(folder).rmdir()  # only if still empty
    except OSError:
        pass


class _Kept(Exception):
    """The folder holds more than its lock: nothing is removed."""


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def _what(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a regular file to read (a FIFO, a device...), or None if it is one.

    A symbolic link is followed: a link to a regular file is one (caches
    linked to shared storage). ``FileNotFoundError`` if nothing is there.
    """
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    via = " (through a symbolic link)" if os.path.islink(path) else ""
    return f"{_what(mode)}{via}, not a regular file: idxmnist reads only regular files"


def open_regular(
    path: str | os.PathLike[str], buffering: int = -1
) -> io.BufferedReader | io.FileIO:
    """Open the regular file at ``path`` for reading; IdxError naming it if it is not one.

    Checked before the open (a FIFO or device is never opened) and again on
    the open file (``O_NONBLOCK``, so a FIFO swapped in between cannot hang).
    """
    why = not_regular(path)
    if why is not None:
        raise IdxError(f"{describe(path)}: {why}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IdxError(f"{describe(path)}: replaced by something else while it was opened")
        if buffering == 0:
            return io.FileIO(fd, "rb")
        size = buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE
        return io.BufferedReader(io.FileIO(fd, "rb"), size)
    except BaseException:
        os.close(fd)
        raise


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_own(path: str | os.PathLike[str], mode: Literal["r", "a", "w", "t"]) -> BinaryIO:
    """Open a file idxmnist owns (a ``.part``, its record), never through a symbolic link.

    ``"w"``: a new file (whatever was at ``path``, a link included, is removed
    first; the link, never what it points at), created with ``O_EXCL``;
    ``"a"``: append to it; ``"r"``: read it; ``"t"``: open it to truncate
    (``os.ftruncate`` on its descriptor). Anything but a regular file there
    raises ``OSError``.
    """
    base = _NOFOLLOW | getattr(os, "O_BINARY", 0)
    if mode == "w":
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        fd = os.open(path, base | os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    else:
        flags = {"r": os.O_RDONLY, "a": os.O_WRONLY | os.O_APPEND, "t": os.O_WRONLY}[mode]
        fd = os.open(path, base | flags | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{os.fspath(path)}: not a regular file")
        return os.fdopen(fd, "rb" if mode == "r" else "ab" if mode == "a" else "wb")
    except BaseException:
        os.close(fd)
        raise


def writable_by_others(directory: str | os.PathLike[str]) -> str | None:
    """Why other users can write into ``directory`` (and so plant files there); None if not.

    World-writable, or group-writable for a group other than the user's own
    private one (the group named after the user, with no other members); a
    folder on a read-only file system is writable by no one.
    """
    try:
        st = os.stat(directory)
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return None
    except (OSError, AttributeError):
        return None
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH:
        return f"writable by every user (mode {mode:o})"
    if mode & stat.S_IWGRP and not _private_group(st.st_gid):
        return f"writable by its group (mode {mode:o})"
    return None


def _private_group(gid: int) -> bool:
    try:
        import grp  # only for a group-writable folder
        import pwd
    except ImportError:  # not POSIX
        return False
    try:
        group = grp.getgrgid(gid)
        user = pwd.getpwuid(os.getuid())
    except KeyError:
        return False
    return group.gr_name == user.pw_name and not set(group.gr_mem) - {user.pw_name}


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
