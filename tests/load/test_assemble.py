"""Assembling a dataset: finding its files, reading them, checking that they belong together.

``find_idx_files`` and ``find_sources`` look in one directory at a time and
name what is missing; ``read_arrays`` hands its backend (and each archive
member's size) to the reader; ``check_arrays`` refuses arrays that do not
form the dataset, word for word; Kuzushiji-49's npz files are checked before
their labels are narrowed. On small files written here, no download.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.datasets.spec import RemoteFile
from idxmnist.load.assemble import check_arrays, find_idx_files, find_sources, read_arrays
from idxmnist.mnist import _mnist_style

from ..support.arrays import KEYS, NAMES, arrays, same, write_set
from ..support.synth import make_dataset

# -- check_arrays: the arrays belong together, word for word -----------------------------------


GOOD = {
    "x_train": np.zeros((4, 2, 2), np.uint8),
    "y_train": np.arange(4, dtype=np.uint8),
    "x_test": np.zeros((2, 2, 2), np.uint8),
    "y_test": np.arange(2, dtype=np.uint8),
}
SHOWN = {k: f"<{k}>" for k in GOOD}


@pytest.mark.parametrize(
    "change, text",
    [
        (
            {"x_train": np.zeros((4, 4), np.uint8)},
            "<x_train>: expected 3-D uint8 images, got uint8 (4, 4)",
        ),
        (
            {"x_test": np.zeros((2, 2, 2), np.int8)},
            "<x_test>: expected 3-D uint8 images, got int8 (2, 2, 2)",
        ),
        (
            {"y_train": np.zeros((4, 1), np.uint8)},
            "<y_train>: expected 1-D uint8 labels, got uint8 (4, 1)",
        ),
        ({"y_test": np.zeros(2, np.int16)}, "<y_test>: expected 1-D uint8 labels, got int16 (2,)"),
        (
            {"y_train": np.arange(3, dtype=np.uint8)},
            "<x_train> holds 4 images but <y_train> holds 3 labels; "
            "the files do not belong together",
        ),
        (
            {"y_test": np.array([0, 10], np.uint8)},
            "<y_test>: holds label 10, outside 0..9; the labels are not this dataset's, "
            "or the file is damaged",
        ),
        (
            {"x_test": np.zeros((2, 3, 2), np.uint8)},
            "<x_train> holds (2, 2) images but <x_test> holds (3, 2); they do not belong together",
        ),
    ],
)
def test_assembler_messages_word_for_word(change, text):
    with pytest.raises(idxmnist.IdxError) as info:
        check_arrays({**GOOD, **change}, SHOWN, _mnist_style(10))
    assert str(info.value) == text


def test_assembler_label_bound_is_the_class_count():
    check_arrays({**GOOD, "y_train": np.array([0, 1, 2, 9], np.uint8)}, SHOWN, _mnist_style(10))
    check_arrays({**GOOD, "y_test": np.array([0, 4], np.uint8)}, SHOWN, _mnist_style(5))
    with pytest.raises(idxmnist.IdxError, match="holds label 5, outside 0..4"):
        check_arrays({**GOOD, "y_test": np.array([0, 5], np.uint8)}, SHOWN, _mnist_style(5))
    empty = {**GOOD, "x_test": np.zeros((0, 2, 2), np.uint8), "y_test": np.zeros(0, np.uint8)}
    check_arrays(empty, SHOWN, _mnist_style(10))  # an empty split is allowed


def test_assembler_count_message_word_for_word():
    """A split's published size is checked (here a spec that publishes 3 test images)."""
    import dataclasses

    from idxmnist.datasets import registry
    from idxmnist.datasets.spec import Split

    spec = dataclasses.replace(registry.get("mnist"), splits=(Split("train", 4), Split("test", 3)))
    check_arrays(
        {**GOOD, "x_test": np.zeros((3, 2, 2), np.uint8), "y_test": np.zeros(3, np.uint8)},
        SHOWN,
        spec=spec,
    )
    with pytest.raises(idxmnist.IdxError) as info:
        check_arrays(GOOD, SHOWN, spec=spec)
    assert str(info.value) == (
        "<x_test>: holds 2 images; mnist's test split has 3: the files are not mnist's "
        "(another split?) or are cut short; fetch them again"
    )


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


