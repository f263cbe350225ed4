"""A zip archive's central directory, read from the archive's last bytes alone.

What fetching a few members of a remote archive by HTTP ranges needs,
without the rest of it. A zip lists its members at its end: the *end of
central directory* record (EOCD, 22 bytes and a comment of up to 64 KiB;
with ZIP64, a locator and the ZIP64 end record before it), and before those
the central directory itself. So:

1. :func:`end_record` finds the EOCD (and the ZIP64 records, if there are
   any) in the archive's tail and says where the directory starts and how
   long it is; if the tail fetched is too short to tell, it raises
   :class:`NeedMoreError` with the offset the tail must start from;
2. :class:`Directory` reads the directory from the archive's bytes from
   there to the end (``zipfile``, as :class:`~.ziparchive.ZipArchive` does,
   with every member checked the same way by :class:`~.ziparchive.Listing`)
   and gives the byte range each member occupies in the archive: from its
   local header to the next member's (or the directory), which holds its
   header, its data and any data descriptor;
3. :meth:`Directory.open` reads a member from a file holding just that
   range, through :class:`~.ziparchive.MemberReader` (stored or deflated,
   size and CRC-32 checked).

The records' layouts are the standard library's (``zipfile``'s
``structEndArchive``, ``structEndArchive64Locator``, ``structEndArchive64``).
Multi-disk archives are refused. The end records are read here, not by
``zipfile``: its reader (the private ``_EndRecData``) needs the whole file
to seek in and cannot say which earlier bytes a short tail lacks, which is
what lets a fetch ask for exactly that span, once.

>>> end = end_record(tail, len(archive) - len(tail), len(archive), "gzip.zip")  # doctest: +SKIP
>>> Directory(archive[end.start:], end, "gzip.zip").span("gzip/emnist-...")     # doctest: +SKIP
(0, 4714779)
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from dataclasses import dataclass

from ..errors import IdxError
from .ziparchive import Listing, MemberReader, entry_at, read_infos

__all__ = [
    "End",
    "NeedMoreError",
    "Directory",
    "end_record",
    "END_MAX",
    "EOCD",
    "EOCD64",
    "LOCATOR",
]

#: the end of central directory record, without its comment
EOCD = struct.Struct("<4s4H2LH")
EOCD_SIG = b"PK\x05\x06"
#: the ZIP64 end of central directory locator, just before the EOCD
LOCATOR = struct.Struct("<4sLQL")
LOCATOR_SIG = b"PK\x06\x07"
#: the ZIP64 end of central directory record (without extensible data)
EOCD64 = struct.Struct("<4sQ2H2L4Q")
EOCD64_SIG = b"PK\x06\x06"
#: the most bytes at an archive's end that its end records can take
END_MAX = EOCD.size + 0xFFFF + LOCATOR.size + EOCD64.size


class NeedMoreError(Exception):
    """The tail does not reach back far enough: fetch the archive from ``start`` on."""

    def __init__(self, start: int) -> None:
        super().__init__(f"need the archive's bytes from {start}")
        self.start = start


@dataclass(frozen=True, slots=True)
class End:
    """Where an archive's central directory is: ``start`` (in the archive), ``size``
    bytes, ``count`` entries; ``zip64``: read from the ZIP64 records; ``archive``:
    the archive's length."""

    start: int
    size: int
    count: int
    zip64: bool
    archive: int


def _bad(where: str, what: str) -> IdxError:
    return IdxError(f"{where}: {what}; the archive is corrupt or not a zip: fetch it again")


def _eocd_at(tail: bytes) -> int:
    """The offset in ``tail`` of the EOCD whose comment runs exactly to the end; -1 if none."""
    at = len(tail) - EOCD.size
    while at >= 0:
        at = tail.rfind(EOCD_SIG, 0, at + 4)
        if at < 0:
            return -1
        if at + EOCD.size <= len(tail):
            comment = EOCD.unpack_from(tail, at)[-1]
            if at + EOCD.size + comment == len(tail):
                return at
        at -= 1
    return -1


