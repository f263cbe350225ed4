"""Zip members streamed: every guard of ``idx/ziparchive.py``, one test each.

Archives are made with the standard library's ``zipfile`` and then edited
field by field (the central directory or the local header), so each test
reaches exactly one guard; the member bytes read back are compared with what
was written.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import numpy as np
import pytest

from idxmnist import IdxError, TruncatedError
from idxmnist.idx import ziparchive
from idxmnist.idx.ziparchive import ZipArchive

from .support.family import central, patch
from .support.zips import make

#: 600,000 bytes that do not compress: several read chunks, stored or deflated
DATA = np.random.default_rng(0).integers(0, 256, 600_000, dtype=np.uint8).tobytes()
SMALL = b"hello, zip"


def write(tmp_path, data: bytes, name: str = "a.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path, member: str, size: int = 1 << 16) -> bytes:
    with ZipArchive(path).open(member) as f:
        parts = []
        while part := f.read(size):
            parts.append(part)
    return b"".join(parts)


BOTH = make({"d": (DATA, zipfile.ZIP_DEFLATED), "s": (DATA, zipfile.ZIP_STORED)})


def local(data: bytes, member: str) -> int:
    """Offset of ``member``'s local header, from its central directory entry."""
    return struct.unpack_from("<I", data, central(data, member) + 42)[0]


# -- reading what was written ------------------------------------------------------------


@pytest.mark.parametrize("member", ["d", "s"])
@pytest.mark.parametrize("size", [1, 1000, 1 << 18, -1])
def test_members_read_back_exactly(member, size, tmp_path):
    path = write(tmp_path, BOTH)
    with ZipArchive(path) as z:
        assert z.names() == ["d", "s"] and "d" in z and "x" not in z
        with z.open(member) as f:
            assert f.size == len(DATA) and not f.seekable() and f.readable()
            assert f.name == f"{path}[{member}]"
            got = bytearray()
            while part := f.read(size):
                assert size < 0 or len(part) <= size
                got += part
            assert bytes(got) == DATA
            assert f.read(10) == b"" and f.read(0) == b""  # the end stays the end


def test_readinto_readall_and_empty_members(tmp_path):
    path = write(tmp_path, make({"e": (b"", 8), "s": (SMALL, 0), "d": (SMALL, 8)}))
    assert read(path, "e") == b""
    with ZipArchive(path).open("s") as f:
        buf = bytearray(4)
        assert f.readinto(buf) == 4 and bytes(buf) == SMALL[:4]
        assert f.readall() == SMALL[4:]
    with ZipArchive(path).open("d") as f:
        assert f.read() == SMALL
    assert f.closed


def test_non_ascii_member_names(tmp_path):
    name = "gzip/emnist-\u00e9-test.gz"
    path = write(tmp_path, make({name: (SMALL, 8)}))
    assert read(path, name) == SMALL


# -- the archive ------------------------------------------------------------------------------


def test_not_a_zip(tmp_path):
    path = write(tmp_path, b"<!DOCTYPE html><html>moved</html>")
    with pytest.raises(IdxError, match=r"a\.zip: not a readable zip archive .*fetch it again"):
        ZipArchive(path)


def test_missing_member(tmp_path):
    path = write(tmp_path, BOTH)
    with pytest.raises(
        IdxError, match=r"a\.zip\[gzip/x\]: no such member in the archive \(it holds 2"
    ):
        ZipArchive(path).open("gzip/x")


def test_two_members_of_one_name(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("m", SMALL)
        z.writestr("m", SMALL)
    path = write(tmp_path, buf.getvalue())
    with pytest.raises(IdxError, match=r"\[m\]: the archive holds two members of this name"):
        ZipArchive(path).open("m")


def test_encrypted_member(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 8, "<H", 0x1))
    with pytest.raises(IdxError, match=r"\[s\]: the member is encrypted"):
        ZipArchive(path).open("s")


def test_other_compression_methods(tmp_path):
    path = write(tmp_path, make({"b": (SMALL, zipfile.ZIP_BZIP2)}))
    with pytest.raises(
        IdxError, match=r"\[b\]: zip compression method 12; only stored and deflate"
    ):
        ZipArchive(path).open("b")


def test_stored_member_whose_sizes_disagree(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 20, "<I", len(DATA) - 1))
    with pytest.raises(
        IdxError, match=rf"a stored member of {len(DATA)} bytes declares {len(DATA) - 1}"
    ):
        ZipArchive(path).open("s")


def test_zip_bomb_declaration(tmp_path):
    zeros = make({"z": (bytes(10**6), 8)})
    csize = struct.unpack_from("<I", zeros, central(zeros, "z") + 20)[0]
    bomb = patch(zeros, "z", 24, "<I", 1032 * csize + 1025)
    with pytest.raises(
        IdxError, match=r"\[z\]: declares \d+ bytes inflated from \d+, more than deflate"
    ):
        ZipArchive(write(tmp_path, bomb)).open("z")
    ok = patch(zeros, "z", 24, "<I", 1032 * csize + 1024)  # at the bound: opened, then its size
    with pytest.raises(IdxError, match=r"holds 1000000 bytes but its directory entry declares"):
        read(write(tmp_path, ok, "ok.zip"), "z")


