"""Write arrays as IDX files (raw, gzip, xz or bz2)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
from numpy.typing import ArrayLike

from ..atomic import atomic_write
from .format import encode_header, file_dtype_of
from .reader import Source

__all__ = ["write_idx"]

_SUFFIXES = {".gz": "gzip", ".xz": "xz", ".bz2": "bz2"}
_ITEMS_PER_WRITE = 1 << 20


@contextmanager
def _compressed(f: BinaryIO, compress: str | None) -> Iterator[BinaryIO]:
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


def _write(f: BinaryIO, array: np.ndarray, compress: str | None) -> None:
    big = file_dtype_of(array.dtype)
    flat = array.reshape(-1)
    with _compressed(f, compress) as out:
        out.write(encode_header(array.dtype, array.shape))
        for start in range(0, flat.size, _ITEMS_PER_WRITE):
            out.write(flat[start : start + _ITEMS_PER_WRITE].astype(big, copy=False).tobytes())


def write_idx(dest: Source, array: ArrayLike, *, compress: str | None = None) -> None:
    """Write ``array`` to ``dest`` (a path or binary file object) in IDX format.

    Supported dtypes: uint8, int8, int16, int32, float32, float64; 1 or more
    dimensions. ``compress`` is None, ``"gzip"``, ``"xz"`` or ``"bz2"``; for a
    path ending in ``.gz``, ``.xz`` or ``.bz2`` it defaults to that format.
    A path is written atomically. ``read_idx`` returns the array bit for bit.

    >>> write_idx("labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))  # doctest: +SKIP
    """
    array = np.asarray(array)
    encode_header(array.dtype, array.shape)  # validate before touching dest
    array = np.ascontiguousarray(array)
    if compress not in (None, "gzip", "xz", "bz2"):
        raise ValueError(f"compress must be None, 'gzip', 'xz' or 'bz2', not {compress!r}")
    if isinstance(dest, (str, os.PathLike)):
        if compress is None:
            compress = _SUFFIXES.get(os.path.splitext(os.fspath(dest))[1])
        with atomic_write(dest) as f:
            _write(f, array, compress)
    else:
        _write(dest, array, compress)
