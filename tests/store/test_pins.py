"""Content pins: those the registry ships, checked against the real files; those it learns.

The pins of Fashion-MNIST's and QMNIST's label files were computed from the
real files in ``../shared``; here they are computed again from the same files
with ``gzip``/``lzma`` and ``hashlib`` alone. A file the registry pins by its
container only teaches the store its content the first time that container
verifies; from then on a re-packed copy verifies on this machine, and only
there.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import shutil

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.fetch import download
from idxmnist.store.pins import RECORD_NAME, Learnt

from ..support.synth import make_dataset
from ..support.synthetic import pinned_spec

#: the real label files beside the registry facts, and the entries that name them
REAL = {
    "fashion-mnist": ("fashion_mnist", "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "qmnist": ("qmnist", "qmnist-train-labels-idx2-int.gz", "qmnist-test-labels-idx2-int.gz"),
}


def test_the_shipped_content_pins_are_those_of_the_real_files(registry_facts):
    shared = registry_facts.parent
    checked = 0
    for folder, (name, *files) in REAL.items():
        spec = registry.get(name)
        for remote in spec.files:
            if remote.name not in files:
                assert remote.content is None, remote.name  # no real copy: learnt, not shipped
                continue
            data = (shared / folder / remote.name).read_bytes()
            assert hashlib.new(remote.algorithm, data).hexdigest() == remote.digest
            idx = gzip.decompress(data)
            assert (remote.content, remote.content_size) == (
                hashlib.sha256(idx).hexdigest(),
                len(idx),
            )
            checked += 1
    nist = registry.get("qmnist_nist").files[1]
    data = (shared / "qmnist" / nist.name).read_bytes()
    assert hashlib.md5(data).hexdigest() == nist.digest
    idx = lzma.decompress(data)
    assert (nist.content, nist.content_size) == (hashlib.sha256(idx).hexdigest(), len(idx))
    assert checked == 4


@pytest.fixture
def upstream(tmp_path, registered):
    """Synthetic MNIST-shaped upstream files, registered as pinned by container only."""
    arrays = make_dataset(tmp_path / "up", n_train=30, n_test=10, seed=4)
    spec = pinned_spec(registry.get("fashion_mnist"), tmp_path / "up", content=False)
    registered(spec)
    return tmp_path / "up", arrays, spec


def test_the_first_verified_container_teaches_the_store_its_content(upstream, tmp_path):
    up, arrays, spec = upstream
    store = tmp_path / "cache" / spec.subdir
    download.fetch_dataset(spec, store, [up.as_uri() + "/"], offline=True)
    record = json.loads((store / RECORD_NAME).read_text())
    learnt = Learnt(store)
    for remote in spec.files:
        idx = gzip.decompress((up / remote.name).read_bytes())  # independently of idxmnist
        pin = learnt.of(remote)
        assert (pin.content, pin.content_size) == (hashlib.sha256(idx).hexdigest(), len(idx))
        key = f"{remote.algorithm}:{remote.digest}:{remote.size}"
        assert record["pins"][key] == {"content": pin.content, "content_size": len(idx)}
    # the upstream .gz gone, its decompressed copy in its place: it verifies, here
    for remote in spec.files:
        (store / remote.name).unlink()
        (store / remote.stem).write_bytes(gzip.decompress((up / remote.name).read_bytes()))
    data = idxmnist.fashion_mnist.load_data(cache_dir=tmp_path / "cache", offline=True)
    assert np.array_equal(data[0][0], arrays["train-images-idx3-ubyte"])


def test_a_repacked_copy_does_not_verify_where_nothing_was_learnt(upstream, tmp_path):
    up, _, spec = upstream
    other = tmp_path / "other" / spec.subdir
    other.mkdir(parents=True)
    for remote in spec.files:
        (other / remote.stem).write_bytes(gzip.decompress((up / remote.name).read_bytes()))
    with pytest.warns(RuntimeWarning, match=r"no content hash is pinned .*; not used"):
        with pytest.raises(idxmnist.DownloadError) as info:
            idxmnist.fashion_mnist.load_data(cache_dir=tmp_path / "other", offline=True)
    assert "lacks fashion_mnist's train-images-idx3-ubyte.gz" in str(info.value)
    assert not (other / RECORD_NAME).exists()


def test_a_damaged_record_is_ignored_and_learnt_again(upstream, tmp_path):
    up, _, spec = upstream
    store = tmp_path / "cache" / spec.subdir
    store.mkdir(parents=True)
    for remote in spec.files:
        shutil.copy(up / remote.name, store / remote.name)
    (store / RECORD_NAME).write_text('{"format": "idxmnist-pins/1", "pins": {"x": 1')
    assert Learnt(store).of(spec.files[0]).content is None
    download.fetch_dataset(spec, store, [], offline=True)  # all there: verified, learnt
    assert all(Learnt(store).of(r).content for r in spec.files)
    # one pin per file, each keyed by its container's own pin
    record = json.loads((store / RECORD_NAME).read_text())
    assert len(record["pins"]) == 4
