"""The keras-compatible entry points: IDX files -> tuple -> ``mnist.npz`` cache."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from . import registry
from .cache import cache_path
from .dataset import Arrays, check_arrays, load_idx_dataset
from .errors import IdxError
from .npzfile import load_npz, write_npz

__all__ = ["load_data", "load_dataset", "build_npz", "KEYS"]

KEYS = ("x_train", "y_train", "x_test", "y_test")


def _as_tuple(arrays: dict[str, np.ndarray]) -> Arrays:
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _as_dict(data: Arrays) -> dict[str, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = data
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_cached(path: Path, spec: registry.DatasetSpec) -> Arrays:
    """Load and check a cache file; IdxError if it is not a valid dataset."""
    arrays = load_npz(path, KEYS)
    check_arrays(arrays, {k: f"{path}[{k}]" for k in KEYS}, spec.num_classes)
    return _as_tuple(arrays)


def _source_or_fail(source, spec: registry.DatasetSpec, target: Path):
    source = source if source is not None else os.environ.get("IDXMNIST_SOURCE") or None
    if source is None:
        raise FileNotFoundError(
            f"{target} is not there and no source was given: pass "
            f"load_data(source='DIR') or set IDXMNIST_SOURCE=DIR, where DIR holds "
            f"the four {spec.name} IDX files ({', '.join(f.name for f in spec.files)})"
        )
    return source


def load_dataset(
    spec: registry.DatasetSpec,
    path: str | os.PathLike[str] | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Arrays:
    """``load_data`` for any registered dataset."""
    target = cache_path(path if path is not None else spec.npz_name, cache_dir)
    if target.exists():
        try:
            return load_cached(target, spec)
        except IdxError as exc:
            warnings.warn(f"{exc}; rebuilding it", RuntimeWarning, stacklevel=3)
    data = load_idx_dataset(_source_or_fail(source, spec, target), num_classes=spec.num_classes)
    try:
        write_npz(target, _as_dict(data))
    except OSError as exc:
        warnings.warn(f"could not write the cache {target}: {exc}", RuntimeWarning, stacklevel=3)
    return data


def load_data(
    path: str | os.PathLike[str] = "mnist.npz",
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Arrays:
    """Drop-in for ``keras.datasets.mnist.load_data``.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shape
    (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). ``path`` is the
    cache file, relative to the cache directory (``cache_dir``, else
    ``$IDXMNIST_HOME``, else ``$KERAS_HOME/datasets``, else
    ``~/.keras/datasets``). A valid cache file is loaded, memory-mapped;
    otherwise the arrays are built from the IDX files in ``source`` (or
    ``$IDXMNIST_SOURCE``) and the cache is written atomically.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    return load_dataset(registry.get("mnist"), path, source=source, cache_dir=cache_dir)


def build_npz(
    source_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    compress: bool = False,
) -> Path:
    """Build an ``mnist.npz`` at ``out`` from the IDX files in ``source_dir``.

    ``compress=False`` writes the fast, memory-mappable layout; ``True`` the
    small deflate-compressed one keras distributes. Either loads with
    ``numpy.load`` and keras. The file is written atomically.

    >>> build_npz("mnist/", "mnist.npz")  # doctest: +SKIP
    PosixPath('mnist.npz')
    """
    return write_npz(out, _as_dict(load_idx_dataset(source_dir)), compress=compress)
