"""``read_idx(transpose=True)``: images turned while they are decoded, never a second pass.

Checked against NumPy's own ``transpose(0, 2, 1)`` of the array written, for
every container and a range of dtypes and shapes, on the inline path and on
the helper-thread path (forced with small thresholds so that many chunks
cross the queue), and through bad inputs. ``InPlaceTransposer`` on its own:
when the helper thread is used and how much scratch memory the turning
takes, that an abandoned helper never keeps the interpreter alive, and that
a decoder error drops the batches still queued.
"""

from __future__ import annotations

import io
import struct
import sys
import threading

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import decode, transpose
from idxmnist.idx.reader import read_idx_from

from ..support.family import gz, idx_bytes


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


# -- InPlaceTransposer: the helper thread, its batches, its scratch memory ---------------------


def stored_images(count: int, h: int, w: int) -> np.ndarray:
    return np.arange(count * h * w, dtype=np.uint8).reshape(count, h, w)


def test_unknown_core_count_turns_inline(monkeypatch):
    """os.cpu_count() may return None ("undetermined"): taken as one core, so no helper
    thread and the inline batch of BATCH_BYTES, one scratch buffer (never more images than
    there are)."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: None)
    x = stored_images(100, 2, 2)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    with transpose.InPlaceTransposer(flat, (100, 2, 2), threaded=True) as t:
        assert t._thread is None and threading.active_count() == before
        assert t.per == transpose.BATCH_BYTES // 4 and t._scratch.shape == (100, 2, 2)
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(100, 2, 2), x.transpose(0, 2, 1))


@pytest.mark.parametrize("h, w", [(2, 3), (1, 1)])
def test_a_payload_of_one_batch_needs_no_helper(h, w, monkeypatch):
    """Two cores and threaded=True: a helper only when there is more than one batch;
    for a single batch it would only add a thread and a second scratch buffer."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * h * w)  # 3 images a batch
    for count, helper in ((3, False), (4, True)):
        x = stored_images(count, h, w)
        flat = x.reshape(-1).copy()
        before = threading.active_count()
        with transpose.InPlaceTransposer(flat, (count, h, w), threaded=True) as t:
            assert t.per == 3 and t._scratch.shape == (3, h, w)
            assert (t._thread is not None) is helper
            assert threading.active_count() == before + helper
            t.landed(flat.size)
        assert threading.active_count() == before
        assert np.array_equal(flat.reshape(count, w, h), x.transpose(0, 2, 1))


