"""Registry entries for small synthetic data: the files' own facts, computed independently.

Since every file idxmnist did not write is verified before its arrays are
returned, a test that loads synthetic data through a built-in entry
(``mnist``) registers a copy of that entry whose pins and split sizes are
the synthetic files' own. They are computed here with ``hashlib``, ``gzip``,
``lzma`` and ``struct`` alone, never by idxmnist: the container's size and
SHA-256 (or MD5, as the base entry uses), the content SHA-256 and length of
the decompressed IDX bytes, and each split's count from the IDX header.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import lzma
import struct
from pathlib import Path

from idxmnist.datasets.spec import DatasetSpec, RemoteFile, Split


def decompressed(data: bytes) -> bytes:
    """The IDX bytes of a file as upstream packs it: gzip, xz, bz2 or raw, by its magic."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    return data


def count_of(idx: bytes) -> int:
    """The first dimension an IDX header declares (``struct``, not idxmnist's reader)."""
    ndim = idx[3]
    assert idx[:2] == b"\0\0" and ndim >= 1, idx[:4]
    return int(struct.unpack(">I", idx[4:8])[0])


def remote_for(path: Path, like: RemoteFile, *, content: bool = True) -> RemoteFile:
    """The pin of the file at ``path``, with ``like``'s name and algorithm."""
    data = path.read_bytes()
    digest = hashlib.new(like.algorithm, data).hexdigest()
    if not content:
        return RemoteFile(like.name, len(data), like.algorithm, digest)
    idx = decompressed(data)
    return RemoteFile(
        like.name, len(data), like.algorithm, digest, hashlib.sha256(idx).hexdigest(), len(idx)
    )


def pinned_spec(
    base: DatasetSpec, folder: Path, *, content: bool = True, whole: tuple[Path, ...] = ()
) -> DatasetSpec:
    """``base`` with the files in ``folder`` (under ``base``'s file names) as its own.

    ``content``: pin their content too (else only their containers, as
    Fashion-MNIST's images are); ``whole``: files to pin as the whole-dataset
    files (keras's ``mnist.npz`` is one), by their names.
    """
    files = tuple(remote_for(folder / f.name, f, content=content) for f in base.files)
    counts = []
    for split in base.splits:
        images = next(
            f for f, key in zip(files, base.keys, strict=True) if key == f"x_{split.name}"
        )
        count = count_of(decompressed((folder / images.name).read_bytes()))
        counts.append(Split(split.name, count, split.rows))
    pins = tuple(
        RemoteFile(p.name, p.stat().st_size, "sha256", hashlib.sha256(p.read_bytes()).hexdigest())
        for p in whole
    )
    return dataclasses.replace(
        base, files=files, splits=tuple(counts), whole_files=pins, mirrors=()
    )
