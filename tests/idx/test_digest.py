"""An IDX file's content hash (``idx_digest``): the sha256 of its IDX bytes, whatever the packing.

The expected hashes are computed here by hand (``tests/support/content.py``,
``tests/support/pinned.py``): the IDX header packed with ``struct`` and the
payload from NumPy, hashed with ``hashlib``; never with the code under test.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tracemalloc

import numpy as np
import pytest

from idxmnist import TruncatedError
from idxmnist.idx import digest as content

from ..support.content import RAW30, SHA30
from ..support.pinned import RAW

PACKINGS = {
    "gzip-0": lambda b: gzip.compress(b, 0),
    "gzip-1": lambda b: gzip.compress(b, 1),
    "gzip-9": lambda b: gzip.compress(b, 9, mtime=12345),
    "xz": lambda b: lzma.compress(b),
    "bz2": lambda b: bz2.compress(b),
    "raw": lambda b: b,
}


@pytest.mark.parametrize("packing", PACKINGS)
def test_the_content_hash_does_not_depend_on_the_packing(packing, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PACKINGS[packing](RAW30))
    found = content.idx_digest(path)
    assert found.sha256 == SHA30 and found.size == len(RAW30)
    assert found.kind == packing.split("-")[0]
    assert found.header.shape == (30, 28, 28)


def test_the_bytes_can_be_written_out_in_the_same_pass(tmp_path):
    path = tmp_path / "f.xz"
    path.write_bytes(lzma.compress(RAW30))
    out = io.BytesIO()
    assert content.idx_digest(path, out=out).sha256 == SHA30
    assert out.getvalue() == RAW30


@pytest.mark.parametrize(
    "body,kind,message",
    [
        (gzip.compress(RAW30, mtime=0)[:-50], TruncatedError, "truncated"),
        (RAW30[:-1], TruncatedError, "ends after 23519 of the 23520 payload bytes"),
        (RAW30 + b"\0", Exception, "more data than its IDX header declares"),
        (gzip.compress(RAW30, mtime=0) + gzip.compress(b"x"), Exception, "several gzip members"),
        (b"<!DOCTYPE html><html></html>", Exception, "HTML page"),
        (b"", Exception, "too short for an IDX header"),
    ],
    ids=["gzip-cut", "raw-cut", "trailing", "two-members", "html", "empty"],
)
def test_anything_but_exactly_one_idx_file_is_refused(tmp_path, body, kind, message):
    path = tmp_path / "f"
    path.write_bytes(body)
    with pytest.raises(kind, match=message):
        content.idx_digest(path)


def test_a_file_of_another_size_is_not_hashed(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(RAW30)
    found = content.idx_digest(path, sizes={60008})
    assert found.sha256 is None and found.size == len(RAW30)


def test_a_file_of_another_size_still_reports_its_container(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(RAW))
    found = content.idx_digest(path, sizes={len(RAW) + 1})
    assert (found.kind, found.sha256, found.header.shape) == ("gzip", None, (6, 4, 5))


def test_hashing_a_large_file_takes_bounded_memory(tmp_path):
    big = np.zeros((100_000, 28, 28), np.uint8)  # 78 MB of IDX bytes
    path = tmp_path / "big.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 100_000, 28, 28))
        f.write(memoryview(big).cast("B"))
    del big
    tracemalloc.start()
    try:
        found = content.idx_digest(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.header.shape == (100_000, 28, 28)
    assert peak < 4 << 20, peak  # a few chunks, never the file


def test_idx_digest_names_the_file_in_container_and_header_errors(tmp_path):
    path = tmp_path / "x.gz"
    body = bytearray(gzip.compress(RAW))
    body[12:20] = b"\xff" * 8  # damage the deflate stream
    path.write_bytes(bytes(body))
    try:
        content.idx_digest(path)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        assert str(exc).startswith(f"{path}: "), exc
    else:
        raise AssertionError("a damaged gzip stream was accepted")
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 1 << 16, 1 << 16, 1 << 17))
    try:
        content.idx_digest(path)
    except Exception as exc:  # noqa: BLE001
        assert str(exc).startswith(f"{path}: IDX header declares shape"), exc
    else:
        raise AssertionError("an implausible header was accepted")
