"""write_idx -> read_idx round trips over every dtype, rank and container."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import idxmnist
from idxmnist.idx.decode import numba_available

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]
CONTAINERS = [None, "gzip", "xz", "bz2"]

arrays = hnp.arrays(
    dtype=st.sampled_from(DTYPES).map(np.dtype),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
    elements=None,  # any bit pattern, NaNs and infinities included
)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _check_output(arr: np.ndarray) -> None:
    assert type(arr) is np.ndarray
    assert arr.flags.c_contiguous and arr.flags.writeable and arr.flags.aligned
    assert arr.dtype.isnative


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=arrays, compress=st.sampled_from(CONTAINERS))
def test_roundtrip_file_object(arr, compress):
    buf = io.BytesIO()
    idxmnist.write_idx(buf, arr, compress=compress)
    buf.seek(0)
    out = idxmnist.read_idx(buf)
    assert _same_bits(out, arr)
    _check_output(out)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(arr=arrays, compress=st.sampled_from(CONTAINERS))
def test_roundtrip_path(tmp_path, arr, compress):
    path = tmp_path / "a-idx"
    idxmnist.write_idx(path, arr, compress=compress)
    out = idxmnist.read_idx(path)
    assert _same_bits(out, arr)
    _check_output(out)
    header = idxmnist.read_idx_header(path)
    assert header.shape == arr.shape and header.dtype == arr.dtype


@pytest.fixture(params=["numpy", "numba"])
def decoder(request):
    """Each byte-order decoder; a missing numba is a visible skip, not a missing case."""
    if request.param == "numba" and not numba_available():
        pytest.skip("numba (idxmnist[numba]) is not installed")
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 2), (0,), (4, 0, 2)])
def test_both_read_paths_and_backends_agree(tmp_path, read_path, decoder, dtype, shape):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(dtype).itemsize, dtype=np.uint8)
    arr = arr.view(dtype).reshape(shape)
    path = tmp_path / "x-idx.gz"
    idxmnist.write_idx(path, arr)
    out = idxmnist.read_idx(path, backend=decoder)
    assert _same_bits(out, arr), decoder
    _check_output(out)


def test_file_format_is_big_endian_per_spec(tmp_path):
    """Bytes on disk checked by hand, not by our reader."""
    path = tmp_path / "t-idx"
    idxmnist.write_idx(path, np.array([[1, -2]], dtype=np.int32))
    assert path.read_bytes() == bytes.fromhex("0000 0c02 00000001 00000002 00000001 fffffffe")


@pytest.mark.parametrize(
    ("suffix", "opener"), [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)]
)
def test_suffix_picks_compression(tmp_path, suffix, opener):
    path = tmp_path / f"labels-idx1-ubyte{suffix}"
    idxmnist.write_idx(path, np.arange(10, dtype=np.uint8))
    raw = opener(path).read()
    assert raw == bytes.fromhex("00000801 0000000a") + bytes(range(10))


def test_gzip_output_is_reproducible(tmp_path):
    a = np.arange(1000, dtype=np.float32)
    idxmnist.write_idx(tmp_path / "a.gz", a)
    idxmnist.write_idx(tmp_path / "b.gz", a)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_compression_is_detected_from_bytes_not_name(tmp_path):
    arr = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = tmp_path / "misleading.idx.bz2"
    idxmnist.write_idx(path, arr, compress="xz")
    assert _same_bits(idxmnist.read_idx(path), arr)


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._buf = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        return self._buf.readinto(b)


@pytest.mark.parametrize("compress", CONTAINERS)
def test_unseekable_stream(compress):
    arr = np.linspace(-1, 1, 600, dtype=np.float64).reshape(10, 60)
    buf = io.BytesIO()
    idxmnist.write_idx(buf, arr, compress=compress)
    out = idxmnist.read_idx(_Unseekable(buf.getvalue()))
    assert _same_bits(out, arr)


def test_large_payload_streams_in_chunks(read_path):
    """Bigger than one chunk, with chunk edges that split items."""
    arr = np.arange(300_001, dtype=np.float64) * 1.5
    buf = io.BytesIO()
    idxmnist.write_idx(buf, arr, compress="gzip")
    buf.seek(0)
    assert _same_bits(idxmnist.read_idx(buf), arr)


def test_write_rejects_what_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError):
        idxmnist.write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))
    with pytest.raises(ValueError):
        idxmnist.write_idx(tmp_path / "x", np.float32(1.0))
    with pytest.raises(ValueError):
        idxmnist.write_idx(tmp_path / "x", np.zeros(3, np.uint8), compress="zip")
    assert not (tmp_path / "x").exists()


def test_unknown_backend_is_a_clear_error(tmp_path):
    idxmnist.write_idx(tmp_path / "x", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="backend"):
        idxmnist.read_idx(tmp_path / "x", backend="cuda")


def test_numba_backend_missing_is_a_clear_error(tmp_path, monkeypatch):
    from idxmnist.idx import decode

    monkeypatch.setattr(decode, "numba_available", lambda: False)
    idxmnist.write_idx(tmp_path / "x", np.arange(4, dtype=np.int32))
    with pytest.raises(ImportError, match=r"idxmnist\[numba\]"):
        idxmnist.read_idx(tmp_path / "x", backend="numba")
    # "auto" falls back without a word
    assert idxmnist.read_idx(tmp_path / "x", backend="auto").tolist() == [0, 1, 2, 3]
