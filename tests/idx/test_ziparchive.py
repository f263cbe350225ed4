"""Zip members streamed: every guard of ``idx/ziparchive.py``, one test each.

Archives are made with the standard library's ``zipfile`` and then edited
field by field (the central directory or the local header), or hold raw
deflate blocks written by hand where a stream must have an exact length, so
each test reaches exactly one guard; the member bytes read back are compared
with what was written, and a message pinned in full is checked against what
``zipfile`` and ``zlib`` say of the same bytes.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from idxmnist import IdxError, TruncatedError
from idxmnist.idx import ziparchive
from idxmnist.idx.ziparchive import MemberReader, ZipArchive, entry_at

from ..support.family import central, patch
from ..support.zips import MEMBER, NOISE, SMALL_NOISE, THREE, make, read_all, write_zip

# -- reading what was written ------------------------------------------------------------------

#: 600,000 bytes that do not compress: several read chunks, stored or deflated
DATA = np.random.default_rng(0).integers(0, 256, 600_000, dtype=np.uint8).tobytes()


def write(tmp_path, data: bytes, name: str = "a.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


BOTH = make({"d": (DATA, zipfile.ZIP_DEFLATED), "s": (DATA, zipfile.ZIP_STORED)})


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


SMALL = b"hello, zip"


def read(path, member: str, size: int = 1 << 16) -> bytes:
    with ZipArchive(path).open(member) as f:
        parts = []
        while part := f.read(size):
            parts.append(part)
    return b"".join(parts)


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


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_readall_of_a_member_larger_than_a_chunk(method, tmp_path):
    path = write_zip(tmp_path, make({MEMBER: (NOISE, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read(5) == NOISE[:5]
        assert f.readall() == NOISE[5:]
        assert f.readall() == b""


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_read_without_a_size_returns_the_whole_member(method, tmp_path):
    path = write_zip(tmp_path, make({MEMBER: (NOISE, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read() == NOISE


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_reading_zero_bytes_before_the_end_reads_nothing(method, tmp_path):
    path = write_zip(tmp_path, make({MEMBER: (SMALL_NOISE, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read(0) == b""
        assert f.readinto(bytearray()) == 0
        assert f.read(10) == SMALL_NOISE[:10]
        assert f.read(0) == b""
        assert read_all(f, 100) == SMALL_NOISE[10:]


def test_member_whose_local_header_has_an_extra_field(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in (("s", SMALL_NOISE, 0), (MEMBER, NOISE, 8)):
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.extra = struct.pack("<HH", 0xCAFE, 12) + b"twelve bytes"
            z.writestr(info, data, method)
    archive = buf.getvalue()
    at = struct.unpack_from("<I", archive, central(archive, MEMBER) + 42)[0]
    assert struct.unpack_from("<H", archive, at + 28)[0] == 16  # the local extra field
    path = write_zip(tmp_path, archive)
    for name, want in (("s", SMALL_NOISE), (MEMBER, NOISE)):
        assert zipfile.ZipFile(path).read(name) == want
        with ZipArchive(path).open(name) as f:
            assert read_all(f, 1 << 16) == want


def test_closing_a_member_releases_its_file(tmp_path):
    fds = "/proc/self/fd"
    if not os.path.isdir(fds):
        pytest.skip("needs /proc/self/fd to count open files")
    path = write_zip(tmp_path, make({MEMBER: (SMALL_NOISE, zipfile.ZIP_STORED)}))
    z = ZipArchive(path)
    before = len(os.listdir(fds))
    f = z.open(MEMBER)
    assert len(os.listdir(fds)) == before + 1
    f.read(10)
    f.close()
    assert f.closed and len(os.listdir(fds)) == before
    with z.open(MEMBER) as g:
        assert read_all(g, 100) == SMALL_NOISE
    assert len(os.listdir(fds)) == before


def test_opening_a_member_warns_nothing(tmp_path):
    path = write_zip(tmp_path, make({MEMBER: (SMALL_NOISE, zipfile.ZIP_STORED)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ZipArchive(path).open(MEMBER) as f:
            assert read_all(f, 100) == SMALL_NOISE


# -- the archive -------------------------------------------------------------------------------


def test_not_a_zip(tmp_path):
    path = write(tmp_path, b"<!DOCTYPE html><html>moved</html>")
    with pytest.raises(IdxError, match=r"a\.zip: not a readable zip archive .*fetch it again"):
        ZipArchive(path)


def test_not_a_zip_message_in_full(tmp_path):
    path = write_zip(tmp_path, b"<!DOCTYPE html><html>moved</html>")
    with pytest.raises(IdxError) as err:
        ZipArchive(path, name="https://example.org/gzip.zip")
    reason = re.fullmatch(
        r"https://example\.org/gzip\.zip: not a readable zip archive \((.+)\); the file is "
        r"damaged, truncated or not a zip: fetch it again",
        str(err.value),
    )
    assert reason, str(err.value)
    with pytest.raises(zipfile.BadZipFile) as expected:
        zipfile.ZipFile(path)
    assert reason[1] == str(expected.value)


def test_missing_member(tmp_path):
    path = write(tmp_path, BOTH)
    with pytest.raises(
        IdxError, match=r"a\.zip\[gzip/x\]: no such member in the archive \(it holds 2"
    ):
        ZipArchive(path).open("gzip/x")


def test_missing_member_message_in_full(tmp_path):
    path = write_zip(tmp_path, THREE)
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open("gzip/emnist-letters-train-images-idx3-ubyte.gz")
    assert str(err.value) == (
        f"{path}[gzip/emnist-letters-train-images-idx3-ubyte.gz]: no such member in the "
        "archive (it holds 3 others); the archive is not the expected one or is incomplete: "
        "fetch it again"
    )


def test_archive_size_is_the_files_size(tmp_path):
    path = write_zip(tmp_path, make({MEMBER: (SMALL_NOISE, zipfile.ZIP_DEFLATED)}))
    assert ZipArchive(path).size == os.path.getsize(path)


def local_data(data: bytes, member: str) -> int:
    """Where ``member``'s data starts, from its central and local headers."""
    at = struct.unpack_from("<I", data, central(data, member) + 42)[0]
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    return at + 30 + name_len + extra_len


