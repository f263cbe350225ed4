"""Thirty small images as IDX bytes, with their sha256 computed by hand.

The header is packed with ``struct``, the payload comes from NumPy, the hash
from ``hashlib``; never from the code under test.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

RNG7 = np.random.default_rng(7)
IMAGES30 = RNG7.integers(0, 256, (30, 28, 28), dtype=np.uint8)
LABELS30 = RNG7.integers(0, 10, 30, dtype=np.uint8)


def idx_bytes(a: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float64): 0x0E}
    head = struct.pack(">BBBB", 0, 0, codes[a.dtype], a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


RAW30 = idx_bytes(IMAGES30)
SHA30 = hashlib.sha256(RAW30).hexdigest()