def test_train_and_test_images_of_different_sizes_do_not_form_a_dataset(tmp_path):
    write_set(tmp_path, arrays(side=28, test_side=20))
    with pytest.raises(idxmnist.IdxError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / NAMES['x_train']} holds (28, 28) images but "
        f"{tmp_path / NAMES['x_test']} holds (20, 20); they do not belong together"
    )


def test_images_of_another_size_are_named_against_the_first_split_whatever_its_place():
    """With three splits, the split that disagrees is named, not always the second."""
    import dataclasses

    from idxmnist.datasets.spec import Split
    from idxmnist.load.assemble import check_arrays

    spec = dataclasses.replace(
        registry.get("mnist"),
        name="three",
        splits=(Split("train", 2), Split("test", 2), Split("extra", 2)),
        files=tuple(RemoteFile(f"f{i}", 1, "sha256", "0" * 64) for i in range(6)),
    )
    data = {}
    for split, side in (("train", 28), ("test", 28), ("extra", 20)):
        data[f"x_{split}"] = np.zeros((2, side, side), np.uint8)
        data[f"y_{split}"] = np.zeros(2, np.uint8)
    names = {key: f"{key}.idx" for key in data}
    with pytest.raises(idxmnist.IdxError) as exc:
        check_arrays(data, names, spec=spec)
    assert str(exc.value) == (
        "x_train.idx holds (28, 28) images but x_extra.idx holds (20, 20); "
        "they do not belong together"
    )


# -- finding the files: the upstream names, one directory at a time ----------------------------


def test_the_dotted_upstream_names_are_found(tmp_path):
    """``train-images.idx3-ubyte`` (how some mirrors and archives spell it) is found too."""
    want = arrays()
    for role in KEYS:
        dotted = NAMES[role].replace("-idx", ".idx").removesuffix(".gz")
        idxmnist.write_idx(tmp_path / dotted, want[role])
    found = find_idx_files(tmp_path, registry.get("mnist").stems)
    assert {k: p.name for k, p in found.items()} == {
        "x_train": "train-images.idx3-ubyte",
        "y_train": "train-labels.idx1-ubyte",
        "x_test": "t10k-images.idx3-ubyte",
        "y_test": "t10k-labels.idx1-ubyte",
    }
    assert same(idxmnist.load_idx_dataset(tmp_path), want)


def test_find_idx_files_messages_word_for_word(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path / "nowhere", registry.get("mnist").stems)
    assert str(info.value) == (
        f"{tmp_path / 'nowhere'}: no such directory (expected the dataset's files)"
    )
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path, registry.get("mnist").stems)
    looked = "; ".join(
        f"{k}: {s} or {s.replace('-idx', '.idx')} (.gz/.xz/.bz2 too)"
        for k, s in [
            ("x_train", "train-images-idx3-ubyte"),
            ("y_train", "train-labels-idx1-ubyte"),
            ("x_test", "t10k-images-idx3-ubyte"),
            ("y_test", "t10k-labels-idx1-ubyte"),
        ]
    )
    assert str(info.value) == (
        f"{tmp_path}: missing IDX files: {looked}. Put the four upstream files there "
        "(as downloaded, .gz is fine)"
    )


@pytest.mark.parametrize("count, word", [(2, "two"), (3, "3")])
def test_find_idx_files_with_other_stems_names_them_and_their_count(tmp_path, count, word):
    stems = {f"k{i}": f"part{i}-idx1-ubyte" for i in range(count)}
    idxmnist.write_idx(tmp_path / "part0-idx1-ubyte.gz", np.zeros(3, np.uint8))
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path, stems)
    looked = "; ".join(
        f"k{i}: part{i}-idx1-ubyte or part{i}.idx1-ubyte (.gz/.xz/.bz2 too)"
        for i in range(1, count)
    )
    assert str(info.value) == (
        f"{tmp_path}: missing files: {looked}. Put the {word} upstream files there "
        "(as downloaded, .gz is fine)"
    )
    for i in range(1, count):
        idxmnist.write_idx(tmp_path / f"part{i}.idx1-ubyte", np.zeros(3, np.uint8))
    assert sorted(p.name for p in find_idx_files(tmp_path, stems).values()) == sorted(
        ["part0-idx1-ubyte.gz"] + [f"part{i}.idx1-ubyte" for i in range(1, count)]
    )