def test_entry_is_what_the_directory_and_local_header_say(tmp_path):
    data = make({"s": (SMALL_NOISE, zipfile.ZIP_STORED), MEMBER: (NOISE, zipfile.ZIP_DEFLATED)})
    path = write_zip(tmp_path, data)
    info = zipfile.ZipFile(path).getinfo(MEMBER)
    entry = ZipArchive(path).entry(MEMBER)
    assert (entry.name, entry.method, entry.compress_size, entry.file_size, entry.crc) == (
        MEMBER,
        zipfile.ZIP_DEFLATED,
        info.compress_size,
        len(NOISE),
        zlib.crc32(NOISE),
    )
    assert entry.data_offset == local_data(data, MEMBER)


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


def test_local_header_offset_at_the_last_possible_byte(tmp_path):
    """A header may start 30 bytes before the end (and then is not one); 29 is past it."""
    data = make({MEMBER: (SMALL_NOISE, zipfile.ZIP_STORED)})
    last = patch(data, MEMBER, 42, "<I", len(data) - 30)
    path = write_zip(tmp_path, last)
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open(MEMBER)
    assert type(err.value) is IdxError
    assert str(err.value) == (
        f"{path}[{MEMBER}]: no local header where the directory says the member starts "
        f"(byte {len(data) - 30}); the archive is corrupt: fetch it again"
    )
    past = write_zip(tmp_path, patch(data, MEMBER, 42, "<I", len(data) - 29), "past.zip")
    with pytest.raises(TruncatedError) as err:
        ZipArchive(past).open(MEMBER)
    assert str(err.value) == (
        f"{past}[{MEMBER}]: the member's header would be at byte {len(data) - 29} of a "
        f"{len(data)}-byte archive: the archive is truncated or corrupt; fetch it again"
    )


def local(data: bytes, member: str) -> int:
    """Offset of ``member``'s local header, from its central directory entry."""
    return struct.unpack_from("<I", data, central(data, member) + 42)[0]


def test_no_local_header_where_the_directory_says(tmp_path):
    path = write(tmp_path, patch(BOTH, "s", 42, "<I", local(BOTH, "s") + 1))
    with pytest.raises(IdxError, match=r"\[s\]: no local header where the directory says"):
        ZipArchive(path).open("s")


def test_local_header_naming_another_member(tmp_path):
    data = bytearray(BOTH)
    data[local(BOTH, "s") + 30] = ord("x")
    with pytest.raises(IdxError, match=r"\[s\]: the local header names b'x', not this member"):
        ZipArchive(write(tmp_path, bytes(data))).open("s")


