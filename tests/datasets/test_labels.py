"""Labels as a dataset stores them: checked against the classes and columns, handed out two ways.

``check_labels`` refuses labels that are not the dataset's, word for word,
with the bounds exactly where the classes and columns put them (the first
and the last valid value pass, one past either is refused, and so is a split
of one example); ``classes`` and ``records`` hand out a QMNIST-style label
matrix as MNIST's ``(N,)`` uint8 labels or as named int32 fields of the same
memory. The loaders' use of them: ``tests/test_qmnist.py`` and
``tests/load/test_assemble.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import catalog, registry
from idxmnist.datasets.labels import check_labels, classes, record_dtype, records
from idxmnist.datasets.spec import Column

from ..support.synth import make_dataset

FIELDS = [c.name for c in catalog.QMNIST_COLUMNS]


def qmnist_rows(n: int) -> np.ndarray:
    """``n`` valid QMNIST label rows, every column different from the others."""
    y = np.zeros((n, 8), np.int32)
    y[:, 0] = np.arange(n) % 10  # digit
    y[:, 1] = 4  # hsf_series
    y[:, 2] = 1000 + np.arange(n)  # writer_id
    y[:, 3] = 7  # digit_index
    y[:, 4] = 30 + np.arange(n) % 10  # nist_class
    y[:, 5] = 11  # global_index
    return y


def with_columns(*columns: Column):
    """QMNIST's entry with its first columns replaced (checked as a registered entry is)."""
    spec = registry.get("qmnist")
    return replace(spec, columns=(*columns, *spec.columns[len(columns) :]))


def refusal(y, spec, name="<y>") -> str:
    with pytest.raises(idxmnist.IdxError) as info:
        check_labels(y, spec, name)
    return str(info.value)


# -- plain labels ---------------------------------------------------------------------------


def test_plain_labels_pass_from_the_first_class_to_the_last():
    check_labels(np.array([0, 9, 3], np.uint8), registry.get("mnist"), "<y>")
    letters = registry.get("emnist_letters")  # labels 1..26, no 0
    check_labels(np.array([1, 26], np.uint8), letters, "<y>")
    check_labels(np.array([1], np.uint8), letters, "<y>")
    check_labels(np.zeros(0, np.uint8), letters, "<y>")  # an empty split has no bad label


def test_a_plain_label_one_past_either_end_of_the_classes_is_refused_word_for_word():
    letters = registry.get("emnist_letters")
    tail = "the labels are not this dataset's, or the file is damaged"
    assert refusal(np.array([5, 27], np.uint8), letters, "f.gz") == (
        f"f.gz: holds label 27, outside 1..26; {tail}"
    )
    assert refusal(np.array([0, 5], np.uint8), letters, "f.gz") == (
        f"f.gz: holds label 0, outside 1..26; {tail}"
    )
    # a split of a single example is checked as well
    assert refusal(np.array([27], np.uint8), letters, "f.gz").startswith("f.gz: holds label 27,")
    assert refusal(np.array([10], np.uint8), registry.get("mnist"), "f.gz").startswith(
        "f.gz: holds label 10, outside 0..9;"
    )


@pytest.mark.parametrize(
    "y", [np.zeros((3, 1), np.uint8), np.zeros(3, np.int16), np.zeros((3, 2), np.int8)]
)
def test_plain_labels_must_be_1d_uint8(y):
    assert refusal(y, registry.get("mnist"), "f.gz") == (
        f"f.gz: expected 1-D uint8 labels, got {y.dtype} {y.shape}"
    )


def test_a_single_label_out_of_range_refuses_a_folder_of_idx_files(tmp_path):
    """Through the public API: one test example, labelled 10, in an MNIST-shaped folder."""
    make_dataset(tmp_path, n_train=5, n_test=1)
    idxmnist.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([10], np.uint8))
    with pytest.raises(idxmnist.IdxError, match=r"t10k-labels-idx1-ubyte\.gz: holds label 10"):
        idxmnist.load_idx_dataset(tmp_path)
    idxmnist.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([9], np.uint8))
    (_, _), (_, y_test) = idxmnist.load_idx_dataset(tmp_path)
    assert y_test.tolist() == [9]


# -- label matrices -------------------------------------------------------------------------


def test_a_valid_label_matrix_passes_with_its_columns_at_their_bounds():
    spec = registry.get("qmnist")
    y = qmnist_rows(10)
    y[0, 0], y[1, 0] = 0, 9  # digit 0..9
    y[0, 4], y[1, 4] = 30, 39  # nist_class 30..39
    y[2, 2] = 0  # writer_id 0 or more
    check_labels(y, spec, "<y>")
    check_labels(qmnist_rows(1), spec, "<y>")
    check_labels(np.zeros((0, 8), np.int32), spec, "<y>")