def test_a_partial_set_is_reported_for_the_directory_that_holds_it(tmp_path):
    data = arrays()
    write_set(tmp_path / "raw", data, roles=KEYS[:3])  # no test labels
    with pytest.raises(FileNotFoundError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 'raw'}: missing IDX files: y_test: ")
    assert "x_train" not in message and "x_test" not in message


def test_a_partial_set_is_not_completed_from_another_directory(tmp_path):
    data = arrays()
    write_set(tmp_path, data, roles=KEYS[:3])
    write_set(tmp_path / "MNIST" / "raw", data)  # a complete set further down
    with pytest.raises(FileNotFoundError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(exc.value).startswith(f"{tmp_path}: missing IDX files: y_test: ")


def test_find_sources_names_the_files_and_the_archive_when_neither_is_there(tmp_path):
    spec = registry.get("emnist_letters")
    with pytest.raises(FileNotFoundError) as info:
        find_sources(tmp_path, spec)
    text = str(info.value)
    assert text.startswith(
        f"{tmp_path}: missing IDX files: x_train: emnist-letters-train-images-idx3-ubyte or "
        "emnist-letters-train-images.idx3-ubyte (.gz/.xz/.bz2 too); "
    )
    assert text.endswith(
        "Put the four upstream files there (as downloaded, .gz is fine); or gzip.zip, the "
        "archive that holds them"
    )


def test_a_fifo_in_the_archives_place_is_named_never_opened(tmp_path):
    import os

    spec = registry.get("emnist_letters")
    fifo = tmp_path / "gzip.zip"
    os.mkfifo(fifo)
    with pytest.raises(FileNotFoundError) as info:
        find_sources(tmp_path, spec)
    assert str(info.value).endswith(
        f"or gzip.zip, the archive that holds them (skipped {fifo}: a FIFO (named pipe), not "
        "a regular file: idxmnist reads only regular files)"
    )
    assert fifo.is_fifo()


# -- reading: the backend and the sizes handed on ----------------------------------------------


def test_read_arrays_hands_its_backend_to_the_reader(tmp_path):
    spec = registry.get("mnist")
    write_set(tmp_path, arrays())
    with pytest.raises(ValueError, match="backend must be one of"):
        read_arrays(spec, find_sources(tmp_path, spec), backend="fast")


def test_read_arrays_hands_backend_and_size_to_archive_members(tmp_path):
    """EMNIST's members are read straight from gzip.zip: with the caller's backend, and
    checked against the member's own size before anything is allocated."""
    from idxmnist.load.assemble import MemberRef

    from ..support.family import emnist_member_names, emnist_release, emnist_spec, gz

    release = emnist_release(tmp_path / "src")
    spec = emnist_spec(release)
    sources = find_sources(tmp_path / "src", spec)
    assert all(isinstance(s, MemberRef) for s in sources.values())
    got = read_arrays(spec, sources)
    assert all(np.array_equal(got[k], release.arrays[k]) for k in KEYS)
    with pytest.raises(ValueError, match="backend must be one of"):
        read_arrays(spec, sources, backend="fast")
    # x_test's member declares 100000 images in a few dozen bytes
    lying = gz(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 100_000, 28, 28) + bytes(100))
    name = f"gzip/{emnist_member_names('letters')[2]}"
    with zipfile.ZipFile(tmp_path / "src" / "gzip.zip") as old:
        members = {i.filename: old.read(i) for i in old.infolist()}
    members[name] = lying
    with zipfile.ZipFile(tmp_path / "src" / "gzip.zip", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(idxmnist.IdxError) as info:
        read_arrays(spec, sources)
    assert str(info.value).endswith(
        f"IDX header declares {16 + 100_000 * 784} bytes (shape (100000, 28, 28)), more than "
        f"a {len(lying)}-byte gzip file can possibly hold; the header is corrupt or the file "
        "is truncated"
    )


# -- Kuzushiji-49's npz files (arr_0) ----------------------------------------------------------


def _k49_bad_labels(tmp_path, registered, labels: np.ndarray) -> str:
    from idxmnist import k49

    from ..support.family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    path = tmp_path / "src" / "k49-test-labels.npz"
    path.write_bytes(npz_bytes(labels))
    release.files[path.name] = path.read_bytes()
    registered(k49_spec(release))  # pinned as it is: only the reader's own guard can refuse it
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    return str(info.value).removeprefix(f"{tmp_path / 'cache' / 'k49' / path.name}: ")


def test_k49_labels_of_another_kind_or_shape_are_refused_word_for_word(tmp_path, registered):
    want = "expected (N,) integer labels; the file is not k49's: fetch it again"
    assert _k49_bad_labels(tmp_path, registered, np.zeros(15, np.float32)) == (
        f"arr_0 is float32 (15,), {want}"
    )
    assert _k49_bad_labels(tmp_path, registered, np.zeros((15, 1), np.uint8)) == (
        f"arr_0 is uint8 (15, 1), {want}"
    )


@pytest.mark.parametrize("bad", [-1, 256])
def test_k49_wide_labels_are_range_checked_before_narrowing(tmp_path, registered, bad):
    """int64 labels become uint8: -1 or 256 would wrap to 255 or to a valid 0."""
    labels = np.zeros(15, np.int64)
    labels[3] = bad
    assert _k49_bad_labels(tmp_path, registered, labels) == (
        f"holds label {bad}, outside 0..48; the file is not k49's labels or is damaged"
    )


def test_k49_images_of_a_wrong_count_are_refused_word_for_word(tmp_path, registered):
    from idxmnist import k49

    from ..support.family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    path = tmp_path / "src" / "k49-test-imgs.npz"
    path.write_bytes(npz_bytes(release.arrays["x_test"][:-1]))
    release.files[path.name] = path.read_bytes()
    registered(k49_spec(release))  # pinned as it is: only the reader's own guard can refuse it
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert str(info.value) == (
        f"{tmp_path / 'cache' / 'k49' / path.name}: arr_0 declares 14 rows; k49's test split "
        "has 15: the file is not k49's or is damaged: fetch it again"
    )


def test_k49_an_empty_test_split_loads(tmp_path, registered):
    from idxmnist import k49

    from ..support.family import k49_release, k49_spec

    release = k49_release(tmp_path / "src", n_test=0)
    registered(k49_spec(release))
    (_, _), (x_test, y_test) = k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert x_test.shape == (0, 28, 28) and y_test.shape == (0,) and y_test.dtype == np.uint8


# -- the four files at once: concurrent where there are CPUs, the serial result whatever --------

#: a child that reads the folder argv[1] with load_idx_dataset (on one CPU if argv[2] is
#: "one"), and prints what it got: each array's SHA-256 or the error, and how many threads
#: ran (threading.setprofile is installed in every thread threading starts)
READ_IN_A_CHILD = """
import hashlib, json, os, sys, threading
if sys.argv[2] == "one":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import idxmnist
seen = set()
threading.setprofile(lambda *_: seen.add(threading.get_ident()))
try:
    (x, y), (xt, yt) = idxmnist.load_idx_dataset(sys.argv[1])
    out = {"sha256": [hashlib.sha256(a.tobytes()).hexdigest() for a in (x, y, xt, yt)],
           "shapes": [list(a.shape) for a in (x, y, xt, yt)]}
except idxmnist.IdxError as exc:
    out = {"error": str(exc)}
threading.setprofile(None)
out["threads"] = len(seen)
out["alive"] = threading.active_count()
print(json.dumps(out))
"""


def read_in_a_child(folder, cpus: str) -> dict:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, str(folder), cpus],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)


