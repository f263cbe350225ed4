"""The real upstream MNIST files, checked against facts that do not come from idxmnist."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

import idxmnist

from .conftest import MNIST_FILES, sha256

# Per-class counts of the published MNIST labels.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def plain_read(path: Path, header: int) -> np.ndarray:
    """The obvious reading: gzip + frombuffer, as keras and torchvision do it."""
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=header)


def test_files_are_the_published_ones(mnist_dir, mnist_sha256):
    for name in MNIST_FILES:
        assert sha256(mnist_dir / name) == mnist_sha256[name]


@pytest.mark.parametrize("name", MNIST_FILES)
def test_read_idx_equals_plain_gzip_reading(mnist_dir, read_path, name):
    arr = idxmnist.read_idx(mnist_dir / name)
    ref = plain_read(mnist_dir / name, 16 if "images" in name else 8)
    assert arr.dtype == np.uint8 and arr.flags.writeable and arr.flags.c_contiguous
    assert np.array_equal(arr.reshape(-1), ref)


def test_headers(mnist_dir):
    h = idxmnist.read_idx_header(mnist_dir / "train-images-idx3-ubyte.gz")
    assert (h.dtype, h.shape, h.type_code) == (np.uint8, (60000, 28, 28), 0x08)
    h = idxmnist.read_idx_header(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert (h.dtype, h.shape) == (np.uint8, (10000,))


def test_load_idx_dataset_matches_keras_facts(mnist_dir, read_path):
    (x_train, y_train), (x_test, y_test) = idxmnist.load_idx_dataset(mnist_dir)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert np.array_equal(x_test.reshape(-1), plain_read(mnist_dir / MNIST_FILES[2], 16))
    # a known pixel fact: the first training image (a 5) is 166 ink pixels on black
    assert x_train[0].max() == 255 and int((x_train[0] > 0).sum()) == 166


@pytest.mark.parametrize("layout", ["raw-dotted", "xz-upstream", "torchvision"])
def test_other_names_and_containers(tmp_path, mnist_dir, layout):
    import lzma

    root = tmp_path / "data"
    target = root / "MNIST" / "raw" if layout == "torchvision" else root
    target.mkdir(parents=True)
    for name in MNIST_FILES:
        raw = gzip.open(mnist_dir / name).read()
        stem = name[: -len(".gz")]
        if layout == "raw-dotted":
            (target / stem.replace("-idx", ".idx")).write_bytes(raw)
        elif layout == "xz-upstream":
            (target / f"{stem}.xz").write_bytes(lzma.compress(raw, preset=0))  # seconds, not 30
        else:  # torchvision keeps both the .gz and the extracted file
            shutil.copy(mnist_dir / name, target / name)
            (target / stem).write_bytes(raw)
    (x_train, y_train), (x_test, y_test) = idxmnist.load_idx_dataset(root)
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)
    assert np.bincount(y_test).tolist() == TEST_COUNTS


def test_load_data_builds_then_hits_the_cache(tmp_path, mnist_dir):
    cache = tmp_path / "cache"
    (x_train, y_train), (x_test, y_test) = idxmnist.load_data(source=mnist_dir, cache_dir=cache)
    npz = cache / "mnist.idxmnist.npz"  # idxmnist's own cache: keras's mnist.npz is never written
    assert npz.is_file() and not list(cache.glob(".*part")) and not (cache / "mnist.npz").exists()
    with np.load(npz, allow_pickle=False) as z:  # what keras users can do with it
        assert sorted(z.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert np.array_equal(z["x_train"], x_train) and np.array_equal(z["y_test"], y_test)
    before = npz.read_bytes()
    # second call: served from the cache, no source needed
    (a, b), (c, d) = idxmnist.load_data(cache_dir=cache)
    assert type(a) is np.ndarray and a.flags.writeable and a.flags.aligned
    assert np.array_equal(a, x_train) and np.array_equal(d, y_test)
    a[0, 0, 0] = 123  # copy-on-write: the cache file is not touched
    assert npz.read_bytes() == before


def test_build_npz_both_layouts(tmp_path, mnist_dir):
    small = idxmnist.build_npz(mnist_dir, tmp_path / "small.npz", compress=True)
    big = idxmnist.build_npz(mnist_dir, tmp_path / "big.npz")
    assert small.stat().st_size < 20_000_000 < big.stat().st_size
    with np.load(small, allow_pickle=False) as s, np.load(big, allow_pickle=False) as b:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            assert np.array_equal(s[key], b[key])
    # the compressed one is also a valid cache for load_data (keras's own layout)
    (x, y), _ = idxmnist.load_data(path=small)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and x.flags.writeable
