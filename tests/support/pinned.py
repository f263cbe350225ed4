"""A synthetic dataset whose content is pinned, and whole-dataset files of it.

Four tiny IDX files (``IDX``), their gzip copies (``UPSTREAM``), a keras-layout
npz of their arrays (``NPZ``), and ``synth_spec``: each file pinned by its
container sha256 and by the sha256 and size of its IDX content, the npz as
the whole-dataset file. Expected values come from ``hashlib``, ``gzip``,
``struct`` and ``zipfile``, never from the code under test.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct

import numpy as np
import pytest

from idxmnist import DownloadError
from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile
from idxmnist.fetch import download

from .httpserver import FaultServer

RNG = np.random.default_rng(12)
IMAGES = RNG.integers(0, 256, (6, 4, 5), dtype=np.uint8)
RAW = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 6, 4, 5) + IMAGES.tobytes()


KEYS = ("x_train", "y_train", "x_test", "y_test")
STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
ARRAYS = (
    RNG.integers(0, 256, (5, 3, 4), dtype=np.uint8),
    RNG.integers(0, 10, 5, dtype=np.uint8),
    RNG.integers(0, 256, (3, 3, 4), dtype=np.uint8),
    RNG.integers(0, 10, 3, dtype=np.uint8),
)


def idx_of(a: np.ndarray) -> bytes:
    return struct.pack(f">BBBB{a.ndim}I", 0, 0, 0x08, a.ndim, *a.shape) + a.tobytes()


IDX = {s: idx_of(a) for s, a in zip(STEMS, ARRAYS, strict=True)}
UPSTREAM = {f"{s}.gz": gzip.compress(IDX[s], 9, mtime=0) for s in STEMS}


def npz_of(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **dict(zip(KEYS, arrays, strict=True)))
    return buf.getvalue()


NPZ = npz_of(ARRAYS)


def synth_spec(whole: bytes = NPZ) -> DatasetSpec:
    files = tuple(
        RemoteFile(
            n,
            len(b),
            "sha256",
            hashlib.sha256(b).hexdigest(),
            hashlib.sha256(IDX[n[:-3]]).hexdigest(),
            len(IDX[n[:-3]]),
        )
        for n, b in UPSTREAM.items()
    )
    pin = RemoteFile("synth.npz", len(whole), "sha256", hashlib.sha256(whole).hexdigest())
    return DatasetSpec("synth", "synth.npz", "synth", files, (), DIGITS, whole_files=(pin,))


def cut_whole_download(server: FaultServer, spec, dest) -> str:
    """A first fetch of ``synth.npz`` from ``server`` cut after 300 bytes: it fails and
    leaves those bytes in ``.synth.npz.part``; the server is then up again. Its URL."""
    url = server.url() + "synth.npz"
    server.cut["synth.npz"] = 300
    server.down_after_cut = True
    with pytest.raises(DownloadError):
        download.fetch_dataset(spec, dest, [url], offline=False)
    assert (dest / ".synth.npz.part").read_bytes() == NPZ[:300]
    server.down_after_cut = False
    return url
