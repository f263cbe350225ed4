"""Harness: a zip's end records and central directory, read from its tail.

The bytes are an archive. As ``fetch.ranged.read_directory`` does, the
end records are read from the archive's last bytes (tails of several
lengths here, the whole archive among them), with one more read when
``end_record`` asks for earlier bytes (``NeedMoreError``) and one when the
directory starts before the tail; then ``Directory`` lists the members,
``span`` gives each one's bytes and ``open`` reads it from a file holding
just those. Beyond the contract: ``NeedMoreError`` asks for earlier bytes,
at most once (``read_directory`` does not handle a second), spans lie
inside the archive, and a member read in full has the bytes ``zipfile``
reads from the whole archive.
"""

from __future__ import annotations

import io
import zipfile

from idxmnist.idx.zipdirectory import Directory, End, NeedMoreError, end_record

from .contract import ALLOWED, scratch

#: tail lengths tried: a bare end record, a short and ranged.TAIL's, the whole archive
TAILS = (22, 512, 1 << 13, None)
NAME = "fuzz.zip"


def _directory(data: bytes, tail: int | None) -> tuple[Directory, End]:
    size = len(data)
    start = 0 if tail is None else max(0, size - tail)
    try:
        end = end_record(data[start:], start, size, NAME)
    except NeedMoreError as more:
        assert 0 <= more.start < start, f"NeedMoreError({more.start}) with a tail from {start}"
        start = more.start
        try:
            end = end_record(data[start:], start, size, NAME)
        except NeedMoreError as again:
            raise AssertionError(f"NeedMoreError twice ({again.start} after {start})") from None
    assert 0 <= end.start and end.start + end.size <= size and end.archive == size, end
    return Directory(data[end.start :], end, NAME), end


def _zipfile_reads(data: bytes, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(name)
    except Exception:  # noqa: BLE001 (zipfile is the reference here, not under test)
        return None


def _members(directory: Directory, data: bytes) -> None:
    for name in directory.names():
        try:
            start, stop = directory.span(name)
        except ALLOWED:
            continue
        assert 0 <= start < stop <= len(data), (name, start, stop, len(data))
        path = scratch() / "span.bin"
        path.write_bytes(data[start:stop])
        try:
            with directory.open(name, path) as f:
                got = f.read()
        except ALLOWED:
            continue
        finally:
            path.unlink()
        reference = _zipfile_reads(data, name)
        if reference is not None:
            assert got == reference, f"{name}: {len(got)} bytes, zipfile reads {len(reference)}"


def TestOneInput(data: bytes) -> None:
    for tail in TAILS:
        try:
            directory, _ = _directory(data, tail)
        except ALLOWED:
            continue
        _members(directory, data)
        if tail is None or tail >= len(data):
            break  # the same bytes again
