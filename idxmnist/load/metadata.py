"""MNIST's per-image metadata: who wrote each digit, and the test labels people reviewed.

``mnist.load_data(extended=True)`` hands out, beside MNIST's images, one
named record per image. Its fields come from two published sources:

* QMNIST's two label files (``qmnist-train-labels-idx2-int.gz``, 463 KB, and
  ``qmnist-test-labels-idx2-int.gz``, 527 KB): for every MNIST training image,
  in order, and for the first 10,000 QMNIST test rows, which are MNIST's test
  set in order, the eight columns ``digit, hsf_series, writer_id,
  digit_index, nist_class, nist_index, duplicate, unused``. Only these two
  files are fetched (verified by their pins, kept in ``<cache dir>/qmnist/``
  where ``qmnist.load_data`` finds them too), never QMNIST's images.
* the label review (``datasets.review``, package data): six more fields for
  each test image, :data:`~idxmnist.datasets.review.TEST_FIELDS`.

They are cached once as ``<cache dir>/mnist-meta.idxmnist.npz``: ``train`` an
``(60000, 8)`` and ``test`` a ``(10000, 14)`` int32 matrix, stored and
aligned, memory-mapped on every later call and handed out as records
(views, no copy, no pickle). Every load checks that they line up with the
MNIST labels they go with: QMNIST's class column against ``y_train`` and
``y_test``, the review's given labels against ``y_test``. A cache that does
not is rebuilt once; built data that does not raises :class:`IdxError`
naming both files, never hands out a field on the wrong image.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import config
from ..datasets import catalog, registry, review
from ..datasets.labels import check_labels, named
from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import IdxError, warn
from ..files import sweep
from ..idx.reader import read_idx
from ..store.npzfile import NpyMember, load_npz, write_npz
from ..store.stamp import stamped, write_stamp
from .loader import cache_lock

__all__ = [
    "META_NAME",
    "TRAIN_FIELDS",
    "TEST_FIELDS",
    "load_metadata",
    "fetch_label_files",
]

#: the cache file, in the cache directory
META_NAME = "mnist-meta.idxmnist.npz"
#: the fields of each training record: QMNIST's eight columns
TRAIN_FIELDS = tuple(c.name for c in catalog.QMNIST_COLUMNS)
#: the fields of each test record: those eight, then the review's six
TEST_FIELDS = (*TRAIN_FIELDS, *review.TEST_FIELDS)
_SHAPES = {"train": (60000, len(TRAIN_FIELDS)), "test": (10000, len(TEST_FIELDS))}
_KEYS = ("train", "test")
#: QMNIST's test rows that are MNIST's test set, in order
_TEST10K = catalog.QMNIST_TEST_ROWS["test10k"] or (0, review.TEST_SIZE)
PathLike = str | os.PathLike[str]


def _label_files(spec: DatasetSpec) -> dict[str, RemoteFile]:
    """QMNIST's two label files by split: ``{"train": ..., "test": ...}``."""
    by_key = dict(zip(spec.keys, spec.files, strict=True))
    return {"train": by_key["y_train"], "test": by_key["y_test"]}


def label_files() -> list[RemoteFile]:
    """QMNIST's two label files, train then test, as the registry pins them."""
    wanted = _label_files(registry.get("qmnist"))
    return [wanted["train"], wanted["test"]]


def fetch_label_files(
    cache_dir: PathLike | None = None, *, offline: bool | None = None
) -> dict[str, Path]:
    """QMNIST's two label files, verified, in ``<cache dir>/qmnist/``: fetched if missing.

    ``fetch.download.fetch_dataset``'s rules (``docs/sources.md``), for these
    two files only: ``{"train": path, "test": path}``.
    """
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    spec = registry.get("qmnist")
    dest = config.cache_dir(cache_dir) / spec.subdir
    names = [r.name for r in label_files()]
    got = download.fetch_dataset(spec, dest, offline=offline, only=names).files
    return {"train": got["y_train"], "test": got["y_test"]}


def _check_aligned(
    classes: np.ndarray, labels: np.ndarray, source: str, mnist_name: str, split: str
) -> None:
    wrong = np.flatnonzero(classes != labels)
    if wrong.size:
        i = int(wrong[0])
        raise IdxError(
            f"{source} and {mnist_name}: row {i} of {split} is digit {int(classes[i])} in the "
            f"one and label {int(labels[i])} in the other ({wrong.size} of {len(labels)} rows "
            "disagree); QMNIST's metadata lines up only with MNIST's upstream files in "
            "upstream order: rebuild the MNIST cache from them (delete it, or load_data(path=) "
            "another), or fetch QMNIST's label files again"
        )


