"""Registering a dataset at run time, and what ``register`` refuses.

A dataset of the user's own goes through exactly the code the built-in ones
do: registered with its files, sizes, checksums, mirrors, splits and classes,
it downloads from a real HTTP server on 127.0.0.1, verified, into the cache.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import (
    DatasetSpec,
    RemoteFile,
    get,
    load_dataset,
    register,
    registry,
    unregister,
)
from idxmnist.datasets.spec import Archive

from ..support.family import gz, idx_bytes, listing, sha256
from ..support.httpserver import FaultServer

NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
NAMES += ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def my_dataset(n_train=12, n_test=5, first_label=1):
    """Letters-like data of one's own: labels 1..3, gzip IDX files with MNIST's names."""
    rng = np.random.default_rng(5)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 6, 4), dtype=np.uint8),
        "y_train": rng.integers(first_label, first_label + 3, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 6, 4), dtype=np.uint8),
        "y_test": rng.integers(first_label, first_label + 3, n_test, dtype=np.uint8),
    }
    files = {n: gz(idx_bytes(a)) for n, a in zip(NAMES, arrays.values(), strict=True)}
    return arrays, files


def my_spec(files, name="My-Letters", mirrors=(), **kw) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        npz_name="my-letters.npz",
        subdir="my-letters",
        files=tuple(RemoteFile(n, len(files[n]), "sha256", sha256(files[n])) for n in NAMES),
        mirrors=mirrors,
        classes=("alpha", "beta", "gamma"),
        **{"first_label": 1, **kw},
    )


@pytest.fixture
def clean():
    """Remove what a test registered under its own name."""
    yield
    for name in ("my_letters", "other"):
        if name in registry.names():
            unregister(name)


def test_a_registered_dataset_downloads_verified_and_caches(tmp_path, monkeypatch, clean):
    arrays, files = my_dataset()
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with FaultServer(files) as server:
        spec = register(my_spec(files, mirrors=(server.url("html"), server.url())))
        assert spec.name == "my_letters" and get("my-letters") is spec
        (x, y), (xt, yt) = load_dataset("My-Letters", cache_dir=tmp_path)
        assert server.gets("ok") == {f"/ok/{n}": 1 for n in NAMES}
    for got, key in ((x, "x_train"), (y, "y_train"), (xt, "x_test"), (yt, "y_test")):
        assert np.array_equal(got, arrays[key])
    assert spec.class_names == {1: "alpha", 2: "beta", 3: "gamma"}
    assert "my-letters.idxmnist.npz" in listing(tmp_path)
    assert {f"my-letters/{n}" for n in NAMES} <= listing(tmp_path)


def test_labels_outside_the_registered_classes_are_refused(tmp_path, clean):
    arrays, files = my_dataset(first_label=0)  # labels 0..2, registered as 1..3
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    register(my_spec(files))
    with pytest.raises(idxmnist.IdxError, match=r"holds label 0, outside 1\.\.3"):
        load_dataset("my_letters", source=tmp_path, cache_dir=tmp_path / "c")


def test_names_are_taken_once_unless_replaced(clean):
    _, files = my_dataset()
    first = register(my_spec(files))
    with pytest.raises(ValueError, match="'my_letters' is already registered; pass replace=True"):
        register(my_spec(files, name="my_letters"))
    second = register(my_spec(files, name="MY_LETTERS", first_label=0), replace=True)
    assert get("my_letters") is second and second is not first
    assert unregister("my-letters") is second
    with pytest.raises(ValueError, match="unknown dataset 'my_letters'; known: mnist"):
        get("my_letters")
    with pytest.raises(KeyError):
        unregister("my_letters")


def test_builtin_entries_can_be_replaced_and_given_back(registered):
    original = get("k49")
    registered(dataclasses.replace(original, mirrors=("http://127.0.0.1:1/",)))
    assert get("k49").mirrors == ("http://127.0.0.1:1/",)
    registered(original)
    assert get("k49") is original


@pytest.mark.parametrize(
    "change, error, pattern",
    [
        ({"subdir": "../x"}, ValueError, "not a plain file name"),
        ({"npz_name": ".hidden.npz"}, ValueError, "not a plain file name"),
        ({"name": "a/b"}, ValueError, "not a plain file name"),
    ],
)
def test_register_refuses_paths(change, error, pattern, clean):
    _, files = my_dataset()
    with pytest.raises(error, match=pattern):
        register(dataclasses.replace(my_spec(files), **change))
    assert "my_letters" not in registry.DATASETS


def test_register_refuses_an_unsafe_archive_name(clean):
    spec = get("emnist_letters")
    unsafe = Archive(RemoteFile("../gzip.zip", 1, "md5", "0" * 32))
    with pytest.raises(ValueError, match="not a plain file name"):  # refused when it is made
        register(dataclasses.replace(spec, name="other", archive=unsafe))
    with pytest.raises(TypeError, match="register needs a DatasetSpec"):
        register("emnist")  # type: ignore[arg-type]
