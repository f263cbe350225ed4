"""The MNIST test-label review: shipped as published, parsed as published, refused when damaged.

The reference is the published table in ``registry-facts/`` read here with
``csv``, and MNIST's real ``t10k-labels-idx1-ubyte.gz`` read with ``gzip`` and
``numpy.frombuffer``: never idxmnist's own reader.
"""

from __future__ import annotations

import csv
import doctest
import gzip
import tomllib
from pathlib import Path

import numpy as np
import pytest

from idxmnist import IdxError, mnist
from idxmnist.datasets import review

ROOT = Path(__file__).resolve().parents[2]
NAME = "mnist-test-label-review.tsv"


def published(path: Path) -> list[dict[str, int]]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(lines, delimiter="\t")]


def real_test_labels(mnist_dir: Path) -> np.ndarray:
    data = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert data[:4] == b"\x00\x00\x08\x01"
    return np.frombuffer(data, np.uint8, offset=8)


def test_the_shipped_table_is_the_published_one_byte_for_byte(registry_facts):
    assert review.REVIEW_FILE.read_bytes() == (registry_facts / NAME).read_bytes()
    header = review.REVIEW_FILE.read_text().splitlines()[:5]
    assert any("Apache License 2.0" in line for line in header)  # the attribution travels
    assert any("Northcutt, Athalye, Mueller" in line for line in header)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "datasets/data/mnist/*.tsv" in config["tool"]["setuptools"]["package-data"]["idxmnist"]


def test_100_rows_15_errors_13_guessed_as_given(registry_facts):
    rows = published(registry_facts / NAME)
    got = mnist.label_review()
    assert len(got) == len(rows) == 100
    for name in review.COLUMNS:
        assert got[name].tolist() == [r[name] for r in rows], name
    # the paper's rule, applied here to the published votes
    errors = [r["index"] for r in rows if r["votes_given"] < 3]
    assert len(errors) == 15
    assert got["index"][got["label_error"] == 1].tolist() == errors
    same = [r for r in rows if r["given"] == r["guessed"]]
    assert len(same) == 13  # kept as published: their votes count one choice twice
    assert all(r["votes_given"] == r["votes_guessed"] for r in same)
    assert not set(errors) & {r["index"] for r in same}


def test_every_given_label_is_mnists_test_label(mnist_dir):
    y_test = real_test_labels(mnist_dir)
    rows = mnist.label_review()
    assert (y_test[rows["index"]] == rows["given"]).all()
    review.check_given(review.load_review(), y_test, "t10k")  # and the check agrees
    shuffled = y_test.copy()
    shuffled[947], shuffled[948] = y_test[948], y_test[947]
    with pytest.raises(IdxError, match=r"^t10k: test label 947 is \d, but .* given label there"):
        review.check_given(review.load_review(), shuffled, "t10k")
    with pytest.raises(IdxError, match="MNIST's 10000 test labels"):
        review.check_given(review.load_review(), y_test[:5000], "half")


def test_the_test_columns_hold_each_row_at_its_index(registry_facts):
    rows = published(registry_facts / NAME)
    columns = review.review_columns(review.load_review())
    assert columns.shape == (10000, 6) and columns.dtype == np.int32
    reviewed = {r["index"]: r for r in rows}
    for i in (0, 246, 9999):
        assert columns[i].tolist() == [0, -1, 0, 0, 0, 0]
    for i, r in reviewed.items():
        expected = [1, r["guessed"], r["votes_given"], r["votes_guessed"], r["votes_neither"]]
        assert columns[i].tolist() == [*expected, int(r["votes_given"] < 3)]
    assert int(columns[:, 0].sum()) == 100 and int(columns[:, 5].sum()) == 15


def test_label_review_hands_out_a_copy():
    rows = mnist.label_review()
    rows["given"][:] = 0
    assert mnist.label_review()["given"][0] == 4  # index 247's label, unchanged
    assert not review.load_review().flags.writeable


H = review.HEADER


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("", "no header line"),
        ("# only a comment\n", "no header line"),
        (f"{H}\n", "holds no rows"),
        ("index\tgiven\n1\t2\n", r"line 1 is 'index\\tgiven', expected the header"),
        (f"{H}\n947\t8\t9\t0\t5\n", r"line 2 .* expected 6 whole numbers"),
        (f"{H}\n947\t8\t9\t0\t5\tx\n", r"expected 6 whole numbers"),
        (f"{H}\n-1\t8\t9\t0\t5\t0\n", r"expected 6 whole numbers"),
        (f"{H}\n10000\t8\t9\t0\t5\t0\n", r"an index into MNIST's test set \(0\.\.9999\)"),
        (f"{H}\n947\t10\t9\t0\t5\t0\n", r"labels 0\.\.9"),
        (f"{H}\n947\t8\t9\t1\t5\t0\n", r"votes adding up to 5"),
        (f"{H}\n720\t5\t5\t5\t4\t0\n", r"votes_given == votes_guessed"),
        (f"{H}\n720\t5\t5\t4\t4\t0\n", r"votes_given \+ votes_neither == 5"),
        (f"{H}\n947\t8\t9\t0\t5\t0\n947\t8\t9\t0\t5\t0\n", r"line 3 .*\(index 947 appears twice\)"),
    ],
)
def test_a_damaged_table_is_refused_naming_the_file_and_line(text, pattern):
    with pytest.raises(IdxError, match=pattern) as caught:
        review.parse_review(text, "review.tsv")
    assert str(caught.value).startswith("review.tsv: ")


def test_a_damaged_file_is_refused_bounded_and_as_text(tmp_path):
    big = tmp_path / "big.tsv"
    big.write_bytes(b"#" * (review.MAX_BYTES + 1))
    with pytest.raises(IdxError, match="too large for the label review"):
        review.load_review(big)
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"\xff\xfe" + H.encode())
    with pytest.raises(IdxError, match="not UTF-8 text"):
        review.load_review(binary)
    cut = tmp_path / "cut.tsv"
    cut.write_text(review.REVIEW_FILE.read_text()[:-40])  # the last row cut in half
    with pytest.raises(IdxError, match=rf"^{cut}: line \d+ .*: restore the file"):
        review.load_review(cut)


def test_the_docstring_examples_run():
    result = doctest.testmod(review)
    assert result.failed == 0 and result.attempted >= 3
