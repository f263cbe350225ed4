"""Identical output whichever gzip inflater reads the file.

Every backend installed here is exercised: the streaming path with stdlib
zlib, python-isal and zlib-ng (``compression.gzip_backend(name)``), and the
libdeflate whole-buffer path.
"""

from __future__ import annotations

import gzip
import importlib

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import compression, reader

STREAMING = ["zlib", "isal", "zlib-ng"]


def _installed(name: str) -> bool:
    try:
        compression.gzip_backend(name)
    except ImportError:
        return False
    return True


@pytest.fixture(params=[*STREAMING, "libdeflate"])
def backend(request, monkeypatch):
    """Route every gzip read through one inflater."""
    name = request.param
    if name == "libdeflate":
        if compression.libdeflate() is None:
            pytest.skip("deflate (libdeflate) is not installed")
        return name
    if not _installed(name):
        pytest.skip(f"{name} is not installed")
    module = importlib.import_module(compression._ZLIB_LIKE[name])
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    monkeypatch.setattr(compression, "gzip_backend", lambda _name="auto": module)
    return name


def _spy_stream(monkeypatch):
    """Count streaming reads, to prove which path ran."""
    calls = []
    real = reader._read_stream

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(reader, "_read_stream", spy)
    return calls


@pytest.mark.parametrize(
    "dtype", ["uint8", "int8", ">i2", ">i4", ">f4", ">f8"], ids=lambda d: str(d)
)
def test_synthetic_identical_on_every_backend(tmp_path, backend, monkeypatch, dtype):
    rng = np.random.default_rng(7)
    want = (rng.standard_normal((300, 17, 5)) * 1000).astype(np.dtype(dtype).newbyteorder("="))
    path = tmp_path / "x.idx.gz"
    idxmnist.write_idx(path, want, compress="gzip")
    calls = _spy_stream(monkeypatch)
    got = idxmnist.read_idx(path)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    assert bool(calls) == (backend != "libdeflate")


def test_multi_chunk_stream_identical(tmp_path, backend):
    """Larger than several streaming chunks, with a compression level that varies."""
    want = np.random.default_rng(1).integers(
        0, 7, size=(3 * compression.CHUNK + 123,), dtype=np.uint8
    )
    idxmnist.write_idx(tmp_path / "a.idx", want)
    path = tmp_path / "a.idx.gz"
    path.write_bytes(gzip.compress((tmp_path / "a.idx").read_bytes(), compresslevel=1))
    assert np.array_equal(idxmnist.read_idx(path), want)


@pytest.mark.realdata
def test_real_mnist_identical_on_every_backend(mnist_dir, backend):
    (x, y), (xt, yt) = idxmnist.load_idx_dataset(mnist_dir)
    with gzip.open(mnist_dir / "train-images-idx3-ubyte.gz") as f:
        want_x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as f:
        want_yt = np.frombuffer(f.read(), np.uint8, offset=8)
    assert np.array_equal(x, want_x) and np.array_equal(yt, want_yt)
    assert x.shape == (60000, 28, 28) and y.shape == (60000,) and xt.shape == (10000, 28, 28)
