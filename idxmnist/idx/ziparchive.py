"""Members of a zip archive, streamed: never extracted to disk, never read whole.

:class:`ZipArchive` reads an archive's central directory (with the standard
library's ``zipfile``, imported on first use) and :meth:`ZipArchive.open`
returns a member as an unseekable binary stream of its uncompressed bytes,
read from the archive a chunk at a time: stored members as they are,
deflated ones through a streaming inflater. Memory stays bounded by a chunk
whatever the member's size, so a 173 MB member of a 536 MB archive costs a
few hundred kilobytes on the way to its reader.

Every way a member can be wrong is an :class:`IdxError` naming the archive
and the member (``gzip.zip[gzip/emnist-letters-train-images-idx3-ubyte.gz]``)
and saying what to do:

* the archive is not a zip, or the member is not in it;
* encrypted members, compression methods other than stored and deflate;
* a local header that does not match the directory;
* a member whose data runs past the end of the archive (a truncated
  download: :class:`TruncatedError`);
* a deflated member declaring more than deflate can produce (a zip bomb);
* a member that inflates to more, or fewer, bytes than its directory entry
  declares, whose deflate stream ends early or late, or whose CRC-32 does
  not match.

>>> with ZipArchive("gzip.zip") as z:                              # doctest: +SKIP
...     with z.open("gzip/emnist-letters-test-labels-idx1-ubyte.gz") as f:
...         head = f.read(2)
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..errors import IdxError, TruncatedError, printable
from ..files import CHUNK, open_regular
from .compression import DEFLATE_MAX_RATIO, gzip_backend, libdeflate

__all__ = [
    "ZipArchive",
    "ZipEntry",
    "MemberReader",
    "Listing",
    "read_infos",
    "local_data_offset",
    "entry_at",
    "ZIP_MAGIC",
    "ZIP_ERRORS",
]

ZIP_MAGIC = b"PK\x03\x04"
#: what ``zipfile`` raises for an archive it cannot read (the one list: every reader of
#: zips through ``zipfile`` catches these): BadZipFile for most damage, but also
#: NotImplementedError (a "version needed to extract" past 6.3, a compression method it
#: lacks), RuntimeError (an encrypted member), EOFError, ValueError (a name that is not
#: the UTF-8 its flag says), struct.error, zlib.error, OSError
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    ValueError,
    struct.error,
    zlib.error,
    OSError,
)
STORED, DEFLATED = 0, 8
_LOCAL = struct.Struct("<4s5H3L2H")  # the 30-byte local file header


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member as the central directory describes it, with where its data starts."""

    name: str
    method: int
    compress_size: int
    file_size: int
    crc: int
    data_offset: int


def _crc32() -> Any:
    """The fastest CRC-32 installed: libdeflate's, else zlib-ng's, else zlib's (all equal)."""

    lib = libdeflate()
    if lib is not None:
        return lib.crc32
    module = gzip_backend()
    return getattr(module, "crc32", zlib.crc32)


def read_infos(f: BinaryIO, name: str) -> list[Any]:
    """The central directory of the zip in ``f``, as ``zipfile.ZipInfo`` entries.

    ``f`` may hold the whole archive or only its end, the central directory
    and the end records (``zipfile`` counts offsets from where the directory
    turns out to start). IdxError, naming ``name``, if it is not a readable zip.
    """

    try:
        return zipfile.ZipFile(f).infolist()
    except ZIP_ERRORS as exc:
        raise IdxError(
            f"{name}: not a readable zip archive ({exc}); the file is "
            "damaged, truncated or not a zip: fetch it again"
        ) from None


