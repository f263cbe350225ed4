"""DatasetSpec and RemoteFile: what a spec must say, and every spec that cannot be a dataset.

Also ``plain_name``, the check every name used as a path goes through.
"""

from __future__ import annotations

import pytest

from idxmnist.datasets import Column, DatasetSpec, RemoteFile, Split
from idxmnist.datasets.spec import plain_name


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


# -- plain names: the only names used as paths -------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.gz", "a/b.gz", "/etc/passwd", ".hidden", "", "a\\b"])
def test_names_must_be_plain(name):
    with pytest.raises(ValueError, match="plain file name"):
        plain_name(name)


def test_names_with_a_nul_byte_are_not_plain():
    for name in ["a\0b", "train-images-idx3-ubyte.gz\0"]:
        with pytest.raises(ValueError) as info:
            plain_name(name)
        assert str(info.value) == (
            f"{name!r} is not a plain file name; refusing to use it as a path"
        )