def plain_reading(folder) -> dict[str, np.ndarray]:
    """The four files as keras reads them: gzip.open().read() + np.frombuffer."""
    import gzip

    out = {}
    for key in KEYS:
        with gzip.open(folder / NAMES[key], "rb") as f:
            data = f.read()
        out[key] = np.frombuffer(data, np.uint8, offset=16 if key.startswith("x") else 8)
    return out


def sha256s(arrays_by_key: dict[str, np.ndarray]) -> list[str]:
    import hashlib

    return [hashlib.sha256(arrays_by_key[k].tobytes()).hexdigest() for k in KEYS]


def test_the_real_files_read_concurrently_or_on_one_cpu_give_the_plain_reading(mnist_dir):
    """Under an affinity of one CPU the serial path is taken (no thread at all); with
    two CPUs the files are inflated on several threads. Both give, byte for byte, what
    gzip + np.frombuffer give."""
    import os

    want = sha256s(plain_reading(mnist_dir))
    one = read_in_a_child(mnist_dir, "one")
    assert one["sha256"] == want and one["threads"] == 0
    assert one["shapes"] == [[60000, 28, 28], [60000], [10000, 28, 28], [10000]]
    if len(os.sched_getaffinity(0)) > 1:  # the concurrent path needs a second CPU
        both = read_in_a_child(mnist_dir, "all")
        assert both["sha256"] == want and both["threads"] >= 1 and both["alive"] == 1
    got = idxmnist.load_idx_dataset(mnist_dir)
    assert sha256s(dict(zip(KEYS, (a for pair in got for a in pair), strict=True))) == want


