"""Reading IDX files: the bytes back exactly, from any source, on both read paths.

``write_idx`` -> ``read_idx`` round trips over every dtype, rank and container
(Hypothesis); the streaming path and libdeflate's whole-buffer gzip path;
``read_idx_header``, ``inspect_idx``; file objects that are unseekable, stand
past other data or hand out a few bytes per read (``read_idx_from``, as a zip
member is read); and the real MNIST files against the obvious gzip +
``frombuffer`` reading.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import idxmnist
from idxmnist.idx import compression, decode, reader
from idxmnist.idx.decode import numba_available
from idxmnist.idx.reader import IdxInfo, inspect_idx

from ..support.helpers import MNIST_FILES, plain_read

# -- round trips: every dtype, rank and container, both read paths -----------------------------

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


# -- the real MNIST files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", MNIST_FILES)
def test_read_idx_equals_plain_gzip_reading(mnist_dir, read_path, name):
    arr = idxmnist.read_idx(mnist_dir / name)
    ref = plain_read(mnist_dir / name, 16 if "images" in name else 8)
    assert arr.dtype == np.uint8 and arr.flags.writeable and arr.flags.c_contiguous
    assert np.array_equal(arr.reshape(-1), ref)


def test_headers(mnist_dir):
    h = idxmnist.read_idx_header(mnist_dir / "train-images-idx3-ubyte.gz")
    assert (h.dtype, h.shape, h.type_code) == (np.uint8, (60000, 28, 28), 0x08)
    h = idxmnist.read_idx_header(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert (h.dtype, h.shape) == (np.uint8, (10000,))


# -- headers, sources, positions ---------------------------------------------------------------


def test_header_and_inspect(tmp_path):
    path = tmp_path / "x.gz"
    arr = np.arange(12, dtype=np.int32).reshape(3, 4)
    idxmnist.write_idx(path, arr)
    info = inspect_idx(path)
    assert info == IdxInfo(info.header, "gzip", path.stat().st_size)
    h = info.header
    assert (h.type_code, h.shape, h.dtype, h.header_size, h.total_size) == (
        0x0C,
        (3, 4),
        np.dtype("int32"),
        12,
        60,
    )
    assert info.raw_size == 60 and h.file_dtype == np.dtype(">i4") and h.count == 12
    data = path.read_bytes()
    assert inspect_idx(io.BytesIO(data)).stored_size == len(data)
    raw = tmp_path / "x.idx"
    idxmnist.write_idx(raw, arr)
    assert inspect_idx(raw) == IdxInfo(h, "raw", 60)
    assert idxmnist.read_idx_header(raw) == h


def test_read_idx_refuses_a_text_mode_source(tmp_path):
    path = tmp_path / "x.idx"
    idxmnist.write_idx(path, np.arange(5, dtype=np.uint8))
    with open(path, encoding="latin-1") as text:
        with pytest.raises(TypeError, match="needs a path or a binary file object"):
            idxmnist.read_idx(text)
    with pytest.raises(TypeError, match="needs a path or a binary file object"):
        idxmnist.read_idx(io.StringIO("\x00\x00\x08\x01\x00\x00\x00\x00"))


def test_read_idx_starts_at_the_file_objects_position():
    """A file object already moved past other data is read from where it stands."""
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    data = struct.pack(">BBBB2I", 0, 0, 0x08, 2, 3, 4) + x.tobytes()
    f = io.BytesIO(b"junk" + data)
    f.seek(4)
    assert np.array_equal(idxmnist.read_idx(f), x)


def test_a_file_cut_inside_its_header_is_a_truncated_error(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10) + b"\x00\x00")
    with pytest.raises(idxmnist.TruncatedError) as exc:
        idxmnist.read_idx(path)
    assert str(exc.value) == (
        f"{path}: file ends inside the IDX header (10 of 16 header bytes); "
        "the file is truncated, fetch it again"
    )


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_a_header_of_0xffffffff_is_refused_before_allocating(monkeypatch, compress):
    def no_allocation(header, name):
        raise AssertionError(f"allocated for shape {header.shape}")

    monkeypatch.setattr(reader, "_allocate", no_allocation)
    head = struct.pack(">BBBBI", 0, 0, 0x08, 1, 0xFFFFFFFF) + bytes(10)
    data = head if compress is None else gzip.compress(head)
    pattern = r"declares 4294967303 .*truncated" if compress is None else "can possibly hold"
    with pytest.raises(idxmnist.IdxError, match=pattern):
        idxmnist.read_idx(io.BytesIO(data))
    two = struct.pack(">BBBBII", 0, 0, 0x08, 2, 0xFFFFFFFF, 0xFFFFFFFF)
    with pytest.raises(idxmnist.IdxError, match="not a plausible file"):
        idxmnist.read_idx(io.BytesIO(two))


def test_transpose_checks_the_header_against_the_file_size_first(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 1000, 28, 28) + bytes(100))
    with pytest.raises(idxmnist.TruncatedError) as info:
        idxmnist.read_idx(path, transpose=True)
    assert str(info.value) == (
        f"{path}: file is 116 bytes but its IDX header declares 784016 (shape (1000, 28, 28)); "
        "the file is truncated, delete it and fetch it again"
    )


def test_backend_numba_is_honoured_on_both_read_paths(tmp_path, monkeypatch, read_path):
    """backend="numba" swaps with the Numba kernels (loaded on first use), not NumPy's."""
    if not decode.numba_available():
        pytest.skip("numba (idxmnist[numba]) is not installed")
    import idxmnist.idx as idx_package

    monkeypatch.delitem(sys.modules, "idxmnist.idx._numba", raising=False)
    monkeypatch.delattr(idx_package, "_numba", raising=False)
    want = np.arange(-500, 500, dtype=np.int32).reshape(10, 100)
    idxmnist.write_idx(tmp_path / "x.gz", want)
    assert np.array_equal(idxmnist.read_idx(tmp_path / "x.gz", backend="numpy"), want)
    assert "idxmnist.idx._numba" not in sys.modules
    assert np.array_equal(idxmnist.read_idx(tmp_path / "x.gz", backend="numba"), want)
    assert "idxmnist.idx._numba" in sys.modules