def test_member_data_past_the_end_of_the_archive(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 20, "<I", len(BOTH)))
    path = write(tmp_path, patch(path.read_bytes(), "s", 24, "<I", len(BOTH)))
    with pytest.raises(
        TruncatedError, match=r"\[s\]: the member's data would end at byte \d+ but the archive has"
    ):
        ZipArchive(path).open("s")


def test_local_header_offset_past_the_end(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 42, "<I", len(BOTH) - 10))
    with pytest.raises(TruncatedError, match=r"\[s\]: the member's header would be at byte"):
        ZipArchive(path).open("s")


def test_no_local_header_where_the_directory_says(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 42, "<I", local(BOTH, "s") + 1))
    with pytest.raises(IdxError, match=r"\[s\]: no local header where the directory says"):
        ZipArchive(path).open("s")


def test_local_header_naming_another_member(tmp_path):
    data = bytearray(BOTH)
    data[local(BOTH, "s") + 30] = ord("x")
    with pytest.raises(IdxError, match=r"\[s\]: the local header names b'x', not this member"):
        ZipArchive(write(tmp_path, bytes(data))).open("s")


# -- the member's bytes -------------------------------------------------------------------


@pytest.mark.parametrize("member", ["s", "d"])
def test_archive_shrinking_while_read(member, tmp_path):
    path = write(tmp_path, BOTH)
    f = ZipArchive(path).open(member)
    f.read(10)
    os.truncate(path, local(BOTH, member) + 40)
    with pytest.raises(TruncatedError, match=r"the archive ends inside the member"):
        while f.read(1 << 16):
            pass
    f.close()


def test_deflate_stream_cut_short(tmp_path):
    csize = struct.unpack_from("<I", BOTH, central(BOTH, "d") + 20)[0]
    path = write(tmp_path, patch(BOTH, "d", 20, "<I", csize - 100))
    with pytest.raises(
        TruncatedError, match=r"\[d\]: the member's deflate stream is cut short after \d+ of"
    ):
        read(path, "d")


def test_corrupt_deflate_data(tmp_path):
    data = bytearray(BOTH)
    start = local(BOTH, "d") + 30 + 1
    data[start] = 0xFF  # an invalid block type
    data[start + 1 : start + 60] = bytes(range(59))
    with pytest.raises(
        IdxError, match=r"\[d\]: corrupt deflate data \(.*\); the archive is damaged"
    ):
        read(write(tmp_path, bytes(data)), "d")


def test_member_inflating_to_more_than_declared(tmp_path):
    path = write(tmp_path, patch(BOTH, "d", 24, "<I", len(DATA) - 1))
    with pytest.raises(
        IdxError, match=rf"\[d\]: the member holds more than the {len(DATA) - 1} bytes"
    ):
        read(path, "d")


def test_stored_member_shorter_than_declared_is_caught_by_its_sizes(tmp_path):
    bigger = patch(patch(BOTH, "s", 20, "<I", len(DATA) + 5), "s", 24, "<I", len(DATA) + 5)
    # the 5 bytes after the data are the next header's: read, then the CRC disagrees
    with pytest.raises(IdxError, match=r"\[s\]: CRC-32 mismatch"):
        read(write(tmp_path, bigger), "s")


def test_member_inflating_to_fewer_than_declared(tmp_path):
    path = write(tmp_path, patch(BOTH, "d", 24, "<I", len(DATA) + 1))
    with pytest.raises(
        TruncatedError,
        match=rf"\[d\]: the member holds {len(DATA)} bytes but its directory entry "
        rf"declares {len(DATA) + 1}",
    ):
        read(path, "d")


def test_deflate_stream_ending_before_its_declared_size(tmp_path):
    csize = struct.unpack_from("<I", BOTH, central(BOTH, "d") + 20)[0]
    path = write(tmp_path, patch(BOTH, "d", 20, "<I", csize + 7))  # 7 bytes of the next member
    with pytest.raises(
        IdxError, match=r"\[d\]: the member's deflate stream ends 7 bytes before its declared"
    ):
        read(path, "d")


@pytest.mark.parametrize("member", ["s", "d"])
def test_crc_mismatch(member, tmp_path):
    crc = zlib.crc32(DATA)
    path = write(tmp_path, patch(BOTH, member, 16, "<I", crc ^ 1))
    with pytest.raises(
        IdxError, match=rf"\[{member}\]: CRC-32 mismatch \(the member's bytes are damaged\)"
    ):
        read(path, member)


def test_crc_of_each_inflater_is_the_same(monkeypatch, tmp_path):
    """libdeflate's, zlib-ng's or zlib's CRC-32: whichever is installed, the same check."""
    from idxmnist.idx import compression

    path = write(tmp_path, BOTH)
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    assert ziparchive._crc32()(DATA, 0) == zlib.crc32(DATA)
    assert read(path, "d") == DATA


@pytest.mark.parametrize("member", ["s", "d"])
def test_archive_losing_the_members_last_byte_while_read(member, tmp_path):
    path = write(tmp_path, BOTH)
    f = ZipArchive(path).open(member)
    entry = ZipArchive(path).entry(member)
    os.truncate(path, entry.data_offset + entry.compress_size - 1)
    with pytest.raises(TruncatedError, match=r"\[[sd]\]: the archive ends inside the member"):
        while f.read(1 << 16):
            pass
    f.close()