class Listing:
    """The members a central directory lists, by name, each checked before it is read.

    :class:`ZipArchive` (an archive on disk) and
    :class:`~idxmnist.idx.zipdirectory.Directory` (an archive's directory
    read from its tail, over HTTP ranges) share it.
    """

    def __init__(self, name: str, infos: list[Any]) -> None:
        self.name = printable(name)
        self._infos: dict[str, Any] = {}
        self._twice: set[str] = set()
        for info in infos:
            if info.filename in self._infos:
                self._twice.add(info.filename)
            self._infos[info.filename] = info

    def names(self) -> list[str]:
        """Every member name, in directory order."""
        return list(self._infos)

    def where(self, name: str) -> str:
        """How errors name a member: ``archive[member]``, the member's name
        :func:`~idxmnist.errors.printable` (it comes from the archive)."""
        return f"{self.name}[{printable(name)}]"

    def __contains__(self, name: object) -> bool:
        return name in self._infos

    def info(self, name: str) -> Any:
        """The directory entry of ``name`` (a ``ZipInfo``), refused if it cannot be read."""
        where = self.where(name)
        info = self._infos.get(name)
        if info is None:
            raise IdxError(
                f"{where}: no such member in the archive (it holds {len(self._infos)} "
                "others); the archive is not the expected one or is incomplete: fetch it again"
            )
        if name in self._twice:
            raise IdxError(f"{where}: the archive holds two members of this name; refused")
        if info.flag_bits & 0x1:
            raise IdxError(f"{where}: the member is encrypted; idxmnist reads plain members")
        if info.compress_type not in (STORED, DEFLATED):
            raise IdxError(
                f"{where}: zip compression method {info.compress_type}; only stored and "
                "deflate members are read (repack the archive with a standard zip tool)"
            )
        if info.compress_type == STORED and info.compress_size != info.file_size:
            raise IdxError(
                f"{where}: a stored member of {info.file_size} bytes declares "
                f"{info.compress_size} stored bytes; the directory is corrupt: fetch it again"
            )
        if (
            info.compress_type == DEFLATED
            and info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024
        ):
            raise IdxError(
                f"{where}: declares {info.file_size} bytes inflated from "
                f"{info.compress_size}, more than deflate can produce (a zip bomb?); refused"
            )
        return info


def local_data_offset(f: BinaryIO, offset: int, size: int, info: Any, where: str) -> int:
    """Where ``info``'s data starts in ``f`` (``size`` bytes), whose local header is at ``offset``.

    The local header must be there and name the member; its own name and
    extra field lengths (which may differ from the directory's) decide.
    """
    if not 0 <= offset <= size - _LOCAL.size:
        raise TruncatedError(
            f"{where}: the member's header would be at byte {offset} of a "
            f"{size}-byte archive: the archive is truncated or corrupt; fetch it again"
        )
    f.seek(offset)
    local = f.read(_LOCAL.size)
    sig, *_, name_len, extra_len = _LOCAL.unpack(local)
    name = f.read(name_len)
    if sig != ZIP_MAGIC:
        raise IdxError(
            f"{where}: no local header where the directory says the member starts "
            f"(byte {offset}); the archive is corrupt: fetch it again"
        )
    if name != info.orig_filename.encode("utf-8") and name != info.orig_filename.encode(
        "cp437", "replace"
    ):
        raise IdxError(
            f"{where}: the local header names {name!r}, not this member; the archive "
            "is corrupt: fetch it again"
        )
    return int(offset + _LOCAL.size + name_len + extra_len)


def entry_at(path: str, base: int, info: Any, where: str, *, offset: int | None = None) -> ZipEntry:
    """``info``'s entry in the file at ``path``, whose local header is at ``offset``
    (default: the directory's, less ``base``, the archive offset the file starts at)."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        at = info.header_offset - base if offset is None else offset
        start = local_data_offset(f, at, size, info, where)
    end = start + info.compress_size
    if end > size:
        raise TruncatedError(
            f"{where}: the member's data would end at byte {end + base} but the archive has "
            f"{size + base}: the archive is truncated (an interrupted download?); "
            "fetch it again"
        )
    return ZipEntry(
        info.filename, info.compress_type, info.compress_size, info.file_size, info.CRC, start
    )


class ZipArchive(Listing):
    """A zip file on disk, its directory read; members opened as streams.

    Args:
        path: the archive.
        name: how errors name it (default: ``path``); a download names the
            URL it came from, not its temporary file.

    Raises:
        IdxError: the file is not a readable zip archive.
        OSError: it cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str | None = None) -> None:
        self.path = os.fspath(path)
        display = self.path if name is None else name
        with open_regular(path) as f:
            self.size = os.fstat(f.fileno()).st_size
            infos = read_infos(f, display)
        super().__init__(display, infos)

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def entry(self, name: str) -> ZipEntry:
        """The directory entry of ``name``, checked against its local header."""
        return entry_at(self.path, 0, self.info(name), self.where(name))

    def open(self, name: str) -> MemberReader:
        """The member's uncompressed bytes as an unseekable binary stream."""
        return MemberReader(self.path, self.entry(name), self.where(name))


