"""``to_float32``: uint8 pixels -> float32 in [0, 1] in one pass.

The usual ``x.astype("float32") / 255`` makes two passes over memory and
allocates twice. :func:`to_float32` allocates the result once; with the Numba
backend it reads each byte, converts and divides it in one parallel pass.

The result is defined as ``x.astype(np.float32) / np.float32(divisor)`` and is
bit-for-bit equal to it on every backend (an IEEE float32 division of each
converted value; no reciprocal multiply, no fastmath), so it can replace that
expression without changing a single value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from . import decode
from .decode import Backend

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["to_float32"]

#: "auto" uses the Numba kernel from this many elements up, once it is loaded.
NUMBA_AUTO_MIN_ITEMS = 1 << 20


def _resolve(backend: Backend, x: np.ndarray) -> Literal["numpy", "numba"]:
    fused = x.dtype == np.uint8  # the kernel is for uint8; other types go through NumPy
    chosen = decode.choose_backend(backend, fused and x.size >= NUMBA_AUTO_MIN_ITEMS)
    return chosen if fused else "numpy"


def to_float32(
    x: ArrayLike, divisor: float = 255, *, backend: Backend = "auto"
) -> NDArray[np.float32]:
    """Returns ``x.astype(np.float32) / np.float32(divisor)``, computed faster.

    The result is bit for bit equal to that expression, on every backend.

    Args:
        x: any numeric array (the fused one-pass kernel is for uint8).
        divisor: what each value is divided by (255: pixels into [0, 1]).
        backend: ``"numpy"`` (one allocation, in-place division), ``"numba"``
            (a fused parallel kernel, needs ``idxmnist[numba]``) or ``"auto"``
            (Numba for large uint8 arrays once its kernels are loaded in this
            process, since loading them costs more than one call saves; NumPy
            otherwise).

    Returns:
        A new C-contiguous float32 array of ``x``'s shape.

    Raises:
        TypeError: ``x`` is not numeric (strings, objects).
        ValueError: ``backend`` is not one of the three names.
        ImportError: ``backend="numba"`` without numba installed.

    Example:

    >>> (x_train, _), _ = idxmnist.load_data()      # doctest: +SKIP
    >>> x = idxmnist.to_float32(x_train)            # == x_train.astype("float32") / 255
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"to_float32 needs a numeric array, not dtype {x.dtype}")
    d = np.float32(divisor)
    if _resolve(backend, x) == "numba":
        from . import _numba

        src = np.ascontiguousarray(x).reshape(-1)
        out = np.empty(x.shape, dtype=np.float32)
        if src.size:
            _numba.u8_to_f32(src, out.reshape(-1), d)
        return out
    out = x.astype(np.float32, order="C")  # always a new array: safe to divide in place
    np.divide(out, d, out=out)
    return out
