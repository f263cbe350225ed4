"""Numba kernels for the decode pass. Imported only when the numba backend is used.

Compiled with ``cache=True`` so the JIT cost is paid once per machine, not per
process; the compiled code is kept under the cache directory
(``config.numba_cache_dir``), unless ``NUMBA_CACHE_DIR`` says otherwise. The
``_swap*`` kernels swap byte order in place, in parallel over
items; ``_u8_to_f32`` is the fused uint8 -> float32 scaling behind
:func:`idxmnist.to_float32`.
"""

from __future__ import annotations

import os

import numba
import numpy as np
from numba.core import config as numba_config

from ..config import numba_cache_dir

# numba picks each kernel's cache folder when it is decorated: point it at ours for
# these kernels only, and give the user's own setting (and other code's) back after
_USERS_CACHE_DIR = numba_config.CACHE_DIR  # type: ignore[attr-defined]
if not _USERS_CACHE_DIR:
    numba_config.CACHE_DIR = os.fspath(numba_cache_dir())  # type: ignore[attr-defined]


@numba.njit(parallel=True, cache=True, nogil=True)
def _swap16(a: np.ndarray) -> None:
    for i in numba.prange(a.size):
        x = a[i]
        a[i] = ((x >> np.uint16(8)) | (x << np.uint16(8))) & np.uint16(0xFFFF)


@numba.njit(parallel=True, cache=True, nogil=True)
def _swap32(a: np.ndarray) -> None:
    for i in numba.prange(a.size):
        x = a[i]
        a[i] = (
            ((x >> np.uint32(24)) & np.uint32(0xFF))
            | ((x >> np.uint32(8)) & np.uint32(0xFF00))
            | ((x << np.uint32(8)) & np.uint32(0xFF0000))
            | ((x << np.uint32(24)) & np.uint32(0xFF000000))
        )


@numba.njit(parallel=True, cache=True, nogil=True)
def _swap64(a: np.ndarray) -> None:
    for i in numba.prange(a.size):
        x = a[i]
        lo = np.uint32(x & np.uint64(0xFFFFFFFF))
        hi = np.uint32(x >> np.uint64(32))
        lo = (
            ((lo >> np.uint32(24)) & np.uint32(0xFF))
            | ((lo >> np.uint32(8)) & np.uint32(0xFF00))
            | ((lo << np.uint32(8)) & np.uint32(0xFF0000))
            | ((lo << np.uint32(24)) & np.uint32(0xFF000000))
        )
        hi = (
            ((hi >> np.uint32(24)) & np.uint32(0xFF))
            | ((hi >> np.uint32(8)) & np.uint32(0xFF00))
            | ((hi << np.uint32(8)) & np.uint32(0xFF0000))
            | ((hi << np.uint32(24)) & np.uint32(0xFF000000))
        )
        a[i] = (np.uint64(lo) << np.uint64(32)) | np.uint64(hi)


_KERNELS = {2: (_swap16, np.uint16), 4: (_swap32, np.uint32), 8: (_swap64, np.uint64)}


def swap_inplace(flat: np.ndarray) -> None:
    """Swap the byte order of every item of the 1-D contiguous array ``flat``."""
    kernel, utype = _KERNELS[flat.dtype.itemsize]
    kernel(flat.view(utype))


@numba.njit(parallel=True, cache=True, nogil=True)
def _u8_to_f32(src: np.ndarray, out: np.ndarray, divisor: np.float32) -> None:
    # one pass: read a byte, convert, divide (IEEE float32, no fastmath), store
    for i in numba.prange(src.size):
        out[i] = np.float32(src[i]) / divisor


def u8_to_f32(src: np.ndarray, out: np.ndarray, divisor: np.float32) -> None:
    """``out[:] = src.astype(float32) / divisor`` for 1-D contiguous uint8 ``src``."""
    _u8_to_f32(src, out, np.float32(divisor))


numba_config.CACHE_DIR = _USERS_CACHE_DIR  # type: ignore[attr-defined]
