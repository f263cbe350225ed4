"""The real MNIST arrays from their IDX bytes by hand, and as a keras-layout npz."""

from __future__ import annotations

import io

import numpy as np

from .helpers import MNIST_STEMS

KEYS = ("x_train", "y_train", "x_test", "y_test")


def arrays_of(idx: dict[str, bytes]) -> list[np.ndarray]:
    """x_train, y_train, x_test, y_test read straight from the IDX bytes, by hand."""
    x, y, xt, yt = (np.frombuffer(idx[s], np.uint8) for s in MNIST_STEMS)
    return [x[16:].reshape(-1, 28, 28), y[8:], xt[16:].reshape(-1, 28, 28), yt[8:]]


def npz_bytes(idx: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **dict(zip(KEYS, arrays_of(idx), strict=True)))
    return buf.getvalue()