@pytest.mark.parametrize("name", [MEMBER, "gzip/emnist-\u20ac-\u6f22.gz"])
def test_local_header_naming_another_member_message_in_full(name, tmp_path):
    """Also for a name cp437 cannot spell: still this error, not a UnicodeEncodeError."""
    data = bytearray(make({name: (SMALL_NOISE, zipfile.ZIP_DEFLATED)}))
    at = struct.unpack_from("<I", data, central(bytes(data), name) + 42)[0]
    local_name = bytes(data[at + 30 : at + 30 + len(name.encode())])
    assert local_name == name.encode("utf-8")
    data[at + 30] = ord("x")
    wrong = b"x" + local_name[1:]
    path = write_zip(tmp_path, bytes(data))
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open(name)
    assert str(err.value) == (
        f"{path}[{name}]: the local header names {wrong!r}, not this member; the archive "
        "is corrupt: fetch it again"
    )


def archive_and_entry_at(tmp_path):
    data = make({"s": (SMALL_NOISE, zipfile.ZIP_STORED), MEMBER: (NOISE, zipfile.ZIP_DEFLATED)})
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(MEMBER)
    assert info.header_offset > 0
    return data, info


def test_entry_at_a_file_holding_the_archive_from_some_byte_on(tmp_path):
    data, info = archive_and_entry_at(tmp_path)
    base = info.header_offset
    path = write_zip(tmp_path, data[base:], "tail")
    entry = entry_at(str(path), base, info, "gzip.zip[m]")
    assert entry.data_offset == local_data(data, MEMBER) - base
    assert entry.compress_size == info.compress_size
    entry = entry_at(str(path), 1234, info, "gzip.zip[m]", offset=0)  # offset decides
    assert entry.data_offset == local_data(data, MEMBER) - base
    with MemberReader(str(path), entry, "gzip.zip[m]") as f:
        assert read_all(f, 1 << 16) == NOISE


def test_entry_at_a_cut_file_names_the_archives_bytes(tmp_path):
    data, info = archive_and_entry_at(tmp_path)
    base = info.header_offset
    path = write_zip(tmp_path, data[base : base + 5000], "tail")
    end = local_data(data, MEMBER) + info.compress_size
    with pytest.raises(TruncatedError) as err:
        entry_at(str(path), base, info, "gzip.zip[m]")
    assert str(err.value) == (
        f"gzip.zip[m]: the member's data would end at byte {end} but the archive has "
        f"{base + 5000}: the archive is truncated (an interrupted download?); fetch it again"
    )


# -- the member's bytes ------------------------------------------------------------------------


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


def test_small_member_of_an_archive_truncated_after_its_first_read(tmp_path):
    """The member's bytes come from the file as it is now: no read-ahead hides a cut."""
    data = make({MEMBER: (SMALL_NOISE, zipfile.ZIP_STORED)})
    path = write_zip(tmp_path, data)
    f = ZipArchive(path).open(MEMBER)
    assert f.read(10) == SMALL_NOISE[:10]
    os.truncate(path, local_data(data, MEMBER) + 500)
    with pytest.raises(
        TruncatedError,
        match=rf"^{path}\[{MEMBER}\]: the archive ends inside the member; it is truncated: "
        "fetch it again$",
    ):
        read_all(f, 100)
    f.close()


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


def test_deflate_stream_cut_short(tmp_path):
    csize = struct.unpack_from("<I", BOTH, central(BOTH, "d") + 20)[0]
    path = write(tmp_path, patch(BOTH, "d", 20, "<I", csize - 100))
    with pytest.raises(
        TruncatedError, match=r"\[d\]: the member's deflate stream is cut short after \d+ of"
    ):
        read(path, "d")


def test_deflate_stream_cut_short_message_in_full(tmp_path):
    data = make({"d": (NOISE, zipfile.ZIP_DEFLATED), "s": (SMALL_NOISE, zipfile.ZIP_STORED)})
    csize = struct.unpack_from("<I", data, central(data, "d") + 20)[0]
    path = write_zip(tmp_path, patch(data, "d", 20, "<I", csize - 100))
    with ZipArchive(path).open("d") as f, pytest.raises(TruncatedError) as err:
        read_all(f, 1 << 16)
    produced = re.search(r"after (\d+) of", str(err.value))
    assert produced and int(produced[1]) < len(NOISE)
    assert str(err.value) == (
        f"{path}[d]: the member's deflate stream is cut short after {produced[1]} of "
        f"{len(NOISE)} bytes (its data ends before the stream does); the archive is "
        "truncated or corrupt: fetch it again"
    )


