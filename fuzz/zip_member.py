"""Harness: zip members read straight out of an archive on disk.

The bytes are an archive, written to a file: ``ZipArchive`` reads its
directory, ``entry`` checks each member's local header and ``open`` reads
it to the end (in small reads, then again with ``read()``). Beyond the
contract: both reads give the same bytes, ``readinto`` agrees, the end
stays the end, and a member read in full has the bytes ``zipfile`` reads.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from idxmnist.idx.ziparchive import ZipArchive

from .contract import ALLOWED, ours, scratch


def _zipfile_reads(path: Path, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(path) as z:
            return z.read(name)
    except Exception:  # noqa: BLE001 (zipfile is the reference here, not under test)
        return None


def _read_in_steps(archive: ZipArchive, name: str) -> bytes:
    parts = []
    with archive.open(name) as f:
        assert not f.seekable() and f.readable()
        buf = bytearray(3)
        n = f.readinto(buf)
        parts.append(bytes(buf[:n]))
        while part := f.read(1000):
            assert len(part) <= 1000
            parts.append(part)
        assert f.read(10) == b"" and f.read() == b"", "read past the member's end"
    return b"".join(parts)


def _read_all(archive: ZipArchive, name: str) -> bytes:
    with archive.open(name) as f:
        return f.read()


def TestOneInput(data: bytes) -> None:
    path = scratch() / "input.zip"
    path.write_bytes(data)
    try:
        archive = ours(ZipArchive, path)
        if isinstance(archive, BaseException):
            return
        for name in archive.names():
            assert name in archive
            entry = ours(archive.entry, name)
            if isinstance(entry, BaseException):
                continue
            assert 0 <= entry.data_offset <= entry.data_offset + entry.compress_size <= len(data)
            try:
                stepped = _read_in_steps(archive, name)
            except ALLOWED:
                continue
            again = ours(_read_all, archive, name)
            assert again == stepped, f"{name}: read() gives {again!r:.60}, read(1000) other bytes"
            assert len(stepped) == entry.file_size
            reference = _zipfile_reads(path, name)
            if reference is not None:
                assert stepped == reference, f"{name}: zipfile reads other bytes"
    finally:
        path.unlink()
