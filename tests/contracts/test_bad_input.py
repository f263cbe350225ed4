"""Bad input never crashes, hangs, balloons or poisons the cache.

A corpus of malformed IDX files, each built from a valid file, goes through
``read_idx`` from a path, a BytesIO, an unseekable pipe and a pipe that
returns 3 bytes per read, on both read paths; each must raise ``IdxError``
(nothing else) naming the file and the problem. Hypothesis then mutates valid
files and checks ``read_idx`` against an independent reference decoder.
The npz cache and the assembler get the same treatment.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import re
import struct
import warnings
import zipfile
import zlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idxmnist
from idxmnist.datasets import registry
from idxmnist.datasets.registry import DATASETS
from idxmnist.idx import compression, reader
from idxmnist.load.loader import load_cached
from idxmnist.store.npzfile import load_npz, write_npz

from ..support.synth import make_dataset as make_named_dataset
from ..support.synthetic import pinned_spec

KEYS = ("x_train", "y_train", "x_test", "y_test")
ARR = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
I32 = (np.arange(6, dtype=np.int32) * -1000003).reshape(2, 3)


def idx_bytes(arr: np.ndarray = ARR, compress: str | None = None) -> bytes:
    buf = io.BytesIO()
    idxmnist.write_idx(buf, arr, compress=compress)
    return buf.getvalue()


def header(code: int, *dims: int) -> bytes:
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zeros_gz(head: bytes, n: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(head)]
    chunk = bytes(1 << 20)
    for _ in range(n >> 20):
        parts.append(c.compress(chunk))
    return b"".join([*parts, c.flush()])


def flip(data: bytes, pos: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[pos] ^= 1 << bit
    return bytes(out)


def set_isize(data: bytes, isize: int) -> bytes:
    return data[:-4] + (isize & 0xFFFFFFFF).to_bytes(4, "little")


RAW = idx_bytes()
GZ = idx_bytes(compress="gzip")
XZ = idx_bytes(compress="xz")
BZ = idx_bytes(compress="bz2")
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n"
HUGE = header(0x08, 1 << 20, 1 << 20)  # 2**40 bytes declared
BOMB_HEAD = header(0x08, 10)  # 10 bytes declared, gigabytes follow

# Each pattern is the message of its case. Where a sized source (a path, a BytesIO)
# and an unsized one (a pipe) are told apart differently, the case gives both:
# {"sized": ..., "unsized": ...}.
GZ_END = r"the gzip stream ends early: the file is truncated \(an interrupted download\?\)"
XZ_END = r"the xz stream ends early: the file is truncated"
BZ_END = r"the bz2 stream ends early: the file is truncated"
# a pipe has no size to check the header against: NumPy is asked, and refuses 1 TiB
# (where memory overcommit is unlimited it may not: then the 100 bytes run out)
NO_ROOM = (
    r"IDX header declares shape \(1048576, 1048576\) \(1099511627776 bytes\), more than "
    r"can be allocated; the header is corrupt"
    r"|the data ends after 100 of 1099511627776 payload bytes"
)


def lying(kind: str) -> dict[str, str]:
    """The sized message for a 2**40-byte header in a small ``kind`` file, and NO_ROOM."""
    if kind == "raw":
        sized = r"file is 112 bytes but its IDX header declares 1099511627788 .*truncated"
    else:
        sized = rf"IDX header declares 1099511627788 bytes .*more than a \d+-byte {kind} file can"
    return {"sized": sized, "unsized": NO_ROOM}


SHORT_RAW = {
    "sized": r"file is \d+ bytes but its IDX header declares \d+ \(shape .*\); the file is trunc",
    "unsized": r"the data ends after \d+ of \d+ payload bytes declared by the IDX header",
}


def long_raw(n: int) -> dict[str, str]:
    return {
        "sized": rf"file is \d+ bytes but its IDX header declares \d+; {n} trailing bytes follow",
        "unsized": r"the file holds more data than its IDX header declares \(trailing bytes\)",
    }


SEVERAL_GZ = r"data follows the end of the gzip stream \(several gzip members or appended bytes\)"
SEVERAL = r"data follows the end of the (xz|bz2) stream \(several streams or appended bytes\)"
MORE = r"the file holds more data than its IDX header declares \(trailing bytes\)"
# id -> (builder, pattern the message must match)
CASES = {
    # --- the IDX header ---
    "empty-file": (lambda: b"", r"0 bytes long, too short .*empty or cut-off"),
    "one-byte": (lambda: b"\x00", r"1 bytes long, too short"),
    "three-bytes": (lambda: RAW[:3], r"3 bytes long, too short"),
    "bad-magic-first-byte": (lambda: b"\x01" + RAW[1:], r"not an IDX file: first bytes are 01 00"),
    "bad-magic-second-byte": (lambda: RAW[:1] + b"\x07" + RAW[2:], r"not an IDX file"),
    "unknown-type-0x0a": (lambda: RAW[:2] + b"\x0a" + RAW[3:], r"unknown IDX type code 0x0A"),
    "unknown-type-0xff": (lambda: RAW[:2] + b"\xff" + RAW[3:], r"unknown IDX type code 0xFF"),
    "all-zero-bytes": (lambda: bytes(100), r"unknown IDX type code 0x00"),
    "zero-dimensions": (lambda: RAW[:3] + b"\x00" + RAW[4:], r"declares 0 dimensions"),
    "33-dimensions": (lambda: header(0x08, *([1] * 33)), r"declares 33 dimensions"),
    "255-dimensions": (lambda: RAW[:3] + b"\xff" + RAW[4:], r"declares 255 dimensions"),
    "header-cut-in-dims": (lambda: RAW[:9], r"ends inside the IDX header \(9 of 16"),
    "dims-product-overflows": (lambda: header(0x0E, *([0xFFFFFFFF] * 4)), r"not a plausible"),
    "declares-2**40-raw": (lambda: HUGE + bytes(100), lying("raw")),
    "payload-short-by-1": (lambda: RAW[:-1], SHORT_RAW),
    "payload-short-int32": (lambda: idx_bytes(I32)[:-2], SHORT_RAW),
    "payload-long-by-1": (lambda: RAW + b"\x00", long_raw(1)),
    "payload-long-by-4096": (lambda: RAW + bytes(4096), long_raw(4096)),
    "html-page": (lambda: HTML, r"HTML page"),
    "html-page-leading-newline": (lambda: b"\r\n" + HTML, r"HTML page"),
    "plain-text-404": (lambda: b"404 Not Found\n", r"not an IDX file: first bytes are 34 30"),
    "zip-archive": (lambda: _zip_of(RAW), r"not an IDX file: first bytes are 50 4b"),
    # --- gzip ---
    "gzip-magic-only": (lambda: GZ[:2], GZ_END),
    "gzip-cut-in-header": (lambda: GZ[:7], GZ_END),
    "gzip-cut-in-half": (lambda: GZ[: len(GZ) // 2], GZ_END),
    "gzip-no-trailer": (lambda: GZ[:-8], GZ_END),
    "gzip-trailer-cut-1": (lambda: GZ[:-1], GZ_END),
    "gzip-bad-crc": (lambda: flip(GZ, len(GZ) - 8), r"corrupt gzip data .*(check|crc)"),
    "gzip-isize-lies-plus-1": (
        lambda: set_isize(GZ, len(RAW) + 1),
        r"corrupt gzip data .*length",
    ),
    "gzip-bit-flip-in-deflate": (lambda: flip(GZ, len(GZ) // 2, 3), MORE),  # now longer
    "gzip-bad-method": (lambda: GZ[:2] + b"\x07" + GZ[3:], r"corrupt gzip data"),
    "gzip-reserved-flag": (lambda: GZ[:3] + b"\xe0" + GZ[4:], r"corrupt gzip data"),
    "gzip-two-members-split": (
        lambda: gz(RAW[:30]) + gz(RAW[30:]),
        SEVERAL_GZ,
    ),
    "gzip-same-member-twice": (lambda: GZ + GZ, SEVERAL_GZ),
    "gzip-plus-empty-member": (lambda: GZ + gz(b""), SEVERAL_GZ),
    "gzip-member-junk-member": (lambda: GZ + b"\x00" + GZ, SEVERAL_GZ),
    "gzip-trailing-zeros": (lambda: GZ + bytes(16), SEVERAL_GZ),
    "gzip-trailing-junk": (lambda: GZ + b"junk", SEVERAL_GZ),
    "gzip-own-trailer-appended": (lambda: GZ + GZ[-8:], SEVERAL_GZ),
    "gzip-resumed-tail-appended": (lambda: GZ + GZ[5:], SEVERAL_GZ),
    "gzip-of-html": (lambda: gz(HTML), r"HTML page"),
    "gzip-of-gzip": (lambda: gz(GZ), r"not an IDX file: first bytes are 1f 8b"),
    "gzip-payload-long": (lambda: gz(RAW + b"\x01"), MORE),
    "gzip-payload-short": (lambda: gz(RAW[:-1]), r"the data ends after 59 of 60 payload bytes"),
    "gzip-empty-content": (lambda: gz(b""), r"0 bytes long, too short"),
    "gzip-declares-2**40": (lambda: gz(HUGE + bytes(100)), lying("gzip")),
    "gzip-bomb-8mb": (lambda: zeros_gz(BOMB_HEAD, 8 << 20), MORE),
    "gzip-bomb-isize-lies": (lambda: set_isize(zeros_gz(BOMB_HEAD, 8 << 20), 18), MORE),
    # --- xz ---
    "xz-magic-only": (lambda: XZ[:6], XZ_END),
    "xz-cut-in-half": (lambda: XZ[: len(XZ) // 2], XZ_END),
    "xz-cut-1": (lambda: XZ[:-1], XZ_END),
    "xz-bit-flip-in-data": (lambda: flip(XZ, len(XZ) // 2), r"corrupt xz data"),
    "xz-two-streams": (lambda: XZ + XZ, SEVERAL),
    "xz-trailing-junk": (lambda: XZ + b"junk", SEVERAL),
    "xz-declares-2**40": (lambda: lzma.compress(HUGE + bytes(100)), lying("xz")),
    "xz-bomb": (lambda: lzma.compress(BOMB_HEAD + bytes(8 << 20)), MORE),
    "xz-empty-content": (lambda: lzma.compress(b""), r"0 bytes long, too short"),
    # --- bz2 ---
    "bz2-magic-only": (lambda: BZ[:3], BZ_END),
    "bz2-cut-in-half": (lambda: BZ[: len(BZ) // 2], BZ_END),
    "bz2-bit-flip-in-data": (  # bz2 checks a block's CRC only at its end: garbage comes first
        lambda: flip(BZ, len(BZ) // 2),
        r"not an IDX file: first bytes are 00 02 04 00",
    ),
    "bz2-two-streams": (lambda: BZ + BZ, SEVERAL),
    "bz2-trailing-junk": (lambda: BZ + b"junk", SEVERAL),
    "bz2-declares-2**40": (lambda: bz2.compress(HUGE + bytes(100)), lying("bz2")),
    "bz2-bomb": (lambda: bz2.compress(BOMB_HEAD + bytes(8 << 20)), MORE),
}


def _zip_of(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("train-images-idx3-ubyte", data)
    return buf.getvalue()


@cache
def case_bytes(case: str) -> bytes:
    return CASES[case][0]()


class Pipe(io.RawIOBase):
    """An unseekable stream (a pipe, a socket, an HTTP body), optionally trickling."""

    def __init__(self, data: bytes, name: str, most: int | None = None):
        self._buf, self.name, self._most = io.BytesIO(data), name, most

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = len(b) if self._most is None else min(len(b), self._most)
        data = self._buf.read(n)
        b[: len(data)] = data
        return len(data)


def sources(data: bytes, tmp_path: Path, stem: str):
    """``(source, name in messages)`` for one file's bytes, in four forms."""
    path = tmp_path / f"{stem}.gz"  # the name says gzip whatever it holds
    path.write_bytes(data)
    yield path, str(path)
    yield io.BytesIO(data), "<BytesIO>"
    yield Pipe(data, "pipe:" + stem), "pipe:" + stem
    yield Pipe(data, "trickle:" + stem, most=3), "trickle:" + stem


