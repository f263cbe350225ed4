"""Harness: the IDX reader (raw, gzip, xz, bz2), every way a source reaches it.

The same bytes are read from a seekable ``BytesIO`` (sized: the header is
checked against what the container can hold; gzip goes through libdeflate's
whole-buffer path), an unseekable stream (no size: chunk by chunk), a file
on disk, and with ``transpose=True``; ``read_idx_header`` reads the header.
Beyond the contract, every way must give the same verdict: the same array,
or an ``IdxError`` for all of them.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from idxmnist import read_idx, read_idx_header

from .contract import ours, scratch

#: files declaring more than this are read once: the other ways share everything past
#: the source with the first, and inflating 400 MB again only costs time
SMALL = 16 << 20


class Unseekable(io.RawIOBase):
    """The bytes as a pipe gives them: no ``seek``, no ``tell``, no size."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._f = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._f.readinto(buffer)


def _same(a: np.ndarray | BaseException, b: np.ndarray | BaseException, how: str) -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{how}: {b!r}, but a BytesIO reads as an array"
        assert a.dtype == b.dtype and a.shape == b.shape, (how, a.dtype, a.shape, b.dtype, b.shape)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{how}: other values"
    else:
        assert isinstance(b, BaseException), f"{how}: an array, but a BytesIO raised {a!r}"


def TestOneInput(data: bytes) -> None:
    first = ours(read_idx, io.BytesIO(data))
    header = ours(read_idx_header, io.BytesIO(data))
    if isinstance(first, np.ndarray):
        assert not isinstance(header, BaseException), f"read_idx reads it, the header: {header!r}"
        assert (header.shape, header.dtype) == (first.shape, first.dtype)
        assert first.flags.c_contiguous and first.flags.writeable and first.flags.aligned
        assert first.dtype.isnative
    if not isinstance(header, BaseException) and header.payload_size > SMALL:
        return
    _same(first, ours(read_idx, Unseekable(data)), "an unseekable stream")
    path = scratch() / "input.idx"
    path.write_bytes(data)
    try:
        _same(first, ours(read_idx, path), "a file")
    finally:
        path.unlink()
    if isinstance(first, np.ndarray) and first.ndim == 3:
        upright = ours(read_idx, io.BytesIO(data), transpose=True)
        _same(np.ascontiguousarray(first.transpose(0, 2, 1)), upright, "transpose=True")
    else:  # refused (not images, or bad bytes): transposed too
        turned = ours(read_idx, io.BytesIO(data), transpose=True)
        assert isinstance(turned, BaseException), "transpose=True read what it cannot"
