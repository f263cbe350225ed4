"""The built-in entries: every one well-formed, and each as its publisher publishes it.

Checked against the published facts (``registry-facts/``: every file's size
and checksum, EMNIST's members and archive, the split sizes), MNIST's pins
against the real files, and each sibling's sizes through a download from a
loopback server.
"""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest

import idxmnist
from idxmnist import emnist, qmnist
from idxmnist.datasets import ClassFile, get, registry
from idxmnist.datasets.spec import plain_name
from idxmnist.fetch import download

from ..support.family import QMNIST_FIELDS
from ..support.helpers import listing
from ..support.httpserver import FaultServer
from ..support.synth import NAMES


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


def test_builtin_registry_names_are_plain():
    for spec in registry.DATASETS.values():
        assert plain_name(spec.subdir) == spec.subdir
        for remote in spec.files:
            assert plain_name(remote.name) == remote.name


# -- MNIST and its siblings --------------------------------------------------------------------


@pytest.mark.realdata
def test_registry_matches_the_upstream_files(mnist_dir, mnist_sha256):
    spec = registry.get("mnist")
    assert all(f.algorithm == "sha256" for f in spec.files)
    for remote in spec.files:
        assert remote.size == (mnist_dir / remote.name).stat().st_size
        assert remote.digest == mnist_sha256[remote.name]
        # the content pin: sha256 of the bytes the standard library's gzip inflates
        idx = gzip.decompress((mnist_dir / remote.name).read_bytes())
        assert (remote.content_size, remote.content) == (len(idx), hashlib.sha256(idx).hexdigest())
    for name in ("fashion_mnist", "kmnist"):
        files = registry.get(name).files
        assert {f.algorithm for f in files} == {"sha256"}
        images = [f for f in files if "images" in f.name]
        assert {f.content for f in images} == {None}  # no verified copy to compute them from


@pytest.mark.realdata
def test_registry_mirror_order():
    """MNIST: per-file mirrors, keras's one-file copy last; Fashion-MNIST: keras's copy first."""
    mnist = registry.get("mnist")
    assert [download.is_whole(m) for m in mnist.mirrors] == [False, False, True]
    assert mnist.mirrors[-1].endswith("/tf-keras-datasets/mnist.npz")
    assert [w.name for w in mnist.whole_files] == ["mnist.npz"]
    assert all(m.startswith("https://") for m in mnist.mirrors)
    fashion = registry.get("fashion_mnist")
    assert fashion.mirrors[0] == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@pytest.mark.parametrize("module,size", [("fashion_mnist", 26421880), ("kmnist", 18165135)])
def test_sibling_datasets_download_with_their_registry_entries(
    module, size, synth, tmp_path, monkeypatch
):
    files, _, _ = synth  # MNIST-shaped files that are not the sibling's: refused by size
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError, match=rf"got \d+ bytes, expected {size}"):
            getattr(idxmnist, module).load_data(cache_dir=tmp_path)
        assert server.gets() == {f"/ok/{NAMES[0]}": 1}
    assert listing(tmp_path) == set()  # not even a lock: the call stored nothing


# -- EMNIST against the published facts --------------------------------------------------------


