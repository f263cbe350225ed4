"""Tar headers ``tarfile`` reads without a bound: refused before they cost memory or time.

Found reading ``tarfile`` while writing ``fuzz/unpack.py``, checked with the
inputs below: a pax header is read whole into memory (a 590-byte tar.bz2
declaring 360 MB of one took 360 MB and 20 s), and searched with a regular
expression quadratic in its length (CPython before 3.11.10: 32 KiB of digits,
6 s); GNU's sparse map 1.0 is read into a list without a bound (8 million
entries from 10 KB of tar.bz2). Extended headers are now at most
``MAX_EXTENDED_HEADER`` (16 KiB) and sparse members are refused: the archive is
damaged, said in one ``IdxError``.
"""

from __future__ import annotations

import bz2
import io
import tarfile
import time
import tracemalloc

import pytest

from idxmnist import IdxError
from idxmnist.store.unpack import MAX_EXTENDED_HEADER, members

LABELS = b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03"


def header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime = kind, size, 0
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def file_member(name: str, data: bytes) -> bytes:
    return header(name, tarfile.REGTYPE, len(data)) + data + bytes(-len(data) % 512)


END = bytes(1024)


def walk(path, tmp_path):
    """``members`` run to the end: (names, seconds, traced peak bytes), or the IdxError."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        names = [m.name for m in members(path, tmp_path, limit=1 << 20)]
        return names, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_pax_header_of_360_mb_in_590_bytes_is_refused_at_once(tmp_path):
    size = 45_000_000 * 8
    zeros = bz2.compress(bytes(45_000_000))  # 50 bytes; tar.bz2 readers take several streams
    data = bz2.compress(header("././@PaxHeader", tarfile.XHDTYPE, size)) + zeros * 8
    data += bz2.compress(file_member("train-labels-idx1-ubyte", LABELS) + END)
    assert len(data) < 700
    path = tmp_path / "mnist.tar.bz2"
    path.write_bytes(data)
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(IdxError) as err:
        list(members(path, tmp_path, limit=1 << 20))
    seconds, peak = time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert f"an extended header of {size} bytes, more than {MAX_EXTENDED_HEADER}" in str(err.value)
    assert str(err.value).startswith(f"{path}: a damaged tar archive (")
    assert seconds < 5 and peak < 16 << 20, (seconds, peak)


def test_a_pax_header_of_32_kib_of_digits_is_refused_not_searched(tmp_path):
    digits = b"1" * (32 << 10)
    data = header("././@PaxHeader", tarfile.XHDTYPE, len(digits)) + digits
    data += file_member("train-labels-idx1-ubyte", LABELS) + END
    path = tmp_path / "mnist.tar"
    path.write_bytes(data)
    started = time.monotonic()
    with pytest.raises(IdxError, match="an extended header of 32768 bytes, more than 16384"):
        list(members(path, tmp_path, limit=1 << 20))
    assert time.monotonic() - started < 2


def test_a_gnu_sparse_map_of_millions_of_entries_is_refused(tmp_path):
    # pax records announcing a GNU sparse 1.0 member, whose map follows as its data: a
    # count of 100 million, then "0\n" 8 million times (16 MB, 10 KB as bz2), which
    # tarfile read into a list of 8 million ints, 512 bytes at a time (207 s here)
    records = b"".join(
        f"{len(r) + len(str(len(r) + 3)) + 1} {r}".encode()
        for r in ("GNU.sparse.major=1\n", "GNU.sparse.minor=0\n", "GNU.sparse.name=x\n")
    )
    for line in records.split(b"\n")[:-1]:  # each record's length counts itself
        assert line.split(b" ")[0] == str(len(line) + 1).encode()
    body = b"100000000\n" + b"0\n" * (8 << 20)
    data = header("././@PaxHeader", tarfile.XHDTYPE, len(records)) + records
    data += bytes(-len(records) % 512) + header("x", tarfile.REGTYPE, len(body)) + body + END
    path = tmp_path / "mnist.tar.bz2"
    path.write_bytes(bz2.compress(data))
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(IdxError, match="a GNU sparse member"):
        list(members(path, tmp_path, limit=1 << 30))
    seconds, peak = time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2 and peak < 16 << 20, (seconds, peak)


def test_ordinary_extended_headers_are_read(tmp_path):
    long_name = "mnist/raw/" + "a-long-folder-name/" * 30 + "train-labels-idx1-ubyte"
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
            info = tarfile.TarInfo(long_name)
            info.size, info.mtime = len(LABELS), 0
            if fmt == tarfile.PAX_FORMAT:
                info.pax_headers = {"comment": "x" * 8000}
            t.addfile(info, io.BytesIO(LABELS))
        path = tmp_path / "mnist.tar"
        path.write_bytes(buf.getvalue())
        names, _, _ = walk(path, tmp_path)
        assert names == [long_name]
