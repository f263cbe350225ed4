"""The MNIST test labels people reviewed: the published facts, parsed and checked.

Northcutt, Athalye and Mueller ("Pervasive Label Errors in Test Sets
Destabilize Machine Learning Benchmarks", NeurIPS 2021 Datasets and
Benchmarks) had five Mechanical Turk workers look at 100 MNIST test images
a model flagged. Their votes ship as package data,
``data/mnist/mnist-test-label-review.tsv``, copied unchanged with its header
(the source, cleanlab/label-errors' ``mturk/mnist_mturk.json``, and its
licence, Apache 2.0). One row per image::

    index  given  guessed  votes_given  votes_guessed  votes_neither

``index`` is the position in MNIST's test set (upstream order), ``given``
the MNIST label, ``guessed`` the label the paper's model proposed, and the
votes how many of the five workers chose the given label, the guessed one,
or neither. The paper judges a row a **label error** when fewer than 3 of 5
chose the given label: 15 rows. The facts are kept as published: in 13 rows
the guessed label is the given one, and their votes count that one choice
twice (``votes_given == votes_guessed``, ``votes_given + votes_neither == 5``);
in every other row the three counts add up to 5. The parser checks exactly
that, so a damaged table is refused with :class:`IdxError` naming the file
and the line.

>>> rows = parse_review(HEADER + "\\n947\\t8\\t9\\t0\\t5\\t0\\n", "review.tsv")
>>> rows["index"].tolist(), rows["label_error"].tolist()
([947], [1])
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import IdxError
from .classes import DATA_DIR

__all__ = [
    "REVIEW_FILE",
    "COLUMNS",
    "HEADER",
    "VOTERS",
    "ERROR_BELOW",
    "TEST_SIZE",
    "TEST_FIELDS",
    "review_dtype",
    "parse_review",
    "load_review",
    "digest",
    "check_given",
    "review_columns",
]

#: the published table, as shipped
REVIEW_FILE = DATA_DIR / "mnist" / "mnist-test-label-review.tsv"
#: its columns, in order
COLUMNS = ("index", "given", "guessed", "votes_given", "votes_guessed", "votes_neither")
HEADER = "\t".join(COLUMNS)
#: workers who looked at each image
VOTERS = 5
#: a row is a label error when fewer than this many workers chose the given label
ERROR_BELOW = 3
#: MNIST's test set: the indices the table may hold are 0..TEST_SIZE-1
TEST_SIZE = 10000
#: the review fields of each MNIST test record (``mnist.load_data(extended=True)``), in order
TEST_FIELDS = (
    "reviewed",
    "guessed_label",
    "votes_given",
    "votes_guessed",
    "votes_neither",
    "label_error",
)
#: a table larger than this is not the review
MAX_BYTES = 1 << 20


def review_dtype() -> np.dtype:
    """One review row: the table's columns, then ``label_error`` (0 or 1), all int32."""
    return np.dtype([(name, np.int32) for name in (*COLUMNS, "label_error")])


def _bad(name: str, number: int, line: str, expected: str) -> IdxError:
    return IdxError(
        f"{name}: line {number} is {line!r}, expected {expected}; the label review is "
        "damaged: restore the file (idxmnist ships the published table unchanged)"
    )


def _row(fields: list[str], name: str, number: int, line: str) -> tuple[int, ...]:
    if len(fields) != len(COLUMNS) or not all(f.isdigit() and f.isascii() for f in fields):
        raise _bad(name, number, line, f"{len(COLUMNS)} whole numbers ({', '.join(COLUMNS)})")
    index, given, guessed, votes_given, votes_guessed, neither = (int(f) for f in fields)
    if index >= TEST_SIZE:
        raise _bad(name, number, line, f"an index into MNIST's test set (0..{TEST_SIZE - 1})")
    if given > 9 or guessed > 9:
        raise _bad(name, number, line, "labels 0..9")
    votes = (votes_given, votes_guessed, neither)
    if given == guessed:
        # as published: one choice, counted under both names
        fits = votes_given == votes_guessed and votes_given + neither == VOTERS
        rule = f"votes_given == votes_guessed and votes_given + votes_neither == {VOTERS}"
    else:
        fits = sum(votes) == VOTERS
        rule = f"votes adding up to {VOTERS}"
    if not fits:
        raise _bad(name, number, line, rule)
    return index, given, guessed, *votes, int(votes_given < ERROR_BELOW)


