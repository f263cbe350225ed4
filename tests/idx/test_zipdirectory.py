"""``idx/zipdirectory.py``: a zip's central directory from its last bytes (for HTTP ranges).

End records (plain, after a comment, ZIP64) found from any tail of the
archive, ``NeedMoreError`` when the tail is too short to hold them, every
malformed end refused by name; the directory's member spans checked against
the archive and read as ``zipfile`` reads them. Archives are built with
``zipfile`` and edited field by field; end records are written by hand.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

import idxmnist
from idxmnist import IdxError, TruncatedError
from idxmnist.idx.zipdirectory import END_MAX, Directory, End, NeedMoreError, end_record

from ..support.family import patch
from ..support.zips import MEMBER, NAMES3, SMALL_NOISE, THREE, make, read_all, write_zip

# -- end_record: the end of central directory record, from any tail ----------------------------


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


BAD = "; the archive is corrupt or not a zip: fetch it again"


def bad_end(tail: bytes, tail_start: int = 0, size: int | None = None) -> str:
    size = tail_start + len(tail) if size is None else size
    with pytest.raises(IdxError) as err:
        end_record(tail, tail_start, size, "gzip.zip")
    return str(err.value)


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
    return write_zip(tmp_path, archive[start:stop], "span")


def test_end_record_past_signatures_in_the_members_data(tmp_path):
    """A member's bytes may hold the end record's signature (any gzip member can)."""
    payload = b"PK\x05\x06" + bytes(18) + b"PK\x05\x06" + SMALL_NOISE
    archive = make({MEMBER: (payload, zipfile.ZIP_STORED), "s": (SMALL_NOISE, zipfile.ZIP_STORED)})
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


def need_more(archive: bytes, tail_start: int) -> int:
    with pytest.raises(NeedMoreError) as err:
        end_record(archive[tail_start:], tail_start, len(archive), "gzip.zip")
    assert str(err.value) == f"need the archive's bytes from {err.value.start}"
    return err.value.start


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


@pytest.mark.parametrize(
    "tail, message",
    [
        (b"\x00" * 100, "no end of central directory record"),
        (b"PK\x05\x06" + struct.pack("<4H2LH", 1, 0, 0, 0, 0, 0, 0), "spans several disks"),
        (b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, 1, 1, 500, 0, 0), "does not fit"),
    ],
)
def test_a_bad_end_is_refused(tail, message):
    with pytest.raises(idxmnist.IdxError, match=message):
        end_record(tail, 0, len(tail), "a.zip")


# -- Directory: the members' spans, read as zipfile reads them ---------------------------------


@pytest.mark.parametrize("kind", ["plain", "zip64"])
def test_directory_spans_and_members_read_as_zipfile_reads_them(kind, tmp_path):
    archive = THREE if kind == "plain" else to_zip64(THREE)
    end = end_record(archive, 0, len(archive), "gzip.zip")
    directory = Directory(archive[end.start :], end, "gzip.zip")
    assert directory.end is end and directory.names() == NAMES3
    zf = zipfile.ZipFile(io.BytesIO(archive))
    for name, (start, stop) in spans(archive).items():
        assert directory.span(name) == (start, stop)
        path = write_zip(tmp_path, archive[start:stop], "span")
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
    path = write_zip(tmp_path, THREE[start : stop - 1], "span")
    with pytest.raises(TruncatedError) as err:
        directory_of(THREE).open(NAMES3[1], path)
    assert str(err.value) == (
        f"gzip.zip[{NAMES3[1]}]: the member's data would end at byte {stop} but the archive "
        f"has {stop - 1}: the archive is truncated (an interrupted download?); fetch it again"
    )
