"""load_data and the npz cache, on small synthetic datasets."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.store.npzfile import ALIGN, npz_members

from .support.synthetic import pinned_spec


def make_dataset(root, n_train=50, n_test=20, seed=0, compress="gzip"):
    """Write a small MNIST-shaped dataset with the upstream file names."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    suffix = {"gzip": ".gz", None: ""}[compress]
    for name, arr in arrays.items():
        idxmnist.write_idx(root / f"{name}{suffix}", arr, compress=compress)
    return arrays


def test_cache_dir_precedence(tmp_path, monkeypatch):
    from idxmnist.config import cache_dir

    monkeypatch.delenv("IDXMNIST_HOME", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".keras" / "datasets"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "k"))
    assert cache_dir() == tmp_path / "k" / "datasets"
    monkeypatch.setenv("IDXMNIST_HOME", str(tmp_path / "i"))
    assert cache_dir() == tmp_path / "i"
    assert cache_dir(tmp_path / "x") == tmp_path / "x"


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


def test_cache_members_are_stored_and_aligned(tmp_path):
    make_dataset(tmp_path / "src")
    out = idxmnist.build_npz(tmp_path / "src", tmp_path / "m.npz")
    with open(out, "rb") as f:
        members = npz_members(f, str(out))
    assert set(members) == {"x_train", "y_train", "x_test", "y_test"}
    for m in members.values():
        assert m.info.compress_type == zipfile.ZIP_STORED
        assert m.data_offset % ALIGN == 0
    assert zipfile.ZipFile(out).testzip() is None  # CRCs right


def test_reads_a_keras_style_compressed_npz(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))  # verified by content
    np.savez_compressed(
        tmp_path / "mnist.npz",
        x_train=arrays["train-images-idx3-ubyte"],
        y_train=arrays["train-labels-idx1-ubyte"],
        x_test=arrays["t10k-images-idx3-ubyte"],
        y_test=arrays["t10k-labels-idx1-ubyte"],
    )
    (x, y), (xt, yt) = idxmnist.load_data(cache_dir=tmp_path, offline=True)
    assert np.array_equal(xt, arrays["t10k-images-idx3-ubyte"]) and x.flags.writeable


def test_invalid_cache_is_rebuilt_with_a_warning(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    np.savez(tmp_path / "mnist.idxmnist.npz", x_train=np.zeros(3), y_train=np.zeros(3))
    with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
        (x, _), _ = idxmnist.load_data(source=tmp_path / "src", cache_dir=tmp_path)
    assert np.array_equal(x, arrays["train-images-idx3-ubyte"])
    (x2, _), _ = idxmnist.load_data(cache_dir=tmp_path)
    assert np.array_equal(x2, x)


def test_assembler_cross_checks(tmp_path):
    make_dataset(tmp_path / "src")
    idxmnist.write_idx(tmp_path / "src" / "t10k-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(idxmnist.IdxError, match="20 images but .* 19 labels"):
        idxmnist.load_idx_dataset(tmp_path / "src")
    idxmnist.write_idx(tmp_path / "src" / "t10k-labels-idx1-ubyte.gz", np.full(20, 10, np.uint8))
    with pytest.raises(idxmnist.IdxError, match="label 10"):
        idxmnist.load_idx_dataset(tmp_path / "src")
    idxmnist.write_idx(tmp_path / "src" / "t10k-labels-idx1-ubyte.gz", np.zeros(20, np.int32))
    with pytest.raises(idxmnist.IdxError, match="uint8 labels"):
        idxmnist.load_idx_dataset(tmp_path / "src")


def test_import_is_cheap():
    code = (
        "import sys, idxmnist; "
        "bad = [m for m in ('numba', 'llvmlite', 'urllib.request', 'http.client') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_env_source_never_stands_in_for_another_dataset(tmp_path, monkeypatch, registered):
    """$IDXMNIST_SOURCE is MNIST's; a sibling uses only its own subdirectory of it."""
    mnist = make_dataset(tmp_path / "data", seed=1)
    fashion = make_dataset(tmp_path / "data" / "fashion-mnist", seed=2)
    registered(
        pinned_spec(registry.get("mnist"), tmp_path / "data"),
        pinned_spec(registry.get("fashion_mnist"), tmp_path / "data" / "fashion-mnist"),
    )
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "data"))
    (x, _), _ = idxmnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(x, mnist["train-images-idx3-ubyte"])
    (xf, _), _ = idxmnist.fashion_mnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(xf, fashion["train-images-idx3-ubyte"])
    # no kmnist/ subdirectory: the MNIST files are not used, a download is tried instead
    with pytest.raises(idxmnist.DownloadError):
        idxmnist.kmnist.load_data(cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "kmnist.idxmnist.npz").exists()
