"""Benchmark fixtures: the same real-data rule as the tests.

``mnist_dir`` is skipped locally when $IDXMNIST_TEST_DATA is not set and fails
the run under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    value = os.environ.get("IDXMNIST_TEST_DATA")
    path = Path(value) if value else None
    if path is None or not all((path / n).is_file() for n in MNIST_FILES):
        msg = (
            "the upstream MNIST files are not available: set IDXMNIST_TEST_DATA to "
            "a directory holding " + ", ".join(MNIST_FILES)
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def reference(mnist_dir):
    """The four arrays as keras-style reading gives them."""
    from idxmnist.bench import keras_style

    return keras_style(mnist_dir)
