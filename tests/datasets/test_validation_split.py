"""validation_split: pinned, stratified by class, writer-disjoint on the real MNIST and QMNIST.

The references are independent of idxmnist: SplitMix64's published outputs
(Rosetta Code, "Pseudo-random numbers/Splitmix64") and a pure-Python
SplitMix64 here; exact class quotas computed with ``fractions``; the real
label files read with ``gzip``/``lzma`` and ``numpy.frombuffer``.
"""

from __future__ import annotations

import doctest
import gzip
import lzma
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import idxmnist
from idxmnist import qmnist, validation_split
from idxmnist.datasets.validation import splitmix64, targets

from ..support.family import QMNIST_FIELDS, is_mapped, qmnist_release, qmnist_specs

MASK = (1 << 64) - 1
RECORD = np.dtype([(name, np.int32) for name in QMNIST_FIELDS])


def reference_splitmix64(seed: int, k: int) -> int:
    """The (k + 1)-th output of SplitMix64 from state ``seed``, in plain Python integers."""
    z = (seed + (k + 1) * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def label_matrix(path: Path) -> np.ndarray:
    """A QMNIST label file as records, read with the standard library and frombuffer."""
    opener = lzma.open if path.suffix == ".xz" else gzip.open
    with opener(path) as f:
        data = f.read()
    assert data[:4] == b"\x00\x00\x0c\x02"
    rows, cols = np.frombuffer(data, ">i4", 2, 4)
    matrix = np.frombuffer(data, ">i4", offset=12).reshape(rows, cols).astype(np.int32)
    return matrix.view(RECORD).reshape(rows)


def mnist_labels(path: Path) -> np.ndarray:
    data = gzip.decompress(path.read_bytes())
    return np.frombuffer(data, np.uint8, offset=8)


@pytest.fixture(scope="module")
def train(qmnist_dir, mnist_dir):
    records = label_matrix(qmnist_dir / "qmnist-train-labels-idx2-int.gz")
    y = mnist_labels(mnist_dir / "train-labels-idx1-ubyte.gz")
    assert (records["digit"] == y).all()  # these are MNIST's training labels, in order
    return records


def deviation(digit: np.ndarray, part: np.ndarray) -> float:
    """The largest gap, in percentage points, between a class's share in ``part`` and overall."""
    whole = np.bincount(digit, minlength=10) / len(digit)
    share = np.bincount(digit[part], minlength=10) / len(part)
    return float(np.abs(share - whole).max() * 100)


# -- the pinned algorithm -------------------------------------------------------------------


def test_splitmix64_gives_the_published_outputs():
    assert splitmix64(1234567, np.arange(5)).tolist() == [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    assert splitmix64(0, np.arange(1)).tolist() == [0xE220A8397B1DCDAF]


@given(st.integers(0, MASK), st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=20))
def test_splitmix64_is_the_reference_for_any_seed_and_id(seed, ids):
    got = splitmix64(seed, np.array(ids, dtype=np.int64)).tolist()
    assert got == [reference_splitmix64(seed, k) for k in ids]


def test_a_seed_gives_these_indices():
    """The split itself is pinned: a change of algorithm changes these and fails here."""
    y = np.arange(1000) % 10
    _, val = validation_split(y, seed=0)
    assert val[:8].tolist() == [2, 32, 33, 41, 42, 43, 53, 76]
    _, val = validation_split(y, 0.25, seed=12345)
    assert val[:8].tolist() == [0, 1, 2, 3, 6, 10, 20, 22]


@pytest.mark.realdata
def test_a_seed_gives_these_writers_on_real_mnist(train):
    _, val = validation_split(train, by="writer", seed=0)
    assert (len(val), len(np.unique(train["writer_id"][val]))) == (5999, 54)
    assert val[:5].tolist() == [52, 56, 74, 78, 176]
    assert np.unique(train["writer_id"][val])[:5].tolist() == [2, 32, 33, 41, 42]
    _, val = validation_split(train, 0.02, by="writer", seed=7)
    assert val[:5].tolist() == [30, 170, 342, 460, 698]


def test_the_same_split_in_another_process():
    code = (
        "import numpy as np; from idxmnist import validation_split as v\n"
        "y = np.arange(5000) % 7\n"
        "print(v(y, 0.3, seed=99)[1].sum())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert int(run.stdout) == int(validation_split(np.arange(5000) % 7, 0.3, seed=99)[1].sum())


# -- by class -----------------------------------------------------------------------------


def test_targets_are_the_largest_remainders_of_the_exact_quotas():
    counts = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    for total in (1, 7, 1200, 6000, 59999):
        quotas = [Fraction(total * int(c), int(counts.sum())) for c in counts]
        floors = [q.numerator // q.denominator for q in quotas]
        left = total - sum(floors)
        by_remainder = sorted(range(10), key=lambda i: (-(quotas[i] - floors[i]), i))
        expected = [f + (i in by_remainder[:left]) for i, f in enumerate(floors)]
        assert targets(counts, total).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=4, max_size=300),
    st.floats(0.05, 0.95),
    st.integers(0, MASK),
)
def test_by_class_is_a_stratified_partition(labels, fraction, seed):
    y = np.array(labels, dtype=np.uint8)
    size = int(np.floor(fraction * len(y) + 0.5))
    if not 0 < size < len(y):
        with pytest.raises(ValueError, match="leaves one side empty"):
            validation_split(y, fraction, seed=seed)
        return
    train_idx, val = validation_split(y, fraction, seed=seed)
    assert train_idx.dtype == val.dtype == np.int64
    assert np.array_equal(np.sort(np.concatenate([train_idx, val])), np.arange(len(y)))
    assert (np.diff(train_idx) > 0).all() and (np.diff(val) > 0).all()
    classes, counts = np.unique(y, return_counts=True)
    want = dict(zip(classes.tolist(), targets(counts, size).tolist(), strict=True))
    for c in classes.tolist():
        members = np.flatnonzero(y == c)
        chosen = np.intersect1d(members, val)
        assert len(chosen) == want[c]
        # the smallest keys of the class, by the reference generator
        keys = {int(i): reference_splitmix64(seed, int(i)) for i in members}
        rest = set(members.tolist()) - set(chosen.tolist())
        if len(chosen) and rest:
            assert max(keys[int(i)] for i in chosen) < min(keys[i] for i in rest)


@pytest.mark.realdata
def test_by_class_on_real_mnist_matches_the_whole(mnist_dir):
    y = mnist_labels(mnist_dir / "train-labels-idx1-ubyte.gz")
    for seed in range(3):
        train_idx, val = validation_split(y, seed=seed)
        assert len(val) == 6000
        assert deviation(y, val) < 0.01 and deviation(y, train_idx) < 0.01
    a, b = validation_split(y, seed=1)[1], validation_split(y, seed=2)[1]
    assert len(np.intersect1d(a, b)) < 1000  # another seed, another split


# -- by writer, on the real files ---------------------------------------------------------------


@pytest.mark.realdata
def test_mnist_writers_539_and_297_none_in_both(qmnist_dir, mnist_dir):
    train_w = label_matrix(qmnist_dir / "qmnist-train-labels-idx2-int.gz")["writer_id"]
    test = label_matrix(qmnist_dir / "qmnist-test-labels-idx2-int.gz")[:10000]
    assert (test["digit"] == mnist_labels(mnist_dir / "t10k-labels-idx1-ubyte.gz")).all()
    assert len(np.unique(train_w)) == 539 and len(np.unique(test["writer_id"])) == 297
    assert not np.intersect1d(train_w, test["writer_id"]).size


@pytest.mark.realdata
@pytest.mark.parametrize("fraction,bound", [(0.1, 0.5), (0.02, 2.0)])
def test_writer_splits_are_disjoint_and_balanced_for_seeds_0_to_9(train, fraction, bound):
    """The issue's bounds: within 0.5 points at 10% and 2 points at 2%, both sides."""
    worst = 0.0
    for seed in range(10):
        train_idx, val = validation_split(train, fraction, by="writer", seed=seed)
        assert np.array_equal(np.sort(np.concatenate([train_idx, val])), np.arange(len(train)))
        writers_val = set(train["writer_id"][val].tolist())
        assert not writers_val & set(train["writer_id"][train_idx].tolist())
        # whole writers: every digit of a validation writer is in validation
        assert np.isin(train["writer_id"], list(writers_val)).sum() == len(val)
        assert abs(len(val) - fraction * len(train)) <= 0.01 * fraction * len(train)
        for part in (train_idx, val):
            worst = max(worst, deviation(train["digit"], part))
    assert worst < bound
    # measured here (docs/datasets.md quotes them): the choice does much better than the bound
    assert worst < {0.1: 0.05, 0.02: 0.2}[fraction]


@pytest.mark.realdata
def test_writers_chosen_beat_writers_at_random(train):
    """The balancing is real: a random set of whole writers of the same size strays further."""
    seed = 3
    _, val = validation_split(train, 0.02, by="writer", seed=seed)
    rng = np.random.default_rng(seed)
    ids = np.unique(train["writer_id"])
    strays = []
    for _ in range(20):
        picked = rng.permutation(ids)[: len(np.unique(train["writer_id"][val]))]
        chosen = np.flatnonzero(np.isin(train["writer_id"], picked))
        strays.append(deviation(train["digit"], chosen))
    assert deviation(train["digit"], val) < np.median(strays) / 3


@pytest.mark.realdata
def test_qmnist_test_set_and_the_nist_set_split_by_writer(qmnist_dir):
    test = label_matrix(qmnist_dir / "qmnist-test-labels-idx2-int.gz")
    nist = label_matrix(qmnist_dir / "xnist-labels-idx2-int.xz")
    assert len(test) == 60000 and len(nist) == 402953
    # a writer ID alone identifies a writer: each one belongs to one HSF series
    pairs = np.unique(np.stack([nist["writer_id"], nist["hsf_series"]]), axis=1)
    assert pairs.shape[1] == len(np.unique(nist["writer_id"])) == 3579
    for records in (test, nist):
        train_idx, val = validation_split(records, by="writer", seed=0)
        assert not np.intersect1d(records["writer_id"][val], records["writer_id"][train_idx]).size
        for part in (train_idx, val):
            assert deviation(records["digit"], part) < 0.5


@pytest.mark.realdata
def test_the_duplicate_column_holds_what_the_docs_say(qmnist_dir):
    train = label_matrix(qmnist_dir / "qmnist-train-labels-idx2-int.gz")
    test = label_matrix(qmnist_dir / "qmnist-test-labels-idx2-int.gz")
    nist = label_matrix(qmnist_dir / "xnist-labels-idx2-int.xz")
    assert not train["duplicate"].any() and not test["duplicate"].any()
    rows = np.flatnonzero(nist["duplicate"])
    assert rows.tolist() == [95988, 158235, 223125]
    original = nist["duplicate"][rows]
    assert original.tolist() == [95890, 158226, 223124]
    # the row a duplicate points at: the same writer, the same digit, so one side of a split
    assert (nist["writer_id"][original] == nist["writer_id"][rows]).all()
    assert (nist["digit"][original] == nist["digit"][rows]).all()
    assert (nist["nist_index"] == np.arange(len(nist))).all()


def test_qmnist_load_data_extended_splits_by_writer(tmp_path, registered):
    release = qmnist_release(tmp_path / "src", n_train=200, n_test=40)
    registered(*qmnist_specs(release))
    (x, y), _ = qmnist.load_data(extended=True, source=release.root, cache_dir=tmp_path / "c")
    (x, y), _ = qmnist.load_data(extended=True, cache_dir=tmp_path / "c")
    assert is_mapped(y)  # memory-mapped records: the split only reads them
    train_idx, val = validation_split(y, 0.2, by="writer", seed=5)
    assert not np.intersect1d(y["writer_id"][val], y["writer_id"][train_idx]).size
    assert x[val].shape == (len(val), *x.shape[1:])


# -- what it refuses ----------------------------------------------------------------------


def test_by_writer_without_writers_says_who_has_none():
    y = np.arange(100, dtype=np.uint8) % 10  # EMNIST's labels, or any plain y_train
    with pytest.raises(ValueError, match=r"EMNIST's files carry none") as caught:
        validation_split(y, by="writer")
    assert "mnist.load_data(extended=True)" in str(caught.value)
    assert validation_split(y)[1].size == 10  # by class, as for every dataset


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"fraction": 0.0}, ValueError, "strictly between 0 and 1"),
        ({"fraction": 1.0}, ValueError, "strictly between 0 and 1"),
        ({"fraction": float("nan")}, ValueError, "strictly between 0 and 1"),
        ({"fraction": True}, TypeError, "fraction must be a number"),
        ({"fraction": "0.1"}, TypeError, "fraction must be a number"),
        ({"fraction": 0.001}, ValueError, "leaves one side empty"),
        ({"seed": -1}, ValueError, r"seed must lie in 0\.\.2\*\*64-1"),
        ({"seed": 1 << 64}, ValueError, r"seed must lie in 0\.\.2\*\*64-1"),
        ({"seed": 1.5}, TypeError, "seed must be a whole number"),
        ({"seed": True}, TypeError, "seed must be a whole number"),
        ({"by": "writers"}, ValueError, "by must be 'class' or 'writer'"),
    ],
)
def test_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        validation_split(np.arange(100) % 10, **kwargs)


def test_bad_labels():
    with pytest.raises(ValueError, match="must be 1-D"):
        validation_split(np.zeros((10, 2), np.uint8))
    with pytest.raises(ValueError, match="integer classes"):
        validation_split(np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match="no 'digit' field"):
        validation_split(np.zeros(10, dtype=[("writer_id", np.int32)]))
    one_writer = np.zeros(10, dtype=RECORD)
    one_writer["digit"] = np.arange(10)
    with pytest.raises(ValueError, match="the 1 writers cannot be shared out"):
        validation_split(one_writer, by="writer")
    assert validation_split(np.arange(10) % 2, seed=np.uint64(7))[1].size == 1


def test_public_and_lazy():
    assert idxmnist.validation_split is validation_split
    assert "validation_split" in idxmnist.__all__


def test_the_docstring_examples_run():
    from idxmnist.datasets import validation

    result = doctest.testmod(validation)
    assert result.failed == 0 and result.attempted >= 6
