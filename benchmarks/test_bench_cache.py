"""Cache hit: ``load_data()`` with its cache (mnist.idxmnist.npz) present, against ``np.load``."""

from __future__ import annotations

import numpy as np
import pytest

from idxmnist import build_npz, load_data
from idxmnist.cli.bench import same_arrays
from idxmnist.datasets.layout import KEYS

GROUP = "cache hit: mnist.npz -> arrays"
GROUP_PASS = "cache hit + one pass (.max() of each array)"


@pytest.fixture(scope="module")
def npz_files(mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("npz")
    stored = build_npz(mnist_dir, root / "stored.npz")
    small = build_npz(mnist_dir, root / "keras.npz", compress=True)
    load_data(cache_dir=root, source=mnist_dir)  # idxmnist's own cache, stamped
    return root, stored, small


def _np_load(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in KEYS}


def _hit(root):
    (x, y), (xt, yt) = load_data(cache_dir=root)
    return {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}


def _pass(arrays):
    return [int(a.max()) for a in arrays.values()]


@pytest.mark.benchmark(group=GROUP)
def test_np_load_compressed(benchmark, npz_files, reference):
    assert same_arrays(benchmark(_np_load, npz_files[2]), reference)


@pytest.mark.benchmark(group=GROUP)
def test_np_load_stored(benchmark, npz_files, reference):
    assert same_arrays(benchmark(_np_load, npz_files[1]), reference)


@pytest.mark.benchmark(group=GROUP)
def test_idxmnist_cache_hit(benchmark, npz_files, reference):
    got = benchmark(_hit, npz_files[0])
    assert same_arrays(got, reference)
    assert all(type(a) is np.ndarray and a.flags.writeable for a in got.values())


@pytest.mark.benchmark(group=GROUP_PASS)
def test_np_load_compressed_pass(benchmark, npz_files, reference):
    want = [int(reference[k].max()) for k in KEYS]
    assert benchmark(lambda: _pass(_np_load(npz_files[2]))) == want


@pytest.mark.benchmark(group=GROUP_PASS)
def test_idxmnist_cache_hit_pass(benchmark, npz_files, reference):
    want = [int(reference[k].max()) for k in KEYS]
    assert benchmark(lambda: _pass(_hit(npz_files[0]))) == want


@pytest.mark.benchmark(group="the cache deleted: rebuilt from the store, offline")
def test_rebuild_from_the_store(benchmark, mnist_dir, tmp_path_factory, reference):
    """idxmnist's cache deleted (by you, or anyone): the next call makes it again from the
    verified files kept in the store, offline. Issue 18 asks for well under a second."""
    root = tmp_path_factory.mktemp("rebuild")
    load_data(cache_dir=root, source=mnist_dir)

    def delete():
        (root / "mnist.idxmnist.npz").unlink()
        return (), {}

    def rebuild():
        (x, y), (xt, yt) = load_data(cache_dir=root, offline=True)
        return {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}

    got = benchmark.pedantic(rebuild, setup=delete, rounds=5)
    assert same_arrays(got, reference)