def end_record(tail: bytes, tail_start: int, archive_size: int, where: str) -> End:
    """Where the central directory is, from ``tail``: the archive's bytes from ``tail_start``.

    Raises :class:`NeedMoreError` when ``tail`` is too short to tell, and
    :class:`IdxError` when the bytes are not the end of a readable zip.
    """
    if tail_start + len(tail) != archive_size:
        raise ValueError("the tail must run to the end of the archive")
    at = _eocd_at(tail)
    if at < 0:
        if tail_start > 0 and len(tail) < END_MAX:
            raise NeedMoreError(max(0, archive_size - END_MAX))
        raise _bad(where, "no end of central directory record in its last bytes")
    _, disk, disk_cd, count_here, count, size, offset, _ = EOCD.unpack_from(tail, at)
    eocd = tail_start + at
    loc = at - LOCATOR.size
    zip64 = loc >= 0 and tail[loc : loc + 4] == LOCATOR_SIG
    needs64 = 0xFFFF in (count, count_here) or 0xFFFFFFFF in (size, offset)
    if needs64 and not zip64:
        if loc < 0 and tail_start > 0:
            raise NeedMoreError(max(0, eocd - LOCATOR.size - EOCD64.size))
        raise _bad(where, "its end record needs ZIP64 records that are not there")
    if zip64:
        _, disk64, record, disks = LOCATOR.unpack_from(tail, loc)
        if disk64 != 0 or disks > 1:
            raise _bad(where, "it spans several disks")
        # the ZIP64 record sits right before the locator (as zipfile reads it too)
        rec = loc - EOCD64.size
        if rec < 0:
            if tail_start > 0:
                raise NeedMoreError(max(0, tail_start + rec))
            raise _bad(where, "its ZIP64 end record is missing")
        sig, _, _, _, disk, disk_cd, count_here, count, size, offset = EOCD64.unpack_from(tail, rec)
        if sig != EOCD64_SIG:
            raise _bad(where, "no ZIP64 end record where its locator says")
        first_end = tail_start + rec
    else:
        first_end = eocd
    if disk != 0 or disk_cd != 0 or count_here != count:
        raise _bad(where, "it spans several disks")
    start = first_end - size  # the directory ends where the end records begin
    if start < 0:
        raise _bad(where, f"its central directory of {size} bytes does not fit before byte {eocd}")
    return End(start, size, count, zip64, archive_size)


class Directory(Listing):
    """The members of an archive, read from ``data``: its bytes from ``end.start`` on.

    Member offsets are the archive's (``zipfile``'s reading of the tail,
    which counts from where the directory starts, moved back by
    ``end.start``).
    """

    def __init__(self, data: bytes, end: End, name: str) -> None:

        if len(data) != end.archive - end.start:
            raise ValueError("data must run from the directory's start to the archive's end")
        infos = read_infos(io.BytesIO(data), name)
        super().__init__(name, infos)
        self.end = end
        if len(infos) != end.count:
            raise _bad(name, f"its directory lists {len(infos)} members, its end says {end.count}")
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if zf.start_dir != 0:  # an end record zipfile reads another way: do not guess
                raise _bad(name, "its end records are not where they should be")
        for info in infos:
            info.header_offset += end.start
        # members lie before the directory: an offset at or past it starts no span
        offsets = {info.header_offset for info in infos if info.header_offset < end.start}
        starts = sorted(offsets | {end.start})
        self._stop = {s: e for s, e in zip(starts, starts[1:], strict=False)}

    def span(self, name: str) -> tuple[int, int]:
        """``[start, stop)``: the bytes of the archive member ``name`` occupies (checked)."""
        info = self.info(name)
        start = info.header_offset
        if start >= self.end.start:
            raise _bad(
                self.where(name),
                f"its local header offset {start} is not before the central directory "
                f"(at byte {self.end.start})",
            )
        if start < 0 or start not in self._stop:
            raise _bad(self.where(name), f"its local header offset {start} is outside the archive")
        stop = self._stop[start]
        least = 30 + len(info.orig_filename.encode("utf-8")) + info.compress_size
        if stop - start < least:
            raise _bad(
                self.where(name),
                f"its data ({info.compress_size} bytes) does not fit between byte {start} "
                f"and the next member at {stop}",
            )
        return start, stop

    def open(self, name: str, path: str | os.PathLike[str]) -> MemberReader:
        """The member ``name``, read from ``path``: a file holding exactly its :meth:`span`."""
        info = self.info(name)
        where = self.where(name)
        start, _ = self.span(name)
        entry = entry_at(os.fspath(path), start, info, where, offset=0)
        return MemberReader(os.fspath(path), entry, where)
