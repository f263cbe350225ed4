"""idx/compression.py: gzip, xz and bz2 streams, and libdeflate's one-call gzip path.

Identical output whichever gzip inflater reads the file: the streaming path
with stdlib zlib, python-isal and zlib-ng (``compression.gzip_backend(name)``),
and the libdeflate whole-buffer path. Beyond the round trips: ``Stream``'s
documented attributes and callbacks, raw sources with only ``read``, memory
bounded by one chunk of input, and which files the one-call path must leave
to the streaming path. The data is real gzip, xz and bz2 made with the
standard library; the files that the one-call libdeflate path must refuse are
built byte by byte from RFC 1952 facts (a member ends with the CRC-32 and
the size of what it holds, little-endian).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import importlib
import io
import lzma
import os
import struct
import sys
import threading
import tracemalloc
import zlib

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import compression, reader

# -- every gzip inflater gives the same arrays -------------------------------------------------

STREAMING = ["zlib", "isal", "zlib-ng"]


def _installed(name: str) -> bool:
    try:
        compression.gzip_backend(name)
    except ImportError:
        return False
    return True


@pytest.fixture(params=[*STREAMING, "libdeflate", "libdeflate module"])
def backend(request, monkeypatch):
    """Route every gzip read through one inflater ("libdeflate module": the whole-buffer
    path through the deflate module, where libdeflate cannot be called directly)."""
    name = request.param
    if name.startswith("libdeflate"):
        if compression.libdeflate() is None:
            pytest.skip("deflate (libdeflate) is not installed")
        if name == "libdeflate" and sys.platform == "linux":
            assert compression.inflates_into()  # the extension exports libdeflate's API
        else:
            monkeypatch.setattr(compression, "inflates_into", lambda: False)
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
    assert bool(calls) == (not backend.startswith("libdeflate"))


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


# -- Stream: the documented attributes and callbacks -------------------------------------------

COMPRESS = {
    "gzip": lambda b: gzip.compress(b, compresslevel=1, mtime=0),
    "xz": lambda b: lzma.compress(b, preset=0),
    "bz2": lambda b: bz2.compress(b, 1),
}


def idx_u8(payload: bytes) -> bytes:
    """A 1-D uint8 IDX file holding ``payload``."""
    return struct.pack(">BBBBI", 0, 0, 0x08, 1, len(payload)) + payload


class Trickle:
    """A stream with only ``read``, handing out at most ``step`` bytes per call."""

    def __init__(self, data: bytes, step: int):
        self._f, self._step = io.BytesIO(data), step

    def read(self, n: int = -1) -> bytes:
        return self._f.read(self._step if n < 0 else min(n, self._step))


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_consumed_counts_every_compressed_byte_read(kind):
    """``Stream.consumed`` is the number of compressed bytes read so far: after the whole
    stream, read 1000 bytes at a time, it is the file's length."""
    payload = np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    data = COMPRESS[kind](idx_u8(payload))
    stream = compression.Stream(Trickle(data, 1000), kind, "x")
    assert stream.consumed == 0
    assert stream.read_exact(8 + len(payload)) == idx_u8(payload)
    stream.finish()
    assert len(data) > 5000 and stream.consumed == len(data)


def test_on_chunk_reports_each_landed_piece_by_start_and_stop():
    """``readinto(buffer, on_chunk)`` calls ``on_chunk(start, stop)`` for consecutive
    pieces that tile the buffer, each already holding its bytes."""
    payload = np.random.default_rng(2).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    data = gzip.compress(payload, compresslevel=1, mtime=0)
    out = bytearray(len(payload))
    pieces = []

    def on_chunk(start, stop):
        pieces.append((start, stop, bytes(out[start:stop]) == payload[start:stop]))

    stream = compression.Stream(Trickle(data, 4096), "gzip", "x.gz")
    assert stream.readinto(memoryview(out), on_chunk) == len(payload)
    assert bytes(out) == payload and len(pieces) > 3
    assert [p[0] for p in pieces] == [0] + [p[1] for p in pieces[:-1]]
    assert pieces[-1][1] == len(payload) and all(p[2] for p in pieces)


