"""Every built-in entry carries its split sizes, and they are the real files' counts.

A cache hit checks the arrays against them, so a file of 59,999 images is
never MNIST. The counts are checked here against the real files where they
are at hand (their IDX headers, read with ``struct``), and ``load_idx_dataset``
still reads any MNIST-style folder, whatever its size.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np

import idxmnist
from idxmnist.datasets import registry

from ..support.helpers import MNIST_FILES


def first_dimension(data: bytes) -> int:
    return int(struct.unpack(">I", gzip.decompress(data)[4:8])[0])


def test_every_builtin_entry_has_its_split_sizes():
    for spec in registry.DATASETS.values():
        assert all(s.count is not None for s in spec.splits), spec.name
    for name in ("mnist", "fashion_mnist", "kmnist"):
        assert [s.count for s in registry.get(name).splits] == [60000, 10000], name


def test_the_counts_are_the_real_files(mnist_dir, registry_facts):
    mnist = registry.get("mnist")
    counts = {f.name: first_dimension((mnist_dir / f.name).read_bytes()) for f in mnist.files}
    assert [counts[MNIST_FILES[0]], counts[MNIST_FILES[2]]] == [s.count for s in mnist.splits]
    fashion = registry_facts.parent / "fashion-mnist"
    labels = [first_dimension((fashion / n).read_bytes()) for n in MNIST_FILES[1::2]]
    assert labels == [s.count for s in registry.get("fashion_mnist").splits]


def test_a_folder_of_any_size_still_loads_without_the_counts(tmp_path):
    rng = np.random.default_rng(1)
    for name, arr in (
        ("train-images-idx3-ubyte.gz", rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)),
        ("train-labels-idx1-ubyte.gz", rng.integers(0, 10, 7, dtype=np.uint8)),
        ("t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)),
        ("t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 3, dtype=np.uint8)),
    ):
        idxmnist.write_idx(tmp_path / name, arr)
    (x, y), (xt, yt) = idxmnist.load_idx_dataset(tmp_path)
    assert (len(x), len(y), len(xt), len(yt)) == (7, 7, 3, 3)