def expect_idx_error(source, name: str, pattern: str | dict) -> idxmnist.IdxError:
    if isinstance(pattern, dict):
        pattern = pattern["unsized" if isinstance(source, Pipe) else "sized"]
    with pytest.raises(idxmnist.IdxError) as info:  # any other type fails the test
        idxmnist.read_idx(source)
    message = str(info.value)
    assert message.startswith(name + ":"), message
    assert re.search(pattern, message, re.IGNORECASE | re.DOTALL), message
    return info.value


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_file_raises_idx_error(case, read_path, tmp_path):
    data = case_bytes(case)
    for source, name in sources(data, tmp_path, case):
        if "trickle" in name and len(data) > 1 << 16:
            continue  # 3 bytes per read: keep it to the small files
        expect_idx_error(source, name, CASES[case][1])


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "case", ["empty-file", "bad-magic-first-byte", "header-cut-in-dims", "html-page"]
)
def test_read_idx_header_raises_idx_error_too(case, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(case_bytes(case))
    with pytest.raises(idxmnist.IdxError, match=str(path)):
        idxmnist.read_idx_header(path)


def test_truncated_cases_are_truncated_error(read_path, tmp_path):
    for case in ("gzip-cut-in-half", "xz-cut-in-half", "bz2-cut-in-half", "payload-short-by-1"):
        with pytest.raises(idxmnist.TruncatedError):
            idxmnist.read_idx(io.BytesIO(case_bytes(case)))


# --- valid edge cases: these must NOT raise ---


@pytest.mark.parametrize("compress", [None, "gzip", "xz", "bz2"])
@pytest.mark.parametrize("shape", [(0,), (0, 28, 28), (5, 0), (2, 0, 3)])
def test_zero_length_dimensions_give_empty_arrays(compress, shape, read_path, tmp_path):
    data = idx_bytes(np.zeros(shape, np.float64), compress)
    for source, _ in sources(data, tmp_path, "empty"):
        arr = idxmnist.read_idx(source)
        assert arr.shape == shape and arr.dtype == np.float64 and arr.size == 0


def test_gzip_with_a_long_header_field_is_read_on_both_paths(read_path, tmp_path):
    # FNAME of 100 KB: valid gzip, the IDX header starts beyond the first 64 KiB
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = body.compress(RAW) + body.flush()
    head = b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\xff" + b"n" * 100_000 + b"\x00"
    trailer = struct.pack("<II", zlib.crc32(RAW), len(RAW))
    data = head + deflated + trailer
    assert gzip.decompress(data) == RAW  # the reference agrees it is valid
    for source, _ in sources(data, tmp_path, "long-fname"):
        assert np.array_equal(idxmnist.read_idx(source), ARR)


def test_bytes_flips_that_keep_the_file_valid(read_path):
    # gzip MTIME, XFL and OS carry no data; FTEXT is only a hint
    for pos, bit in ((4, 0), (7, 5), (8, 1), (9, 2), (3, 0)):
        assert np.array_equal(idxmnist.read_idx(io.BytesIO(flip(GZ, pos, bit))), ARR)


# --- real upstream files, damaged ---

REAL_CASES = {
    "cut-in-half": (lambda b: b[: len(b) // 2], GZ_END),
    "bit-flip-in-middle": (lambda b: flip(b, len(b) // 2, 4), r"corrupt gzip data"),
    "concatenated-with-itself": (lambda b: b + b, SEVERAL_GZ),
    "own-trailer-appended": (lambda b: b + b[-8:], SEVERAL_GZ),
    "resumed-tail-appended": (lambda b: b + b[-1000:], SEVERAL_GZ),
    "html-appended": (lambda b: b + HTML, SEVERAL_GZ),
}


@pytest.mark.parametrize("case", sorted(REAL_CASES))
def test_real_mnist_damaged(case, mnist_dir, read_path, tmp_path):
    original = (mnist_dir / "train-images-idx3-ubyte.gz").read_bytes()
    data = REAL_CASES[case][0](original)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(data)
    expect_idx_error(path, str(path), REAL_CASES[case][1])
    expect_idx_error(io.BytesIO(data), "<BytesIO>", REAL_CASES[case][1])
    expect_idx_error(Pipe(data, "pipe"), "pipe", REAL_CASES[case][1])


# --- bounded resources, in process (the subprocess RSS tests are in test_crash_safety) ---


@pytest.mark.parametrize("case", ["gzip-declares-2**40", "xz-declares-2**40", "bz2-declares-2**40"])
def test_lying_header_is_refused_before_allocating(case, read_path, monkeypatch):
    def no_allocation(header, name):
        raise AssertionError(f"allocated {header.payload_size} bytes for a lying header")

    monkeypatch.setattr(reader, "_allocate", no_allocation)
    with pytest.raises(idxmnist.IdxError, match="can possibly hold"):
        idxmnist.read_idx(io.BytesIO(case_bytes(case)))


def test_xz_and_bz2_headers_beyond_the_container_ratio_are_refused(monkeypatch):
    # 16 GiB declared in a few hundred bytes: plausible for NumPy, impossible for the file
    monkeypatch.setattr(reader, "_allocate", lambda h, n: pytest.fail("allocated"))
    head = header(0x08, 1 << 17, 1 << 17)
    for data in (lzma.compress(head), bz2.compress(head)):
        with pytest.raises(idxmnist.IdxError, match="can possibly hold"):
            idxmnist.read_idx(io.BytesIO(data))


class _Counting:
    """Wrap a decompressor and count the bytes it hands out."""

    total = 0

    def __init__(self, inner):
        self._inner = inner

    def decompress(self, data, max_length=-1):
        out = self._inner.decompress(data, max_length)
        _Counting.total += len(out)
        return out

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.mark.parametrize("kind", ["gzip", "xz", "bz2"])
def test_bomb_stops_inflating_at_the_declared_size(kind, monkeypatch):
    """256 MiB of zeros behind a header declaring 10 bytes: only ~10 bytes come out."""
    _Counting.total = 0
    size = 256 << 20
    if kind == "gzip":
        data = zeros_gz(BOMB_HEAD, size)
        module = compression.gzip_backend()
        monkeypatch.setattr(
            compression, "gzip_backend", lambda name="auto": _Proxy(module, "decompressobj")
        )
    elif kind == "xz":
        data = _xz_zeros(size)
        monkeypatch.setattr(lzma, "LZMADecompressor", _wrapping(lzma.LZMADecompressor))
    else:
        data = _bz2_zeros(size)
        monkeypatch.setattr(bz2, "BZ2Decompressor", _wrapping(bz2.BZ2Decompressor))
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    counted = _CountingReader(data)
    with pytest.raises(idxmnist.IdxError, match="more data than its IDX header"):
        idxmnist.read_idx(io.BufferedReader(counted))
    assert _Counting.total == 8 + 10 + 1  # header, the declared payload, one byte too many
    assert counted.read_bytes <= 3 * compression.CHUNK < len(data) or len(data) < compression.CHUNK


def test_gzip_bomb_whole_buffer_path_inflates_no_more_than_declared(monkeypatch):
    """libdeflate called directly gets a buffer of the declared 18 bytes, and fails when
    it is full."""
    if compression.libdeflate() is None:
        pytest.skip("the deflate package is not installed")
    if not compression.inflates_into():
        pytest.skip("libdeflate cannot be called directly here (see test_compression)")
    given = []
    real = compression.inflate_gzip_into

    def spy(data, out):
        given.append(memoryview(out).nbytes)
        return real(data, out)

    monkeypatch.setattr(compression, "inflate_gzip_into", spy)
    bomb = set_isize(zeros_gz(BOMB_HEAD, 64 << 20), 18)  # ISIZE lies to match the header
    with pytest.raises(idxmnist.IdxError, match="more data than its IDX header"):
        idxmnist.read_idx(io.BytesIO(bomb))
    assert given == [18]


def test_gzip_bomb_through_the_deflate_module_inflates_no_more_than_declared(monkeypatch):
    """Where libdeflate cannot be called directly, the deflate module is asked for the
    declared 18 bytes."""
    if compression.libdeflate() is None:
        pytest.skip("the deflate package is not installed")
    monkeypatch.setattr(compression, "inflates_into", lambda: False)
    mod = compression.libdeflate()
    asked = []

    class Spy:
        DeflateError = mod.DeflateError
        crc32 = staticmethod(mod.crc32)

        @staticmethod
        def gzip_decompress(data, originalsize=0):
            asked.append(originalsize)
            return mod.gzip_decompress(data, originalsize)

    monkeypatch.setattr(compression, "libdeflate", lambda: Spy)
    bomb = set_isize(zeros_gz(BOMB_HEAD, 64 << 20), 18)  # ISIZE lies to match the header
    with pytest.raises(idxmnist.IdxError, match="more data than its IDX header"):
        idxmnist.read_idx(io.BytesIO(bomb))
    assert asked == [18]  # libdeflate got an 18-byte buffer, and failed when it was full


def _wrapping(cls):
    def make(*args, **kwargs):
        return _Counting(cls(*args, **kwargs))

    return make


class _Proxy:
    def __init__(self, module, factory):
        self._module, self._factory = module, factory

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        return _wrapping(attr) if name == self._factory else attr


class _CountingReader(io.RawIOBase):
    def __init__(self, data: bytes):
        self._buf, self.read_bytes = io.BytesIO(data), 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._buf.read(len(b))
        b[: len(data)] = data
        self.read_bytes += len(data)
        return len(data)


def _xz_zeros(n: int) -> bytes:
    c = lzma.LZMACompressor(preset=1)
    chunk = bytes(1 << 20)
    return b"".join(
        [c.compress(BOMB_HEAD), *(c.compress(chunk) for _ in range(n >> 20)), c.flush()]
    )


def _bz2_zeros(n: int) -> bytes:
    c = bz2.BZ2Compressor(9)
    chunk = bytes(1 << 20)
    return b"".join(
        [c.compress(BOMB_HEAD), *(c.compress(chunk) for _ in range(n >> 20)), c.flush()]
    )


# --- property-based: mutate valid files, compare with an independent decoder ---

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def reference(data: bytes) -> np.ndarray | None:
    """The array a strict reading of the IDX spec gives, or None if the file is bad.

    Written from the spec, with the standard library only: one compressed
    stream (judged by its leading bytes), exactly the declared payload.
    """
    try:
        if data[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(31)
            raw = d.decompress(data) + d.flush()
            if not d.eof or d.unused_data:
                return None
        elif data[:6] == b"\xfd7zXZ\x00":
            d = lzma.LZMADecompressor(lzma.FORMAT_XZ)
            raw = d.decompress(data)
            if not d.eof or d.unused_data:
                return None
        elif data[:3] == b"BZh":
            d = bz2.BZ2Decompressor()
            raw = d.decompress(data)
            if not d.eof or d.unused_data:
                return None
        else:
            raw = data
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return None
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] not in CODES or not 1 <= raw[3] <= 32:
        return None
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        return None
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(CODES[raw[2]])
    count = 1
    for d in shape:
        count *= d
    if len(raw) != 4 + 4 * ndim + count * dtype.itemsize:
        return None
    try:
        return np.frombuffer(raw, dtype, count, 4 + 4 * ndim).reshape(shape)
    except ValueError:  # an empty shape NumPy refuses (zero-size, dims too large)
        return None


@st.composite
def valid_files(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arr = rng.integers(-100, 100, shape).astype(dtype)
    compress = draw(st.sampled_from([None, "gzip", "xz", "bz2"]))
    return arr, idx_bytes(arr, compress)


@st.composite
def mutations(draw, data: bytes):
    kind = draw(st.sampled_from(["header-byte", "truncate", "bit-flip", "append", "several"]))
    out = bytearray(data)
    steps = draw(st.integers(2, 4)) if kind == "several" else 1
    for _ in range(steps):
        what = kind if kind != "several" else draw(st.sampled_from(["header-byte", "bit-flip"]))
        if what == "header-byte":
            pos = draw(st.integers(0, min(len(out), 24) - 1)) if out else 0
            if out:
                out[pos] = draw(st.integers(0, 255))
        elif what == "truncate":
            del out[draw(st.integers(0, max(len(out) - 1, 0))) :]
        elif what == "bit-flip" and out:
            out[draw(st.integers(0, len(out) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif what == "append":
            out += draw(st.binary(min_size=1, max_size=20))
    return bytes(out)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_fuzz_mutated_files_give_the_reference_array_or_idx_error(read_path, data):
    arr, original = data.draw(valid_files())
    mutated = data.draw(mutations(original))
    expected = reference(mutated)
    for source in (io.BytesIO(mutated), Pipe(mutated, "pipe")):
        try:
            got = idxmnist.read_idx(source)
        except idxmnist.IdxError:
            assert expected is None, "read_idx refused a file the reference reads"
            continue
        assert expected is not None, "read_idx returned an array for a bad file"
        assert got.dtype == expected.dtype.newbyteorder("=") and got.shape == expected.shape
        assert got.tobytes() == expected.astype(got.dtype).tobytes()


@settings(max_examples=60, deadline=None)
@given(valid_files())
def test_fuzz_valid_files_round_trip(file):
    arr, data = file
    assert np.array_equal(idxmnist.read_idx(io.BytesIO(data)), arr)
    assert np.array_equal(reference(data), arr)  # the oracle itself reads valid files


# --- the assembler ---

BAD_FILES = {
    "truncated": (lambda b: b[: len(b) // 2], GZ_END),
    "html": (lambda b: HTML, r"not an IDX file: .*\(it looks like an HTML page"),
    "trailing": (lambda b: b + b"\x00" * 3, SEVERAL_GZ),
    "two-members": (lambda b: b + gz(b"x"), SEVERAL_GZ),
    "empty": (lambda b: b"", r"file is 0 bytes long, too short for an IDX header"),
}


def make_dataset(root: Path) -> dict[str, np.ndarray]:
    """The shared synthetic dataset, keyed by role (``x_train`` ...)."""
    named = make_named_dataset(root, n_train=30, n_test=10, seed=1)
    return {key: named[stem] for key, stem in DATASETS["mnist"].stems.items()}


@pytest.mark.parametrize("bad", sorted(BAD_FILES))
@pytest.mark.parametrize("victim", ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
def test_assembler_names_the_bad_file(bad, victim, read_path, tmp_path):
    make_dataset(tmp_path)
    path = tmp_path / victim
    path.write_bytes(BAD_FILES[bad][0](path.read_bytes()))
    with pytest.raises(idxmnist.IdxError, match=BAD_FILES[bad][1]) as info:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(info.value).startswith(str(path) + ":")


# --- the npz cache ---


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _good(arrays) -> dict[str, bytes]:
    return {f"{k}.npy": _npy(arrays[k]) for k in KEYS}


def _duplicate(arrays) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in [*_good(arrays).items(), ("x_train.npy", _npy(arrays["x_train"]))]:
            z.writestr(name, data)
    return buf.getvalue()


class Evil:
    """Unpickling this creates the file named in it: proof that a pickle ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _with(arrays, **replace) -> dict[str, bytes]:
    members = _good(arrays)
    for key, data in replace.items():
        if data is None:
            del members[f"{key}.npy"]
        else:
            members[f"{key}.npy"] = data
    return members


def _bytes_edit(data: bytes, find: bytes, offset: int, new: bytes) -> bytes:
    i = data.find(find)
    assert i >= 0
    return data[: i + offset] + new + data[i + offset + len(new) :]


def _npy_header_bytes(shape, descr="|u1") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def npz_cases(arrays, marker: str) -> dict[str, tuple[bytes, str]]:
    good_stored = _npz(_good(arrays))
    good_deflated = _npz(_good(arrays), zipfile.ZIP_DEFLATED)
    write_npz(Path(marker).with_name("aligned.npz"), arrays)
    aligned = Path(marker).with_name("aligned.npz").read_bytes()
    evil = _npy(np.array([Evil(marker)], dtype=object), allow_pickle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        duplicate = _duplicate(arrays)
    eocd = aligned.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<L", aligned, eocd + 16)[0]
    return {
        "empty-file": (b"", "not a readable zip"),
        "html-page": (HTML, "not a readable zip"),
        "idx-file": (RAW, "not a readable zip"),
        "pickled-object-array-stored": (_npz(_with(arrays, x_train=evil)), "Python objects"),
        "pickled-object-array-deflated": (
            _npz(_with(arrays, x_train=evil), zipfile.ZIP_DEFLATED),
            "Python objects",
        ),
        "missing-key": (_npz(_with(arrays, y_test=None)), "keys are"),
        "extra-key": (
            _npz({**_good(arrays), "z.npy": _npy(np.zeros(2, np.uint8))}),
            "keys are",
        ),
        "member-not-npy": (
            _npz({**_good(arrays), "README.txt": b"hello"}),
            "unexpected member 'README.txt'",
        ),
        "duplicate-member": (duplicate, "appears twice"),
        "wrong-dtype": (
            _npz(_with(arrays, x_train=_npy(arrays["x_train"].astype(np.float32)))),
            "expected 3-D uint8 images",
        ),
        "wrong-shape": (
            _npz(
                _with(arrays, x_train=_npy(arrays["x_train"].reshape(len(arrays["x_train"]), -1)))
            ),
            "expected 3-D uint8 images",
        ),
        "labels-out-of-range": (
            _npz(_with(arrays, y_train=_npy(np.full_like(arrays["y_train"], 200)))),
            "label 200",
        ),
        "counts-disagree": (
            _npz(_with(arrays, y_train=_npy(arrays["y_train"][:-1]))),
            "do not belong together",
        ),
        "truncated-stored": (aligned[: len(aligned) // 2], "not a readable zip"),
        "truncated-deflated": (good_deflated[: len(good_deflated) // 2], "not a readable zip"),
        "cut-in-last-member": (
            good_stored[: good_stored.find(b"PK\x01\x02") - 100],
            "not a readable zip",
        ),
        "bad-crc-deflated": (
            _bytes_edit(good_deflated, b"PK\x01\x02", 16, b"\xde\xad\xbe\xef"),
            r"could not read its arrays \(Bad CRC-32 for file 'x_train.npy'\)",
        ),
        "flipped-deflate-data": (
            flip(good_deflated, 200),
            r"could not read its arrays \(Bad CRC-32 for file 'x_train.npy'\)",
        ),
        "central-directory-offset-lies": (
            aligned[: eocd + 16] + struct.pack("<L", cd_offset + 1000) + aligned[eocd + 20 :],
            "member 'x_train' has a local header offset outside the file",
        ),
        "local-header-offset-lies": (
            _bytes_edit(aligned, b"PK\x01\x02", 42, struct.pack("<L", 7)),
            "member 'x_train' has a bad local header",
        ),
        "local-header-name-length-lies": (
            _bytes_edit(aligned, b"PK\x03\x04", 26, struct.pack("<H", 3)),
            r"member 'x_train' has a bad .npy header \(the magic string is not correct",
        ),
        "npy-shape-2**40-stored": (
            _npz(_with(arrays, x_train=_npy_header_bytes((1 << 40,)) + bytes(64))),
            "does not match",
        ),
        "npy-shape-2**40-deflated": (
            _npz(_with(arrays, x_train=_npy_header_bytes((1 << 40,)) + bytes(64)), 8),
            "does not match",
        ),
        "npy-shape-overflows-int64": (
            _npz(_with(arrays, x_train=_npy_header_bytes((1 << 62, 4, 4)) + bytes(64))),
            "does not match",
        ),
        "npy-negative-dimension": (
            _npz(_with(arrays, x_train=_npy_header_bytes((-1, 28, 28)) + bytes(784))),
            r"member 'x_train' has a negative dimension in shape \(-1, 28, 28\)",
        ),
        "npy-bad-magic": (_npz(_with(arrays, x_train=b"NOTNUMPY" + bytes(100))), "bad .npy"),
        "zip-bomb-declared-size": (
            _bytes_edit(good_deflated, b"PK\x01\x02", 24, struct.pack("<L", 0x7FFFFFFF)),
            r"declares 2147483647 bytes inflated from \d+, more than deflate can produce",
        ),
        "encrypted-flag": (
            _bytes_edit(good_deflated, b"PK\x01\x02", 8, b"\x01"),
            "encrypted",
        ),
        "bzip2-member": (_npz(_good(arrays), zipfile.ZIP_BZIP2), "compression method 12"),
        "lzma-member": (_npz(_good(arrays), zipfile.ZIP_LZMA), "compression method 14"),
    }


@pytest.fixture(scope="module")
def npz_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("npz")
    arrays = make_dataset(root / "src")
    marker = str(root / "PICKLE_RAN")
    return root, arrays, marker, npz_cases(arrays, marker)


def _npz_ids():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(0)
        arrays = {
            "x_train": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
            "y_train": np.zeros(2, np.uint8),
            "x_test": np.zeros((1, 28, 28), np.uint8),
            "y_test": np.zeros(1, np.uint8),
        }
        return sorted(npz_cases(arrays, str(Path(d) / "m")))


@pytest.mark.parametrize("case", _npz_ids())
def test_bad_cache_is_refused_then_rebuilt_once(case, npz_world, tmp_path, monkeypatch, registered):
    root, arrays, marker, cases = npz_world
    registered(pinned_spec(registry.get("mnist"), root / "src"))  # the synthetic files' pins
    data, pattern = cases[case]
    cache_file = tmp_path / "mnist.idxmnist.npz"  # idxmnist's own cache name, unstamped
    cache_file.write_bytes(data)
    with pytest.raises(idxmnist.IdxError, match=pattern) as info:
        load_cached(cache_file, registry.get("mnist"))
    message = str(info.value)
    assert message.startswith(f"{cache_file}")
    if "do not belong" not in message and "expected 3-D" not in message and "label" not in message:
        assert message.endswith("; the npz file is corrupt or not a dataset cache"), message
    builds = []
    real = idxmnist.load.loader.read_arrays
    monkeypatch.setattr(
        idxmnist.load.loader,
        "read_arrays",
        lambda *a, **k: builds.append(1) or real(*a, **k),
    )
    with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
        (x, y), (xt, yt) = idxmnist.load_data(cache_dir=tmp_path, source=root / "src")
    assert builds == [1]
    assert np.array_equal(x, arrays["x_train"]) and np.array_equal(yt, arrays["y_test"])
    with np.load(cache_file, allow_pickle=False) as z:  # the rebuilt file is clean
        assert sorted(z.files) == sorted(KEYS)
        assert np.array_equal(z["y_train"], arrays["y_train"])
    assert not Path(marker).exists(), "a pickle in the cache file was executed"


def test_pickle_marker_works_when_unpickled(npz_world, tmp_path):
    """Check the test's own evidence: allow_pickle=True would run the payload."""
    marker = tmp_path / "RAN"
    npy = _npy(np.array([Evil(str(marker))], dtype=object), allow_pickle=True)
    np.load(io.BytesIO(npy), allow_pickle=True)
    assert marker.exists()
    marker.unlink()
    pickle.loads(pickle.dumps(Evil(str(marker))))
    assert marker.exists()


def test_npz_is_never_opened_with_allow_pickle():
    package = Path(idxmnist.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text()
        assert "allow_pickle=True" not in text, source
        assert "pickle.load" not in text, source


def test_load_npz_refuses_object_arrays_on_both_layouts(tmp_path):
    arrays = {k: np.zeros(2, np.uint8) for k in KEYS}
    arrays["x_train"] = np.array([1, "a"], dtype=object)
    path = tmp_path / "o.npz"
    np.savez(path, **arrays)
    with pytest.raises(idxmnist.IdxError, match="Python objects"):
        load_npz(path, KEYS)
    np.savez_compressed(path, **arrays)
    with pytest.raises(idxmnist.IdxError, match="Python objects"):
        load_npz(path, KEYS)
