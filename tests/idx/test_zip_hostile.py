"""Zip directories the fuzzer found that broke the contract (``fuzz/zip_directory.py``).

Each archive is written by ``zipfile`` and then edited field by field in its
central directory, as the fuzzer's input was; the same bytes are in the seed
corpus (``fuzz/corpus/zip_*/found-*``).
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from idxmnist import IdxError
from idxmnist.idx.ziparchive import ZipArchive
from idxmnist.idx.zipdirectory import Directory, end_record

from ..support.family import central, patch

DATE = (2020, 1, 1, 0, 0, 0)


def make(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(zipfile.ZipInfo(name, DATE), f"the bytes of {name}".encode())
    return buf.getvalue()


def directory(archive: bytes) -> Directory:
    end = end_record(archive, 0, len(archive), "gzip.zip")
    return Directory(archive[end.start :], end, "gzip.zip")


# "version needed to extract" 25.5 (255): zipfile raises NotImplementedError, which
# escaped ZipArchive, Directory and unpack (found by the fuzzer in 599 executions)
VERSION_255 = patch(make("a", "b"), "b", 6, "<H", 255)


def test_a_version_zipfile_does_not_know_is_an_idx_error(tmp_path):
    with pytest.raises(NotImplementedError):  # what zipfile itself does with it
        zipfile.ZipFile(io.BytesIO(VERSION_255))
    want = (
        "gzip.zip: not a readable zip archive (zip file version 25.5); the file is "
        "damaged, truncated or not a zip: fetch it again"
    )
    with pytest.raises(IdxError) as err:
        directory(VERSION_255)
    assert str(err.value) == want
    path = tmp_path / "gzip.zip"
    path.write_bytes(VERSION_255)
    with pytest.raises(IdxError) as err:
        ZipArchive(path)
    assert str(err.value) == want.replace("gzip.zip", str(path), 1)


def test_a_member_whose_header_offset_is_past_the_directory_has_no_span():
    # the fuzzer's input: two entries whose local header offsets point into and far
    # past the central directory; the first got the span between them, ending 1.6 GB
    # past a 986-byte archive
    archive = make("a", "b")
    start = end_record(archive, 0, len(archive), "gzip.zip").start
    archive = patch(archive, "a", 42, "<L", start + 10)
    archive = patch(archive, "b", 42, "<L", 1 << 30)
    d = directory(archive)
    for name, offset in (("a", start + 10), ("b", 1 << 30)):
        with pytest.raises(IdxError) as err:
            d.span(name)
        assert str(err.value) == (
            f"gzip.zip[{name}]: its local header offset {offset} is not before the central "
            f"directory (at byte {start}); the archive is corrupt or not a zip: fetch it again"
        )


def test_spans_of_members_before_the_directory_still_run_to_the_next_one():
    archive = make("a", "b", "c")
    start = end_record(archive, 0, len(archive), "gzip.zip").start
    archive = patch(archive, "c", 42, "<L", start + 4)  # only c points past its place
    d = directory(archive)
    b_at = struct.unpack_from("<L", archive, central(archive, "b") + 42)[0]
    assert d.span("a") == (0, b_at)
    assert d.span("b") == (b_at, start)  # to the directory: c's offset starts no span
    with pytest.raises(IdxError, match="is not before the central directory"):
        d.span("c")
