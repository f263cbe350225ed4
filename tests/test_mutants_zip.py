"""Tests aimed at mutation-testing survivors in the zip and EMNIST modules
(``python tools/mutation.py transpose emnist ziparchive zipdirectory``).

Each test pins behaviour a user sees (the bytes read back, an exact message,
an error that must come, a file descriptor that must be released) that a
surviving mutant changed. Archives are built with the standard library's
``zipfile`` (and raw deflate blocks written by hand where a stream must have
an exact length); expected values come from ``zipfile``, ``zlib``, ``gzip``
and NumPy, never from the code under test.
"""

from __future__ import annotations

import io
import os
import re
import struct
import threading
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from idxmnist import IdxError, TruncatedError
from idxmnist.idx import transpose
from idxmnist.idx.ziparchive import MemberReader, ZipArchive, entry_at
from idxmnist.idx.zipdirectory import END_MAX, Directory, End, NeedMoreError, end_record

from .family import central, emnist_member_names, patch
from .test_ziparchive import make

#: 600,000 bytes that do not compress: more than two read chunks (256 KiB) of a member
DATA = np.random.default_rng(7).integers(0, 256, 600_000, dtype=np.uint8).tobytes()
SMALL = np.random.default_rng(8).integers(0, 256, 1000, dtype=np.uint8).tobytes()
MEMBER = "gzip/emnist-digits-test-labels-idx1-ubyte.gz"


