"""Payload bytes -> native values: the byte-order pass for multi-byte types.

IDX stores numbers big-endian. ``read_idx`` lands the payload bytes in the
output array's own memory and then swaps them in place (little-endian hosts),
either with NumPy or, when chosen, with the Numba kernels in ``_numba``.
Single-byte types need no pass at all.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from typing import Literal, TypeAlias, get_args

import numpy as np

__all__ = [
    "Backend",
    "BACKENDS",
    "choose_backend",
    "resolve_backend",
    "swap_inplace",
    "numba_available",
    "numba_warm",
]

Backend: TypeAlias = Literal["auto", "numpy", "numba"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
NEEDS_SWAP = sys.byteorder == "little"
#: "auto" uses Numba for payloads at least this large (where it measured faster:
#: 64 MB of int32 swapped in ~1.7 ms by the parallel kernel vs ~4.2 ms by NumPy
#: on 2 cores), but only once the kernels are loaded in this process
#: (:func:`numba_warm`): importing numba and loading the cached kernels costs
#: ~230 ms, far more than the ~2.5 ms it saves on one such payload.
NUMBA_AUTO_MIN_BYTES = 64 << 20


@cache
def numba_available() -> bool:
    return importlib.util.find_spec("numba") is not None


def numba_warm() -> bool:
    """True once the Numba kernels are loaded in this process (its JIT cost is paid)."""
    return f"{__package__}._numba" in sys.modules


def choose_backend(backend: Backend, worth_it: bool) -> Literal["numpy", "numba"]:
    """``"numpy"`` or ``"numba"`` for ``backend``; ``worth_it``: the job is big enough.

    "numba" is honoured (or a clear ImportError); "auto" picks Numba only for
    a job worth it and once its kernels are loaded (:func:`numba_warm`).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "numba":
        if not numba_available():
            raise ImportError("backend='numba' needs numba: pip install 'idxmnist[numba]'")
        return "numba"
    if backend == "auto" and worth_it and numba_warm():
        return "numba"
    return "numpy"


def resolve_backend(backend: Backend, nbytes: int, itemsize: int) -> Literal["numpy", "numba"]:
    """The backend that will decode a payload of ``nbytes`` in ``itemsize`` items."""
    return choose_backend(backend, itemsize > 1 and nbytes >= NUMBA_AUTO_MIN_BYTES)


def swap_inplace(flat: np.ndarray, backend: Backend) -> None:
    """Turn the big-endian bytes held in native-dtype ``flat`` into native values."""
    if not NEEDS_SWAP or flat.dtype.itemsize == 1 or flat.size == 0:
        return
    if backend == "numba":
        from . import _numba

        _numba.swap_inplace(flat)
    else:
        flat.byteswap(inplace=True)
