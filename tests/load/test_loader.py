"""Loading a dataset: the npz cache, where the files come from, a cache that cannot be written.

The cache file is named by orientation, rebuilt with a warning when it is
bad (from the verified files, offline); ``source`` may be a directory, a
local whole-dataset file or a base URL, nothing else; a read-only or
unlockable cache directory, or a full disk, warns and still returns the data.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import get, load_dataset, registry
from idxmnist.load.loader import cached_name, load_arrays

from ..support.arrays import KEYS, arrays, write_set
from ..support.arrays import same as same_dict
from ..support.helpers import MNIST_FILES, listing
from ..support.httpserver import FaultServer
from ..support.readonly import run_on_readonly
from ..support.synth import NAMES, make_dataset, same, with_files
from ..support.synthetic import pinned_spec

# -- the npz cache: its name, a bad one rebuilt ------------------------------------------------


def test_cache_names_by_orientation():
    letters = get("emnist_letters")
    assert cached_name(letters) == "emnist-letters.npz"
    assert cached_name(letters, upright=False) == "emnist-letters-transposed.npz"
    assert cached_name(get("mnist"), upright=False) == "mnist.npz"  # nothing to turn


def test_invalid_cache_is_rebuilt_with_a_warning(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    np.savez(tmp_path / "mnist.idxmnist.npz", x_train=np.zeros(3), y_train=np.zeros(3))
    with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
        (x, _), _ = idxmnist.load_data(source=tmp_path / "src", cache_dir=tmp_path)
    assert np.array_equal(x, arrays["train-images-idx3-ubyte"])
    (x2, _), _ = idxmnist.load_data(cache_dir=tmp_path)
    assert np.array_equal(x2, x)


def test_a_corrupt_npz_is_rebuilt_from_the_kept_files(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        load_dataset(spec, cache_dir=tmp_path)
        npz = tmp_path / "synth.idxmnist.npz"
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
        with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
            assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets() == {f"/ok/{n}": 1 for n in NAMES}  # rebuilt offline


# -- source: a base URL, not another scheme ----------------------------------------------------


def test_source_may_be_a_base_url(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        base = server.url().rstrip("/")  # the trailing slash is optional
        assert same(load_dataset(spec, source=base, cache_dir=tmp_path / "a"), arrays)
        monkeypatch.setenv("IDXMNIST_SOURCE", base)  # the variable is MNIST's
        mnist_spec = dataclasses.replace(spec, name="mnist")
        assert same(load_dataset(mnist_spec, cache_dir=tmp_path / "b"), arrays)
        assert server.gets() == {f"/ok/{n}": 2 for n in NAMES}
    assert listing(tmp_path / "a") == with_files(*NAMES)


def test_a_source_with_an_unknown_scheme_is_a_download_error(tmp_path):
    with pytest.raises(idxmnist.DownloadError, match="http://, https:// or file://") as exc:
        idxmnist.load_data(source="ftp://example.invalid/mnist/", cache_dir=tmp_path)
    assert "'ftp://example.invalid/mnist/'" in str(exc.value)


# -- what load_dataset takes -------------------------------------------------------------------


def test_single_split_datasets_load_with_load_arrays_only(tmp_path):
    spec = get("qmnist_nist")
    assert spec.keys == ("x_nist", "y_nist")
    with pytest.raises(ValueError, match="qmnist_nist has splits nist, not train and test"):
        load_dataset(spec, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="has no split 'train'; its splits: nist"):
        spec.split("train")
    small = dataclasses.replace(spec, splits=(dataclasses.replace(spec.splits[0], count=3),))
    src = tmp_path / "src"
    src.mkdir()
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.tile(np.array([[1, 4, 2100, 0, 31, 0, 0, 0]], np.int32), (3, 1))
    idxmnist.write_idx(src / spec.files[0].name, images)  # xz, by the name
    idxmnist.write_idx(src / spec.files[1].name, labels)
    small = pinned_spec(small, src)  # the synthetic files' own pins
    got = load_arrays(small, source=src, cache_dir=tmp_path / "cache")
    assert list(got) == ["x_nist", "y_nist"]
    np.testing.assert_array_equal(got["x_nist"], images)
    np.testing.assert_array_equal(got["y_nist"], labels)


def test_extended_needs_a_label_matrix():
    with pytest.raises(ValueError, match="plain class labels"):
        idxmnist.datasets.load_dataset("mnist", extended=True)


# -- a cache directory that cannot be written or locked ----------------------------------------


def test_a_read_only_cache_directory_warns_and_still_returns_the_data(tmp_path):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    cache.mkdir()
    out = run_on_readonly(cache, str(tmp_path / "src"), "source", bind=False)
    assert out["sums"] == [int(want[k].sum()) for k in KEYS] and out["writable"]
    assert out["warnings"] == [  # one warning, and nothing written
        f"RuntimeWarning: {cache} cannot be written (read-only): the arrays were read from "
        "the verified files there and not cached; every call reads them again"
    ]
    assert list(cache.iterdir()) == []


def test_a_read_only_cache_directory_holding_the_cache_is_read_without_a_word(tmp_path, registered):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    idxmnist.load_data(source=tmp_path / "src", cache_dir=cache)  # stamped by idxmnist
    out = run_on_readonly(cache, str(tmp_path / "src"), "-", bind=True)
    assert out == {"sums": [int(want[k].sum()) for k in KEYS], "writable": True, "warnings": []}


def test_an_unlockable_cache_directory_warns_and_still_works(tmp_path, registered):
    want = arrays()
    write_set(tmp_path / "src", want)
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    lock = tmp_path / "cache" / ".mnist.idxmnist.npz.lock"
    lock.mkdir(parents=True)  # the lock file cannot be made
    with pytest.warns(
        RuntimeWarning,
        match=r"cannot lock .*mnist\.npz \(\[Errno 21\] .*\); building it without a lock",
    ):
        data = idxmnist.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert same_dict(data, want)
    assert same_dict(idxmnist.load_data(cache_dir=tmp_path / "cache"), want)  # and it was cached


# -- a hostile source folder (issue 19, rows 4 and 7): each load in its own process, with a deadline

SOURCE_CHILD = """
import json, sys, tracemalloc, warnings
import idxmnist
call, folder, cache = sys.argv[1:4]
tracemalloc.start()  # NumPy reports its arrays to it: an allocation counts untouched pages too
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        if call == "load_data":
            idxmnist.load_data(source=folder, cache_dir=cache, offline=True)
        else:
            idxmnist.load_idx_dataset(folder)
        out = {"error": None}
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
out["warnings"] = [str(w.message) for w in caught]
out["peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
print(json.dumps(out))
"""


def load_in_child(call: str, folder, cache) -> dict:
    import json
    import subprocess
    import sys

    from ..support.helpers import child_env

    env = {k: v for k, v in child_env().items() if not k.startswith("IDXMNIST_")}
    env["PYTHONPATH"] = child_env()["PYTHONPATH"]
    r = subprocess.run(
        [sys.executable, "-c", SOURCE_CHILD, call, str(folder), str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a FIFO opened for reading would block here for ever
    )
    assert r.stdout, r.stderr
    return json.loads(r.stdout)


def label_bomb() -> bytes:
    """A bz2 IDX labels file of a few hundred bytes whose header declares 400 million labels."""
    import bz2
    import random
    import struct

    rng = random.Random(19)
    labels = bytes(rng.randrange(10) for _ in range(400))
    data = bz2.compress(struct.pack(">HBBI", 0, 0x08, 1, 400_000_000) + labels)
    # too large for the container bound alone (bz2: 4 Mi times its size) to refuse
    assert 100 < len(data) < 400 and data[:3] == b"BZh", len(data)
    return data


def all_but_train_labels(mnist_dir, tmp_path):
    """``tmp_path/src`` holding copies of three of the four real files: all but the
    training labels, which the test puts there itself."""
    folder = tmp_path / "src"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):  # fmt: skip
        (folder / name).write_bytes((mnist_dir / name).read_bytes())
    return folder


@pytest.mark.parametrize("call", ["load_data", "load_idx_dataset"])
def test_a_label_header_declaring_400_million_is_refused_before_allocating(
    call, mnist_dir, tmp_path
):
    folder = all_but_train_labels(mnist_dir, tmp_path)
    bomb = folder / "train-labels-idx1-ubyte.bz2"
    bomb.write_bytes(label_bomb())
    out = load_in_child(call, folder, tmp_path / "cache")
    # the 400 MB array is never allocated (474 MB peak before), nor anything read
    assert out["peak_kb"] < 20_000, out
    assert out["error"] is not None and out["error"].startswith("IdxError: "), out
    assert str(bomb) in out["error"] and "400000000" in out["error"]


@pytest.mark.parametrize("call", ["load_data", "load_idx_dataset"])
def test_a_fifo_in_a_source_folder_is_skipped_with_why(call, mnist_dir, tmp_path):
    import os

    folder = all_but_train_labels(mnist_dir, tmp_path)
    fifo = folder / "train-labels-idx1-ubyte.gz"
    os.mkfifo(fifo)
    out = load_in_child(call, folder, tmp_path / "cache")  # never opened: no hang
    why = f"(skipped {fifo}: a FIFO (named pipe), not a regular file"
    assert out["error"] is not None and out["error"].startswith("FileNotFoundError: "), out
    assert why in out["error"], out
    assert fifo.is_fifo()


@pytest.mark.parametrize("call", ["load_data", "load_idx_dataset"])
def test_a_fifo_under_a_preferred_name_is_skipped_for_the_real_file(call, mnist_dir, tmp_path):
    import os

    folder = tmp_path / "src"
    folder.mkdir()
    for name in MNIST_FILES:
        (folder / name).write_bytes((mnist_dir / name).read_bytes())
    fifo = folder / "train-labels-idx1-ubyte"  # the raw name, looked for before the .gz
    os.mkfifo(fifo)
    out = load_in_child(call, folder, tmp_path / "cache")
    assert out["error"] is None, out
    assert out["warnings"] == [
        f"{fifo}: a FIFO (named pipe), not a regular file: idxmnist reads only regular files; "
        "skipped"
    ]


# -- a full disk while the cache is written ------------------------------------------------------

LOAD_LIMITED = """
import hashlib, json, warnings
import idxmnist
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        data = idxmnist.mnist.load_data(source=sys.argv[2], cache_dir=sys.argv[1])
    except OSError as exc:
        print(json.dumps({"error": [type(exc).__name__, exc.errno, str(exc)]}))
        raise SystemExit
digests = [hashlib.sha256(a.tobytes()).hexdigest() for pair in data for a in pair]
warned = [[w.category.__name__, str(w.message)] for w in caught]
print(json.dumps({"arrays": digests, "warnings": warned}))
"""


def test_a_full_disk_while_the_cache_is_written_returns_the_arrays_uncached(mnist_dir, tmp_path):
    """docs/errors.md: a cache that cannot be written warns and the arrays are returned. A
    child that cannot write past 20 MB (``RLIMIT_FSIZE``: the store's copies of the real
    files fit, the 55 MB npz does not) gets the real arrays (checked against a plain gzip
    read) and one warning naming the cache and the limit; no temporary, no npz, no stamp is
    left. The next call, without the limit, builds and stamps the cache."""
    import hashlib
    import json

    from ..support.helpers import MNIST_STEMS, caught, flat, plain_read, run_size_limited

    cache = tmp_path / "cache"
    out = run_size_limited(LOAD_LIMITED, 20_000_000, cache, mnist_dir)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    reads = [plain_read(mnist_dir / f"{s}.gz", 16 if "images" in s else 8) for s in MNIST_STEMS]
    assert result.get("arrays") == [hashlib.sha256(a.tobytes()).hexdigest() for a in reads]
    target = cache / "mnist.idxmnist.npz"
    [(category, message)] = result["warnings"]
    assert category == "RuntimeWarning"
    assert message.startswith(f"could not write the cache {target}: "), message
    assert "file-size limit was hit" in message and "returned uncached" in message, message
    store = {"mnist", "mnist/.idxmnist.lock", *(f"mnist/{s}.gz" for s in MNIST_STEMS)}
    assert listing(cache) == store  # the store's verified copies, nothing half-written
    data, warned = caught(lambda: idxmnist.mnist.load_data(source=mnist_dir, cache_dir=cache))
    assert warned == []
    assert listing(cache) == store | {"mnist.idxmnist.npz", ".mnist.idxmnist.npz.stamp"}
    assert all(
        np.array_equal(a, r.reshape(a.shape)) for a, r in zip(flat(data), reads, strict=True)
    )