@pytest.mark.parametrize(
    "y",
    [
        qmnist_rows(3)[:, :7].copy(),  # a column short
        np.zeros((3, 9), np.int32),  # a column more
        qmnist_rows(3).astype(np.int64),  # the right shape, another type
        qmnist_rows(3)[:, 0].copy(),  # one column as a 1-D array
        qmnist_rows(3).reshape(3, 8, 1),  # 3-D
    ],
    ids=["7-columns", "9-columns", "int64", "1-d", "3-d"],
)
def test_a_label_matrix_of_another_shape_or_type_is_refused_word_for_word(y):
    assert refusal(y, registry.get("qmnist"), "f.gz") == (
        f"f.gz: expected an (N, 8) int32 label matrix (columns {', '.join(FIELDS)}), "
        f"got {y.dtype} {y.shape}; the file holds other labels than this dataset's"
    )


@pytest.mark.parametrize(
    "column, value, span",
    [
        (0, 10, "0..9"),
        (0, -1, "0..9"),
        (4, 40, "30..39"),
        (4, 29, "30..39"),
        (2, -1, "0 or more"),
        (5, -1, "0 or more"),
    ],
)
def test_a_column_value_one_past_its_range_is_refused_word_for_word(column, value, span):
    y = qmnist_rows(4)
    y[3, column] = value
    assert refusal(y, registry.get("qmnist"), "f.gz") == (
        f"f.gz: column {column} ({FIELDS[column]}) holds {value}, outside {span}; "
        "the labels are not this dataset's, or the file is damaged"
    )
    one = qmnist_rows(1)
    one[0, column] = value
    assert refusal(one, registry.get("qmnist"), "f.gz").startswith(
        f"f.gz: column {column} ({FIELDS[column]}) holds {value},"
    )


def test_only_the_class_column_is_bounded_by_the_classes():
    y = qmnist_rows(3)
    y[:, 2] = [0, 10, 123456]  # writer IDs far past the ten classes
    check_labels(y, registry.get("qmnist"), "<y>")


def test_the_class_column_is_bounded_by_both_its_own_range_and_the_classes():
    unbounded = with_columns(Column("digit", -5))  # no upper bound of its own: the classes' 9
    y = qmnist_rows(3)
    y[1, 0] = 10
    assert "column 0 (digit) holds 10, outside 0..9;" in refusal(y, unbounded)
    y[1, 0] = -1  # its own range allows -1; the classes do not
    assert "column 0 (digit) holds -1, outside 0..9;" in refusal(y, unbounded)
    narrow = with_columns(Column("digit", 2, 20))  # narrower below, wider above
    y = qmnist_rows(3)
    y[:, 0] = [2, 9, 5]
    check_labels(y, narrow, "<y>")
    y[1, 0] = 1
    assert "column 0 (digit) holds 1, outside 2..9;" in refusal(y, narrow)
    y[1, 0] = 10
    assert "column 0 (digit) holds 10, outside 2..9;" in refusal(y, narrow)
    low = with_columns(Column("digit", 0, 4))  # narrower above
    y[:, 0] = [2, 4, 3]
    check_labels(y, low, "<y>")
    y[1, 0] = 5
    assert "column 0 (digit) holds 5, outside 0..4;" in refusal(y, low)


# -- handing a matrix out ---------------------------------------------------------------------


def test_records_are_named_int32_fields_over_the_same_memory():
    y = qmnist_rows(3)
    out = records(y, registry.get("qmnist"))
    assert out.shape == (3,) and list(out.dtype.names) == FIELDS
    assert np.shares_memory(out, y)
    for i, name in enumerate(FIELDS):
        assert out[name].dtype == np.int32
        assert out[name].tolist() == y[:, i].tolist()
    assert record_dtype(registry.get("qmnist")) == out.dtype


def test_classes_are_the_first_column_as_mnist_labels():
    y = qmnist_rows(12)
    out = classes(y, registry.get("qmnist"))
    assert out.dtype == np.uint8 and out.shape == (12,)
    assert out.tolist() == [i % 10 for i in range(12)]
    plain = np.array([3, 1], np.uint8)
    assert classes(plain, registry.get("mnist")) is plain


def test_a_dataset_of_plain_labels_has_no_records():
    with pytest.raises(ValueError) as info:
        record_dtype(registry.get("mnist"))
    assert str(info.value) == "mnist stores plain class labels, not a label matrix"


def test_named_gives_int32_fields_from_any_integer_matrix():
    from idxmnist.datasets.labels import named

    wide = np.arange(6, dtype=np.int64).reshape(3, 2) * 1000
    out = named(wide, ["a", "b"])
    assert out.shape == (3,) and out.dtype == np.dtype([("a", np.int32), ("b", np.int32)])
    assert out["a"].tolist() == [0, 2000, 4000] and out["b"].tolist() == [1000, 3000, 5000]
    every_other = qmnist_rows(4)[:, ::2]  # not contiguous
    out = named(every_other, ["digit", "writer_id", "nist_class", "duplicate"])
    assert out["nist_class"].tolist() == qmnist_rows(4)[:, 4].tolist()
