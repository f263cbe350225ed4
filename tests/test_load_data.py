"""load_data and the npz cache, on small synthetic datasets."""

from __future__ import annotations

import os

import numpy as np
import pytest

import idxmnist

from .support.synth import make_dataset


def test_cache_dir_precedence(tmp_path, monkeypatch):
    from idxmnist.datasets.cache import cache_dir

    monkeypatch.delenv("IDXMNIST_HOME", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".keras" / "datasets"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "k"))
    assert cache_dir() == tmp_path / "k" / "datasets"
    monkeypatch.setenv("IDXMNIST_HOME", str(tmp_path / "i"))
    assert cache_dir() == tmp_path / "i"
    assert cache_dir(tmp_path / "x") == tmp_path / "x"


def test_load_data_from_env_source_into_keras_home(tmp_path, monkeypatch):
    arrays = make_dataset(tmp_path / "src")
    monkeypatch.delenv("IDXMNIST_HOME", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "src"))
    (x, y), (xt, yt) = idxmnist.load_data()
    assert np.array_equal(x, arrays["train-images-idx3-ubyte"])
    assert np.array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").is_file()


def test_path_is_relative_to_cache_dir_or_absolute(tmp_path):
    make_dataset(tmp_path / "src")
    idxmnist.load_data("sub/my.npz", source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert (tmp_path / "c" / "sub" / "my.npz").is_file()
    absolute = tmp_path / "elsewhere.npz"
    idxmnist.load_data(absolute, source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert absolute.is_file()


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


def test_env_source_never_stands_in_for_another_dataset(tmp_path, monkeypatch):
    """$IDXMNIST_SOURCE is MNIST's; a sibling uses only its own subdirectory of it."""
    mnist = make_dataset(tmp_path / "data", seed=1)
    fashion = make_dataset(tmp_path / "data" / "fashion-mnist", seed=2)
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "data"))
    (x, _), _ = idxmnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(x, mnist["train-images-idx3-ubyte"])
    (xf, _), _ = idxmnist.fashion_mnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(xf, fashion["train-images-idx3-ubyte"])
    # no kmnist/ subdirectory: the MNIST files are not used, a download is tried instead
    with pytest.raises(idxmnist.DownloadError):
        idxmnist.kmnist.load_data(cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "kmnist.npz").exists()
