"""Stamps: how a cache hit knows, without reading the data, that idxmnist wrote the file.

Beside its aligned npz cache (``mnist.idxmnist.npz``) idxmnist writes a small
JSON record, ``.mnist.idxmnist.npz.stamp``, right after the cache file is
published. It holds

* the file as it was published: ``size``, ``mtime_ns``, ``ctime_ns``, ``ino``
  and ``dev``;
* what it was built from (``binding``): the dataset's split sizes, the
  orientation, and for each array the pins of the file it came from (the
  container's digest, and the content SHA-256 of its IDX bytes where the
  registry pins it).

A hit trusts the file only when every field matches, the stamp is newer than
the file's last change by at least one tick of the file system's clock, and
both are owned by the user (or by the owner of their folder, for a cache
someone shares read-only). What each field rules out:

* one pixel changed in place: the write moves ``mtime`` and ``ctime``;
  ``os.utime`` can put an ``mtime`` back, never a ``ctime``;
* the file replaced (renamed over, copied in, restored from a backup):
  another inode, device or ``ctime``;
* a change within the same clock tick as the stamp (two writes 1 ms apart
  carry the same times): the stamp is written, and rewritten, until its own
  ``mtime`` is later than the file's ``ctime``, so any later change shows;
* the registry entry changed (another spec registered under the name, other
  checksums, other split sizes): the ``binding`` differs;
* a stamp planted by another user in a shared folder: the owner check (and
  ``files.writable_by_others`` warns about such folders).

A stamp is no defence against someone who can write the cache folder as
you: they could write a new file and a new stamp. Anything that fails these
checks is not trusted: it is rebuilt from the store, or, where it cannot be
(a read-only cache), verified by content like any file idxmnist did not write.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from ..datasets.spec import DatasetSpec
from ..errors import IdxError
from ..files import atomic_write, open_regular

__all__ = ["STAMP_SUFFIX", "stamp_path", "binding", "write_stamp", "stamped", "identity"]

STAMP_SUFFIX = ".stamp"
_FORMAT = "idxmnist-stamp/1"
_MAX_STAMP = 1 << 16
#: how long to wait for the file system's clock to tick past the cache file's ctime
_SETTLE_SECONDS = 3.0


def stamp_path(npz: str | os.PathLike[str]) -> Path:
    """``.NAME.stamp`` beside ``npz``."""
    path = Path(npz)
    return path.with_name(f".{path.name}{STAMP_SUFFIX}")


def binding(spec: DatasetSpec, upright: bool) -> dict[str, Any]:
    """What a cache of ``spec`` (``upright``) is built from, from the registry alone."""
    files = {}
    for key, remote in zip(spec.keys, spec.files, strict=True):
        pin = f"{remote.algorithm}:{remote.digest}:{remote.size}"
        if remote.content is not None:
            pin += f";content:{remote.content}:{remote.content_size}"
        files[key] = pin
    return {
        "files": files,
        "splits": {s.name: s.count for s in spec.splits},
        "upright": bool(upright and spec.transposed),
        "container": spec.container,
    }


def identity(st: os.stat_result) -> dict[str, int]:
    """The fields of a stat that any change to a file moves."""
    return {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,
        "ino": st.st_ino,
        "dev": st.st_dev,
    }


def write_stamp(npz: str | os.PathLike[str], bound: dict[str, Any]) -> None:
    """Stamp the cache file ``npz`` idxmnist has just published, built as ``bound`` says.

    Raises ``OSError`` when the stamp cannot be written (the cache is then
    simply not trusted next time).
    """
    st = os.stat(npz)
    text = json.dumps({"format": _FORMAT, "file": identity(st), "binding": bound}, sort_keys=True)
    target = stamp_path(npz)
    deadline = time.monotonic() + _SETTLE_SECONDS
    while True:
        with atomic_write(target) as f:
            f.write(text.encode("utf-8"))
        if os.stat(target).st_mtime_ns > st.st_ctime_ns or time.monotonic() > deadline:
            return
        time.sleep(0.001)  # the same clock tick as the file's last change: wait for the next


def _owners(folder: Path) -> set[int]:
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # not POSIX: no owners to compare
        return set()
    try:
        return {getuid(), os.stat(folder).st_uid}
    except OSError:
        return {getuid()}


def stamped(npz: str | os.PathLike[str], bound: dict[str, Any]) -> os.stat_result | None:
    """The stat of ``npz`` if its stamp vouches for it as built ``bound``; None if not.

    Never reads the npz itself: a stat of it, and the small stamp.
    """
    try:
        st = os.stat(npz)
        if not stat.S_ISREG(st.st_mode):
            return None
        with open_regular(stamp_path(npz)) as f:
            own = os.fstat(f.fileno())
            raw = json.loads(f.read(_MAX_STAMP).decode("utf-8"))
    except (OSError, ValueError, IdxError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        return None
    if raw.get("binding") != bound or raw.get("file") != identity(st):
        return None
    if own.st_mtime_ns <= st.st_ctime_ns:
        return None  # written in the same tick as the file's last change: not proof
    owners = _owners(Path(npz).parent)
    if owners and not {st.st_uid, own.st_uid} <= owners:
        return None
    return st