def parse_review(text: str, name: str) -> np.ndarray:
    """The review rows of the table's text, as structured records sorted by index.

    Args:
        text: the file's content: ``#`` comment lines, the header line, then
            one tab-separated row per image.
        name: the file, for error messages.

    Returns:
        One int32 record per row with the fields of :func:`review_dtype`;
        ``label_error`` is 1 where fewer than 3 of the 5 workers chose the
        given label.

    Raises:
        IdxError: the header is missing, a row is not six whole numbers, an
            index repeats or lies outside the test set, a label is not a
            digit, or the votes do not add up as the table's rule says.

    Example:

    >>> parse_review(HEADER + "\\n720\\t5\\t5\\t5\\t5\\t0\\n", "r.tsv")["label_error"]
    array([0], dtype=int32)
    """
    rows: dict[int, tuple[int, ...]] = {}
    header_seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        if not header_seen:
            if line.strip() != HEADER:
                raise _bad(name, number, line, f"the header {HEADER!r}")
            header_seen = True
            continue
        row = _row(line.strip().split("\t"), name, number, line)
        if row[0] in rows:
            raise _bad(name, number, line, f"each index once (index {row[0]} appears twice)")
        rows[row[0]] = row
    if not header_seen:
        raise IdxError(f"{name}: no header line {HEADER!r}; the label review is damaged")
    if not rows:
        raise IdxError(f"{name}: holds no rows; the label review is damaged")
    table = np.array([rows[i] for i in sorted(rows)], dtype=np.int32)
    return table.view(review_dtype()).reshape(len(rows))


@cache
def _load(path: str) -> np.ndarray:
    size = os.stat(path).st_size
    if size > MAX_BYTES:
        raise IdxError(f"{path}: {size} bytes is too large for the label review")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IdxError(f"{path}: not UTF-8 text ({exc}); the label review is text") from None
    rows = parse_review(text, path)
    rows.setflags(write=False)  # shared by every caller in this process
    return rows


def digest() -> str:
    """The SHA-256 of the review rows shipped with idxmnist (what a cache built from them binds)."""
    return hashlib.sha256(load_review().tobytes()).hexdigest()


def load_review(path: str | os.PathLike[str] | None = None) -> np.ndarray:
    """The review rows (read-only), read once per process: the shipped table by default.

    Raises :class:`IdxError` for a damaged table and ``OSError`` if it cannot
    be read.
    """
    return _load(os.fspath(REVIEW_FILE if path is None else path))


def check_given(review: np.ndarray, y_test: np.ndarray, name: str) -> None:
    """Raise :class:`IdxError` unless ``y_test`` (named ``name``) holds each row's given label.

    It does for MNIST's test set in upstream order; any other labels (a
    shuffled or edited copy, another dataset) are refused, so a review field
    never lands on the wrong image.
    """
    if y_test.ndim != 1 or len(y_test) != TEST_SIZE:
        raise IdxError(
            f"{name}: holds {y_test.shape} labels; the label review is of MNIST's "
            f"{TEST_SIZE} test labels"
        )
    given = review["given"]
    held = np.asarray(y_test)[review["index"]]
    wrong = np.flatnonzero(held != given)
    if wrong.size:
        i = int(review["index"][wrong[0]])
        raise IdxError(
            f"{name}: test label {i} is {int(held[wrong[0]])}, but the label review's given "
            f"label there is {int(given[wrong[0]])} ({wrong.size} of {len(review)} reviewed "
            "labels disagree): these are not MNIST's upstream test labels in upstream order, "
            "so the review does not apply to them"
        )


def review_columns(review: np.ndarray) -> np.ndarray:
    """The review as ``(10000, 6)`` int32 columns of the test set, :data:`TEST_FIELDS` order.

    An image nobody reviewed holds ``reviewed`` 0, ``guessed_label`` -1 and
    zeros; a reviewed one its row's values.
    """
    out = np.zeros((TEST_SIZE, len(TEST_FIELDS)), dtype=np.int32)
    out[:, 1] = -1
    rows = review["index"]
    out[rows, 0] = 1
    out[rows, 1] = review["guessed"]
    out[rows, 2] = review["votes_given"]
    out[rows, 3] = review["votes_guessed"]
    out[rows, 4] = review["votes_neither"]
    out[rows, 5] = review["label_error"]
    return out