def _check(
    arrays: dict[str, np.ndarray],
    y_train: np.ndarray,
    y_test: np.ndarray,
    names: dict[str, str],
    mnist_name: str,
) -> None:
    """Raise IdxError unless ``arrays`` are MNIST's metadata, lined up with these labels."""
    spec = registry.get("qmnist")
    for key, labels in (("train", y_train), ("test", y_test)):
        matrix = arrays[key]
        if matrix.dtype != np.int32 or matrix.shape != _SHAPES[key]:
            raise IdxError(
                f"{names[key]}: expected {_SHAPES[key]} int32, got {matrix.dtype} {matrix.shape}"
            )
        check_labels(matrix[:, : len(TRAIN_FIELDS)], spec, names[key])
        if len(labels) != len(matrix):
            raise IdxError(
                f"{mnist_name} holds {len(labels)} {key} labels but {names[key]} describes "
                f"{len(matrix)} images: these are not MNIST's"
            )
        _check_aligned(matrix[:, 0], labels, names[key], mnist_name, key)
    table = review.load_review()
    review.check_given(table, y_test, f"{mnist_name}[y_test]")
    if not np.array_equal(arrays["test"][:, len(TRAIN_FIELDS) :], review.review_columns(table)):
        raise IdxError(f"{names['test']}: its review fields are not the shipped label review's")


def _build(
    cache_dir: PathLike | None,
    offline: bool | None,
    y_train: np.ndarray,
    y_test: np.ndarray,
    mnist_name: str,
) -> dict[str, np.ndarray]:
    files = fetch_label_files(cache_dir, offline=offline)
    spec = registry.get("qmnist")
    train, test = read_idx(files["train"]), read_idx(files["test"])
    for split, matrix in (("train", train), ("test", test)):
        check_labels(matrix, spec, str(files[split]))
        count = spec.split(split).count
        if count is not None and len(matrix) != count:
            raise IdxError(
                f"{files[split]}: holds {len(matrix)} rows; QMNIST's {split} labels have "
                f"{count}: the file is not QMNIST's or is cut short; fetch it again"
            )
    start, stop = _TEST10K
    table = review.load_review()
    arrays = {
        "train": train,
        "test": np.hstack([test[start:stop], review.review_columns(table)]),
    }
    names = {k: f"{files[k]}" for k in _KEYS}
    names["test"] += f" (rows {start}..{stop - 1})"
    _check(arrays, y_train, y_test, names, mnist_name)
    return arrays


def _binding() -> dict[str, object]:
    """What the cache is built from: QMNIST's two label files (their pins) and the review."""
    files = {}
    for remote in label_files():
        pin = f"{remote.algorithm}:{remote.digest}:{remote.size}"
        if remote.content is not None:
            pin += f";content:{remote.content}:{remote.content_size}"
        files[remote.name] = pin
    return {"files": files, "review": review.digest(), "fields": [*TRAIN_FIELDS, *TEST_FIELDS]}


def _load_cached(
    path: Path, y_train: np.ndarray, y_test: np.ndarray, mnist_name: str
) -> dict[str, np.ndarray] | None:
    """The stamped cache at ``path``, checked against the labels; None without a stamp for it."""
    expect = stamped(path, _binding())
    if expect is None:
        return None

    def check(key: str, member: NpyMember) -> None:
        if member.dtype != np.int32 or member.shape != _SHAPES[key]:
            raise IdxError(
                f"{path}[{key}]: is {member.dtype} {member.shape}, expected {_SHAPES[key]} "
                "int32; the file is not idxmnist's MNIST metadata"
            )

    arrays = load_npz(path, _KEYS, check=check, expect=expect)
    _check(arrays, y_train, y_test, {k: f"{path}[{k}]" for k in _KEYS}, mnist_name)
    return arrays


def load_metadata(
    y_train: np.ndarray,
    y_test: np.ndarray,
    *,
    cache_dir: PathLike | None = None,
    offline: bool | None = None,
    mnist_name: str = "mnist.npz",
) -> tuple[np.ndarray, np.ndarray]:
    """The train and test records lining up with MNIST's ``y_train`` and ``y_test``.

    The cache ``<cache dir>/mnist-meta.idxmnist.npz`` is memory-mapped and checked
    against the labels; missing or invalid, it is built (under a lock beside
    it) from QMNIST's two label files, fetched first if the store lacks them
    (:func:`fetch_label_files`), and the shipped review. ``mnist_name`` names
    the labels' file in errors. Raises :class:`IdxError` when the data does
    not line up with the labels, :class:`DownloadError` when a file cannot
    be fetched (offline: is missing).
    """
    target = config.cache_dir(cache_dir) / META_NAME
    arrays = None
    try:
        arrays = _load_cached(target, y_train, y_test, mnist_name)
    except IdxError:
        pass  # looked at again under the lock: another process may be replacing it
    if arrays is None:
        with cache_lock(target) as writable:
            if writable:
                sweep(target.parent)  # what writers killed an hour ago or more left
            try:
                arrays = _load_cached(target, y_train, y_test, mnist_name)
            except IdxError as exc:
                warn(f"{exc}; rebuilding it")
            else:
                if arrays is None and os.path.lexists(target):
                    warn(
                        f"{target}: not as idxmnist stamped it (changed, replaced or never "
                        "stamped); rebuilding it"
                    )
            if arrays is None:
                arrays = _build(cache_dir, offline, y_train, y_test, mnist_name)
                if writable:
                    try:
                        write_npz(target, arrays)
                        write_stamp(target, _binding())
                    except OSError as exc:
                        warn(f"could not write the cache {target}: {exc}; the metadata is uncached")
    return named(arrays["train"], TRAIN_FIELDS), named(arrays["test"], TEST_FIELDS)
