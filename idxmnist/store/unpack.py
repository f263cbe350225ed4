"""Unpack files that hold a whole dataset: a keras-layout npz, or a zip or tar of IDX files.

:func:`members` yields each file inside as a temporary file in a directory
of the caller's choosing, with the name it had inside, for the caller to
verify and then move into place or leave (it is removed when the iteration
moves on). Memory stays bounded: everything is streamed in chunks, and a
member larger than ``limit`` is skipped, not read.

A keras-layout npz (``x_train``, ``y_train``, ``x_test``, ``y_test``, as
keras's ``mnist.npz``) yields each array turned back into IDX bytes (the
header for its dtype and shape, then the payload in big-endian C order), so
its content checksum is the one of the upstream IDX file it came from. Such
an npz is read without unpickling (``npzfile.npz_members`` refuses object
arrays).

Member names are only reported and matched, never used as paths.
"""

from __future__ import annotations

import lzma
import os
import shutil
import tarfile
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Literal

import numpy as np

from ..datasets.layout import KEYS
from ..errors import IdxError
from ..files import CHUNK, open_regular, temporary
from ..idx import compression
from ..idx.format import encode_header, unstorable
from ..idx.ziparchive import ZIP_ERRORS
from .npzfile import NpyMember, npz_members, read_npy_header

__all__ = ["Unpacked", "kind_of", "members", "Kind"]

Kind = Literal["npz", "zip", "tar"]
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True, slots=True)
class Unpacked:
    """One file inside an archive: its ``name`` there and a temporary copy at ``path``.

    ``path`` is None, and ``problem`` says why, when it could not be read.
    """

    name: str
    path: Path | None
    problem: str = ""


def _is_tar_header(block: bytes) -> bool:
    return len(block) >= 262 and block[257:262] == b"ustar"


def kind_of(path: str | os.PathLike[str]) -> Kind | None:
    """``"npz"``, ``"zip"`` or ``"tar"`` (also gzip/xz/bz2-compressed) from the bytes; else None."""

    with open_regular(path) as f:
        lead = f.read(512)
        if lead[:4] in _ZIP_MAGIC:
            try:
                with zipfile.ZipFile(f) as zf:
                    names = zf.namelist()
            except ZIP_ERRORS:
                return None
            npy = [n[:-4] for n in names if n.endswith(".npy")]
            return "npz" if names and len(npy) == len(names) else "zip"
        if _is_tar_header(lead):
            return "tar"
        kind = compression.sniff(lead)
        if kind == "raw":
            return None
        f.seek(0)
        try:
            block = compression.Stream(f, kind, os.fspath(path)).read_exact(512)
        except IdxError:
            return None
        return "tar" if _is_tar_header(block) else None