# -- the libdeflate whole-buffer gzip path -----------------------------------------------------


def test_libdeflate_reads_a_gzip_file_whole(tmp_path, monkeypatch):
    """With libdeflate a gzip file of known size is inflated in one call, not streamed."""
    if compression.libdeflate() is None:
        pytest.skip("the deflate package (idxmnist[fast]) is not installed")
    streamed = []
    real = reader._read_stream
    monkeypatch.setattr(reader, "_read_stream", lambda *a: streamed.append(a) or real(*a))
    arr = np.arange(1000, dtype=np.float64).reshape(10, 100)
    idxmnist.write_idx(tmp_path / "x.gz", arr)
    assert np.array_equal(idxmnist.read_idx(tmp_path / "x.gz"), arr) and not streamed
    assert np.array_equal(idxmnist.read_idx(io.BytesIO((tmp_path / "x.gz").read_bytes())), arr)
    assert not streamed
    idxmnist.write_idx(tmp_path / "e.gz", np.zeros((0, 3), np.uint8))  # empty: streamed
    assert idxmnist.read_idx(tmp_path / "e.gz").shape == (0, 3) and len(streamed) == 1


RAW_IDX = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 3, 4, 5) + bytes(range(60))


def whole_path_only():
    if compression.libdeflate() is None:
        pytest.skip("the deflate package (idxmnist[fast]) is not installed")


def gzip_named(payload: bytes, name_len: int) -> bytes:
    """A gzip file (RFC 1952) with an FNAME field of ``name_len`` bytes, its data stored."""
    z = zlib.compressobj(0, zlib.DEFLATED, -15)
    body = z.compress(payload) + z.flush()
    head = b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\xff" + b"n" * name_len + b"\x00"
    return head + body + struct.pack("<II", zlib.crc32(payload), len(payload))


def read_spying_on_the_stream_path(data: bytes, monkeypatch) -> tuple[np.ndarray, bool]:
    streamed = []
    real = reader._read_stream
    monkeypatch.setattr(reader, "_read_stream", lambda *a: streamed.append(a) or real(*a))
    return idxmnist.read_idx(io.BytesIO(data)), bool(streamed)


def test_a_gzip_name_field_that_pushes_the_idx_header_past_the_peek_is_streamed(monkeypatch):
    """The whole path peeks at the first PEEK_INPUT (64 KiB) compressed bytes for the IDX
    header. A long (legal) FNAME field can leave only part of the header in them: that
    is not a cut file, the streaming path reads it."""
    whole_path_only()
    want = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    # 10-byte gzip header + name + NUL + 5-byte stored-block header: 6 IDX bytes remain
    data = gzip_named(RAW_IDX, compression.PEEK_INPUT - 16 - 6)
    assert len(zlib.decompressobj(31).decompress(data[: compression.PEEK_INPUT])) == 6
    arr, streamed = read_spying_on_the_stream_path(data, monkeypatch)
    assert np.array_equal(arr, want) and streamed


