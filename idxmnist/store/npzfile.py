"""The ``mnist.npz`` cache file: write it atomically, load it at memory speed.

The file is an ordinary ``.npz`` (a zip of ``.npy`` members, one per key),
readable by ``numpy.load(f, allow_pickle=False)`` and by keras. Two layouts:

* stored (the default): members are not compressed, and each array's data
  starts on a 64-byte boundary (zip local-header padding in an extra field
  with id 0xD935, as Android's ``zipalign`` does). Loading maps the file
  copy-on-write: no decompression, no copy, and writes stay private to the
  process.
* compressed (``compress=True``): deflate members, the size keras ships;
  loading inflates each member into an array allocated from its checked
  header, reading no more than the member declares.

Loading never unpickles: object arrays, unknown or missing keys and
inconsistent headers are refused with :class:`IdxError`. Every ``.npy``
header, of a stored member or a deflated one, is parsed by
:func:`read_npy_header`, one at a time (see ``_HEADER_LOCK``): NumPy's own
``np.load`` is never called here.
"""

from __future__ import annotations

import io
import math
import mmap
import os
import struct
import threading
import tokenize
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

from ..errors import IdxError
from ..files import CHUNK, atomic_write, open_regular
from ..idx.compression import DEFLATE_MAX_RATIO
from ..idx.ziparchive import ZIP_ERRORS

__all__ = [
    "write_npz",
    "load_npz",
    "npz_members",
    "read_member",
    "read_npy_header",
    "corrupt_npz",
    "NpyMember",
    "ALIGN",
]

ALIGN = 64
_ALIGN_EXTRA_ID = 0xD935
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header, 30 bytes
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same arrays give the same file


def _npy_header(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, npy.header_data_from_array_1_0(arr))
    return buf.getvalue()


def _write_stored_aligned(f: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            arr = np.ascontiguousarray(arr)
            header = _npy_header(arr)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(header) + arr.nbytes
            zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule
            fixed = (
                f.tell()
                + _LOCAL_HEADER.size
                + len(info.filename.encode())
                + (20 if zip64 else 0)
                + 6
                + len(header)
            )
            pad = -fixed % ALIGN
            info.extra = struct.pack("<HHH", _ALIGN_EXTRA_ID, 2 + pad, ALIGN) + bytes(pad)
            with zf.open(info, "w", force_zip64=zip64) as member:
                member.write(header)
                member.write(arr.reshape(-1).data.cast("B"))


def write_npz(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], *, compress: bool = False
) -> Path:
    """Write ``arrays`` as an npz at ``path``, atomically; return the path."""
    path = Path(path)
    with atomic_write(path) as f:
        if compress:
            # typed loosely: numpy >= 2.1 also takes allow_pickle=, older ones would
            # store it as an array, so it is never passed (the arrays hold no objects)
            savez: Callable[..., None] = np.savez_compressed
            savez(f, **arrays)
        else:
            _write_stored_aligned(f, arrays)
    return path


@dataclass(slots=True)
class NpyMember:
    """One ``.npy`` member of an npz, as found in the zip directory.

    ``dtype``, ``shape`` and ``fortran`` come from its ``.npy`` header;
    ``data_offset`` is where a stored member's array starts in the file
    (None for a compressed member).
    """

    key: str
    info: zipfile.ZipInfo
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.uint8))
    shape: tuple[int, ...] = ()
    fortran: bool = False
    data_offset: int | None = None

    @property
    def stored(self) -> bool:
        return self.info.compress_type == zipfile.ZIP_STORED

    @property
    def aligned(self) -> bool:
        return self.data_offset is not None and self.data_offset % ALIGN == 0


def corrupt_npz(path: str, what: str) -> IdxError:
    """The error for a bad npz: ``path``, ``what`` is wrong, and that it is not a cache."""
    return IdxError(f"{path}: {what}; the npz file is corrupt or not a dataset cache")


# NumPy parses a .npy header with ast.literal_eval; on CPython 3.11, ast
# parses running at once in several threads (the assembler reads a split's
# npz files in parallel) can fail at random with "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905): one at a time.
_HEADER_LOCK = threading.Lock()


#: what NumPy's ``.npy`` header parser raises for a header that is not one: most is
#: ValueError, but a header it cannot tokenize (an unclosed bracket) raises
#: tokenize.TokenError, and a ``descr`` of ``()`` IndexError
_NPY_HEADER_ERRORS = (
    ValueError,
    SyntaxError,
    tokenize.TokenError,
    IndexError,
    OSError,
    EOFError,
    struct.error,
)


