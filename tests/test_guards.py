"""Tests aimed at single guards: each fails if that one check is removed or weakened.

They came out of mutation testing (docs/testing.md): every test here was seen
to fail with its guard broken by hand, and to pass with it in place. None
needs the real MNIST files. No mocks of the code under test: real files, a
real HTTP server on loopback, real read-only mounts.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.datasets.assemble import find_idx_files, find_sources, read_arrays, read_dataset
from idxmnist.datasets.registry import RemoteFile

from .support.arrays import KEYS, NAMES, arrays, same, write_set

ROOT = Path(__file__).resolve().parent.parent


# -- the assembler ---------------------------------------------------------------------------


def test_train_and_test_images_of_different_sizes_do_not_form_a_dataset(tmp_path):
    write_set(tmp_path, arrays(side=28, test_side=20))
    with pytest.raises(idxmnist.IdxError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / NAMES['x_train']} holds (28, 28) images but "
        f"{tmp_path / NAMES['x_test']} holds (20, 20); they do not belong together"
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


# -- downloads -------------------------------------------------------------------------------


def test_a_source_with_an_unknown_scheme_is_a_download_error(tmp_path):
    with pytest.raises(idxmnist.DownloadError, match="http://, https:// or file://") as exc:
        idxmnist.load_data(source="ftp://example.invalid/mnist/", cache_dir=tmp_path)
    assert "'ftp://example.invalid/mnist/'" in str(exc.value)


# -- a cache directory that cannot be written or locked ----------------------------------------

CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    import idxmnist
    source = sys.argv[2] if len(sys.argv) > 2 else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (xt, yt) = idxmnist.load_data(source=source, cache_dir=sys.argv[1])
    print(json.dumps({"sums": [int(a.sum()) for a in (x, y, xt, yt)],
                      "writable": x.flags.writeable,
                      "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}))
    """
)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def run_on_readonly(directory: Path, *args: str, bind: bool) -> dict:
    """Run CHILD with ``directory`` read-only, as a read-only mount is (even for root).

    ``bind``: the directory keeps its files (a read-only bind mount of itself);
    else an empty read-only tmpfs is mounted over it.
    """
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", CHILD, str(directory), *args]
    if _unshare_works():
        mount = (
            'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1"'
            if bind
            else 'mount -t tmpfs -o ro,size=1m tmpfs "$1"'
        )
        cmd = [
            "unshare",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f'{mount} && shift && exec "$@"',
        ]
        cmd += ["sh", str(directory), sys.executable, "-c", CHILD, str(directory), *args]
    elif os.geteuid() != 0:
        directory.chmod(0o555)  # permissions work for everyone but root
    else:
        pytest.skip("as root, only a read-only mount makes a directory read-only: no unshare here")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    finally:
        directory.chmod(0o755)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_read_only_cache_directory_warns_and_still_returns_the_data(tmp_path):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    cache.mkdir()
    out = run_on_readonly(cache, str(tmp_path / "src"), bind=False)
    assert out["sums"] == [int(want[k].sum()) for k in KEYS] and out["writable"]
    assert len(out["warnings"]) == 2, out["warnings"]
    lock, write = out["warnings"]
    assert lock.startswith(f"RuntimeWarning: cannot lock {cache / 'mnist.npz'} (")
    assert lock.endswith("); building it without a lock")
    assert write.startswith(f"RuntimeWarning: could not write the cache {cache / 'mnist.npz'}: ")
    assert "Read-only file system" in write or "Permission denied" in write
    assert write.endswith("; the arrays are returned uncached")
    assert list(cache.iterdir()) == []


def test_a_read_only_cache_directory_holding_the_cache_is_read_without_a_word(tmp_path):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    idxmnist.build_npz(tmp_path / "src", cache / "mnist.npz")
    out = run_on_readonly(cache, bind=True)
    assert out == {"sums": [int(want[k].sum()) for k in KEYS], "writable": True, "warnings": []}


def test_an_unlockable_cache_directory_warns_and_still_works(tmp_path):
    want = arrays()
    write_set(tmp_path / "src", want)
    (tmp_path / "cache" / ".mnist.npz.lock").mkdir(parents=True)  # the lock file cannot be made
    with pytest.warns(
        RuntimeWarning,
        match=r"cannot lock .*mnist\.npz \(\[Errno 21\] .*\); building it without a lock",
    ):
        data = idxmnist.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert same(data, want)
    assert same(idxmnist.load_data(cache_dir=tmp_path / "cache"), want)  # and it was cached


# -- the assembler: finding and reading the four files ---------------------------------------


