"""Fixtures of the import/export and verify tests: the real MNIST arrays as reference."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from ..support.helpers import MNIST_FILES


@pytest.fixture(scope="module")
def reference(mnist_dir):
    """The four arrays, read from the upstream files with gzip and NumPy alone."""
    raw = [gzip.decompress((mnist_dir / n).read_bytes()) for n in MNIST_FILES]
    x, y, xt, yt = (np.frombuffer(b, np.uint8) for b in raw)
    return [x[16:].reshape(-1, 28, 28), y[8:], xt[16:].reshape(-1, 28, 28), yt[8:]]