def test_a_gzip_file_of_exactly_the_peek_size_is_read_whole(monkeypatch):
    """At PEEK_INPUT bytes the peek saw the whole file, so a short lead is the whole data
    and the one-call inflate applies; one byte more and the lead may be cut: streamed."""
    whole_path_only()
    want = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    base = len(gzip_named(RAW_IDX, 0))
    exact = gzip_named(RAW_IDX, compression.PEEK_INPUT - base)
    assert len(exact) == compression.PEEK_INPUT
    arr, streamed = read_spying_on_the_stream_path(exact, monkeypatch)
    assert np.array_equal(arr, want) and not streamed
    over = gzip_named(RAW_IDX, compression.PEEK_INPUT - base + 1)
    arr, streamed = read_spying_on_the_stream_path(over, monkeypatch)
    assert np.array_equal(arr, want) and streamed


def test_a_gzip_file_cut_right_after_the_magic_names_the_cut_header():
    """Four inflated bytes are enough to check the magic: the whole path then reports the
    cut header; with three it leaves the diagnosis to the streaming path."""
    whole_path_only()
    data = gzip.compress(RAW_IDX, compresslevel=0, mtime=0)  # stored: byte n is at 15 + n
    for n, text in [
        (
            3,
            "the gzip stream ends early: the file is truncated (an interrupted download?); "
            "delete it and fetch it again",
        ),
        (
            4,
            "file ends inside the IDX header (4 of 16 header bytes); the file is truncated, "
            "fetch it again",
        ),
        (
            5,
            "file ends inside the IDX header (5 of 16 header bytes); the file is truncated, "
            "fetch it again",
        ),
    ]:
        assert zlib.decompressobj(31).decompress(data[: 15 + n]) == RAW_IDX[:n]
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.read_idx(io.BytesIO(data[: 15 + n]))
        assert str(info.value) == f"<BytesIO>: {text}"


def test_a_gzip_header_declaring_more_than_the_file_holds_allocates_nothing_first():
    """The whole path checks the header against the file size before the one-call inflate
    allocates its output, even when the gzip trailer agrees with the header."""
    whole_path_only()
    total = 8 + 10_000_000
    data = gzip.compress(struct.pack(">BBBBI", 0, 0, 0x08, 1, 10_000_000) + bytes(200), mtime=0)
    data = data[:-4] + struct.pack("<I", total)  # ISIZE says what the header says
    tracemalloc.start()
    try:
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.read_idx(io.BytesIO(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"<BytesIO>: IDX header declares {total} bytes (shape (10000000,)), more than a "
        f"{len(data)}-byte gzip file can possibly hold; the header is corrupt or the file "
        "is truncated"
    )
    assert peak < 1_000_000, peak


# -- read_idx_from: an open, unseekable stream (a zip member) ----------------------------------


class Trickle:
    """A stream that hands out at most ``step`` bytes per read, as a pipe or socket may."""

    def __init__(self, data: bytes, step: int = 1):
        self._f, self._step = io.BytesIO(data), step

    def read(self, n: int = -1) -> bytes:
        return self._f.read(self._step if n < 0 else min(n, self._step))


def test_read_idx_from_reads_plain_and_transposed_from_a_trickling_stream():
    """The sniffed lead is gathered from reads of one byte at a time; transpose is off by
    default and turns the images when asked."""
    x = np.arange(4 * 3 * 5, dtype=np.uint8).reshape(4, 3, 5)
    data = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 4, 3, 5) + x.tobytes()
    plain = reader.read_idx_from(Trickle(data), "x.idx", len(data))
    assert plain.shape == (4, 3, 5) and np.array_equal(plain, x)
    turned = reader.read_idx_from(Trickle(data, 7), "x.idx", None, transpose=True)
    assert turned.shape == (4, 5, 3) and np.array_equal(turned, x.transpose(0, 2, 1))
    labels = gzip.compress(struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + b"\x01\x02\x03", mtime=0)
    assert reader.read_idx_from(Trickle(labels), "y.gz", len(labels)).tolist() == [1, 2, 3]


def test_read_idx_from_a_stream_shorter_than_the_sniff_is_refused():
    with pytest.raises(idxmnist.IdxError) as info:
        reader.read_idx_from(io.BytesIO(b"\x00\x00\x08"), "x.idx", 3)
    assert str(info.value) == (
        "x.idx: file is 3 bytes long, too short for an IDX header (an empty or cut-off file); "
        "delete it and fetch it again"
    )


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">f8"])
def test_multi_byte_items_landing_in_pieces_are_swapped_once_whole(dtype):
    """A stream that hands out 3 bytes at a time splits items across reads: each item is
    swapped once, after its last byte has landed."""
    want = np.arange(-40, 40).astype(dtype)
    code = {">i2": 0x0B, ">i4": 0x0C, ">f8": 0x0E}[dtype]
    data = struct.pack(">BBBBI", 0, 0, code, 1, want.size) + want.tobytes()
    got = reader.read_idx_from(Trickle(data, 3), "x.idx", len(data))
    assert got.dtype == want.dtype.newbyteorder("=") and np.array_equal(got, want)
