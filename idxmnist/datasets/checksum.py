"""Sizes and checksums of dataset files against the registry.

The size is compared first (a stat, free), the digest only when it matches;
files are hashed in bounded chunks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .registry import DatasetSpec, RemoteFile

__all__ = ["hash_file", "mismatch", "verify_dir", "detect", "FileReport"]

CHUNK = 1 << 20


def hash_file(
    path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)
) -> dict[str, str]:
    """``{algorithm: hexdigest}`` of the file at ``path``, in one pass."""
    hashes = {alg: hashlib.new(alg, usedforsecurity=False) for alg in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


def mismatch(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Why the file at ``path`` is not ``remote`` (size first, then digest); None if it is."""
    size = os.stat(path).st_size
    if size != remote.size:
        return f"{size} bytes, expected {remote.size}"
    digest = hash_file(path, (remote.algorithm,))[remote.algorithm]
    if digest != remote.digest:
        return f"{remote.algorithm} {digest}, expected {remote.digest}"
    return None


@dataclass(slots=True)
class FileReport:
    """The verdict on one file: ``status`` is "ok", "mismatch" or "missing"."""

    path: Path
    remote: RemoteFile
    status: Literal["ok", "mismatch", "missing"]
    reason: str = ""

    def __str__(self) -> str:
        if self.status == "ok":
            return f"ok        {self.path}"
        if self.status == "missing":
            return f"missing   {self.path}"
        return f"MISMATCH  {self.path}: {self.reason}"


def verify_dir(directory: str | os.PathLike[str], spec: DatasetSpec) -> list[FileReport]:
    """Check each of ``spec``'s files present in ``directory`` (and its archive, if there)."""
    reports = []
    remotes = list(spec.remote_files)
    if spec.archive is not None and (Path(directory) / spec.archive.file.name).is_file():
        remotes.append(spec.archive.file)
    for remote in remotes:
        path = Path(directory) / remote.name
        if not path.is_file():
            reports.append(FileReport(path, remote, "missing"))
            continue
        reason = mismatch(path, remote)
        if reason is None:
            reports.append(FileReport(path, remote, "ok"))
        else:
            reports.append(FileReport(path, remote, "mismatch", reason))
    return reports


def detect(directory: str | os.PathLike[str], specs: Iterable[DatasetSpec]) -> DatasetSpec | None:
    """The registered dataset most of whose files in ``directory`` match; None if none does.

    The three datasets share file names, so this goes by size and checksum.
    """
    best, best_hits = None, 0
    digests: dict[Path, dict[str, str]] = {}
    for spec in specs:
        hits = 0
        for remote in spec.remote_files:
            path = Path(directory) / remote.name
            if not path.is_file() or path.stat().st_size != remote.size:
                continue
            if path not in digests:
                digests[path] = hash_file(path, ("md5", "sha256"))
            if digests[path].get(remote.algorithm) == remote.digest:
                hits += 1
        if hits > best_hits:
            best, best_hits = spec, hits
    return best