def facts_members(facts) -> dict[str, tuple[int, str]]:
    rows = {}
    for line in (facts / "emnist-members.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, size, digest = line.split("\t")
        rows[name] = (int(size), digest)
    return rows


def test_every_emnist_member_is_pinned_as_published(registry_facts):
    got = {}
    for split in emnist.SPLITS:
        spec = registry.get(f"emnist-{split}")
        assert spec.archive is not None and spec.archive is registry.get("emnist-mnist").archive
        for f in spec.files:
            assert f.algorithm == "sha256"
            got[spec.archive.member(f)] = (f.size, f.digest)
    assert got == facts_members(registry_facts)  # all 24, none other


NIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"


def test_the_emnist_archive_is_pinned_as_published(registry_facts):
    header = "".join(
        line
        for line in (registry_facts / "emnist-members.tsv").read_text().splitlines()
        if line.startswith("#")
    )
    archive = registry.get("emnist_letters").archive
    assert archive is not None
    assert f"sha256 {archive.file.digest}" in header
    assert f"md5 {archive.md5}" in header
    assert f"({archive.file.size / 2**20:.2f} MiB" in header
    spec = registry.get("emnist_letters")
    assert (
        spec.mirrors[0] + archive.file.name == NIST_URL == re.search(r"https://\S+zip", header)[0]
    )


def test_emnist_split_sizes_and_classes_as_published(registry_facts):
    readme = " ".join((registry_facts / "README.md").read_text().split())
    split_words = r"(byclass and bymerge|balanced|letters|digits|mnist)"
    sizes = dict(re.findall(split_words + r" ([\d,]+ / [\d,]+)", readme))
    sizes["byclass"] = sizes["bymerge"] = sizes.pop("byclass and bymerge")
    tail = readme[readme.index("EMNIST classes:") :]
    classes = dict(re.findall(r"(byclass|bymerge|balanced|letters|digits|mnist) (\d+)", tail))
    assert set(sizes) == set(classes) == set(emnist.SPLITS)
    for split in emnist.SPLITS:
        spec = registry.get(f"emnist_{split}")
        published = tuple(int(n.replace(",", "")) for n in sizes[split].split(" / "))
        assert (spec.splits[0].count, spec.splits[1].count) == published
        assert spec.num_classes == int(classes[split])
        assert spec.transposed and spec.subdir == "emnist"
    assert registry.get("emnist_letters").label_range == (1, 26)


# -- QMNIST against the publishers' table ------------------------------------------------------


def test_qmnist_files_are_pinned_as_published(registry_facts):
    published = {}
    base = None
    for line in (registry_facts / "qmnist-files.tsv").read_text().splitlines():
        if line.startswith("# Base URL:"):
            base = line.split(":", 1)[1].strip()
        if line.startswith("#") or not line.strip():
            continue
        name, size, digest = line.split("\t")
        published[name] = (int(size), digest)
    pinned = {}
    for name in ("qmnist", "qmnist_test10k", "qmnist_test50k", "qmnist_nist"):
        spec = registry.get(name)
        assert spec.mirrors == (base,)
        for f in spec.files:
            assert f.algorithm == "md5"
            pinned[f.name] = (f.size, f.digest)
    assert pinned == published


def test_qmnist_split_sizes_and_columns_as_published(registry_facts):
    readme = " ".join((registry_facts / "README.md").read_text().split())
    assert "train 60,000; test 60,000" in readme and "(`xnist-*`): 402,953" in readme
    sizes = {name: [s.size for s in registry.get(name).splits] for name in registry.DATASETS}
    assert sizes["qmnist"] == [60000, 60000]
    assert sizes["qmnist_test10k"] == [60000, 10000]
    assert sizes["qmnist_test50k"] == [60000, 50000]
    assert sizes["qmnist_nist"] == [402953]
    assert registry.get("qmnist_test10k").splits[1].rows == (0, 10000)
    # the eight columns, in the README's order, each with a name saying what it holds
    said = readme.split("The 8 label columns, in order:")[1].split(".")[0]
    meanings = [m.strip() for m in said.replace(" and ", ", ").split(",")]
    assert len(meanings) == len(qmnist.FIELDS) == 8
    for field, meaning in zip(qmnist.FIELDS, meanings, strict=True):
        words = {"digit": "class", "hsf_series": "hsf", "writer_id": "writer id"}
        words |= {"digit_index": "digit index", "nist_class": "class code"}
        words |= {"nist_index": "global nist", "duplicate": "duplicate", "unused": "unused"}
        assert words[field] in meaning.lower(), (field, meaning)
    assert qmnist.FIELDS == QMNIST_FIELDS


# -- Kuzushiji-49 against the published checksums ----------------------------------------------

#: the four npz files' sizes, from the same mirror's keys
SIZES = {
    "k49-train-imgs.npz": 66117696,
    "k49-train-labels.npz": 164485,
    "k49-test-imgs.npz": 10971201,
    "k49-test-labels.npz": 27450,
}


def test_k49_files_are_pinned_as_published(registry_facts):
    published = {}
    for line in (registry_facts / "k49-files.tsv").read_text().splitlines():
        if not line.startswith("#") and line.strip():
            name, digest = line.split("\t")
            published[name] = digest
    spec = registry.get("k49")
    assert {f.name: f.digest for f in spec.files} == published
    assert {f.name: f.size for f in spec.files} == SIZES
    assert all(f.algorithm == "md5" for f in spec.files)
    assert [s.count for s in spec.splits] == [232365, 38547] and spec.num_classes == 49
    assert spec.mirrors == ("http://codh.rois.ac.jp/kmnist/dataset/k49/",)
    readme = " ".join((registry_facts / "README.md").read_text().split())
    assert "232,365 train / 38,547 test images, 49 classes" in readme
