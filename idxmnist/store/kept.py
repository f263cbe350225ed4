"""A dataset's folder in the cache: which of its files are there, verified, under what name.

A file is kept under the registry's name when its exact upstream bytes
verified (``train-images-idx3-ubyte.gz``), or under its stem plus the suffix
of the container it really is in when it verified by content
(``train-images-idx3-ubyte`` for raw IDX bytes, ``.xz`` for xz, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..datasets.spec import RemoteFile
from ..idx.compression import SUFFIX, Container
from .verify import verdict

__all__ = ["LOCK_NAME", "names_for", "candidate_names", "kept_name", "find_verified"]

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
    """The name a file verified as ``remote`` is kept under: the registry's name when
    ``how`` is ``"container"``, else the stem and the suffix of its ``kind`` of container."""
    return remote.name if how == "container" else remote.stem + SUFFIX[kind]


def find_verified(
    directory: str | os.PathLike[str], remote: RemoteFile
) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The file in ``directory`` that verifies as ``remote`` (or None), and the ones that do not.

    Each file present under one of :func:`names_for`'s names is checked in
    that order (container, then content); the first that verifies wins.
    The others that were checked and failed come back with the reason.
    """
    bad: list[tuple[Path, str]] = []
    for name in names_for(remote):
        path = Path(directory) / name
        if not path.is_file():
            continue
        result = verdict(path, remote)
        if result.ok:
            return path, bad
        bad.append((path, result.reason))
    return None, bad
