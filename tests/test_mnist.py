"""MNIST's ``load_data``, ``load_idx_dataset`` and ``build_npz``, on the real files and small ones.

The real files from ``$IDXMNIST_TEST_DATA`` are checked against keras's
published facts (shapes, the first labels, the per-class counts, a known
pixel count) in every layout users keep them in; the cache is built once and
then hit, copy-on-write. Small synthetic files check where ``load_data``
reads and writes, and what it says when the files are missing.
"""

from __future__ import annotations

import gzip
import os
import shutil

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry

from .support.arrays import arrays, same, write_set
from .support.helpers import MNIST_FILES, plain_read, sha256
from .support.synth import make_dataset
from .support.synthetic import pinned_spec

# -- the real MNIST files ----------------------------------------------------------------------


def test_files_are_the_published_ones(mnist_dir, mnist_sha256):
    for name in MNIST_FILES:
        assert sha256(mnist_dir / name) == mnist_sha256[name]


# Per-class counts of the published MNIST labels.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


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


# -- small synthetic files: where load_data reads and writes, what it says ---------------------


def test_load_data_from_env_source_into_keras_home(tmp_path, monkeypatch, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    monkeypatch.delenv("IDXMNIST_HOME", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "src"))
    (x, y), (xt, yt) = idxmnist.load_data()
    assert np.array_equal(x, arrays["train-images-idx3-ubyte"])
    assert np.array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    # idxmnist's own cache, beside the name keras checks (never written by idxmnist)
    assert (tmp_path / "keras" / "datasets" / "mnist.idxmnist.npz").is_file()
    assert not (tmp_path / "keras" / "datasets" / "mnist.npz").exists()


def test_path_is_relative_to_cache_dir_or_absolute(tmp_path, registered):
    make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    idxmnist.load_data("sub/my.npz", source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert (tmp_path / "c" / "sub" / "my.idxmnist.npz").is_file()
    absolute = tmp_path / "elsewhere.npz"
    idxmnist.load_data(absolute, source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert (tmp_path / "elsewhere.idxmnist.npz").is_file() and not absolute.exists()


def test_missing_source_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_SOURCE", raising=False)
    # no local files and no reachable mirror (conftest points the mirrors nowhere)
    with pytest.raises(idxmnist.DownloadError, match="IDXMNIST_SOURCE=DIR"):
        idxmnist.load_data(cache_dir=tmp_path)


def test_missing_file_in_source_is_named(tmp_path):
    make_dataset(tmp_path / "src")
    os.remove(tmp_path / "src" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="t10k-labels"):
        idxmnist.load_idx_dataset(tmp_path / "src")


def test_load_idx_dataset_defaults_and_options(tmp_path):
    """load_idx_dataset's defaults: backend "auto", labels 0..9; it hands its backend and
    num_classes down to the assembler."""
    want = arrays(seed=1)
    want["y_train"][:] = 4
    want["y_test"][:] = 9
    write_set(tmp_path, want)
    assert same(idxmnist.load_idx_dataset(tmp_path), want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 9, outside 0\.\.4"):
        idxmnist.load_idx_dataset(tmp_path, num_classes=5)
    with pytest.raises(ValueError, match="backend must be one of"):
        idxmnist.load_idx_dataset(tmp_path, backend="fast")
    want["y_test"][0] = 10
    write_set(tmp_path, want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 10, outside 0\.\.9"):
        idxmnist.load_idx_dataset(tmp_path)
    assert same(idxmnist.load_idx_dataset(tmp_path, num_classes=11), want)