#: what opening or walking an archive can raise for bad bytes (or, with an errno, the disk)
_ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (*ZIP_ERRORS, tarfile.TarError, lzma.LZMAError)


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading one member can raise: a bad CRC, corrupt data, a short file."""

    return (*ZIP_ERRORS, lzma.LZMAError)


def _npy_as_idx(src: IO[bytes], out: BinaryIO, member: NpyMember, path: str) -> None:
    """Write the array whose ``.npy`` stream is ``src`` as IDX bytes to ``out``."""

    dtype, shape, fortran = read_npy_header(src, path, member.key)  # the locked parser
    if (dtype, shape, fortran) != (member.dtype, member.shape, member.fortran):
        raise IdxError(f"{path}: member {member.key!r} changed while it was read")
    out.write(encode_header(dtype, shape))
    itemsize = dtype.itemsize
    swap = itemsize > 1 and dtype.byteorder not in (">", "|")
    step = CHUNK - CHUNK % itemsize
    left = int(np.prod(shape, dtype=np.int64)) * itemsize
    while left:
        chunk = src.read(min(step, left))
        if not chunk:
            raise EOFError("the array ends early")
        if swap:
            chunk = np.frombuffer(chunk, dtype).astype(dtype.newbyteorder(">")).tobytes()
        out.write(chunk)
        left -= len(chunk)


def _unreadable(exc: BaseException) -> bool:
    """True when ``exc`` says the data is bad (not the disk: an OSError with an errno)."""
    return not (isinstance(exc, OSError) and exc.errno is not None)


def _npz_members(path: Path, workdir: Path, limit: int) -> Iterator[Unpacked]:

    name = os.fspath(path)
    with open_regular(path) as f:
        found = npz_members(f, name)
        missing = [k for k in KEYS if k not in found]
        if missing:
            raise IdxError(
                f"{name}: an npz without {', '.join(missing)}: not keras's layout "
                f"(it holds {', '.join(sorted(found)) or 'nothing'})"
            )
        with zipfile.ZipFile(f) as zf:
            for key in KEYS:
                m = found[key]
                if m.fortran:
                    yield Unpacked(key, None, "a Fortran-ordered array, not keras's C order")
                    continue
                if m.info.file_size > limit:
                    yield Unpacked(key, None, f"{m.info.file_size} bytes, larger than any file")
                    continue
                why = unstorable(m.dtype, m.shape)
                if why:  # a bool or uint16 array, a 0-d one: no IDX file holds it
                    yield Unpacked(key, None, f"a {m.dtype} array of shape {m.shape}: {why}")
                    continue
                try:
                    with temporary(workdir) as (out, tmp), zf.open(m.info) as src:
                        _npy_as_idx(src, out, m, name)
                except _read_errors() as exc:
                    if not _unreadable(exc):
                        raise
                    yield Unpacked(key, None, f"cannot be read ({exc})")
                    continue
                yield from _handed_over(Unpacked(key, tmp))


def _handed_over(member: Unpacked) -> Iterator[Unpacked]:
    """Yield ``member``; once the caller moves on, remove its file if still there."""
    try:
        yield member
    finally:
        if member.path is not None:
            member.path.unlink(missing_ok=True)


def _zip_members(path: Path, workdir: Path, limit: int) -> Iterator[Unpacked]:

    with open_regular(path) as f, zipfile.ZipFile(f) as zf:
        size = os.fstat(f.fileno()).st_size
        for info in zf.infolist():
            if info.filename.endswith("/"):  # a folder (ZipInfo.is_dir fails on an empty name)
                continue
            if info.flag_bits & 0x1:
                yield Unpacked(info.filename, None, "encrypted")
                continue
            if not 0 <= info.header_offset < size:  # a seek there fails like a disk (EINVAL)
                where = f"its local header offset {info.header_offset}"
                yield Unpacked(info.filename, None, f"{where} is outside the {size}-byte archive")
                continue
            if info.file_size > limit:
                yield Unpacked(info.filename, None, f"{info.file_size} bytes, larger than any file")
                continue
            try:
                with temporary(workdir) as (out, tmp), zf.open(info) as src:
                    shutil.copyfileobj(src, out, CHUNK)
            except _read_errors() as exc:
                if not _unreadable(exc):
                    raise
                yield Unpacked(info.filename, None, f"cannot be read ({exc})")
                continue
            yield from _handed_over(Unpacked(info.filename, tmp))


#: the largest extended header (a pax record, a GNU long name) a tar member may have: real
#: ones hold a path or two (PATH_MAX is 4096) and a few times. ``tarfile`` reads one whole
#: into memory (a 590-byte tar.bz2 can declare 360 MB of them) and parses a pax one with a
#: search quadratic in its length (before CPython 3.11.10: 32 KiB of digits take 6 s)
MAX_EXTENDED_HEADER = 16 << 10
_EXTENDED_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header read with bounds: extended headers of at most :data:`MAX_EXTENDED_HEADER`
    bytes, and no sparse members (no dataset file is one; ``tarfile`` reads GNU's sparse
    maps into lists without a bound: 8 million entries from 10 KB of tar.bz2)."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENDED_TYPES and self.size > MAX_EXTENDED_HEADER:
            raise tarfile.ReadError(
                f"an extended header of {self.size} bytes, more than {MAX_EXTENDED_HEADER}"
            )
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise tarfile.ReadError(f"{self.name!r} is a sparse file: not a dataset file")
        processed: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return processed

    def _sparse(self, *args: object) -> None:
        raise tarfile.ReadError("a GNU sparse member (pax): not a dataset file")

    _proc_gnusparse_00 = _proc_gnusparse_01 = _proc_gnusparse_10 = _sparse


def _tar_members(path: Path, workdir: Path, limit: int) -> Iterator[Unpacked]:

    errors: tuple[type[BaseException], ...] = (tarfile.TarError, *_read_errors())
    with (
        open_regular(path) as f,
        tarfile.open(fileobj=f, mode="r:*", tarinfo=_BoundedTarInfo) as tf,
    ):
        for info in tf:
            if not info.isfile():
                continue
            if info.size > limit:
                yield Unpacked(info.name, None, f"{info.size} bytes, larger than any file")
                continue
            src = tf.extractfile(info)
            if src is None:
                continue
            try:
                with temporary(workdir) as (out, tmp), src:
                    shutil.copyfileobj(src, out, CHUNK)
            except errors as exc:
                if not _unreadable(exc):
                    raise
                yield Unpacked(info.name, None, f"cannot be read ({exc})")
                continue
            yield from _handed_over(Unpacked(info.name, tmp))


def members(
    path: str | os.PathLike[str], workdir: str | os.PathLike[str], *, limit: int
) -> Generator[Unpacked, None, None]:
    """Each file in the archive at ``path``, copied into ``workdir`` while it is looked at.

    Raises :class:`IdxError` when ``path`` is not a readable npz, zip or tar.
    """

    path, workdir = Path(path), Path(workdir)
    kind = kind_of(path)
    name = os.fspath(path)
    try:
        if kind == "npz":
            yield from _npz_members(path, workdir, limit)
        elif kind == "zip":
            yield from _zip_members(path, workdir, limit)
        elif kind == "tar":
            yield from _tar_members(path, workdir, limit)
        else:
            raise IdxError(f"{name}: not an npz, zip or tar archive")
    except IdxError:
        raise  # already says what is wrong (an IdxError is a ValueError, caught below)
    except _ARCHIVE_ERRORS as exc:
        if not _unreadable(exc):  # the disk, not the archive
            raise
        raise IdxError(f"{name}: a damaged {kind} archive ({exc})") from None
