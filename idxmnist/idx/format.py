"""The IDX file format, as published with the MNIST database.

An IDX file is a header followed by the data, with nothing after it::

    offset  size     content
    0       2        zero bytes (0x00 0x00)
    2       1        type code, see below
    3       1        number of dimensions, n (1 or more)
    4       4 * n    each dimension, a big-endian unsigned 32-bit integer
    4+4n    ...      the data: prod(dims) items, big-endian, C (row-major) order

Type codes::

    0x08  unsigned byte   uint8
    0x09  signed byte     int8
    0x0B  short           int16   (2 bytes)
    0x0C  int             int32   (4 bytes)
    0x0D  float           float32 (4 bytes)
    0x0E  double          float64 (8 bytes)

The MNIST images are ``0x00000803`` with shape ``(N, 28, 28)``, the labels
``0x00000801`` with shape ``(N,)``. Files are found raw or compressed (gzip,
xz, bz2); compression is a property of the container, not of this format.

A dimension of zero is valid and gives an empty array. A payload shorter or
longer than the header declares is an error, as is any type code or dimension
count not listed above.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import IdxError, TruncatedError
from .compression import looks_like_html

__all__ = [
    "IdxHeader",
    "TYPE_CODES",
    "MAX_NDIM",
    "parse_magic",
    "parse_dims",
    "parse_header",
    "read_header",
    "HeaderSource",
    "encode_header",
    "unstorable",
    "file_dtype_of",
]

#: type code -> big-endian dtype as stored in the file
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in TYPE_CODES.items()}

#: More dimensions than this is treated as a corrupt header (NumPy 1.x's limit).
MAX_NDIM = 32
#: A payload declared larger than this (256 TiB) is corrupt whatever the source.
MAX_PAYLOAD = 1 << 48


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX header declares.

    ``dtype`` is the native-endian dtype of the array ``read_idx`` returns,
    ``file_dtype`` the big-endian one stored on disk.

    >>> h = IdxHeader(0x08, (60000, 28, 28), np.dtype(">u1"))
    >>> h.dtype.name, h.header_size, h.total_size
    ('uint8', 16, 47040016)
    """

    type_code: int
    shape: tuple[int, ...]
    file_dtype: np.dtype

    @property
    def dtype(self) -> np.dtype:
        return self.file_dtype.newbyteorder("=")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def header_size(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def payload_size(self) -> int:
        return self.count * self.file_dtype.itemsize

    @property
    def total_size(self) -> int:
        return self.header_size + self.payload_size


def parse_magic(magic: bytes, name: str) -> tuple[int, int]:
    """Check the first four bytes; return ``(type_code, ndim)``."""
    if len(magic) < 4:
        raise IdxError(
            f"{name}: file is {len(magic)} bytes long, too short for an IDX header "
            "(an empty or cut-off file); delete it and fetch it again"
        )
    if magic[0] != 0 or magic[1] != 0:
        hint = ""
        if looks_like_html(magic, cut=True):
            hint = " (it looks like an HTML page, not data: a mirror error page?)"
        raise IdxError(
            f"{name}: not an IDX file: first bytes are {magic[:4].hex(' ')}, "
            f"expected 00 00 <type> <ndim>{hint}"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in TYPE_CODES)
        raise IdxError(f"{name}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0 or ndim > MAX_NDIM:
        raise IdxError(
            f"{name}: IDX header declares {ndim} dimensions; 1 to {MAX_NDIM} are supported"
        )
    return code, ndim


def parse_header(buf: bytes, name: str) -> IdxHeader:
    """The :class:`IdxHeader` at the start of ``buf`` (which may hold more than the header).

    >>> parse_header(bytes([0, 0, 8, 1, 0, 0, 0, 10]), "labels").shape
    (10,)
    """
    code, ndim = parse_magic(buf[:4], name)
    return parse_dims(code, ndim, buf[4 : 4 + 4 * ndim], name)


def parse_dims(code: int, ndim: int, dims: bytes, name: str) -> IdxHeader:
    """The :class:`IdxHeader` of a checked magic (:func:`parse_magic`) and its dimension bytes."""
    if len(dims) < 4 * ndim:
        raise TruncatedError(
            f"{name}: file ends inside the IDX header ({4 + len(dims)} of "
            f"{4 + 4 * ndim} header bytes); the file is truncated, fetch it again"
        )
    shape = struct.unpack(f">{ndim}I", dims[: 4 * ndim])
    header = IdxHeader(code, shape, TYPE_CODES[code])
    if header.payload_size > MAX_PAYLOAD:
        raise IdxError(
            f"{name}: IDX header declares shape {shape} "
            f"({header.payload_size} bytes), which is not a plausible file"
        )
    return header


class HeaderSource(Protocol):
    """What :func:`read_header` reads from: a decompressed stream, named for errors."""

    name: str

    def read_exact(self, n: int, /) -> bytes: ...


def read_header(stream: HeaderSource) -> IdxHeader:
    """Read and check the header at the start of ``stream``, leaving it at the payload.

    The one place an IDX header is read from a stream: ``read_idx``,
    ``read_idx_header`` and the content digest all come through here.
    """
    magic = stream.read_exact(4)
    code, ndim = parse_magic(magic, stream.name)
    return parse_dims(code, ndim, stream.read_exact(4 * ndim), stream.name)


def unstorable(dtype: np.dtype, shape: tuple[int, ...]) -> str:
    """Why IDX cannot hold an array of ``dtype`` and ``shape``; ``""`` when it can.

    The one statement of what IDX can store: :func:`encode_header` raises it,
    and readers of other formats (an npz turned back into IDX) check it first.
    """
    dtype = np.dtype(dtype)
    if (dtype.kind, dtype.itemsize) not in _CODE_OF_KIND:
        return (
            f"IDX cannot store dtype {dtype}; use one of uint8, int8, int16, "
            "int32, float32, float64"
        )
    if not 1 <= len(shape) <= MAX_NDIM:
        return f"IDX needs 1 to {MAX_NDIM} dimensions, got shape {shape}"
    if any(d >= 1 << 32 for d in shape):
        return f"IDX dimensions are 32-bit; shape {shape} does not fit"
    return ""


def encode_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The header bytes for an array of ``dtype`` and ``shape``.

    Raises TypeError for a dtype IDX has no type code for, ValueError for a shape
    it cannot hold (:func:`unstorable`).
    """
    dtype = np.dtype(dtype)
    why = unstorable(dtype, shape)
    if why:
        bad_dtype = (dtype.kind, dtype.itemsize) not in _CODE_OF_KIND
        raise (TypeError if bad_dtype else ValueError)(why)
    code = _CODE_OF_KIND[(dtype.kind, dtype.itemsize)]
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, code, len(shape), *shape)


def file_dtype_of(dtype: np.dtype) -> np.dtype:
    """The big-endian on-disk dtype for a native ``dtype``."""
    dtype = np.dtype(dtype)
    return TYPE_CODES[_CODE_OF_KIND[(dtype.kind, dtype.itemsize)]]