#: the longest ``.npy`` header read (NumPy's own ``max_header_size``). NumPy checks it only
#: after reading the header, whose length a 2.0 header gives in 32 bits: reading it first
#: is a 4 GiB ``read()`` from a 400-byte file
NPY_HEADER_MAX = 10000
_LENGTH_FIELD = {
    (1, 0): struct.Struct("<H"),
    (2, 0): struct.Struct("<I"),
    (3, 0): struct.Struct("<I"),
}


def read_npy_header(fp: IO[bytes], path: str, key: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """``(dtype, shape, fortran)`` from the ``.npy`` header at ``fp``'s position, which it
    leaves at the array's first byte; IdxError naming ``path`` and ``key`` if it is bad.

    The one place the package parses a ``.npy`` header, under ``_HEADER_LOCK``.
    """
    try:
        version = npy.read_magic(fp)
        field = _LENGTH_FIELD.get(version)
        if field is None:
            raise ValueError(f"unsupported .npy version {version}")
        raw = fp.read(field.size)
        (length,) = field.unpack(raw)  # struct.error if it is cut short
        if length > NPY_HEADER_MAX:
            raise corrupt_npz(
                path,
                f"member {key!r} has a .npy header of {length} bytes, more than the "
                f"{NPY_HEADER_MAX} an array's header takes",
            )
        header = raw + fp.read(length)  # NumPy parses it from memory: a short one is EOF
        with _HEADER_LOCK:
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(io.BytesIO(header))
            else:
                shape, fortran, dtype = npy.read_array_header_2_0(io.BytesIO(header))
    except IdxError:
        raise  # said already (an IdxError is a ValueError)
    except _NPY_HEADER_ERRORS as exc:
        raise corrupt_npz(path, f"member {key!r} has a bad .npy header ({exc})") from None
    if dtype.hasobject:
        raise corrupt_npz(path, f"member {key!r} holds Python objects (refused: no pickle)")
    if dtype.subdtype is not None:  # an array's dtype never is: NumPy folds it into the shape
        raise corrupt_npz(path, f"member {key!r} declares the subarray dtype {dtype}")
    if dtype.itemsize == 0:
        raise corrupt_npz(path, f"member {key!r} declares items of no size ({dtype})")
    return dtype, tuple(shape), fortran


def _nbytes(shape: tuple[int, ...], dtype: np.dtype, path: str, key: str) -> int:
    if any(d < 0 for d in shape):
        raise corrupt_npz(path, f"member {key!r} has a negative dimension in shape {shape}")
    return math.prod(shape) * int(dtype.itemsize)


def _check_zip_entry(info: zipfile.ZipInfo, path: str, key: str) -> None:
    """Refuse what would make zipfile or numpy fail oddly, or inflate without bound."""
    if info.flag_bits & 0x1:
        raise corrupt_npz(path, f"member {key!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise corrupt_npz(
            path,
            f"member {key!r} uses zip compression method {info.compress_type}; "
            "only stored and deflate members are read",
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        # zipfile reads compress_size bytes, the mapping file_size: they must be the same
        raise corrupt_npz(
            path,
            f"member {key!r} is stored, {info.file_size} bytes, but declares "
            f"{info.compress_size} stored bytes",
        )
    if (
        info.compress_type == zipfile.ZIP_DEFLATED
        and info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024
    ):
        raise corrupt_npz(
            path,
            f"member {key!r} declares {info.file_size} bytes inflated from "
            f"{info.compress_size}, more than deflate can produce (a zip bomb?)",
        )


def _locate_stored(f: BinaryIO, member: NpyMember, path: str, size: int | None) -> None:
    """Find a stored member's data and check it lies inside the file, as declared."""
    info, key = member.info, member.key
    if info.header_offset < 0 or (size is not None and info.header_offset >= size):
        raise corrupt_npz(path, f"member {key!r} has a local header offset outside the file")
    f.seek(info.header_offset)
    local = f.read(_LOCAL_HEADER.size)
    if len(local) < _LOCAL_HEADER.size or local[:4] != b"PK\x03\x04":
        raise corrupt_npz(path, f"member {key!r} has a bad local header")
    name_len, extra_len = _LOCAL_HEADER.unpack(local)[-2:]
    start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    f.seek(start)
    member.dtype, member.shape, member.fortran = read_npy_header(f, path, key)
    member.data_offset = f.tell()
    nbytes = _nbytes(member.shape, member.dtype, path, key)
    if member.data_offset - start + nbytes != info.file_size or (
        size is not None and member.data_offset + nbytes > size
    ):
        raise corrupt_npz(
            path, f"member {key!r} is cut short or its size does not match its header"
        )


def _check_deflated(zf: zipfile.ZipFile, member: NpyMember, path: str) -> None:
    """Read a deflated member's ``.npy`` header; its array must fill the declared size."""
    info, key = member.info, member.key
    with zf.open(info) as fp:
        member.dtype, member.shape, member.fortran = read_npy_header(fp, path, key)
        header_len = fp.tell()
    if header_len + _nbytes(member.shape, member.dtype, path, key) != info.file_size:
        raise corrupt_npz(
            path, f"member {key!r}: its .npy header does not match its size in the zip"
        )


def npz_members(f: BinaryIO, path: str) -> dict[str, NpyMember]:
    """Parse the zip directory and every member's ``.npy`` header, refusing bad ones."""
    try:
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()
    except ZIP_ERRORS as exc:
        raise corrupt_npz(path, f"not a readable zip archive ({exc})") from None
    size = os.fstat(f.fileno()).st_size if hasattr(f, "fileno") else None
    members = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise corrupt_npz(path, f"unexpected member {info.filename!r}")
        key = info.filename[:-4]
        if key in members:
            raise corrupt_npz(path, f"member {key!r} appears twice")
        member = NpyMember(key, info)
        members[key] = member
        _check_zip_entry(info, path, key)
        try:
            if member.stored:
                _locate_stored(f, member, path, size)
            else:
                _check_deflated(zf, member, path)
        except IdxError:
            raise
        except ZIP_ERRORS as exc:
            raise corrupt_npz(path, f"member {key!r} cannot be read ({exc})") from None
    return members


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_member(zf: zipfile.ZipFile, member: NpyMember, path: str) -> np.ndarray:
    """The array of a member ``npz_members`` checked, inflated (or read) into a new array.

    The array is allocated from the checked header and filled from the
    member's stream, which must hold exactly the declared bytes (zipfile
    checks the CRC-32 at its end); its header is parsed again, under the lock.
    """
    key = member.key
    try:
        with zf.open(member.info) as fp:
            dtype, shape, fortran = read_npy_header(fp, path, key)
            if (dtype, shape, fortran) != (member.dtype, member.shape, member.fortran):
                raise corrupt_npz(path, f"member {key!r} changed while it was read")
            arr = np.empty(shape, dtype, order="F" if fortran else "C")
            flat: Any = arr.reshape(-1, order="A")  # a view in memory order, no copy
            view = memoryview(flat).cast("B") if arr.size else None
            filled = 0
            while view is not None and filled < len(view):
                got = fp.readinto(view[filled : filled + CHUNK])  # type: ignore[attr-defined]
                if not got:
                    why = f"member {key!r} ends before its array does"
                    raise corrupt_npz(path, f"could not read its arrays ({why})")
                filled += got
            if fp.read(1):
                why = f"member {key!r} holds more than its array"
                raise corrupt_npz(path, f"could not read its arrays ({why})")
    except IdxError:
        raise
    except ZIP_ERRORS as exc:
        raise corrupt_npz(path, f"could not read its arrays ({exc})") from None
    return arr


def load_npz(
    path: str | os.PathLike[str],
    keys: tuple[str, ...],
    *,
    check: Callable[[str, NpyMember], None] | None = None,
    expect: os.stat_result | None = None,
) -> dict[str, np.ndarray]:
    """Load the arrays named ``keys`` from an npz, which must hold exactly those.

    Stored members are memory-mapped copy-on-write (writable, private to this
    process); compressed ones are inflated by :func:`read_member`.
    ``check(key, member)`` sees each member's declared dtype and shape before
    any array is read, and raises to refuse it: so a header that lies about
    the shape costs nothing (a file's size bounds its arrays only as far as
    deflate's 1032:1 does). Only a regular file is opened (``open_regular``);
    with ``expect``, only the very file that stat describes (the one a stamp
    vouched for), else IdxError.
    """
    name = os.fspath(path)
    with open_regular(path) as f:
        if expect is not None and _identity(os.fstat(f.fileno())) != _identity(expect):
            raise corrupt_npz(name, "replaced while it was opened")
        members = npz_members(f, name)
        if set(members) != set(keys):
            raise corrupt_npz(name, f"keys are {sorted(members)}, expected {sorted(keys)}")
        if check is not None:
            for key in keys:
                check(key, members[key])
        offsets = {k: m.data_offset for k, m in members.items() if m.data_offset is not None}
        if len(offsets) == len(members):
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            out = {}
            for key in keys:
                m = members[key]
                count = math.prod(m.shape)
                arr = np.frombuffer(mapped, m.dtype, count, offsets[key])
                out[key] = arr.reshape(m.shape, order="F" if m.fortran else "C")
            return out
        try:
            zf = zipfile.ZipFile(f)
        except ZIP_ERRORS as exc:
            raise corrupt_npz(name, f"could not read its arrays ({exc})") from None
        with zf:
            return {key: read_member(zf, members[key], name) for key in keys}
