"""Every message of reading an IDX file, word for word, and every bound, on both sides.

A message is part of the interface: it names the file and says what to do.
These tests pin each one exactly (so a changed or lost word fails), and test
each numeric limit on the side it accepts and the side it refuses, on both
read paths. The messages of one module each are with that module's tests:
the assembler's in ``tests/load/test_assemble.py``, ``write_idx``'s in
``tests/idx/test_writer.py``.
"""

from __future__ import annotations

import gzip
import io
import lzma
import struct

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import compression

SUFFIX_TRUNC = "the file is truncated, delete it and fetch it again"


def header(code: int, *dims: int) -> bytes:
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims)


def message(data: bytes) -> str:
    with pytest.raises(idxmnist.IdxError) as info:
        idxmnist.read_idx(io.BytesIO(data))
    return str(info.value)


RAW = header(0x08, 3, 4, 5) + bytes(range(60))

EXACT = {
    "empty": (
        b"",
        "file is 0 bytes long, too short for an IDX header (an empty or cut-off file); "
        "delete it and fetch it again",
    ),
    "bad-magic": (
        b"\x01\x00\x08\x03" + bytes(20),
        "not an IDX file: first bytes are 01 00 08 03, expected 00 00 <type> <ndim>",
    ),
    "html": (
        b"<!DOCTYPE html><html></html>",
        "not an IDX file: first bytes are 3c 21 44 4f, expected 00 00 <type> <ndim> "
        "(it looks like an HTML page, not data: a mirror error page?)",
    ),
    "unknown-type": (
        header(0x0A, 1) + b"\x00",
        "unknown IDX type code 0x0A (known: 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E)",
    ),
    "33-dims": (
        header(0x08, *([1] * 33)) + b"\x00",
        "IDX header declares 33 dimensions; 1 to 32 are supported",
    ),
    "header-cut": (
        RAW[:9],
        "file ends inside the IDX header (9 of 16 header bytes); the file is truncated, "
        "fetch it again",
    ),
    "implausible": (
        header(0x08, 1 << 24, 1 << 24, 2),
        "IDX header declares shape (16777216, 16777216, 2) (562949953421312 bytes), "
        "which is not a plausible file",
    ),
    "raw-short": (
        RAW[:-1],
        f"file is 75 bytes but its IDX header declares 76 (shape (3, 4, 5)); {SUFFIX_TRUNC}",
    ),
    "raw-long": (
        RAW + b"\x00",
        "file is 77 bytes but its IDX header declares 76; 1 trailing bytes follow the data",
    ),
    "gzip-short": (
        gzip.compress(RAW[:-1]),
        "the data ends after 59 of 60 payload bytes declared by the IDX header (shape (3, 4, 5)); "
        "the file is truncated (an interrupted download?), delete it and fetch it again",
    ),
    "gzip-long": (
        gzip.compress(RAW + b"\x00"),
        "the file holds more data than its IDX header declares (trailing bytes); it is "
        "corrupt or not an IDX file",
    ),
    "gzip-cut": (
        gzip.compress(RAW)[:-9],
        "the gzip stream ends early: the file is truncated (an interrupted download?); "
        "delete it and fetch it again",
    ),
    "gzip-two-members": (
        gzip.compress(RAW) + gzip.compress(b""),
        "data follows the end of the gzip stream (several gzip members or appended bytes); "
        "an IDX file is exactly one stream",
    ),
    "xz-appended": (
        lzma.compress(RAW) + b"junk",
        "data follows the end of the xz stream (several streams or appended bytes); "
        "an IDX file is exactly one stream",
    ),
}


@pytest.mark.parametrize("case", sorted(EXACT))
def test_message_word_for_word(case, read_path):
    data, text = EXACT[case]
    assert message(data) == f"<BytesIO>: {text}"


def test_corrupt_compressed_data_message(read_path):
    data = bytearray(gzip.compress(RAW))
    data[-8] ^= 1  # the CRC
    text = message(bytes(data))
    assert text.startswith("<BytesIO>: corrupt gzip data (")
    assert text.endswith("); the file is damaged or not gzip at all; delete it and fetch it again")