def test_the_dotted_upstream_names_are_found(tmp_path):
    """``train-images.idx3-ubyte`` (how some mirrors and archives spell it) is found too."""
    want = arrays()
    for role in KEYS:
        dotted = NAMES[role].replace("-idx", ".idx").removesuffix(".gz")
        idxmnist.write_idx(tmp_path / dotted, want[role])
    found = find_idx_files(tmp_path)
    assert {k: p.name for k, p in found.items()} == {
        "x_train": "train-images.idx3-ubyte",
        "y_train": "train-labels.idx1-ubyte",
        "x_test": "t10k-images.idx3-ubyte",
        "y_test": "t10k-labels.idx1-ubyte",
    }
    assert same(idxmnist.load_idx_dataset(tmp_path), want)


def test_find_idx_files_messages_word_for_word(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path / "nowhere")
    assert str(info.value) == (
        f"{tmp_path / 'nowhere'}: no such directory (expected the dataset's files)"
    )
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path)
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


def test_read_dataset_defaults_and_load_idx_dataset_passes_its_options_on(tmp_path):
    """read_dataset's defaults: backend "auto", labels 0..9; load_idx_dataset hands its
    backend and num_classes down to it."""
    want = arrays(seed=1)
    want["y_train"][:] = 4
    want["y_test"][:] = 9
    write_set(tmp_path, want)
    assert same(read_dataset(find_idx_files(tmp_path)), want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 9, outside 0\.\.4"):
        idxmnist.load_idx_dataset(tmp_path, num_classes=5)
    with pytest.raises(ValueError, match="backend must be one of"):
        idxmnist.load_idx_dataset(tmp_path, backend="fast")
    want["y_test"][0] = 10
    write_set(tmp_path, want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 10, outside 0\.\.9"):
        read_dataset(find_idx_files(tmp_path))
    assert same(idxmnist.load_idx_dataset(tmp_path, num_classes=11), want)


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


def test_read_arrays_hands_its_backend_to_the_reader(tmp_path):
    spec = registry.get("mnist")
    write_set(tmp_path, arrays())
    with pytest.raises(ValueError, match="backend must be one of"):
        read_arrays(spec, find_sources(tmp_path, spec), backend="fast")


def _k49_bad_labels(tmp_path, registered, labels: np.ndarray) -> str:
    from idxmnist import k49

    from .support.family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    registered(k49_spec(release))
    path = tmp_path / "src" / "k49-test-labels.npz"
    path.write_bytes(npz_bytes(labels))
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    return str(info.value).removeprefix(f"{path}: ")


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

    from .support.family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    registered(k49_spec(release))
    path = tmp_path / "src" / "k49-test-imgs.npz"
    path.write_bytes(npz_bytes(release.arrays["x_test"][:-1]))
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert str(info.value) == (
        f"{path}: arr_0 declares 14 rows; k49's test split has 15: the file is not k49's "
        "or is damaged: fetch it again"
    )


def test_k49_an_empty_test_split_loads(tmp_path, registered):
    from idxmnist import k49

    from .support.family import k49_release, k49_spec

    release = k49_release(tmp_path / "src", n_test=0)
    registered(k49_spec(release))
    (_, _), (x_test, y_test) = k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert x_test.shape == (0, 28, 28) and y_test.shape == (0,) and y_test.dtype == np.uint8


# -- read_idx_from: an open, unseekable stream (a zip member) ---------------------------------


def test_read_arrays_hands_backend_and_size_to_archive_members(tmp_path):
    """EMNIST's members are read straight from gzip.zip: with the caller's backend, and
    checked against the member's own size before anything is allocated."""
    from idxmnist.datasets.assemble import MemberRef

    from .support.family import emnist_member_names, emnist_release, emnist_spec, gz

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


def test_sweep_stale_removes_a_temporary_file_just_over_an_hour_old(tmp_path):
    """The default cutoff is one hour: a writer's leftover 3600.01 s old goes, a fresh
    one stays. (Only a stall of about a second between the two lines below could let a
    cutoff of 3601 s remove it too; the original removes it whatever the stall.)"""
    import time

    from idxmnist import atomic

    dest = tmp_path / "mnist.npz"
    old = tmp_path / f".mnist.npz.1234{atomic.TEMP_SUFFIX}"
    fresh = tmp_path / f".mnist.npz.5678{atomic.TEMP_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    now = time.time()
    os.utime(old, (now - 3600.01, now - 3600.01))
    atomic.sweep_stale(dest)
    assert not old.exists() and fresh.exists()


# -- three bugs the mutation pass found ---------------------------------------------------------


def test_images_of_another_size_are_named_against_the_first_split_whatever_its_place():
    """With three splits, the split that disagrees is named, not always the second."""
    import dataclasses

    from idxmnist.datasets.assemble import check_arrays
    from idxmnist.datasets.registry import Split

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
