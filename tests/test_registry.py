"""Registering a dataset at run time, and what the registry refuses.

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
    ClassFile,
    Column,
    DatasetSpec,
    RemoteFile,
    Split,
    get,
    load_dataset,
    register,
    registry,
    unregister,
)
from idxmnist.datasets.spec import Archive
from idxmnist.load.loader import cached_name, load_arrays

from .family import gz, idx_bytes, listing, sha256
from .httpserver import FaultServer

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


def remote(**kw) -> RemoteFile:
    return RemoteFile(**{"name": "f.gz", "size": 1, "algorithm": "md5", "digest": "0" * 32, **kw})


@pytest.mark.parametrize(
    "kw, pattern",
    [
        (
            {"files": (remote(),) * 3},
            r"expected 4 files \(images and labels of train, test\), got 3",
        ),
        ({"splits": (Split("train"), Split("train"))}, r"splits must be named, each once"),
        (
            {"splits": (Split("Train"), Split("test"))},
            r"split name 'Train' is not a lowercase word",
        ),
        ({"splits": (Split("train", -1), Split("test"))}, r"split 'train' has a negative count"),
        ({"splits": (Split("train", 5, (0, 6)), Split("test"))}, r"rows \(0, 6\) do not fit"),
        ({"splits": (Split("train", 5, (3, 2)), Split("test"))}, r"rows \(3, 2\) do not fit"),
        ({"files": (remote(digest="0" * 31),) * 4}, r"f\.gz: md5 must be lowercase hex"),
        ({"files": (remote(digest="A" * 32),) * 4}, r"md5 must be lowercase hex"),
        ({"files": (remote(algorithm="sha1"),) * 4}, r"algorithm must be sha256 or md5"),
        ({"files": (remote(size=-1),) * 4}, r"f\.gz: negative size"),
        ({"container": "tar"}, r"container must be 'idx' or 'npz'"),
        ({"columns": (Column("a"), Column("a"))}, r"column names repeat"),
        ({"columns": (Column("a"),), "container": "npz"}, r"label columns need IDX label files"),
    ],
)
def test_specs_that_cannot_describe_a_dataset(kw, pattern):
    base = {
        "name": "bad",
        "npz_name": "bad.npz",
        "subdir": "bad",
        "files": (remote(),) * 4,
        "mirrors": (),
        "classes": ("a",),
    }
    with pytest.raises(ValueError, match=pattern):
        DatasetSpec(**{**base, **kw})


def test_spec_type_errors():
    with pytest.raises(TypeError, match="files must be RemoteFile entries"):
        DatasetSpec("bad", "bad.npz", "bad", ("f.gz",) * 4, (), ("a",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="classes must be names"):
        DatasetSpec("bad", "bad.npz", "bad", (remote(),) * 4, (), (1, 2))  # type: ignore[arg-type]


def test_positional_specs_of_four_files_still_work():
    spec = DatasetSpec("old", "old.npz", "old", (remote(),) * 4, (), tuple("0123456789"))
    assert spec.keys == ("x_train", "y_train", "x_test", "y_test")
    assert spec.label_range == (0, 9) and spec.num_classes == 10
    assert spec.stems == dict.fromkeys(spec.keys, "f")


def test_single_split_datasets_load_with_load_arrays_only(tmp_path):
    spec = get("qmnist_nist")
    assert spec.keys == ("x_nist", "y_nist")
    with pytest.raises(ValueError, match="qmnist_nist has splits nist, not train and test"):
        load_dataset(spec, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="has no split 'train'; its splits: nist"):
        spec.split("train")
    assert callable(load_arrays)


def test_cache_names_by_orientation():
    letters = get("emnist_letters")
    assert cached_name(letters) == "emnist-letters.npz"
    assert cached_name(letters, upright=False) == "emnist-letters-transposed.npz"
    assert cached_name(get("mnist"), upright=False) == "mnist.npz"  # nothing to turn


def test_every_builtin_entry(registry_facts):
    names = registry.names()
    family = [n for n in names if n.startswith(("emnist", "qmnist", "k49"))]
    assert len(family) == 6 + 4 + 1
    for name in names:
        spec = get(name)
        assert spec.name == name == registry.key_of(name)
        for f in spec.remote_files:
            assert len(f.digest) == {"sha256": 64, "md5": 32}[f.algorithm] and f.size > 0
        assert spec.num_classes == len(spec.class_names) > 0
        if isinstance(spec.classes, ClassFile):
            assert spec.classes.resolve().is_file()
        assert all(s.count for s in spec.splits) or name in ("mnist", "fashion_mnist", "kmnist")
