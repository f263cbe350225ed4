"""Datasets published as one archive (EMNIST's ``gzip.zip``): keep the members needed.

A split of such a dataset is four members of the archive. To make the cache
hold them, :func:`fetch_members` downloads the archive (mirrors in order,
verified against its pinned size and checksum, like any file), copies each
member needed out of it, streamed, into its own file, each verified against
its own pinned size and SHA-256 and written atomically, then deletes the
archive: the cache keeps the verified members of the splits that were
fetched (``<cache dir>/emnist/emnist-letters-train-images-idx3-ubyte.gz``
...), not 536 MiB of zip. An archive left there by an interrupted run is
reused if it still verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from ..atomic import atomic_write
from ..errors import ChecksumError
from ..idx.ziparchive import ZipArchive
from . import checksum
from .registry import DatasetSpec, RemoteFile

__all__ = ["fetch_members", "extract_member"]

CHUNK = 1 << 18


def extract_member(archive: Path, member: str, remote: RemoteFile, dest_dir: Path) -> Path:
    """Copy ``member`` of ``archive`` to ``dest_dir/<remote.name>`` if it is exactly ``remote``.

    The bytes are streamed (never the whole member in memory) and hashed on
    the way; the file appears under its name only once its size and
    checksum match. Raises :class:`ChecksumError` otherwise, and
    :class:`IdxError` for a damaged archive.
    """
    dest = dest_dir / remote.name
    digest = hashlib.new(remote.algorithm, usedforsecurity=False)
    size = 0
    with ZipArchive(archive).open(member) as src, atomic_write(dest) as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        if size != remote.size or digest.hexdigest() != remote.digest:
            raise ChecksumError(
                f"{archive}[{member}]: {size} bytes with {remote.algorithm} "
                f"{digest.hexdigest()}, expected {remote.size} bytes with {remote.digest}; "
                "the archive is not the one the registry pins"
            )
    return dest


def fetch_members(
    spec: DatasetSpec,
    wanted: Sequence[RemoteFile],
    dest_dir: Path,
    mirrors: Sequence[str],
    *,
    seconds: float,
    dead: dict[str, str],
    hint: str,
) -> list[Path]:
    """Put the ``wanted`` members of ``spec``'s archive into ``dest_dir``, verified.

    Called by ``download.fetch_dataset`` under its lock. Returns the member
    files written.
    """
    from .download import fetch_file

    archive = spec.archive
    if archive is None:
        raise ValueError(f"{spec.name} is not published as an archive")
    path = dest_dir / archive.file.name
    if not (path.is_file() and checksum.mismatch(path, archive.file) is None):
        fetch_file(archive.file, dest_dir, mirrors, seconds=seconds, dead=dead, hint=hint)
    try:
        return [extract_member(path, archive.member(r), r, dest_dir) for r in wanted]
    finally:
        path.unlink(missing_ok=True)