def test_corrupt_deflate_data(tmp_path):
    data = bytearray(BOTH)
    start = local(BOTH, "d") + 30 + 1
    data[start] = 0xFF  # an invalid block type
    data[start + 1 : start + 60] = bytes(range(59))
    with pytest.raises(
        IdxError, match=r"\[d\]: corrupt deflate data \(.*\); the archive is damaged"
    ):
        read(write(tmp_path, bytes(data)), "d")


def test_corrupt_deflate_data_message_in_full(tmp_path):
    data = bytearray(make({"d": (NOISE, zipfile.ZIP_DEFLATED)}))
    start = local_data(data, "d")
    data[start] = 0x07  # a final block of the reserved type 3: invalid at once
    path = write_zip(tmp_path, bytes(data))
    with pytest.raises(zlib.error) as expected:
        zlib.decompress(bytes(data[start:]), -15)
    with ZipArchive(path).open("d") as f, pytest.raises(IdxError) as err:
        read_all(f, 1 << 16)
    reason = re.fullmatch(
        rf"{re.escape(str(path))}\[d\]: corrupt deflate data \((.+)\); the archive is "
        "damaged: fetch it again",
        str(err.value),
    )
    assert reason, str(err.value)
    assert "invalid block type" in reason[1] and "invalid block type" in str(expected.value)


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


# the member declaring 7 compressed bytes more than its stream is the last one: the 7 bytes
# are the central directory's (were they the next member's, the two entries would overlap,
# and the archive is refused whole: test_entries_whose_data_runs_into_the_next_are_refused)
D_LAST = make({"s": (DATA, zipfile.ZIP_STORED), "d": (DATA, zipfile.ZIP_DEFLATED)})


def test_deflate_stream_ending_before_its_declared_size(tmp_path):
    csize = struct.unpack_from("<I", D_LAST, central(D_LAST, "d") + 20)[0]
    path = write(tmp_path, patch(D_LAST, "d", 20, "<I", csize + 7))  # 7 bytes of the directory
    with pytest.raises(
        IdxError, match=r"\[d\]: the member's deflate stream ends 7 bytes before its declared"
    ):
        read(path, "d")


def test_entries_whose_data_runs_into_the_next_are_refused(tmp_path):
    csize = struct.unpack_from("<I", BOTH, central(BOTH, "d") + 20)[0]
    path = write(tmp_path, patch(BOTH, "d", 20, "<I", csize + 7))  # 7 bytes of the next member
    end = 30 + 1 + csize + 7  # d's local header, its name, its declared data
    with pytest.raises(IdxError) as err:
        ZipArchive(path)
    assert str(err.value) == (
        f"{path}: a damaged zip archive (its entries 'd' and 's' overlap: 's' starts at byte "
        f"{end - 7}, inside 'd' (bytes 0 to {end - 1})); overlapping entries are refused "
        "(a zip bomb)"
    )


def test_deflate_stream_ending_before_its_declared_size_read_in_large_steps(tmp_path):
    """The bytes after the stream's end are left in zlib's unused_data only."""
    data = make({"s": (SMALL_NOISE, zipfile.ZIP_STORED), "d": (NOISE, zipfile.ZIP_DEFLATED)})
    csize = struct.unpack_from("<I", data, central(data, "d") + 20)[0]
    path = write_zip(tmp_path, patch(data, "d", 20, "<I", csize + 7))  # 7 of the directory
    with ZipArchive(path).open("d") as f, pytest.raises(IdxError) as err:
        read_all(f, 1 << 20)
    assert str(err.value) == (
        f"{path}[d]: the member's deflate stream ends 7 bytes before its declared "
        "compressed size; the archive is corrupt: fetch it again"
    )


def stored_blocks(data: bytes, block: int) -> bytes:
    """``data`` as a raw deflate stream of stored blocks of ``block`` bytes (5 + block each)."""
    out = bytearray()
    for at in range(0, len(data), block):
        piece = data[at : at + block]
        final = at + block >= len(data)
        out += struct.pack("<BHH", final, len(piece), len(piece) ^ 0xFFFF) + piece
    return bytes(out)