def test_a_raw_stream_with_only_read_fills_the_buffer():
    """A raw source needs only ``read``: here a real pipe read with ``os.read``, which
    returns what has arrived. The first buffer is filled; the second stops short where
    the pipe ends."""
    payload = np.random.default_rng(3).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    r, w = os.pipe()

    def write():
        with contextlib.suppress(BrokenPipeError), os.fdopen(w, "wb") as f:
            f.write(payload)  # a failed read closes the other end: no deadlock

    class PipeReader:
        def read(self, n: int = -1) -> bytes:
            return os.read(r, n if n >= 0 else 1 << 20)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        stream = compression.Stream(PipeReader(), "raw", "pipe")
        first = bytearray(100_000)
        assert stream.readinto(memoryview(first)) == 100_000
        rest = bytearray(300_000)
        assert stream.readinto(memoryview(rest)) == 200_000
    finally:
        os.close(r)
        writer.join()
    assert bytes(first) + bytes(rest[:200_000]) == payload


def test_a_non_blocking_raw_pipe_hands_over_what_has_arrived():
    """A non-blocking raw file answers ``readinto`` with None while nothing has arrived:
    ``Stream.readinto`` returns the bytes it has so far, not a TypeError; the rest comes
    with the next call."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    with open(r, "rb", buffering=0) as f, open(w, "wb", buffering=0) as out:
        stream = compression.Stream(f, "raw", "pipe")
        buf = bytearray(5000)
        out.write(bytes(range(250)) * 4)
        assert stream.readinto(memoryview(buf)) == 1000
        assert bytes(buf[:1000]) == bytes(range(250)) * 4
        out.write(b"\xff" * 4000)
        assert stream.readinto(memoryview(buf)[1000:]) == 4000
        assert bytes(buf[1000:]) == b"\xff" * 4000


def test_peek_gzip_refuses_zlib_data_as_not_gzip():
    """``peek_gzip`` reads gzip only: the same deflate data in a zlib wrapper (78 9c...) is
    reported as not gzip, word for word, not inflated."""
    data = zlib.compress(idx_u8(bytes(20)))
    with pytest.raises(idxmnist.IdxError) as info:
        compression.peek_gzip(data, 4, "x.gz")
    assert str(info.value) == (
        "x.gz: corrupt gzip data (Error -3 while decompressing data: incorrect header check); "
        "the file is damaged or not gzip at all; delete it and fetch it again"
    )
    gz = gzip.compress(idx_u8(bytes(20)), mtime=0)
    assert compression.peek_gzip(gz, 4, "x.gz") == idx_u8(bytes(20))[:4]


def test_pulling_small_pieces_of_xz_holds_one_chunk_of_input_not_the_file():
    """Memory stays bounded by one chunk of compressed input whatever the file's size:
    the next chunk is read only once the decompressor has used up the last one, even
    when each call asks for only 4 KiB (a caller's small buffer; unpack peeks at 512
    bytes)."""
    payload = np.random.default_rng(4).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    # a 64 KiB dictionary: the decompressor's own state stays small beside the chunks
    data = lzma.compress(
        payload, filters=[{"id": lzma.FILTER_LZMA2, "preset": 0, "dict_size": 1 << 16}]
    )
    assert len(data) > 4 * compression.CHUNK
    piece = memoryview(bytearray(4096))
    pos, same = 0, True
    stream = compression.Stream(io.BytesIO(data), "xz", "x.xz")
    tracemalloc.start()
    try:
        while n := stream.readinto(piece):
            same = same and piece[:n] == payload[pos : pos + n]
            pos += n
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert same and pos == len(payload)
    assert peak < 3 * compression.CHUNK, peak


MORE = (
    "the file holds more data than its IDX header declares (trailing bytes); it is "
    "corrupt or not an IDX file"
)


def message(data: bytes) -> str:
    with pytest.raises(idxmnist.IdxError) as info:
        idxmnist.read_idx(io.BytesIO(data))
    return str(info.value)


@pytest.mark.parametrize("kind", ["gzip", "xz", "bz2"])
def test_a_stream_longer_than_its_header_past_the_first_piece_names_the_trailing_bytes(kind):
    """The payload lands in pieces of OUT_CHUNK; the last piece asks only for what is
    left, so a byte inside the stream after the payload is reported as trailing bytes
    (not a failed copy into the array)."""
    n = compression.OUT_CHUNK + 100
    data = COMPRESS[kind](idx_u8(bytes(n)) + b"\x00")
    assert message(data) == f"<BytesIO>: {MORE}"
    good = idxmnist.read_idx(io.BytesIO(COMPRESS[kind](idx_u8(bytes(n)))))
    assert good.shape == (n,) and not good.any()


# -- the one-call libdeflate path: which files it must leave to the streaming path -------------


def whole_path_only():
    if compression.libdeflate() is None:
        pytest.skip("the deflate package (idxmnist[fast]) is not installed")


@pytest.fixture(params=["into", "module"])
def whole(request, monkeypatch):
    """The one-call inflate, ``(data, expected size) -> content or None``: libdeflate called
    directly into a buffer of that size (``inflate_gzip_into``), or through the deflate
    module (``inflate_gzip_whole``, the path where it cannot be), which ``read_idx`` then
    takes too."""
    whole_path_only()
    if request.param == "module":
        monkeypatch.setattr(compression, "inflates_into", lambda: False)
        return compression.inflate_gzip_whole

    def into(data: bytes, expected: int) -> bytearray | None:
        out = bytearray(expected)
        return out if compression.inflate_gzip_into(data, out) else None

    return into


def test_a_gzip_file_of_at_least_1_mib_is_read_whole(whole):
    """From THREADED_SEARCH_MIN compressed bytes on, the deflate module's path searches
    for a second member on a helper thread while libdeflate inflates (called directly,
    libdeflate says where the member ended): either way the array comes back."""
    payload = np.random.default_rng(5).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    data = gzip.compress(idx_u8(payload), compresslevel=0, mtime=0)  # stored: > 1 MiB
    assert len(data) >= compression.THREADED_SEARCH_MIN
    assert whole(data, 8 + len(payload)) == idx_u8(payload)
    got = idxmnist.read_idx(io.BytesIO(data))
    assert np.array_equal(got, np.frombuffer(gzip.decompress(data)[8:], np.uint8))


SEVERAL_GZ = (
    "data follows the end of the gzip stream (several gzip members or appended bytes); "
    "an IDX file is exactly one stream"
)


def forge_crc32(prefix: bytes, target: int) -> bytes:
    """The 4 bytes that, appended to ``prefix``, make its CRC-32 ``target``.

    CRC-32 is affine over GF(2): crc(prefix + x) = crc(prefix + 0000) ^ L(x) with L
    linear in the 32 bits of x, so x is found by solving a 32x32 system.
    """
    base = zlib.crc32(prefix)
    zero = zlib.crc32(bytes(4), base)
    pivots: dict[int, tuple[int, int]] = {}  # top bit -> (L(combination), combination)
    for bit in range(32):
        vec, combo = zlib.crc32((1 << bit).to_bytes(4, "little"), base) ^ zero, 1 << bit
        while vec:
            top = vec.bit_length() - 1
            if top not in pivots:
                pivots[top] = (vec, combo)
                break
            vec, combo = vec ^ pivots[top][0], combo ^ pivots[top][1]
    rest, combo = zero ^ target, 0
    while rest:
        vec, c = pivots[rest.bit_length() - 1]
        rest, combo = rest ^ vec, combo ^ c
    tail = combo.to_bytes(4, "little")
    assert zlib.crc32(prefix + tail) == target
    return tail


def test_one_byte_after_a_member_is_refused_even_when_the_tail_repeats_its_trailer(whole):
    """A member whose CRC-32 and size are both 01 01 01 01, then one more 0x01 byte: the
    file's last 8 bytes equal the member's trailer, which ends one byte before the end of
    the file. The search for them must reach that byte, or libdeflate (which stops at the
    member's end) would accept the file with its appended byte."""
    total = 0x01010101  # 16 MiB: the IDX file, header included
    content = bytearray(total)
    content[:8] = struct.pack(">BBBBI", 0, 0, 0x08, 1, total - 8)
    content[-4:] = forge_crc32(bytes(content[:-4]), 0x01010101)
    member = gzip.compress(bytes(content), compresslevel=6, mtime=0)
    # the trailer occurs nowhere else, not even one byte earlier (it does at level 1)
    assert member.find(b"\x01" * 8) == len(member) - 8
    data = member + b"\x01"
    assert message(data) == f"<BytesIO>: {SEVERAL_GZ}"
    assert whole(data, total) is None
    assert whole(member, total) == content


def test_bytes_after_a_member_that_end_in_its_size_but_not_its_crc_are_refused(whole):
    """The file's last 8 bytes must be the member's CRC-32 *and* size: a tail that ends
    in the right size after a wrong CRC is appended data, diagnosed by the streaming path."""
    raw = idx_u8(bytes(range(60)))
    data = gzip.compress(raw, mtime=0) + b"\xaa\xbb\xcc\xdd" + struct.pack("<I", len(raw))
    assert message(data) == f"<BytesIO>: {SEVERAL_GZ}"
    assert whole(data, len(raw)) is None


def test_a_member_shorter_than_the_header_followed_by_a_forged_trailer_is_refused(whole):
    """A member holding one payload byte too few, then 8 bytes that give the CRC-32 of what
    it holds and the size the header declares: the output must also be as long as
    expected, else the array would be built from too short a buffer."""
    raw = idx_u8(bytes(range(60)))
    data = (
        gzip.compress(raw[:-1], mtime=0)
        + struct.pack("<I", zlib.crc32(raw[:-1]))
        + struct.pack("<I", len(raw))
    )
    assert message(data) == f"<BytesIO>: {SEVERAL_GZ}"
    assert whole(data, len(raw)) is None


def test_a_genuine_file_holding_its_size_bytes_earlier_is_still_read_whole(whole):
    """The fast check looks for the 4 size bytes of the trailer earlier in the file; a
    genuine file may hold them by chance (stored here in the payload itself). Then the
    member's CRC-32 and the whole trailer decide, and the file is still read in one call."""
    payload = bytearray(np.random.default_rng(8).integers(0, 256, 4000, dtype=np.uint8))
    total = 8 + len(payload)
    payload[1000:1004] = total.to_bytes(4, "little")
    data = gzip.compress(idx_u8(bytes(payload)), compresslevel=0, mtime=0)  # stored: verbatim
    assert data.find(total.to_bytes(4, "little")) < len(data) - 4
    assert whole(data, total) == idx_u8(bytes(payload))
    # and the same file with one byte after it is refused
    assert whole(data + b"\x00", total) is None


def test_libdeflate_called_directly_fills_exactly_its_buffer_or_refuses():
    """``inflate_gzip_into`` writes the content into the buffer and says True only when the
    file is one member whose content is exactly the buffer's length: a longer or shorter
    buffer, a cut-off file, a flipped byte (the CRC-32) or a second member give False.
    What it wrote is checked against the standard library's gzip."""
    whole_path_only()
    content = idx_u8(np.random.default_rng(9).integers(0, 4, 100_000, dtype=np.uint8).tobytes())
    data = gzip.compress(content, mtime=0)
    out = np.zeros(len(content), np.uint8)
    assert compression.inflate_gzip_into(data, out) is True
    assert out.tobytes() == gzip.decompress(data)
    for size in (len(content) - 1, len(content) + 1, 0):
        assert compression.inflate_gzip_into(data, bytearray(size)) is False, size
    flipped = bytearray(data)
    flipped[-6] ^= 1  # in the CRC-32 of the trailer
    for bad in (data[:-1], bytes(flipped), data + gzip.compress(b"x", mtime=0)):
        assert compression.inflate_gzip_into(bad, bytearray(len(content))) is False


def test_occurs_in_agrees_with_bytes_find_everywhere_including_the_last_byte():
    """The search for an earlier trailer goes through the C library's memmem where there
    is one; on every cut of small random data over a 3-letter alphabet (NUL bytes
    included), it answers as bytes.find does."""
    rng = np.random.default_rng(3)
    for _ in range(400):
        data = bytes(rng.integers(0, 3, int(rng.integers(0, 24)), dtype=np.uint8))
        needle = bytes(rng.integers(0, 3, int(rng.integers(1, 5)), dtype=np.uint8))
        for end in range(len(data) + 2):
            want = data.find(needle, 0, end) >= 0
            assert compression.occurs_in(data, needle, end) is want, (data, needle, end)
