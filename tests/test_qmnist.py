"""QMNIST: the test choices, extended labels as named fields, and the nist set.

Loading is checked on a small synthetic release with the real file names
(``tests/support/family.py``): ``(N, 8)`` int32 label matrices in gzip and
in xz, each also written as a TSV by the test; every named field is compared
with its TSV column, parsed with ``csv``. Through ``source=DIR`` and through
a download from a local HTTP server under specs registered at run time. (The
registry against the publishers' table: ``tests/datasets/test_catalog.py``.)
"""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

import idxmnist
from idxmnist import cli, qmnist
from idxmnist.datasets import catalog
from idxmnist.datasets.spec import Column

from .support.family import (
    NIST_NAMES,
    QMNIST_FIELDS,
    QMNIST_NAMES,
    gz,
    idx_bytes,
    is_mapped,
    listing,
    qmnist_release,
    qmnist_specs,
    read_tsv,
)
from .support.httpserver import FaultServer


@pytest.fixture
def release(tmp_path, registered):
    rel = qmnist_release(tmp_path / "src")
    registered(*qmnist_specs(rel))
    return rel


@pytest.mark.parametrize("test", ["test", "test10k", "test50k"])
def test_test_choices_and_plain_labels(test, release, tmp_path):
    a = release.arrays
    cut = len(a["x_test"]) // 3
    rows = {"test": slice(None), "test10k": slice(0, cut), "test50k": slice(cut, None)}[test]
    (x, y), (xt, yt) = qmnist.load_data(test=test, source=release.root, cache_dir=tmp_path / "c")
    assert np.array_equal(x, a["x_train"]) and np.array_equal(xt, a["x_test"][rows])
    tsv_train = read_tsv(release.extra["tsv"] / "y_train.tsv")
    tsv_test = read_tsv(release.extra["tsv"] / "y_test.tsv")
    assert y.dtype == yt.dtype == np.uint8 and y.ndim == yt.ndim == 1  # MNIST's labels
    assert y.tolist() == tsv_train["digit"]
    assert yt.tolist() == tsv_test["digit"][rows]


def test_extended_labels_are_named_fields_equal_to_the_tsv(release, tmp_path):
    cache = tmp_path / "c"
    (_, y), (_, yt) = qmnist.load_data(extended=True, source=release.root, cache_dir=cache)
    for got, key in ((y, "y_train"), (yt, "y_test")):
        tsv = read_tsv(release.extra["tsv"] / f"{key}.tsv")
        assert got.dtype.names == QMNIST_FIELDS
        assert got.shape == (len(tsv["digit"]),)
        for name in QMNIST_FIELDS:
            assert got[name].dtype == np.int32
            assert got[name].tolist() == tsv[name], name
    # the fields survive the cache: a hit, memory-mapped, no pickle
    (_, y2), (_, yt2) = qmnist.load_data(test="test50k", extended=True, cache_dir=cache)
    cut = len(yt) // 3
    assert y2.dtype.names == QMNIST_FIELDS and is_mapped(y2) and is_mapped(yt2)
    assert y2.tolist() == y.tolist() and yt2.tolist() == yt[cut:].tolist()
    with np.load(cache / "qmnist.idxmnist.npz", allow_pickle=False) as z:  # what is stored
        assert z["y_test"].dtype == np.int32 and z["y_test"].shape == (len(yt), 8)
    assert {p for p in listing(cache) if "/" not in p and not p.startswith(".")} == {
        "qmnist.idxmnist.npz",
        "qmnist",  # the store: the source's four files, verified and kept
    }


def test_nist_set_from_xz(release, tmp_path):
    x, y = qmnist.load_nist(source=release.root, cache_dir=tmp_path / "c")
    assert np.array_equal(x, release.arrays["x_nist"])
    assert y.tolist() == read_tsv(release.extra["tsv"] / "y_nist.tsv")["digit"]
    x2, info = qmnist.load_nist(extended=True, cache_dir=tmp_path / "c")
    assert is_mapped(x2) and is_mapped(info)
    tsv = read_tsv(release.extra["tsv"] / "y_nist.tsv")
    assert {name: info[name].tolist() for name in QMNIST_FIELDS} == tsv
    assert (tmp_path / "c" / "qmnist-nist.idxmnist.npz").is_file()


def test_download_from_a_local_server_under_registered_specs(
    release, tmp_path, monkeypatch, registered
):
    cache = tmp_path / "cache"
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with FaultServer(release.files) as server:
        registered(*qmnist_specs(release, mirrors=(server.url(),)))
        (x, y), (xt, yt) = qmnist.load_data(test="test10k", extended=True, cache_dir=cache)
        x_nist, _ = qmnist.load_nist(cache_dir=cache)
        assert server.gets() == {f"/ok/{n}": 1 for n in (*QMNIST_NAMES, *NIST_NAMES)}
    cut = len(release.arrays["x_test"]) // 3
    assert np.array_equal(xt, release.arrays["x_test"][:cut])
    assert (
        yt["writer_id"].tolist() == read_tsv(release.extra["tsv"] / "y_test.tsv")["writer_id"][:cut]
    )
    assert np.array_equal(x_nist, release.arrays["x_nist"])
    assert sorted(
        p for p in listing(cache) if p.startswith("qmnist/") and not p.startswith("qmnist/.")
    ) == [f"qmnist/{n}" for n in sorted((*QMNIST_NAMES, *NIST_NAMES))]


