"""mnist.load_data(extended=True): who wrote each digit and the reviewed labels, lined up.

Real files only: MNIST's four from ``$IDXMNIST_TEST_DATA``, QMNIST's two label
files from ``qmnist/`` beside them, served by a real HTTP server on 127.0.0.1
and verified by their real pins. The references are read here with ``gzip``,
``numpy.frombuffer`` and ``csv``, never with idxmnist.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from idxmnist import ChecksumError, DownloadError, IdxError, mnist
from idxmnist.datasets import registry
from idxmnist.datasets.spec import RemoteFile
from idxmnist.load import metadata
from idxmnist.manage.importer import import_paths
from idxmnist.store.npzfile import load_npz, write_npz

from ..conftest import QMNIST_LABEL_FILES
from ..support.family import QMNIST_FIELDS as FIELDS
from ..support.family import is_mapped, listing
from ..support.httpserver import FaultServer

pytestmark = pytest.mark.realdata
TRAIN_NAME, TEST_NAME = QMNIST_LABEL_FILES
REVIEW = ("reviewed", "guessed_label", "votes_given", "votes_guessed", "votes_neither")


def idx_array(data: bytes) -> np.ndarray:
    """An IDX file's bytes -> array, by the format's definition (big-endian dims, then data)."""
    kind, ndim = data[2], data[3]
    dims = [int(d) for d in np.frombuffer(data, ">u4", ndim, 4)]
    dtype = {0x08: np.uint8, 0x0C: np.dtype(">i4")}[kind]
    return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims)


def read_gz(path: Path) -> np.ndarray:
    return idx_array(gzip.decompress(path.read_bytes()))


def published_review(registry_facts: Path) -> dict[int, dict[str, int]]:
    text = (registry_facts / "mnist-test-label-review.tsv").read_text().splitlines()
    rows = csv.DictReader([line for line in text if not line.startswith("#")], delimiter="\t")
    return {int(r["index"]): {k: int(v) for k, v in r.items()} for r in rows}


@pytest.fixture(scope="module")
def built_mnist(mnist_dir, tmp_path_factory) -> Path:
    """MNIST's cache (idxmnist's own, stamped, with its store), built once for the module:
    each test links it into its own cache directory."""
    folder = tmp_path_factory.mktemp("mnist")
    mnist.load_data(source=mnist_dir, cache_dir=folder)
    return folder


@pytest.fixture
def cache(tmp_path, built_mnist) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    for name in ("mnist.idxmnist.npz", ".mnist.idxmnist.npz.stamp", "mnist"):
        (folder / name).symlink_to(built_mnist / name)  # a link is followed as the user meant
    return folder


@pytest.fixture
def qmnist_files(qmnist_dir) -> dict[str, bytes]:
    return {name: (qmnist_dir / name).read_bytes() for name in QMNIST_LABEL_FILES}


@pytest.fixture
def server(qmnist_files, monkeypatch):
    with FaultServer(qmnist_files) as srv:
        monkeypatch.setenv("IDXMNIST_MIRRORS", srv.url())
        yield srv


def test_one_call_gives_writers_and_the_review(
    cache, server, mnist_dir, qmnist_dir, registry_facts
):
    (x_train, y_train), (x_test, y_test) = mnist.load_data(extended=True, cache_dir=cache)
    # one fetch of QMNIST's two label files, about 1 MB, and nothing else
    assert server.gets() == {f"/ok/{TRAIN_NAME}": 1, f"/ok/{TEST_NAME}": 1}
    assert sum(server.sent.values()) == 463024 + 526800
    kept = {p for p in listing(cache / "qmnist") if not p.startswith(".")}
    assert kept == set(QMNIST_LABEL_FILES)
    for name in QMNIST_LABEL_FILES:
        digest = hashlib.md5((cache / "qmnist" / name).read_bytes()).hexdigest()
        assert digest == {TRAIN_NAME: "0058f8dd561b90ffdd0f734c6a30e5e4"}.get(
            name, "5b5b05890a5e13444e108efe57b788aa"
        )
    # the images are MNIST's, as ever
    assert np.array_equal(x_train, read_gz(mnist_dir / "train-images-idx3-ubyte.gz"))
    assert np.array_equal(x_test, read_gz(mnist_dir / "t10k-images-idx3-ubyte.gz"))
    # the records: QMNIST's columns, lined up with MNIST's labels
    q_train = read_gz(qmnist_dir / TRAIN_NAME)
    q_test = read_gz(qmnist_dir / TEST_NAME)[:10000]
    assert y_train.dtype.names == FIELDS
    assert y_test.dtype.names == (*FIELDS, *REVIEW, "label_error")
    for i, name in enumerate(FIELDS):
        assert y_train[name].dtype == y_test[name].dtype == np.int32
        assert np.array_equal(y_train[name], q_train[:, i]), name
        assert np.array_equal(y_test[name], q_test[:, i]), name
    labels_train = read_gz(mnist_dir / "train-labels-idx1-ubyte.gz")
    labels_test = read_gz(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert int((y_train["digit"] == labels_train).sum()) == 60000
    assert int((y_test["digit"] == labels_test).sum()) == 10000
    assert len(np.unique(y_train["writer_id"])) == 539
    assert len(np.unique(y_test["writer_id"])) == 297
    assert not np.intersect1d(y_train["writer_id"], y_test["writer_id"]).size
    # the review: all 100 rows, 15 judged errors, nothing elsewhere
    rows = published_review(registry_facts)
    reviewed = np.flatnonzero(y_test["reviewed"])
    assert reviewed.tolist() == sorted(rows) and len(rows) == 100
    for i, row in rows.items():
        record = y_test[i]
        assert record["guessed_label"] == row["guessed"]
        for votes in ("votes_given", "votes_guessed", "votes_neither"):
            assert record[votes] == row[votes]
        assert record["label_error"] == (row["votes_given"] < 3)
        assert record["digit"] == row["given"]
    assert int(y_test["label_error"].sum()) == 15
    others = np.setdiff1d(np.arange(10000), reviewed)
    assert (y_test["guessed_label"][others] == -1).all()
    for name in ("reviewed", "votes_given", "votes_guessed", "votes_neither", "label_error"):
        assert not y_test[name][others].any()


def test_a_cache_hit_is_memory_mapped_and_offline(cache, server, monkeypatch):
    mnist.load_data(extended=True, cache_dir=cache)
    gets = server.gets()
    monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
    (_, y_train), (_, y_test) = mnist.load_data(extended=True, cache_dir=cache)
    assert is_mapped(y_train) and is_mapped(y_test)
    with np.load(
        cache / "mnist-meta.idxmnist.npz", allow_pickle=False
    ) as z:  # a plain npz, no pickle
        assert sorted(z.files) == ["test", "train"]
        assert z["train"].shape == (60000, 8) and z["test"].shape == (10000, 14)
    # rebuilt from the store alone: no request
    (cache / "mnist-meta.idxmnist.npz").unlink()
    (_, again), _ = mnist.load_data(extended=True, cache_dir=cache, offline=True)
    assert server.gets() == gets
    assert np.array_equal(again, y_train)


def test_the_default_load_data_is_unchanged(cache, mnist_dir):
    """Same arrays, same path: the metadata module is never imported and nothing is fetched."""
    code = (
        "import sys\n"
        "from idxmnist import mnist\n"
        f"(x, y), (xt, yt) = mnist.load_data(cache_dir={os.fspath(cache)!r}, offline=True)\n"
        "print(y.dtype, yt.dtype, y[:10].tolist(), 'idxmnist.load.metadata' in sys.modules)\n"
        "print('idxmnist.fetch.download' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "uint8 uint8 [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] False",
        "False",
    ]
    assert not (cache / "mnist-meta.idxmnist.npz").exists() and not (cache / "qmnist").exists()
    (x, y), (xt, yt) = mnist.load_data(cache_dir=cache, offline=True, extended=False)
    assert np.array_equal(y, read_gz(mnist_dir / "train-labels-idx1-ubyte.gz"))
    assert np.array_equal(yt, read_gz(mnist_dir / "t10k-labels-idx1-ubyte.gz"))
    assert is_mapped(x) and is_mapped(y)


def test_idxmnist_import_accepts_the_label_files_then_it_works_offline(cache, qmnist_dir):
    outcomes = import_paths([qmnist_dir], cache_dir=cache)
    installed = {Path(o.source).name: o for o in outcomes if o.known is not None}
    for name in QMNIST_LABEL_FILES:
        assert installed[name].installed == cache / "qmnist" / name
    (_, y_train), (_, y_test) = mnist.load_data(extended=True, cache_dir=cache, offline=True)
    assert len(np.unique(y_train["writer_id"])) == 539 and int(y_test["label_error"].sum()) == 15


def test_offline_without_the_files_says_how_to_import(cache):
    with pytest.raises(DownloadError, match=r"offline \(offline=True\)") as caught:
        mnist.load_data(extended=True, cache_dir=cache, offline=True)
    message = str(caught.value)
    assert TRAIN_NAME in message and TEST_NAME in message and "idxmnist import PATH" in message
    assert not (cache / "mnist-meta.idxmnist.npz").exists()


def test_a_damaged_label_file_in_the_store_is_refused_then_replaced(cache, server, qmnist_files):
    store = cache / "qmnist"
    store.mkdir()
    damaged = bytearray(qmnist_files[TRAIN_NAME])
    damaged[1000] ^= 0xFF  # same size, one byte wrong: its md5 fails
    (store / TRAIN_NAME).write_bytes(bytes(damaged))
    (store / TEST_NAME).write_bytes(qmnist_files[TEST_NAME][:-1000])  # cut short
    with pytest.warns(RuntimeWarning) as offline_said:
        with pytest.raises(DownloadError, match=rf"lacks qmnist's {TRAIN_NAME}, {TEST_NAME}\."):
            mnist.load_data(extended=True, cache_dir=cache, offline=True)
    why = sorted(str(w.message) for w in offline_said)  # each bad copy named, and why
    assert len(why) == 2 and all(m.endswith("; not used") for m in why)
    assert "525800 bytes" in why[0] and "md5" in why[1]
    assert not server.gets()
    with pytest.warns(RuntimeWarning) as caught:
        (_, y_train), _ = mnist.load_data(extended=True, cache_dir=cache)
    said = sorted(str(w.message) for w in caught)
    assert len(said) == 2 and all(m.endswith("; downloading it again") for m in said)
    assert said[0].startswith(f"{store / TEST_NAME}: ") and "525800 bytes" in said[0]
    assert said[1].startswith(f"{store / TRAIN_NAME}: ") and "md5" in said[1]
    assert (store / TRAIN_NAME).read_bytes() == qmnist_files[TRAIN_NAME]
    assert (store / TEST_NAME).read_bytes() == qmnist_files[TEST_NAME]
    assert len(np.unique(y_train["writer_id"])) == 539


def test_a_mirror_serving_wrong_bytes_is_refused(cache, server, monkeypatch):
    monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("wrong"))
    with pytest.raises(ChecksumError, match=f"could not download {TRAIN_NAME} from any mirror"):
        mnist.load_data(extended=True, cache_dir=cache)
    assert {p for p in listing(cache / "qmnist") if not p.startswith(".")} == set()
    assert not (cache / "mnist-meta.idxmnist.npz").exists()


def test_a_misaligned_label_file_is_refused(cache, qmnist_files, registered, monkeypatch):
    """A verified file whose rows are not MNIST's order: registered with its own pin, so the
    real download path delivers it; the class column check refuses it."""
    rows = read_gz_bytes(qmnist_files[TRAIN_NAME]).copy()
    rows[[0, 1]] = rows[[1, 0]]  # MNIST's first two training digits are 5 and 0
    idx_header = gzip.decompress(qmnist_files[TRAIN_NAME])[:12]  # magic, rows, columns
    swapped = gzip.compress(idx_header + rows.astype(">i4").tobytes(), mtime=0)
    base = registry.get("qmnist")
    pin = RemoteFile(TRAIN_NAME, len(swapped), "md5", hashlib.md5(swapped).hexdigest())
    files = tuple(pin if f.name == TRAIN_NAME else f for f in base.files)
    with FaultServer({TRAIN_NAME: swapped, TEST_NAME: qmnist_files[TEST_NAME]}) as srv:
        monkeypatch.setenv("IDXMNIST_MIRRORS", srv.url())
        registered(dataclasses.replace(base, files=files))
        with pytest.raises(IdxError, match=r"row 0 of train is digit 0 .* label 5") as caught:
            mnist.load_data(extended=True, cache_dir=cache)
    message = str(caught.value)
    assert message.startswith(
        f"{cache / 'qmnist' / TRAIN_NAME} and {cache / 'mnist.idxmnist.npz'}: "
    )
    assert "2 of 60000 rows disagree" in message
    assert not (cache / "mnist-meta.idxmnist.npz").exists()


def read_gz_bytes(data: bytes) -> np.ndarray:
    return idx_array(gzip.decompress(data))


def test_mnist_arrays_out_of_order_are_refused(tmp_path, built_mnist, server):
    """The other side of the check: labels that are not upstream order (MNIST's own cache
    is verified by its pins now, so the labels are handed to the check directly)."""
    arrays = load_npz(
        built_mnist / "mnist.idxmnist.npz", ("x_train", "y_train", "x_test", "y_test")
    )
    order = np.arange(10000)
    order[[947, 948]] = [948, 947]
    cache = tmp_path / "cache"
    with pytest.raises(IdxError, match=r"row 947 of test is digit 8 .* label 1") as caught:
        metadata.load_metadata(
            arrays["y_train"], arrays["y_test"][order], cache_dir=cache, mnist_name="shuffled.npz"
        )
    assert "shuffled.npz: " in str(caught.value)
    assert "1 of 10000" not in str(caught.value) and "2 of 10000 rows disagree" in str(caught.value)


@pytest.mark.parametrize("damage", ["garbage", "shifted digits", "edited review", "wrong shape"])
def test_a_damaged_metadata_cache_is_rebuilt(cache, server, damage):
    (_, good_train), (_, good_test) = mnist.load_data(extended=True, cache_dir=cache)
    good_train, good_test = good_train.copy(), good_test.copy()
    target = cache / "mnist-meta.idxmnist.npz"
    stored = load_npz(target, ("train", "test"))
    train, test = np.array(stored["train"]), np.array(stored["test"])
    if damage == "garbage":
        target.write_bytes(b"not a zip at all")
    else:
        if damage == "shifted digits":
            train = np.roll(train, 1, axis=0)
        elif damage == "edited review":
            test[947, 8 + 5] = 0  # 947 no longer a label error
        else:
            test = test[:, :13].copy()
        write_npz(target, {"train": train, "test": test})
    with pytest.warns(RuntimeWarning, match=f"{target}.*rebuilding it"):
        (_, y_train), (_, y_test) = mnist.load_data(extended=True, cache_dir=cache)
    assert y_train.tolist() == good_train.tolist() and y_test.tolist() == good_test.tolist()
    assert server.gets() == {f"/ok/{TRAIN_NAME}": 1, f"/ok/{TEST_NAME}": 1}  # the store held


def test_the_fields_are_named_in_one_place():
    assert metadata.TRAIN_FIELDS == FIELDS
    assert metadata.TEST_FIELDS == (*FIELDS, *REVIEW, "label_error")


def test_concurrent_first_calls_fetch_each_file_once(cache, qmnist_files, tmp_path):
    """Four processes ask at once (a slow mirror makes them overlap): the folder's lock and the
    cache file's lock make it one download per file, and the same records for all."""
    go = tmp_path / "go"
    code = (
        "import sys, time, pathlib\n"
        "from idxmnist import mnist\n"
        f"while not pathlib.Path({os.fspath(go)!r}).exists(): time.sleep(0.01)\n"
        f"(_, y), (_, t) = mnist.load_data(extended=True, cache_dir={os.fspath(cache)!r})\n"
        "print(int(y['writer_id'].sum()), int(t['label_error'].sum()))\n"
    )
    with FaultServer(qmnist_files) as srv:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
        env["IDXMNIST_MIRRORS"] = srv.url("latency")
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
        for p, (_, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, err
        assert len({out for out, _ in results}) == 1
        assert srv.gets() == {f"/latency/{TRAIN_NAME}": 1, f"/latency/{TEST_NAME}": 1}
    writers = int(read_gz_bytes(qmnist_files[TRAIN_NAME])[:, 2].astype(np.int64).sum())
    assert results[0][0].split() == [str(writers), "15"]
