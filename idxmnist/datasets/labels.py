"""Labels as a dataset stores them, checked, and the two ways to hand them out.

Most datasets store one class per example: an ``(N,)`` uint8 array. QMNIST
stores a label *matrix*: ``(N, 8)`` int32, one row per example, its columns
named in the registry entry (:class:`~.spec.Column`), the class first.
Such a matrix is kept as it is in the npz cache (plain int32, no pickle,
memory-mapped) and handed out either as

* :func:`classes`: the class column as ``(N,)`` uint8, a drop-in for
  MNIST's labels; or
* :func:`records`: a NumPy structured array of ``N`` records with one int32
  field per column (``y["writer_id"]``), a view of the same memory, no copy.

>>> from idxmnist.datasets.registry import get
>>> y = np.array([[3, 0, 7, 1, 33, 12, 0, 0]], dtype=np.int32)
>>> records(y, get("qmnist"))["writer_id"]
array([7], dtype=int32)
>>> classes(y, get("qmnist"))
array([3], dtype=uint8)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import IdxError
from .spec import DatasetSpec

__all__ = ["record_dtype", "records", "named", "classes", "check_labels", "check_label_layout"]


def record_dtype(spec: DatasetSpec) -> np.dtype:
    """The structured dtype of ``spec``'s label rows: one native int32 field per column."""
    if not spec.columns:
        raise ValueError(f"{spec.name} stores plain class labels, not a label matrix")
    return np.dtype([(c.name, np.int32) for c in spec.columns])


def named(y: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """An ``(N, len(names))`` int32 matrix as ``N`` records, one int32 field per name (a view)."""
    dtype = np.dtype([(name, np.int32) for name in names])
    y = np.ascontiguousarray(y, dtype=np.int32)
    return y.view(dtype).reshape(y.shape[0])


def records(y: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """The ``(N, columns)`` int32 label matrix ``y`` as ``N`` named records (a view)."""
    return named(y, record_dtype(spec).names or ())


def classes(y: np.ndarray, spec: DatasetSpec) -> np.ndarray:
    """The class of each example as ``(N,)`` uint8: ``y`` itself, or its first column."""
    if not spec.columns:
        return y
    return y[:, 0].astype(np.uint8)


def _out_of_range(values: np.ndarray, lo: int, hi: int | None) -> int | None:
    """The first value outside ``lo..hi`` (None: all inside)."""
    if values.size == 0:
        return None
    low, high = int(values.min()), int(values.max())
    if low < lo:
        return low
    if hi is not None and high > hi:
        return high
    return None


def _span(lo: int, hi: int | None) -> str:
    return f"{lo}..{hi}" if hi is not None else f"{lo} or more"


def check_label_layout(
    dtype: np.dtype, shape: tuple[int, ...], spec: DatasetSpec, name: str
) -> None:
    """Raise :class:`IdxError` naming ``name`` unless labels of this dtype and shape can be
    ``spec``'s: ``(N,)`` uint8, or its ``(N, len(columns))`` int32 label matrix.

    Needs no values: it checks what a header declares, before anything is allocated.
    """
    if not spec.columns:
        if dtype != np.uint8 or len(shape) != 1:
            raise IdxError(f"{name}: expected 1-D uint8 labels, got {dtype} {shape}")
        return
    width = len(spec.columns)
    if dtype != np.int32 or len(shape) != 2 or shape[1] != width:
        raise IdxError(
            f"{name}: expected an (N, {width}) int32 label matrix (columns "
            f"{', '.join(c.name for c in spec.columns)}), got {dtype} {shape}; "
            "the file holds other labels than this dataset's"
        )


def check_labels(y: np.ndarray, spec: DatasetSpec, name: str) -> None:
    """Raise :class:`IdxError` naming ``name`` unless ``y`` holds valid labels for ``spec``.

    Plain labels: ``(N,)`` uint8 within the classes' range. A label matrix:
    ``(N, len(columns))`` int32, each column within its range, the class
    column within the classes' range.
    """
    check_label_layout(y.dtype, y.shape, spec, name)
    lo, hi = spec.label_range
    if not spec.columns:
        bad = _out_of_range(y, lo, hi)
        if bad is not None:
            raise IdxError(
                f"{name}: holds label {bad}, outside {lo}..{hi}; the labels are not "
                "this dataset's, or the file is damaged"
            )
        return
    for i, column in enumerate(spec.columns):
        clo, chi = column.lo, column.hi
        if i == 0:  # the class column: also within the classes
            clo, chi = max(lo, clo), hi if chi is None else min(hi, chi)
        bad = _out_of_range(y[:, i], clo, chi)
        if bad is not None:
            raise IdxError(
                f"{name}: column {i} ({column.name}) holds {bad}, outside "
                f"{_span(clo, chi)}; the labels are not this dataset's, or the file is damaged"
            )