def test_no_helper_unless_threaded(monkeypatch):
    """threaded=False (a small payload) turns inline even with many batches and two cores."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 6)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 6)
    x = stored_images(10, 2, 3)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    with transpose.InPlaceTransposer(flat, (10, 2, 3), threaded=False) as t:
        assert t._thread is None and threading.active_count() == before
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(10, 3, 2), x.transpose(0, 2, 1))


def stored_flat(count: int, h: int, w: int, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
    """Images as EMNIST stores them, flat, and what NumPy says they are upright."""
    rng = np.random.default_rng(count * 1000 + h * 10 + w)
    x = rng.integers(0, 200, (count, h, w)).astype(dtype)
    return x.reshape(-1).copy(), x.transpose(0, 2, 1).copy()


def new_threads(before: set) -> list:
    return [t for t in threading.enumerate() if t not in before]


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)


def test_not_threaded_turns_inline_whatever_the_cores(two_cores):
    flat, want = stored_flat(40, 28, 28)
    before = set(threading.enumerate())
    with transpose.InPlaceTransposer(flat, (40, 28, 28), threaded=False) as t:
        assert new_threads(before) == []
        assert t.per == (1 << 18) // 784  # 256 KiB of images at a time
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(40, 28, 28), want)


@pytest.mark.parametrize("above", [0, 1])
def test_transpose_uses_the_helper_thread_from_exactly_thread_min_bytes(monkeypatch, above):
    """A payload of THREAD_MIN_BYTES is turned on the helper thread; one byte less, inline."""
    from idxmnist.idx import transpose

    want = np.arange(23 * 5 * 7, dtype=np.uint8).reshape(23, 5, 7)
    monkeypatch.setattr(transpose, "THREAD_MIN_BYTES", want.nbytes + above)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 5 * 7)
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    on_main = []
    real = transpose.InPlaceTransposer._turn

    def turn(self, start, stop, scratch):
        on_main.append(threading.current_thread() is threading.main_thread())
        return real(self, start, stop, scratch)

    monkeypatch.setattr(transpose.InPlaceTransposer, "_turn", turn)
    data = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 23, 5, 7) + want.tobytes()
    assert np.array_equal(
        idxmnist.read_idx(io.BytesIO(data), transpose=True), want.transpose(0, 2, 1)
    )
    assert on_main and set(on_main) == {bool(above)}


@pytest.mark.parametrize("batch", [4, 3])
def test_images_larger_than_a_batch_turn_one_at_a_time(batch, monkeypatch):
    """An image of more bytes than a batch: a scratch buffer of one image (not two),
    and each image turned as soon as it has landed."""
    monkeypatch.setattr(transpose, "BATCH_BYTES", batch)  # a 2x2 uint8 image is 4 bytes
    x = stored_images(5, 2, 2)
    flat = x.reshape(-1).copy()
    with transpose.InPlaceTransposer(flat, (5, 2, 2), threaded=False) as t:
        assert t.per == 1 and t._scratch.shape == (1, 2, 2)  # memory: one image
        t.landed(4)
        assert t.done == 1
        assert np.array_equal(flat[:4].reshape(2, 2), x[0].T)  # turned already
        assert np.array_equal(flat[4:], x.reshape(-1)[4:])  # the rest not yet
        t.landed(4 * 5)
    assert np.array_equal(flat.reshape(5, 2, 2), x.transpose(0, 2, 1))


@pytest.mark.parametrize("threaded", [False, True])
def test_after_the_first_batch_each_batch_waits_to_be_whole(threaded, monkeypatch, two_cores):
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 4)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 4)
    flat, want = stored_flat(10, 2, 2)
    with transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=threaded) as t:
        assert t.per == 3
        for items, done in ((12, 3), (16, 3), (20, 3), (24, 6), (28, 6), (36, 9), (40, 10)):
            t.landed(items)
            assert t.done == done, items
    assert np.array_equal(flat.reshape(10, 2, 2), want)


def test_the_helper_thread_never_keeps_the_interpreter_alive(monkeypatch):
    """The helper is a daemon thread: started in __init__, it must not keep the process
    from exiting if a transposer is never closed (used without ``with``)."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 4)
    flat = stored_images(10, 2, 2).reshape(-1).copy()
    before = set(threading.enumerate())
    with transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=True) as t:
        new = set(threading.enumerate()) - before
        assert len(new) == 1 and t._thread in new
        assert all(th.daemon for th in new)
        t.landed(flat.size)
    assert set(threading.enumerate()) == before


def test_a_decoder_error_drops_the_batches_still_queued(monkeypatch):
    """ "After an error: stops it, dropping what is queued": ten batches are queued, then
    the decoder fails; the helper turns none of them (it gets the GIL only once the
    error is recorded, when the caller blocks in join)."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 4)  # one 2x2 image a batch
    x = stored_images(10, 2, 2)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)  # no forced GIL handoff: the helper waits for join
    try:
        with (
            pytest.raises(KeyError, match="the decoder failed"),
            transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=True) as t,
        ):
            assert t._thread is not None
            for n in range(1, 11):
                t.landed(4 * n)  # ten batches queued
            assert t.done == 10
            raise KeyError("the decoder failed")
    finally:
        sys.setswitchinterval(interval)
    assert threading.active_count() == before
    assert np.array_equal(flat.reshape(10, 2, 2), x)  # none turned: all dropped


def test_an_error_of_the_helper_on_the_last_batch_is_raised_on_leaving(two_cores):
    """Nothing lands after it: only leaving the block can report it."""
    count = (2 << 20) // 784 + 1
    flat, _ = stored_flat(count, 28, 28)
    flat.flags.writeable = False  # the helper cannot write the images back: it fails
    with pytest.raises(ValueError, match="read-only"):
        with transpose.InPlaceTransposer(flat, (count, 28, 28), threaded=True) as t:
            t.landed(flat.size)