def write(tmp_path, data: bytes, name: str = "gzip.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(f, size: int) -> bytes:
    parts = []
    while part := f.read(size):
        parts.append(part)
    return b"".join(parts)


def local_data(data: bytes, member: str) -> int:
    """Where ``member``'s data starts, from its central and local headers."""
    at = struct.unpack_from("<I", data, central(data, member) + 42)[0]
    name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
    return at + 30 + name_len + extra_len


def stored_blocks(data: bytes, block: int) -> bytes:
    """``data`` as a raw deflate stream of stored blocks of ``block`` bytes (5 + block each)."""
    out = bytearray()
    for at in range(0, len(data), block):
        piece = data[at : at + block]
        final = at + block >= len(data)
        out += struct.pack("<BHH", final, len(piece), len(piece) ^ 0xFFFF) + piece
    return bytes(out)


# -- ziparchive.py: the archive -------------------------------------------------------------


def test_not_a_zip_message_in_full(tmp_path):
    path = write(tmp_path, b"<!DOCTYPE html><html>moved</html>")
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


def test_missing_member_message_in_full(tmp_path):
    path = write(tmp_path, THREE)
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open("gzip/emnist-letters-train-images-idx3-ubyte.gz")
    assert str(err.value) == (
        f"{path}[gzip/emnist-letters-train-images-idx3-ubyte.gz]: no such member in the "
        "archive (it holds 3 others); the archive is not the expected one or is incomplete: "
        "fetch it again"
    )


def test_archive_size_is_the_files_size(tmp_path):
    path = write(tmp_path, make({MEMBER: (SMALL, zipfile.ZIP_DEFLATED)}))
    assert ZipArchive(path).size == os.path.getsize(path)


def test_entry_is_what_the_directory_and_local_header_say(tmp_path):
    data = make({"s": (SMALL, zipfile.ZIP_STORED), MEMBER: (DATA, zipfile.ZIP_DEFLATED)})
    path = write(tmp_path, data)
    info = zipfile.ZipFile(path).getinfo(MEMBER)
    entry = ZipArchive(path).entry(MEMBER)
    assert (entry.name, entry.method, entry.compress_size, entry.file_size, entry.crc) == (
        MEMBER,
        zipfile.ZIP_DEFLATED,
        info.compress_size,
        len(DATA),
        zlib.crc32(DATA),
    )
    assert entry.data_offset == local_data(data, MEMBER)


def test_member_whose_local_header_has_an_extra_field(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in (("s", SMALL, 0), (MEMBER, DATA, 8)):
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.extra = struct.pack("<HH", 0xCAFE, 12) + b"twelve bytes"
            z.writestr(info, data, method)
    archive = buf.getvalue()
    at = struct.unpack_from("<I", archive, central(archive, MEMBER) + 42)[0]
    assert struct.unpack_from("<H", archive, at + 28)[0] == 16  # the local extra field
    path = write(tmp_path, archive)
    for name, want in (("s", SMALL), (MEMBER, DATA)):
        assert zipfile.ZipFile(path).read(name) == want
        with ZipArchive(path).open(name) as f:
            assert read_all(f, 1 << 16) == want


def test_local_header_offset_at_the_last_possible_byte(tmp_path):
    """A header may start 30 bytes before the end (and then is not one); 29 is past it."""
    data = make({MEMBER: (SMALL, zipfile.ZIP_STORED)})
    last = patch(data, MEMBER, 42, "<I", len(data) - 30)
    path = write(tmp_path, last)
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open(MEMBER)
    assert type(err.value) is IdxError
    assert str(err.value) == (
        f"{path}[{MEMBER}]: no local header where the directory says the member starts "
        f"(byte {len(data) - 30}); the archive is corrupt: fetch it again"
    )
    past = write(tmp_path, patch(data, MEMBER, 42, "<I", len(data) - 29), "past.zip")
    with pytest.raises(TruncatedError) as err:
        ZipArchive(past).open(MEMBER)
    assert str(err.value) == (
        f"{past}[{MEMBER}]: the member's header would be at byte {len(data) - 29} of a "
        f"{len(data)}-byte archive: the archive is truncated or corrupt; fetch it again"
    )


@pytest.mark.parametrize("name", [MEMBER, "gzip/emnist-\u20ac-\u6f22.gz"])
def test_local_header_naming_another_member_message_in_full(name, tmp_path):
    """Also for a name cp437 cannot spell: still this error, not a UnicodeEncodeError."""
    data = bytearray(make({name: (SMALL, zipfile.ZIP_DEFLATED)}))
    at = struct.unpack_from("<I", data, central(bytes(data), name) + 42)[0]
    local_name = bytes(data[at + 30 : at + 30 + len(name.encode())])
    assert local_name == name.encode("utf-8")
    data[at + 30] = ord("x")
    wrong = b"x" + local_name[1:]
    path = write(tmp_path, bytes(data))
    with pytest.raises(IdxError) as err:
        ZipArchive(path).open(name)
    assert str(err.value) == (
        f"{path}[{name}]: the local header names {wrong!r}, not this member; the archive "
        "is corrupt: fetch it again"
    )


def archive_and_entry_at(tmp_path):
    data = make({"s": (SMALL, zipfile.ZIP_STORED), MEMBER: (DATA, zipfile.ZIP_DEFLATED)})
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(MEMBER)
    assert info.header_offset > 0
    return data, info


def test_entry_at_a_file_holding_the_archive_from_some_byte_on(tmp_path):
    data, info = archive_and_entry_at(tmp_path)
    base = info.header_offset
    path = write(tmp_path, data[base:], "tail")
    entry = entry_at(str(path), base, info, "gzip.zip[m]")
    assert entry.data_offset == local_data(data, MEMBER) - base
    assert entry.compress_size == info.compress_size
    entry = entry_at(str(path), 1234, info, "gzip.zip[m]", offset=0)  # offset decides
    assert entry.data_offset == local_data(data, MEMBER) - base
    with MemberReader(str(path), entry, "gzip.zip[m]") as f:
        assert read_all(f, 1 << 16) == DATA


def test_entry_at_a_cut_file_names_the_archives_bytes(tmp_path):
    data, info = archive_and_entry_at(tmp_path)
    base = info.header_offset
    path = write(tmp_path, data[base : base + 5000], "tail")
    end = local_data(data, MEMBER) + info.compress_size
    with pytest.raises(TruncatedError) as err:
        entry_at(str(path), base, info, "gzip.zip[m]")
    assert str(err.value) == (
        f"gzip.zip[m]: the member's data would end at byte {end} but the archive has "
        f"{base + 5000}: the archive is truncated (an interrupted download?); fetch it again"
    )


# -- ziparchive.py: reading a member --------------------------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_readall_of_a_member_larger_than_a_chunk(method, tmp_path):
    path = write(tmp_path, make({MEMBER: (DATA, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read(5) == DATA[:5]
        assert f.readall() == DATA[5:]
        assert f.readall() == b""


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_reading_zero_bytes_before_the_end_reads_nothing(method, tmp_path):
    path = write(tmp_path, make({MEMBER: (SMALL, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read(0) == b""
        assert f.readinto(bytearray()) == 0
        assert f.read(10) == SMALL[:10]
        assert f.read(0) == b""
        assert read_all(f, 100) == SMALL[10:]


def test_closing_a_member_releases_its_file(tmp_path):
    fds = "/proc/self/fd"
    if not os.path.isdir(fds):
        pytest.skip("needs /proc/self/fd to count open files")
    path = write(tmp_path, make({MEMBER: (SMALL, zipfile.ZIP_STORED)}))
    z = ZipArchive(path)
    before = len(os.listdir(fds))
    f = z.open(MEMBER)
    assert len(os.listdir(fds)) == before + 1
    f.read(10)
    f.close()
    assert f.closed and len(os.listdir(fds)) == before
    with z.open(MEMBER) as g:
        assert read_all(g, 100) == SMALL
    assert len(os.listdir(fds)) == before


def test_opening_a_member_warns_nothing(tmp_path):
    path = write(tmp_path, make({MEMBER: (SMALL, zipfile.ZIP_STORED)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ZipArchive(path).open(MEMBER) as f:
            assert read_all(f, 100) == SMALL


def test_small_member_of_an_archive_truncated_after_its_first_read(tmp_path):
    """The member's bytes come from the file as it is now: no read-ahead hides a cut."""
    data = make({MEMBER: (SMALL, zipfile.ZIP_STORED)})
    path = write(tmp_path, data)
    f = ZipArchive(path).open(MEMBER)
    assert f.read(10) == SMALL[:10]
    os.truncate(path, local_data(data, MEMBER) + 500)
    with pytest.raises(
        TruncatedError,
        match=rf"^{path}\[{MEMBER}\]: the archive ends inside the member; it is truncated: "
        "fetch it again$",
    ):
        read_all(f, 100)
    f.close()


def test_crc_mismatch_message_in_full(tmp_path):
    path = write(
        tmp_path,
        patch(make({MEMBER: (SMALL, zipfile.ZIP_STORED)}), MEMBER, 16, "<I", zlib.crc32(SMALL) ^ 1),
    )
    with ZipArchive(path).open(MEMBER) as f, pytest.raises(IdxError) as err:
        read_all(f, 100)
    assert str(err.value) == (
        f"{path}[{MEMBER}]: CRC-32 mismatch (the member's bytes are damaged); "
        "fetch the archive again"
    )


def test_deflate_stream_cut_short_message_in_full(tmp_path):
    data = make({"d": (DATA, zipfile.ZIP_DEFLATED), "s": (SMALL, zipfile.ZIP_STORED)})
    csize = struct.unpack_from("<I", data, central(data, "d") + 20)[0]
    path = write(tmp_path, patch(data, "d", 20, "<I", csize - 100))
    with ZipArchive(path).open("d") as f, pytest.raises(TruncatedError) as err:
        read_all(f, 1 << 16)
    produced = re.search(r"after (\d+) of", str(err.value))
    assert produced and int(produced[1]) < len(DATA)
    assert str(err.value) == (
        f"{path}[d]: the member's deflate stream is cut short after {produced[1]} of "
        f"{len(DATA)} bytes (its data ends before the stream does); the archive is "
        "truncated or corrupt: fetch it again"
    )


def test_corrupt_deflate_data_message_in_full(tmp_path):
    data = bytearray(make({"d": (DATA, zipfile.ZIP_DEFLATED)}))
    start = local_data(data, "d")
    data[start] = 0x07  # a final block of the reserved type 3: invalid at once
    path = write(tmp_path, bytes(data))
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


def test_deflate_stream_ending_before_its_declared_size_read_in_large_steps(tmp_path):
    """The bytes after the stream's end are left in zlib's unused_data only."""
    data = make({"d": (DATA, zipfile.ZIP_DEFLATED), "s": (SMALL, zipfile.ZIP_STORED)})
    csize = struct.unpack_from("<I", data, central(data, "d") + 20)[0]
    path = write(tmp_path, patch(data, "d", 20, "<I", csize + 7))  # 7 bytes of the next member
    with ZipArchive(path).open("d") as f, pytest.raises(IdxError) as err:
        read_all(f, 1 << 20)
    assert str(err.value) == (
        f"{path}[d]: the member's deflate stream ends 7 bytes before its declared "
        "compressed size; the archive is corrupt: fetch it again"
    )


def test_deflate_stream_ending_on_a_read_chunk_before_its_declared_size(tmp_path):
    """A stream of exactly 256 KiB (one read chunk): nothing is left over in zlib, yet
    7 declared compressed bytes were never read."""
    content = DATA[: 4 * 65531]
    stream = stored_blocks(content, 65531)
    assert len(stream) == 1 << 18 and zlib.decompress(stream, -15) == content
    data = make({"d": (stream, zipfile.ZIP_STORED), "s": (SMALL, zipfile.ZIP_STORED)})
    data = patch(data, "d", 10, "<H", zipfile.ZIP_DEFLATED)
    data = patch(data, "d", 16, "<I", zlib.crc32(content))
    data = patch(data, "d", 20, "<I", len(stream) + 7)
    data = patch(data, "d", 24, "<I", len(content))
    path = write(tmp_path, data)
    for size in (1 << 20, 1 << 16):
        with ZipArchive(path).open("d") as f, pytest.raises(IdxError) as err:
            read_all(f, size)
        assert str(err.value) == (
            f"{path}[d]: the member's deflate stream ends 7 bytes before its declared "
            "compressed size; the archive is corrupt: fetch it again"
        )
    # the same stream, declared with its own size, reads back exactly
    exact = write(tmp_path, patch(data, "d", 20, "<I", len(stream)), "exact.zip")
    with ZipArchive(exact).open("d") as f:
        assert read_all(f, 1 << 20) == content


# -- two bugs these tests found (fixed) ---------------------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_read_without_a_size_returns_the_whole_member(method, tmp_path):
    path = write(tmp_path, make({MEMBER: (DATA, method)}))
    with ZipArchive(path).open(MEMBER) as f:
        assert f.read() == DATA


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_member_never_reads_as_a_clean_end_even_when_read_again(method, tmp_path):
    data = make({MEMBER: (SMALL, method)})
    path = write(tmp_path, patch(data, MEMBER, 16, "<I", zlib.crc32(SMALL) ^ 1))
    with ZipArchive(path).open(MEMBER) as f:
        with pytest.raises(IdxError, match="CRC-32 mismatch"):
            read_all(f, 100)
        with pytest.raises(IdxError, match="CRC-32 mismatch"):
            f.read(100)


# -- zipdirectory.py ------------------------------------------------------------------------

NAMES3 = [f"gzip/{n}" for n in emnist_member_names("digits")[:3]]
THREE = make(
    {
        NAMES3[0]: (SMALL, zipfile.ZIP_DEFLATED),
        NAMES3[1]: (DATA[:5000], zipfile.ZIP_STORED),
        NAMES3[2]: (SMALL[::-1], zipfile.ZIP_DEFLATED),
    }
)
BAD = "; the archive is corrupt or not a zip: fetch it again"


def eocd(count, size, offset, comment=b"", *, disk=0, disk_cd=0, here=None) -> bytes:
    """An end of central directory record (the standard layout, written by hand)."""
    here = count if here is None else here
    fields = (b"PK\x05\x06", disk, disk_cd, here, count, size, offset, len(comment))
    return struct.pack("<4s4H2LH", *fields) + comment


def facts(archive: bytes) -> tuple[int, int, int]:
    """zipfile's start of the directory, its size and entry count."""
    zf = zipfile.ZipFile(io.BytesIO(archive))
    at = archive.rindex(b"PK\x05\x06")
    return zf.start_dir, at - zf.start_dir, len(zf.infolist())


def to_zip64(archive: bytes, *, disk64=0, disks=1, sig=b"PK\x06\x06", disk=0, here=None):
    """``archive`` with ZIP64 end records; the EOCD's fields say 0xFFFF / 0xFFFFFFFF."""
    start, size, count = facts(archive)
    at = archive.rindex(b"PK\x05\x06")
    here = count if here is None else here
    record = struct.pack("<4sQ2H2L4Q", sig, 44, 45, 45, disk, 0, here, count, size, start)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", disk64, at, disks)
    end = eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return archive[:at] + record + locator + end


def bad_end(tail: bytes, tail_start: int = 0, size: int | None = None) -> str:
    size = tail_start + len(tail) if size is None else size
    with pytest.raises(IdxError) as err:
        end_record(tail, tail_start, size, "gzip.zip")
    return str(err.value)


def need_more(archive: bytes, tail_start: int) -> int:
    with pytest.raises(NeedMoreError) as err:
        end_record(archive[tail_start:], tail_start, len(archive), "gzip.zip")
    assert str(err.value) == f"need the archive's bytes from {err.value.start}"
    return err.value.start


@pytest.mark.parametrize("kind", ["plain", "comment", "zip64"])
def test_end_record_from_any_tail_gives_zipfiles_directory(kind):
    archive = THREE
    start, size, count = facts(THREE)
    if kind == "comment":
        archive = THREE[:-2] + struct.pack("<H", 300) + b"a comment " * 30
    elif kind == "zip64":
        archive = to_zip64(THREE)
    assert zipfile.ZipFile(io.BytesIO(archive)).namelist() == NAMES3
    first_end = start + size
    for tail_start in (0, 1, start, first_end):
        end = end_record(archive[tail_start:], tail_start, len(archive), "gzip.zip")
        assert end == End(start, size, count, kind == "zip64", len(archive))
        assert (end.start, end.size, end.count, end.zip64, end.archive) == (
            start,
            size,
            count,
            kind == "zip64",
            len(archive),
        )


def test_end_record_of_an_empty_archive():
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    empty = buf.getvalue()
    assert empty == eocd(0, 0, 0)
    end = end_record(empty, 0, 22, "e.zip")
    assert end == End(0, 0, 0, False, 22)
    assert Directory(empty, end, "e.zip").names() == []


def test_end_record_whose_directory_starts_at_byte_0():
    tail = bytes(100) + eocd(0, 100, 0)
    assert end_record(tail, 0, 122, "gzip.zip") == End(0, 100, 0, False, 122)
    assert bad_end(bytes(100) + eocd(0, 101, 0)) == (
        f"gzip.zip: its central directory of 101 bytes does not fit before byte 100{BAD}"
    )


def test_end_record_skips_signatures_in_the_comment():
    """Signatures whose record would not end the archive exactly: a whole one, a cut one."""
    start, size, count = facts(THREE)
    for comment in (
        eocd(9, 9, 9, b"12345")[:-5] + b"123",  # a whole record, its comment too short
        b"xx" + eocd(9, 9, 9)[:21],  # a record cut short by the end
        b"PK\x05\x06",
    ):
        archive = THREE[:-2] + struct.pack("<H", len(comment)) + comment
        end = end_record(archive, 0, len(archive), "gzip.zip")
        assert end == End(start, size, count, False, len(archive))
        tail_start = len(archive) - len(comment) - 22
        assert end_record(archive[tail_start:], tail_start, len(archive), "g") == end


def test_end_record_past_signatures_in_the_members_data(tmp_path):
    """A member's bytes may hold the end record's signature (any gzip member can)."""
    payload = b"PK\x05\x06" + bytes(18) + b"PK\x05\x06" + SMALL
    archive = make({MEMBER: (payload, zipfile.ZIP_STORED), "s": (SMALL, zipfile.ZIP_STORED)})
    start, size, count = facts(archive)
    end = end_record(archive, 0, len(archive), "gzip.zip")
    assert end == End(start, size, count, False, len(archive))
    with directory_of(archive).open(MEMBER, write_span(archive, MEMBER, tmp_path)) as f:
        assert read_all(f, 100) == payload


@pytest.mark.parametrize("tail", [b"", b"PK\x05\x06", bytes(21), eocd(0, 0, 0)[:-2] + b"\x01\x00"])
def test_end_record_of_a_tail_without_a_whole_record(tail):
    assert bad_end(tail) == f"gzip.zip: no end of central directory record in its last bytes{BAD}"


def test_end_record_refuses_a_tail_that_does_not_reach_the_end():
    with pytest.raises(ValueError) as err:
        end_record(THREE[10:-1], 10, len(THREE), "gzip.zip")
    assert str(err.value) == "the tail must run to the end of the archive"


def test_end_record_asks_for_more_when_the_comment_hides_the_record():
    small = THREE[:-2] + struct.pack("<H", 40_000) + bytes(40_000)
    assert len(small) < END_MAX
    assert need_more(small, len(small) - 1000) == 0
    big = bytes(END_MAX) + small
    assert need_more(big, len(big) - 1000) == len(big) - END_MAX
    assert need_more(bytes(100), 1) == 0  # from byte 1: still asks for the rest
    # a tail of END_MAX bytes without a record: no zip, whatever comes before
    junk = bytes(END_MAX + 5)
    assert need_more(junk, 6) == 5
    assert bad_end(junk[5:], 5) == (
        f"gzip.zip: no end of central directory record in its last bytes{BAD}"
    )
    assert bad_end(bytes(100)) == (
        f"gzip.zip: no end of central directory record in its last bytes{BAD}"
    )


def test_end_record_asks_for_the_zip64_records_before_the_end():
    archive = to_zip64(THREE)
    start, size, _ = facts(THREE)
    record = start + size  # where the ZIP64 end record is
    assert need_more(archive, len(archive) - 22) == record  # the EOCD alone
    assert need_more(archive, len(archive) - 42) == record  # the locator and the EOCD
    assert need_more(archive, len(archive) - 43) == record
    assert end_record(archive[record:], record, len(archive), "g").zip64
    # an archive too short to hold the records it needs: asks from byte 0
    lone = b"x" + eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert need_more(lone, 1) == 0
    lone = b"x" + to_zip64(THREE)[-42:]
    assert need_more(lone, 1) == 0


@pytest.mark.parametrize(
    "fields",
    [
        (0xFFFF, 0xFFFF, 10, 10),  # count, count here, size, offset
        (5, 5, 0xFFFFFFFF, 10),
        (5, 5, 10, 0xFFFFFFFF),
    ],
)
def test_end_record_needing_zip64_records_that_are_not_there(fields):
    count, here, size, offset = fields
    want = f"gzip.zip: its end record needs ZIP64 records that are not there{BAD}"
    record = eocd(count, size, offset, here=here)
    assert bad_end(bytes(200) + record) == want
    assert bad_end(record) == want  # the whole archive: nothing before it to ask for
    # a tail from further on, with room before the record for a locator that is not there
    assert bad_end((bytes(200) + record)[100:], 100, 222) == want
    assert bad_end((bytes(120) + record)[100:], 100, 142) == want  # exactly room for one


def test_end_record_zip64_record_missing_or_wrong():
    assert bad_end(to_zip64(THREE)[-42:]) == f"gzip.zip: its ZIP64 end record is missing{BAD}"
    wrong = to_zip64(THREE, sig=b"PK\x06\x07")
    assert bad_end(wrong) == f"gzip.zip: no ZIP64 end record where its locator says{BAD}"


@pytest.mark.parametrize(
    "archive",
    [
        to_zip64(THREE, disk64=1),
        to_zip64(THREE, disks=2),
        to_zip64(THREE, disk=1),
        to_zip64(THREE, here=2),
        THREE[:-22] + eocd(3, facts(THREE)[1], facts(THREE)[0], disk=1),
        THREE[:-22] + eocd(3, facts(THREE)[1], facts(THREE)[0], disk_cd=1),
        THREE[:-22] + eocd(3, facts(THREE)[1], facts(THREE)[0], here=2),
    ],
)
def test_end_record_of_several_disks(archive):
    assert bad_end(archive) == f"gzip.zip: it spans several disks{BAD}"


def test_end_record_of_zip64_with_one_or_no_disk_count():
    archive = to_zip64(THREE, disks=0)
    start, size, count = facts(THREE)
    assert end_record(archive, 0, len(archive), "g") == End(start, size, count, True, len(archive))


def directory_of(archive: bytes, name: str = "gzip.zip") -> Directory:
    end = end_record(archive, 0, len(archive), name)
    return Directory(archive[end.start :], end, name)


def spans(archive: bytes) -> dict[str, tuple[int, int]]:
    """Each member's [local header, next local header or the directory), from zipfile."""
    zf = zipfile.ZipFile(io.BytesIO(archive))
    offsets = sorted(i.header_offset for i in zf.infolist()) + [zf.start_dir]
    return {
        i.filename: (i.header_offset, offsets[offsets.index(i.header_offset) + 1])
        for i in zf.infolist()
    }


def write_span(archive: bytes, name: str, tmp_path):
    """A file holding just ``name``'s span of ``archive`` (what a range request fetches)."""
    start, stop = spans(archive)[name]
    return write(tmp_path, archive[start:stop], "span")


@pytest.mark.parametrize("kind", ["plain", "zip64"])
def test_directory_spans_and_members_read_as_zipfile_reads_them(kind, tmp_path):
    archive = THREE if kind == "plain" else to_zip64(THREE)
    end = end_record(archive, 0, len(archive), "gzip.zip")
    directory = Directory(archive[end.start :], end, "gzip.zip")
    assert directory.end is end and directory.names() == NAMES3
    zf = zipfile.ZipFile(io.BytesIO(archive))
    for name, (start, stop) in spans(archive).items():
        assert directory.span(name) == (start, stop)
        path = write(tmp_path, archive[start:stop], "span")
        with directory.open(name, path) as f:
            assert f.name == f"gzip.zip[{name}]" and f.size == zf.getinfo(name).file_size
            assert read_all(f, 1000) == zf.read(name)


def test_directory_refuses_data_that_is_not_the_directory_on():
    end = end_record(THREE, 0, len(THREE), "gzip.zip")
    with pytest.raises(ValueError) as err:
        Directory(THREE[end.start + 1 :], end, "gzip.zip")
    assert str(err.value) == "data must run from the directory's start to the archive's end"


def test_directory_not_a_zip_is_named():
    end = End(0, 100, 1, False, 122)
    with pytest.raises(IdxError, match=r"^remote\.zip: not a readable zip archive \("):
        Directory(bytes(122), end, "remote.zip")


def test_directory_whose_count_disagrees_with_its_end():
    start, size, _ = facts(THREE)
    archive = THREE[:-22] + eocd(4, size, start)
    with pytest.raises(IdxError) as err:
        directory_of(archive)
    assert str(err.value) == f"gzip.zip: its directory lists 3 members, its end says 4{BAD}"


def test_directory_whose_end_zipfile_reads_elsewhere():
    """A comment holding a copy of the directory and a record zipfile takes (it looks for
    the last signature) but whose comment length does not run to the end."""
    start, size, count = facts(THREE)
    copy = THREE[start : start + size]
    fake = eocd(count, size, start)[:-2] + struct.pack("<H", 5)
    comment = copy + fake
    archive = THREE[:-22] + eocd(count, size, start, comment)
    assert zipfile.ZipFile(io.BytesIO(archive)).start_dir != start  # zipfile reads the copy
    with pytest.raises(IdxError) as err:
        directory_of(archive)
    assert str(err.value) == f"gzip.zip: its end records are not where they should be{BAD}"


def test_span_of_a_member_outside_the_archive():
    start, size, count = facts(THREE)
    zf = zipfile.ZipFile(io.BytesIO(THREE))
    last = zf.infolist()[-1]
    past = patch(THREE, last.filename, 42, "<I", start + 10)  # in the directory: past its start
    directory = directory_of(past)
    with pytest.raises(IdxError) as err:
        directory.span(last.filename)
    assert str(err.value) == (
        f"gzip.zip[{last.filename}]: its local header offset {start + 10} is not before the "
        f"central directory (at byte {start}){BAD}"
    )
    # an end record whose offset field is larger than where the directory is: the
    # offsets zipfile reads move back, the first one below 0
    shifted = THREE[:-22] + eocd(count, size, start + 1000)
    directory = directory_of(shifted)
    with pytest.raises(IdxError) as err:
        directory.span(NAMES3[0])
    assert str(err.value) == (
        f"gzip.zip[{NAMES3[0]}]: its local header offset -1000 is outside the archive{BAD}"
    )


def test_span_whose_data_does_not_fit():
    (start, stop) = spans(THREE)[NAMES3[1]]
    fits = stop - start - 30 - len(NAMES3[1])
    assert fits == 5000  # stored: the data, no extra field, no descriptor
    over = patch(patch(THREE, NAMES3[1], 20, "<I", fits + 1), NAMES3[1], 24, "<I", fits + 1)
    directory = directory_of(over)
    with pytest.raises(IdxError) as err:
        directory.span(NAMES3[1])
    assert str(err.value) == (
        f"gzip.zip[{NAMES3[1]}]: its data ({fits + 1} bytes) does not fit between byte "
        f"{start} and the next member at {stop}{BAD}"
    )
    assert directory_of(THREE).span(NAMES3[1]) == (start, stop)


def test_open_of_a_cut_span_names_the_archives_bytes(tmp_path):
    start, stop = spans(THREE)[NAMES3[1]]
    path = write(tmp_path, THREE[start : stop - 1], "span")
    with pytest.raises(TruncatedError) as err:
        directory_of(THREE).open(NAMES3[1], path)
    assert str(err.value) == (
        f"gzip.zip[{NAMES3[1]}]: the member's data would end at byte {stop} but the archive "
        f"has {stop - 1}: the archive is truncated (an interrupted download?); fetch it again"
    )


# -- transpose.py -------------------------------------------------------------------------


def stored_images(count: int, h: int, w: int, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
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
    flat, want = stored_images(40, 28, 28)
    before = set(threading.enumerate())
    with transpose.InPlaceTransposer(flat, (40, 28, 28), threaded=False) as t:
        assert new_threads(before) == []
        assert t.per == (1 << 18) // 784  # 256 KiB of images at a time
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(40, 28, 28), want)


def test_an_error_of_the_helper_on_the_last_batch_is_raised_on_leaving(two_cores):
    """Nothing lands after it: only leaving the block can report it."""
    count = (2 << 20) // 784 + 1
    flat, _ = stored_images(count, 28, 28)
    flat.flags.writeable = False  # the helper cannot write the images back: it fails
    with pytest.raises(ValueError, match="read-only"):
        with transpose.InPlaceTransposer(flat, (count, 28, 28), threaded=True) as t:
            t.landed(flat.size)


@pytest.mark.parametrize("threaded", [False, True])
def test_after_the_first_batch_each_batch_waits_to_be_whole(threaded, monkeypatch, two_cores):
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 4)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 4)
    flat, want = stored_images(10, 2, 2)
    with transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=threaded) as t:
        assert t.per == 3
        for items, done in ((12, 3), (16, 3), (20, 3), (24, 6), (28, 6), (36, 9), (40, 10)):
            t.landed(items)
            assert t.done == done, items
    assert np.array_equal(flat.reshape(10, 2, 2), want)