def test_the_container_ratio_bound_is_exact(monkeypatch):
    """A header may declare up to MAX_RATIO * size + MAX_RATIO_SLACK bytes; one more is refused."""
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    n = 1000
    for _ in range(10):
        data = gzip.compress(header(0x08, n) + bytes(10), mtime=0)
        limit = compression.MAX_RATIO["gzip"] * len(data) + compression.MAX_RATIO_SLACK
        if 8 + n == limit + 1:
            break
        n = limit + 1 - 8
    assert message(data) == (
        f"<BytesIO>: IDX header declares {8 + n} bytes (shape ({n},)), more than a "
        f"{len(data)}-byte gzip file can possibly hold; the header is corrupt or the file "
        "is truncated"
    )
    at_limit = gzip.compress(header(0x08, n - 1) + bytes(10), mtime=0)
    assert len(at_limit) == len(data)
    assert "the data ends after 10 of" in message(at_limit)


def test_32_dimensions_and_a_2_to_the_48_payload_are_accepted():
    ones = header(0x08, *([1] * 32)) + b"\x07"
    assert idxmnist.read_idx(io.BytesIO(ones)).shape == (1,) * 32
    big = header(0x08, 1 << 24, 1 << 24)  # exactly 2**48 bytes: plausible, but not here
    with pytest.raises(idxmnist.TruncatedError, match="its IDX header declares 281474976710668"):
        idxmnist.read_idx(io.BytesIO(big))


def _gzip_message(data: bytes, monkeypatch, whole: bool) -> str:
    with monkeypatch.context() as m:
        if not whole:
            m.setattr(compression, "libdeflate", lambda: None)
        return message(gzip.compress(data, mtime=0))


@pytest.mark.parametrize(
    "data, text",
    [
        (
            RAW[:9],
            "file ends inside the IDX header (9 of 16 header bytes); the file is truncated, "
            "fetch it again",
        ),
        (
            header(0x08, 1 << 24, 1 << 24, 2),
            "IDX header declares shape (16777216, 16777216, 2) (562949953421312 bytes), "
            "which is not a plausible file",
        ),
        (
            b"\n<!DOCTYPE html><html></html>",
            "not an IDX file: first bytes are 0a 3c 21 44, expected 00 00 <type> <ndim> "
            "(it looks like an HTML page, not data: a mirror error page?)",
        ),
        # the HTML hint looks at the four magic bytes only, on both paths
        (
            b"    <html></html>",
            "not an IDX file: first bytes are 20 20 20 20, expected 00 00 <type> <ndim>",
        ),
    ],
    ids=["header-cut", "implausible", "html", "html-after-4-spaces"],
)
def test_a_bad_gzip_header_reads_the_same_on_both_paths(monkeypatch, data, text):
    """The libdeflate whole-buffer path parses the header from a decompressed lead,
    the streaming path from the stream: the same bytes give the same message."""
    if compression.libdeflate() is None:
        pytest.skip("the deflate package (idxmnist[fast]) is not installed")
    assert _gzip_message(data, monkeypatch, whole=True) == f"<BytesIO>: {text}"
    assert _gzip_message(data, monkeypatch, whole=False) == f"<BytesIO>: {text}"


class _Unsized(io.RawIOBase):
    """A pipe-like source: no size to check a header against."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._data.readinto(buffer)


def test_a_header_that_cannot_be_allocated_message_word_for_word():
    """2**48 bytes is plausible (MAX_PAYLOAD) but beyond any address space: from a source
    of unknown size nothing refuses it before the allocation, which fails cleanly."""
    with pytest.raises(idxmnist.IdxError) as info:
        idxmnist.read_idx(_Unsized(header(0x08, 1 << 24, 1 << 24)))
    assert str(info.value) == (
        "<_Unsized>: IDX header declares shape (16777216, 16777216) (281474976710656 bytes), "
        "more than can be allocated; the header is corrupt"
    )


def test_transpose_of_non_images_message_word_for_word(tmp_path):
    path = tmp_path / "labels-idx2-ubyte"
    idxmnist.write_idx(path, np.zeros((3, 4), np.uint8))
    with pytest.raises(idxmnist.IdxError) as info:
        idxmnist.read_idx(path, transpose=True)
    assert str(info.value) == (
        f"{path}: transpose=True needs images, shape (count, height, width); "
        "the IDX header declares shape (3, 4)"
    )