def large_set(folder) -> dict[str, np.ndarray]:
    """MNIST-shaped files whose train images (random pixels) take over 1 MiB compressed:
    libdeflate inflates it whole, with the search for a second member on a helper thread."""
    data = arrays(n_train=3000, n_test=40, seed=21)
    write_set(folder, data)
    assert (folder / NAMES["x_train"]).stat().st_size > 1 << 20
    return data


def spoil(path) -> None:
    """Flip bytes in the middle of a gzip file's deflate stream."""
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid : mid + 16] = bytes(b ^ 0xFF for b in raw[mid : mid + 16])
    path.write_bytes(bytes(raw))


def alone(path) -> str:
    """The error read_idx gives for this one file, read by itself."""
    with pytest.raises(idxmnist.IdxError) as info:
        idxmnist.read_idx(path)
    return str(info.value)


@pytest.mark.parametrize("bad", [("y_test",), ("x_train",), ("y_train", "x_test")])
def test_a_bad_file_among_others_gives_the_same_error_whatever_the_timing(tmp_path, bad):
    """While the other files inflate on other threads, the one that fails is reported as
    read_idx reports it alone; of several bad files, the first in the dataset's order
    (x_train, y_train, x_test, y_test), as the serial path reports it: on every run, on
    one CPU or several, no array returned, and no thread left behind."""
    import threading

    large_set(tmp_path)
    for key in bad:
        spoil(tmp_path / NAMES[key])
    first = next(k for k in KEYS if k in bad)
    want = alone(tmp_path / NAMES[first])
    assert "corrupt gzip data" in want or "truncated" in want
    before = threading.active_count()
    for _ in range(5):
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.load_idx_dataset(tmp_path)
        assert str(info.value) == want
        assert threading.active_count() == before
    one = read_in_a_child(tmp_path, "one")
    assert one["error"] == want and one["threads"] == 0
    every = read_in_a_child(tmp_path, "all")
    assert every["error"] == want and every["alive"] == 1


def test_a_large_set_read_concurrently_is_the_data_written(tmp_path):
    import os

    data = large_set(tmp_path)
    assert same(idxmnist.load_idx_dataset(tmp_path), data)
    one = read_in_a_child(tmp_path, "one")
    assert one["sha256"] == sha256s(data) and one["threads"] == 0
    every = read_in_a_child(tmp_path, "all")
    assert every["sha256"] == sha256s(data)
    assert every["threads"] >= (1 if len(os.sched_getaffinity(0)) > 1 else 0)


def test_the_largest_file_is_inflated_on_the_callers_own_thread(tmp_path, monkeypatch):
    """With two CPUs the training images (the largest file) inflate on the calling thread,
    the others on a second one as it takes them: a new thread often starts on the
    caller's core and waits there, which measured MNIST's cold parse 10 ms slower with
    the largest file on it. On one CPU, all four on the calling thread."""
    import os
    import threading

    from idxmnist.idx import compression
    from idxmnist.load import assemble

    if compression.libdeflate() is None or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("the concurrent path needs libdeflate (idxmnist[fast]) and two CPUs")
    data = large_set(tmp_path)
    where: dict[str, int] = {}
    real = assemble.read_idx

    def recorded(source, **kwargs):
        where[os.path.basename(source)] = threading.get_ident()
        return real(source, **kwargs)

    monkeypatch.setattr(assemble, "read_idx", recorded)
    (x, y), (xt, yt) = idxmnist.load_idx_dataset(tmp_path)
    assert np.array_equal(x, data["x_train"]) and np.array_equal(yt, data["y_test"])
    me = threading.get_ident()
    assert where[NAMES["x_train"]] == me
    assert len(where) == 4  # the others: on the second thread, or here once x_train is done
    mask = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(mask)})
        where.clear()
        idxmnist.load_idx_dataset(tmp_path)
    finally:
        os.sched_setaffinity(0, mask)
    assert set(where.values()) == {me}
