"""Write arrays as IDX files (raw, gzip, xz or bz2)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol, TypeAlias

import numpy as np

from ..files import atomic_write
from .compression import SUFFIX
from .format import encode_header, file_dtype_of
from .reader import Source

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["write_idx"]

Compression: TypeAlias = Literal["gzip", "xz", "bz2"]
#: a destination's suffix -> the compression it implies
_BY_SUFFIX: dict[str, Compression] = {
    suffix: kind for kind, suffix in SUFFIX.items() if kind != "raw"
}
_ITEMS_PER_WRITE = 1 << 20


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


@contextmanager
def _compressed(f: BinaryIO, compress: Compression | None) -> Iterator[_Sink]:
    if compress is None:
        yield f
    elif compress == "gzip":
        # mtime=0 and no file name: the same array always gives the same bytes
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as z:
            yield z
    elif compress == "xz":
        with lzma.LZMAFile(f, "wb", format=lzma.FORMAT_XZ) as z:
            yield z
    elif compress == "bz2":
        with bz2.BZ2File(f, "wb") as z:
            yield z
    else:
        raise AssertionError(compress)


def _write(f: BinaryIO, array: np.ndarray, compress: Compression | None) -> None:
    big = file_dtype_of(array.dtype)
    flat = array.reshape(-1)
    with _compressed(f, compress) as out:
        out.write(encode_header(array.dtype, array.shape))
        for start in range(0, flat.size, _ITEMS_PER_WRITE):
            out.write(flat[start : start + _ITEMS_PER_WRITE].astype(big, copy=False).tobytes())


def write_idx(dest: Source, array: ArrayLike, *, compress: Compression | None = None) -> None:
    """Writes an array as an IDX file, raw or compressed.

    ``read_idx`` returns the same array bit for bit. A path is written
    atomically: a temporary file beside it, renamed once complete, so a
    reader never sees half a file and a failure leaves ``dest`` as it was.

    Args:
        dest: a path, or a binary file object to write into.
        array: uint8, int8, int16, int32, float32 or float64, with 1 to 32
            dimensions of at most 2**32 - 1 each.
        compress: ``None``, ``"gzip"``, ``"xz"`` or ``"bz2"``. For a path
            ending in ``.gz``, ``.xz`` or ``.bz2`` it defaults to that
            format; gzip output is reproducible (no time stamp, no name).

    Returns:
        None; the file is complete when the call returns.

    Raises:
        TypeError: the dtype has no IDX type code (int64, bool, ...).
        ValueError: the shape does not fit IDX (0 or more than 32
            dimensions, a dimension of 2**32 or more), or ``compress`` is
            not one of the names above.
        OSError: ``dest`` cannot be written (a full disk, a file-size
            limit); the temporary file is removed.

    Example:

    >>> write_idx("labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))  # doctest: +SKIP
    """
    array = np.asarray(array)
    encode_header(array.dtype, array.shape)  # validate before touching dest
    array = np.ascontiguousarray(array)
    if compress not in (None, "gzip", "xz", "bz2"):
        raise ValueError(f"compress must be None, 'gzip', 'xz' or 'bz2', not {compress!r}")
    if isinstance(dest, (str, os.PathLike)):
        if compress is None:
            compress = _BY_SUFFIX.get(os.path.splitext(os.fspath(dest))[1])
        with atomic_write(dest) as f:
            _write(f, array, compress)
    else:
        _write(dest, array, compress)
