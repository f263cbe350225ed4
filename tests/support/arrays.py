"""Small MNIST-shaped arrays by key, written under the upstream names, and compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import idxmnist

KEYS = ("x_train", "y_train", "x_test", "y_test")
NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def arrays(n_train=6, n_test=3, side=28, test_side=None, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = test_side or side
    return {
        "x_train": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, t, t), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_set(directory: Path, data: dict[str, np.ndarray], roles=KEYS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for role in roles:
        idxmnist.write_idx(directory / NAMES[role], data[role])


def same(got, want: dict[str, np.ndarray]) -> bool:
    (x, y), (xt, yt) = got
    pairs = zip((x, y, xt, yt), (want[k] for k in KEYS), strict=True)
    return all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)