class MemberReader(io.RawIOBase):
    """The uncompressed bytes of one member, read and checked a chunk at a time.

    ``name`` (``archive[member]``) names it in errors; ``size`` is the
    uncompressed size its directory entry declares. Reaching the end checks
    the size and the CRC-32: a short or damaged member never reads as a
    clean end.
    """

    def __init__(self, path: str, entry: ZipEntry, name: str) -> None:
        super().__init__()
        self.name = name
        self.size = entry.file_size
        self._entry = entry
        self._f: BinaryIO = open_regular(path, buffering=0)  # closed in close()
        self._f.seek(entry.data_offset)
        self._left = entry.compress_size  # archive bytes of the member not yet read
        self._produced = 0
        self._crc_of = _crc32()
        self._crc = 0
        self._done = False
        self._tail = b""
        self._d = gzip_backend().decompressobj(-15) if entry.method == DEFLATED else None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` uncompressed bytes (all that is left if negative); b"" at the end."""
        if size is None or size < 0:
            return self.readall()
        if self._done or size == 0:
            return b""
        out = self._next(size)
        if out:
            self._produced += len(out)
            if self._produced > self.size:
                raise IdxError(
                    f"{self.name}: the member holds more than the {self.size} bytes its "
                    "directory entry declares; the archive is corrupt: fetch it again"
                )
            self._crc = self._crc_of(out, self._crc)
            return out
        self._finish()
        return b""

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        parts = []
        while part := self.read(CHUNK):
            parts.append(part)
        return b"".join(parts)

    def _next(self, n: int) -> bytes:
        d = self._d
        if d is None:
            return self._stored(n)
        while not d.eof:
            data = self._tail or self._stored(CHUNK)  # the member's next compressed bytes
            if not data:
                raise TruncatedError(
                    f"{self.name}: the member's deflate stream is cut short after "
                    f"{self._produced} of {self.size} bytes (its data ends before the "
                    "stream does); the archive is truncated or corrupt: fetch it again"
                )
            try:
                out: bytes = d.decompress(data, n)
            except (zlib.error, gzip_backend().error) as exc:
                raise IdxError(
                    f"{self.name}: corrupt deflate data ({exc}); the archive is damaged: "
                    "fetch it again"
                ) from None
            self._tail = d.unconsumed_tail
            if out:
                return out
        return b""

    def _stored(self, n: int) -> bytes:
        """Up to ``n`` of the member's bytes as they are in the archive."""
        want = min(n, self._left)
        data = self._f.read(want) if want else b""
        if len(data) < want:  # the archive shrank since its directory was read
            raise TruncatedError(
                f"{self.name}: the archive ends inside the member; it is truncated: fetch it again"
            )
        self._left -= len(data)
        return data

    def _finish(self) -> None:
        """At the end: nothing left over, the declared size, the CRC.

        Marked done only once they hold: a damaged member raises again at every read.
        """
        leftover = self._left
        if self._d is not None:  # input past the stream's end (zlib keeps it in one of the two)
            leftover += len(self._d.unused_data) or len(self._tail)
        if leftover:
            raise IdxError(
                f"{self.name}: the member's deflate stream ends {leftover} bytes before its "
                "declared compressed size; the archive is corrupt: fetch it again"
            )
        if self._produced != self.size:
            raise TruncatedError(
                f"{self.name}: the member holds {self._produced} bytes but its directory "
                f"entry declares {self.size}; the archive is corrupt or truncated: fetch it again"
            )
        if self._crc & 0xFFFFFFFF != self._entry.crc:
            raise IdxError(
                f"{self.name}: CRC-32 mismatch (the member's bytes are damaged); "
                "fetch the archive again"
            )
        self._done = True