def test_unknown_test_choice():
    with pytest.raises(ValueError, match="test must be one of test, test10k, test50k"):
        qmnist.load_data(test="test60k")


# -- bad label files ---------------------------------------------------------------------------


def bad_label_files(release) -> dict[str, tuple[bytes, str]]:
    y = release.arrays["y_test"]
    out = {}
    out["seven-columns"] = (
        gz(idx_bytes(y[:, :7].copy())),
        r"expected an \(N, 8\) int32 label matrix",
    )
    out["uint8-labels"] = (gz(idx_bytes(y[:, 0].astype(np.uint8))), r"expected an \(N, 8\) int32")
    wrong = y.copy()
    wrong[3, 0] = 10
    out["class-10"] = (gz(idx_bytes(wrong)), r"column 0 \(digit\) holds 10, outside 0\.\.9")
    wrong = y.copy()
    wrong[5, 4] = 40
    out["nist-class-40"] = (
        gz(idx_bytes(wrong)),
        r"column 4 \(nist_class\) holds 40, outside 30\.\.39",
    )
    wrong = y.copy()
    wrong[1, 2] = -1
    out["negative-writer"] = (
        gz(idx_bytes(wrong)),
        r"column 2 \(writer_id\) holds -1, outside 0 or more",
    )
    out["fewer-rows"] = (gz(idx_bytes(y[:-1].copy())), r"holds \d+ images but .* holds \d+ labels")
    return out


@pytest.mark.parametrize(
    "case",
    ["class-10", "fewer-rows", "negative-writer", "nist-class-40", "seven-columns", "uint8-labels"],
)
def test_bad_label_file_names_the_file_and_leaves_nothing(case, release, tmp_path, registered):
    data, pattern = bad_label_files(release)[case]
    src = tmp_path / "bad"
    shutil.copytree(release.root, src)
    (src / "qmnist-test-labels-idx2-int.gz").write_bytes(data)
    # pinned as it is: only the label checks can refuse it (an unpinned bad file is
    # refused before, by its checksum, as test_sources' one-pixel tests show)
    release.files["qmnist-test-labels-idx2-int.gz"] = data
    registered(*qmnist_specs(release))
    cache = tmp_path / "cache"
    with pytest.raises(idxmnist.IdxError, match=pattern) as info:
        qmnist.load_data(source=src, cache_dir=cache)
    assert "qmnist-test-labels-idx2-int.gz" in str(info.value)
    assert not [p for p in listing(cache) if p.endswith(".npz")]  # no cache written


def test_every_bad_label_case_is_run(release):
    assert len(bad_label_files(release)) == 6


# -- the command line --------------------------------------------------------------------------


def test_info_names_the_columns_of_a_label_file(release, capsys):
    path = release.root / "qmnist-test-labels-idx2-int.gz"
    assert cli.main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    y = release.arrays["y_test"]
    assert "IDX int32 (type 0x0C) shape (25, 8)" in out
    for i, name in enumerate(QMNIST_FIELDS):
        want = f"column {i}  {name:<11}  {y[:, i].min()}..{y[:, i].max()}"
        assert want in out, want
    counts = np.bincount(y[:, 0], minlength=10)
    assert "label counts  " + " ".join(f"{c}:{n}" for c, n in enumerate(counts)) in out


def test_info_on_an_unnamed_8_column_matrix_and_on_xz(release, tmp_path, capsys):
    raw = tmp_path / "labels-idx2-int"
    raw.write_bytes(gzip.decompress(release.files["qmnist-train-labels-idx2-int.gz"]))
    assert cli.main(["info", str(raw), str(release.root / "xnist-labels-idx2-int.xz")]) == 0
    out = capsys.readouterr().out
    assert out.count("extended labels, 8 columns:") == 2 and ", xz, " in out


def test_preview_qmnist_and_nist(release, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert (
        cli.main(
            [
                "preview",
                "--dataset",
                "qmnist-test50k",
                "--split",
                "test",
                "--source",
                str(release.root),
                "--n",
                "10",
            ]
        )
        == 0
    )
    assert re.match(r"\d ", capsys.readouterr().out)
    assert cli.main(["preview", "--dataset", "qmnist-nist", "--source", str(release.root)]) == 0
    with pytest.raises(SystemExit) as exit_:
        cli.main(["preview", "--dataset", "qmnist-nist", "--split", "train"])
    assert exit_.value.code == 2
    assert "qmnist_nist has splits nist, not 'train'" in capsys.readouterr().err


def test_registered_column_ranges_are_checked(release, tmp_path, registered):
    """A registered spec's own column ranges apply: ``duplicate`` 0..0 refuses the release."""
    columns = list(catalog.QMNIST_COLUMNS)
    columns[6] = Column("duplicate", 0, 0)
    registered(replace(qmnist_specs(release)[0], columns=tuple(columns)))
    with pytest.raises(
        idxmnist.IdxError, match=r"column 6 \(duplicate\) holds \d+, outside 0\.\.0"
    ):
        qmnist.load_data(source=release.root, cache_dir=tmp_path)
