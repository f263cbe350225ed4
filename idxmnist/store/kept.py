"""A dataset's folder in the cache (the store): its verified files, under what name.

The store keeps, for each file of a dataset, one verified copy:

* its exact upstream bytes (the container that verified) under the
  registry's name, ``train-images-idx3-ubyte.gz``; else
* its content-verified IDX bytes, raw, under its stem,
  ``train-images-idx3-ubyte`` (decompressed here if they came recompressed).

So a file under a registry name is always the upstream file byte for byte:
never one another tool that checks the upstream hash (keras keeps
``fashion-mnist/*.gz`` in the same folder) would reject. Older caches may
hold content copies under ``.xz``/``.bz2`` names; they are still found.
Files in the folder are read only if they are regular files (a symbolic link
to one is followed).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..datasets.spec import RemoteFile
from ..errors import ChecksumError, IdxError
from ..files import not_regular, open_regular, publish, temporary
from ..idx.compression import SUFFIX, Container, sniff
from ..idx.digest import idx_digest
from .pins import Learnt
from .verify import content_mismatch, copy_tallied, verdict

__all__ = [
    "LOCK_NAME",
    "names_for",
    "candidate_names",
    "kept_name",
    "find_verified",
    "keep",
    "keep_copy",
]

#: the lock every writer of a dataset's folder holds (an empty file, kept on purpose)
LOCK_NAME = ".idxmnist.lock"


def names_for(remote: RemoteFile) -> list[str]:
    """Where ``remote`` may be kept: its registry name first, then its stem with each suffix."""
    stem = remote.stem
    return list(dict.fromkeys([remote.name, *(stem + suffix for suffix in SUFFIX.values())]))


def candidate_names(stem: str) -> list[str]:
    """Where another folder or archive may hold the file ``stem``, preferred first (raw reads
    fastest): ``train-images-idx3-ubyte``, ``train-images.idx3-ubyte``, then each compressed."""
    dotted = stem.replace("-idx", ".idx", 1)
    names = dict.fromkeys((stem, dotted))
    return [f"{name}{suffix}" for suffix in SUFFIX.values() for name in names]


def kept_name(remote: RemoteFile, how: str | None, kind: Container) -> str:
    """The name a file verified as ``remote`` is best found under: the registry's name when
    ``how`` is ``"container"``, else the stem and the suffix of its ``kind`` of container."""
    return remote.name if how == "container" else remote.stem + SUFFIX[kind]


def find_verified(
    directory: str | os.PathLike[str], remote: RemoteFile, learnt: Learnt | None = None
) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The file in ``directory`` that verifies as ``remote`` (or None), and the ones that do not.

    Each file present under one of :func:`names_for`'s names is checked in
    that order (container, then content, by the registry's content pin or
    one ``learnt`` there); the first that verifies wins. The others that were
    checked and failed come back with the reason; anything there that is not
    a regular file (a FIFO, a device) is one of them, never opened.
    """
    bad: list[tuple[Path, str]] = []
    if learnt is not None:
        remote = learnt.of(remote)
    for name in names_for(remote):
        path = Path(directory) / name
        try:
            why = not_regular(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if why is not None:
            if not path.is_dir():
                bad.append((path, why))
            continue
        try:
            result = verdict(path, remote)
        except IdxError as exc:  # replaced by a FIFO or a device meanwhile
            bad.append((path, str(exc)))
            continue
        if result.ok:
            return path, bad
        bad.append((path, result.reason))
    return None, bad


def keep(tmp: Path, remote: RemoteFile, how: str, kind: Container, learnt: Learnt) -> Path:
    """Publish ``tmp``, a verified temporary file in the folder ``learnt`` is about, as
    ``remote``'s kept copy; return where it went.

    ``how`` is how it verified: ``"container"`` keeps it under the registry's
    name (and learns its content pin if the registry has none); ``"content"``
    keeps its IDX bytes raw under the stem, decompressing ``tmp`` first when
    ``kind`` is a compressed container (checked against the content pin on
    the way). Raises ChecksumError if the bytes changed meanwhile.
    """
    folder = learnt.folder
    if how == "container":
        final = folder / remote.name
        publish(tmp, final)
        known = learnt.learn(remote, final)
        _drop_content_copy(folder, known)
        return final
    remote = learnt.of(remote)
    if kind != "raw":
        try:
            with temporary(folder) as (out, raw):
                found = idx_digest(tmp, out=out)
        finally:
            tmp.unlink(missing_ok=True)
        if found.sha256 != remote.content:
            raw.unlink(missing_ok=True)
            raise ChecksumError(f"{tmp}: changed while it was kept; fetch it again")
        tmp = raw
    final = folder / remote.stem
    publish(tmp, final)
    return final


def _drop_content_copy(folder: Path, remote: RemoteFile) -> None:
    """With the upstream file now kept, remove the raw copy of the same content that
    idxmnist kept under the stem before (never anything that does not verify)."""
    raw = folder / remote.stem
    if remote.content is None or raw.name == remote.name or raw.is_symlink():
        return
    try:
        if not_regular(raw) is None and content_mismatch(raw, remote) is None:
            raw.unlink()
    except (OSError, IdxError):
        pass


def keep_copy(src: Path, remote: RemoteFile, learnt: Learnt) -> tuple[Path | None, str]:
    """Copy the file ``src`` (another folder's: a ``source=`` folder, say) into the store
    ``learnt`` is about, if it is ``remote``; ``(where it went, "")``, else ``(None, why)``.

    What is kept is the copy, checked as it is made (its container hash in
    passing) and, if that is not the upstream bytes, by its content: never
    ``src`` as it may be by then. Hold the folder's lock. ``src`` is only read.
    """
    remote = learnt.of(remote)
    try:
        with temporary(learnt.folder) as (out, tmp), open_regular(src) as f:
            tally = copy_tallied(f, out, remote.algorithm)
    except IdxError as exc:  # not a regular file
        return None, str(exc).removeprefix(f"{src}: ")
    if tally.mismatch(remote) is None:
        return keep(tmp, remote, "container", sniff(tally.lead), learnt), ""
    try:
        found = verdict(tmp, remote)
        if found.how is None:
            return None, found.reason
        return keep(tmp, remote, found.how, found.kind, learnt), ""
    finally:
        tmp.unlink(missing_ok=True)
