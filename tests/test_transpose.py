"""``read_idx(transpose=True)``: images turned while they are decoded, never a second pass.

Checked against NumPy's own ``transpose(0, 2, 1)`` of the array written, for
every container and a range of dtypes and shapes, on the inline path and on
the helper-thread path (forced with small thresholds so that many chunks
cross the queue), and through bad inputs.
"""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import decode, transpose
from idxmnist.idx.reader import read_idx_from

from .support.family import gz, idx_bytes


@pytest.fixture(params=["inline", "threaded"])
def landing(request, monkeypatch):
    """Both ways of turning: inline, and on the helper thread; in 3-image batches,
    so that many batches (and many chunks of the decoder) go by."""
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 5 * 7 * 8)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 5 * 7 * 8)
    if request.param == "threaded":
        monkeypatch.setattr(transpose, "THREAD_MIN_BYTES", 0)
    return request.param


def images(dtype: str, shape=(23, 5, 7)) -> np.ndarray:
    rng = np.random.default_rng(3)
    return (rng.standard_normal(shape) * 1000).astype(dtype)


@pytest.mark.parametrize("compress", [None, "gzip", "xz", "bz2"])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "float64"])
def test_transposed_equals_numpy_transpose(compress, dtype, landing, tmp_path):
    arr = images(dtype)
    path = tmp_path / "x-idx3"
    idxmnist.write_idx(path, arr, compress=compress)
    before = threading.active_count()
    for source in (path, io.BytesIO(path.read_bytes())):
        got = idxmnist.read_idx(source, transpose=True)
        want = arr.transpose(0, 2, 1)
        assert got.shape == (23, 7, 5) and got.dtype == want.dtype
        assert np.array_equal(got, want)
        assert got.flags.c_contiguous and got.flags.writeable and got.dtype.isnative
    assert threading.active_count() == before  # the helper thread is gone


def test_mnist_upright_and_back(mnist_dir):
    path = mnist_dir / "t10k-images-idx3-ubyte.gz"
    x = idxmnist.read_idx(path)
    t = idxmnist.read_idx(path, transpose=True)
    assert np.array_equal(t, x.transpose(0, 2, 1)) and not np.array_equal(t, x)


@pytest.mark.skipif(not decode.numba_available(), reason="numba is not installed")
def test_numba_backend_swaps_then_transposes(landing, tmp_path):
    arr = images("int32")
    path = tmp_path / "x.gz"
    idxmnist.write_idx(path, arr)
    got = idxmnist.read_idx(path, backend="numba", transpose=True)
    assert np.array_equal(got, arr.transpose(0, 2, 1))


@pytest.mark.parametrize("shape", [(0, 28, 28), (4, 0, 3), (1, 1, 1), (2, 28, 28)])
def test_edge_shapes(shape, landing):
    arr = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    got = idxmnist.read_idx(io.BytesIO(idx_bytes(arr, "gzip")), transpose=True)
    assert got.shape == (shape[0], shape[2], shape[1])
    assert np.array_equal(got, arr.transpose(0, 2, 1))


@pytest.mark.parametrize("shape", [(10,), (3, 4), (2, 3, 4, 5)])
def test_only_images_transpose(shape):
    arr = np.zeros(shape, np.uint8)
    with pytest.raises(
        idxmnist.IdxError, match=r"transpose=True needs images, shape \(count, height, width\)"
    ):
        idxmnist.read_idx(io.BytesIO(idx_bytes(arr)), transpose=True)


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_truncated_payload(compress, landing, tmp_path):
    arr = images("uint8")
    raw = idx_bytes(arr)
    cut = raw[: 16 + 10 * 35 + 3]  # ten whole images and 3 bytes
    data = cut if compress is None else gz(cut)
    before = threading.active_count()
    with pytest.raises(idxmnist.TruncatedError, match=r"ends after 353 of 805 payload bytes"):
        read_idx_from(io.BytesIO(data), "x.idx", None, transpose=True)
    assert threading.active_count() == before


@pytest.mark.parametrize(
    "sized, pattern",
    [
        (False, r"x\.idx: the file holds more data than its IDX header declares"),
        (True, r"x\.idx: file is 822 bytes but its IDX header declares 821"),
    ],
)
def test_trailing_bytes(sized, pattern, landing):
    data = idx_bytes(images("uint8")) + b"\0"
    with pytest.raises(idxmnist.IdxError, match=pattern):
        read_idx_from(io.BytesIO(data), "x.idx", len(data) if sized else None, transpose=True)


def test_an_error_on_the_helper_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(transpose, "THREAD_MIN_BYTES", 0)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 2 * 35)
    calls = []

    def failing(self, start, stop, scratch):
        calls.append(threading.current_thread() is threading.main_thread())
        raise MemoryError("no room")

    monkeypatch.setattr(transpose.InPlaceTransposer, "_turn", failing)
    before = threading.active_count()
    with pytest.raises(MemoryError, match="no room"):
        idxmnist.read_idx(io.BytesIO(idx_bytes(images("uint8"))), transpose=True)
    assert threading.active_count() == before
    assert calls == [False]  # it failed on the helper thread, once


def test_the_helper_stops_when_the_decoder_fails(monkeypatch):
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 8)
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    flat = np.zeros(10 * 4, np.uint8)
    before = threading.active_count()
    with pytest.raises(KeyError), transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=True) as t:
        assert t._thread is not None and threading.active_count() == before + 1
        t.landed(40)
        raise KeyError("the decoder failed")
    assert threading.active_count() == before


@pytest.mark.parametrize("threaded", [False, True])
def test_batches_turn_whole_images_once(threaded, monkeypatch):
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 4)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 4)
    x = np.arange(10 * 2 * 2, dtype=np.uint8).reshape(10, 2, 2)
    flat = x.reshape(-1).copy()
    with transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=threaded) as t:
        assert t.per == 3 and t._scratch.shape == (3, 2, 2)  # memory: one batch
        t.landed(4 * 2 - 1)  # one image and most of another: not a batch yet
        assert t.done == 0
        t.landed(4 * 3 + 1)  # three whole images: one batch handed over
        assert t.done == 3
        t.landed(4 * 3 + 2)  # nothing new
        assert t.done == 3
        t.landed(40)  # the end: the last images, fewer than a batch
        assert t.done == 10
        t.landed(40)
    assert np.array_equal(flat.reshape(10, 2, 2), x.transpose(0, 2, 1))


def test_one_core_turns_inline(monkeypatch):
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 1)
    flat = np.zeros(100 * 4, np.uint8)
    with transpose.InPlaceTransposer(flat, (100, 2, 2), threaded=True) as t:
        assert t._thread is None and t.per == transpose.BATCH_BYTES // 4