def test_deflate_stream_ending_on_a_read_chunk_before_its_declared_size(tmp_path):
    """A stream of exactly 256 KiB (one read chunk): nothing is left over in zlib, yet
    7 declared compressed bytes were never read."""
    content = NOISE[: 4 * 65531]
    stream = stored_blocks(content, 65531)
    assert len(stream) == 1 << 18 and zlib.decompress(stream, -15) == content
    data = make({"s": (SMALL_NOISE, zipfile.ZIP_STORED), "d": (stream, zipfile.ZIP_STORED)})
    data = patch(data, "d", 10, "<H", zipfile.ZIP_DEFLATED)
    data = patch(data, "d", 16, "<I", zlib.crc32(content))
    data = patch(data, "d", 20, "<I", len(stream) + 7)
    data = patch(data, "d", 24, "<I", len(content))
    path = write_zip(tmp_path, data)
    for size in (1 << 20, 1 << 16):
        with ZipArchive(path).open("d") as f, pytest.raises(IdxError) as err:
            read_all(f, size)
        assert str(err.value) == (
            f"{path}[d]: the member's deflate stream ends 7 bytes before its declared "
            "compressed size; the archive is corrupt: fetch it again"
        )
    # the same stream, declared with its own size, reads back exactly
    exact = write_zip(tmp_path, patch(data, "d", 20, "<I", len(stream)), "exact.zip")
    with ZipArchive(exact).open("d") as f:
        assert read_all(f, 1 << 20) == content


@pytest.mark.parametrize("member", ["s", "d"])
def test_crc_mismatch(member, tmp_path):
    crc = zlib.crc32(DATA)
    path = write(tmp_path, patch(BOTH, member, 16, "<I", crc ^ 1))
    with pytest.raises(
        IdxError, match=rf"\[{member}\]: CRC-32 mismatch \(the member's bytes are damaged\)"
    ):
        read(path, member)


def test_crc_mismatch_message_in_full(tmp_path):
    path = write_zip(
        tmp_path,
        patch(
            make({MEMBER: (SMALL_NOISE, zipfile.ZIP_STORED)}),
            MEMBER,
            16,
            "<I",
            zlib.crc32(SMALL_NOISE) ^ 1,
        ),
    )
    with ZipArchive(path).open(MEMBER) as f, pytest.raises(IdxError) as err:
        read_all(f, 100)
    assert str(err.value) == (
        f"{path}[{MEMBER}]: CRC-32 mismatch (the member's bytes are damaged); "
        "fetch the archive again"
    )


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_member_never_reads_as_a_clean_end_even_when_read_again(method, tmp_path):
    data = make({MEMBER: (SMALL_NOISE, method)})
    path = write_zip(tmp_path, patch(data, MEMBER, 16, "<I", zlib.crc32(SMALL_NOISE) ^ 1))
    with ZipArchive(path).open(MEMBER) as f:
        with pytest.raises(IdxError, match="CRC-32 mismatch"):
            read_all(f, 100)
        with pytest.raises(IdxError, match="CRC-32 mismatch"):
            f.read(100)


def test_crc_of_each_inflater_is_the_same(monkeypatch, tmp_path):
    """libdeflate's, zlib-ng's or zlib's CRC-32: whichever is installed, the same check."""
    from idxmnist.idx import compression

    path = write(tmp_path, BOTH)
    monkeypatch.setattr(compression, "libdeflate", lambda: None)
    assert ziparchive._crc32()(DATA, 0) == zlib.crc32(DATA)
    assert read(path, "d") == DATA


@pytest.mark.parametrize("shift", [0, -10_000])  # zipfile's offsets can lie before the file
def test_overlaps_are_found_wherever_the_offsets_lie(shift):
    from idxmnist.idx.ziparchive import refuse_overlaps

    def entry(name: str, offset: int, size: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name)
        info.header_offset, info.compress_size = offset + shift, size
        return info

    side_by_side = [entry("a", 0, 100), entry("b", 131, 100), entry("c", 262, 0)]
    refuse_overlaps(side_by_side, "a.zip")  # each starts where the one before ends
    inside = [entry("a", 0, 1000), entry("b", 1100, 5), entry("c", 500, 5)]
    with pytest.raises(IdxError) as err:
        refuse_overlaps(inside, "a.zip")
    assert str(err.value) == (
        f"a.zip: a damaged zip archive (its entries 'a' and 'c' overlap: 'c' starts at byte "
        f"{500 + shift}, inside 'a' (bytes {shift} to {1030 + shift})); overlapping entries "
        "are refused (a zip bomb)"
    )
