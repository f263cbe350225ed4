"""The keras-compatible entry points: IDX files -> tuple -> ``mnist.npz`` cache."""

from __future__ import annotations

import os
import warnings
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from ..atomic import sweep_stale
from ..errors import DownloadError, IdxError
from . import registry
from .assemble import Arrays, check_arrays, load_idx_dataset
from .cache import cache_path
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


def _build(spec: registry.DatasetSpec, source, cache_dir) -> Arrays:
    """The arrays from ``source`` (a directory or a base URL), else the cache's IDX files.

    Without a local directory the four files are kept, verified, in
    ``<cache dir>/<spec.subdir>/``: downloaded there (from ``source`` if it is
    a URL, else ``$IDXMNIST_MIRRORS``, else the registry's mirrors) unless
    they are already there and match the registry.
    """
    from . import download
    from .cache import cache_dir as _cache_dir

    if source is None:
        source = _env_source(spec)
    if isinstance(source, str) and "://" in source and not download.is_url(source):
        raise DownloadError(
            f"source: {source!r} is not a directory nor a base URL to download from "
            "(http://, https:// or file://)"
        )
    if source is not None and not download.is_url(source):
        return load_idx_dataset(source, num_classes=spec.num_classes)
    files_dir = _cache_dir(cache_dir) / download.plain_name(spec.subdir)
    download.fetch_dataset(spec, files_dir, None if source is None else [source])
    return load_idx_dataset(files_dir, num_classes=spec.num_classes)


def _env_source(spec: registry.DatasetSpec) -> str | None:
    """``$IDXMNIST_SOURCE`` as it applies to ``spec``.

    Its ``<subdir>`` (``mnist``, ``fashion-mnist``, ``kmnist``) if that is a
    directory; else, for MNIST only, the value itself. So a folder of MNIST
    files never stands in for Fashion-MNIST or KMNIST.
    """
    value = os.environ.get("IDXMNIST_SOURCE") or None
    if value is None:
        return None
    from .download import is_url

    if not is_url(value) and (Path(value).expanduser() / spec.subdir).is_dir():
        return os.fspath(Path(value).expanduser() / spec.subdir)
    return value if spec.name == "mnist" else None


@contextmanager
def _cache_lock(target: Path):
    """Hold ``.<name>.lock`` beside the cache file; go unlocked where it cannot be created."""
    from .download import file_lock

    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(target.parent / f".{target.name}.lock"))
        except OSError as exc:
            warnings.warn(f"cannot lock {target}: {exc}", RuntimeWarning, stacklevel=4)
        yield


def load_dataset(
    spec: registry.DatasetSpec,
    path: str | os.PathLike[str] | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Arrays:
    """``load_data`` for any registered dataset.

    A valid cache file is loaded without locking. Otherwise, under a file
    lock beside it (so concurrent processes build it once), the cache is
    checked again, then built from ``source`` or the downloaded IDX files and
    written atomically. An invalid cache file is rebuilt once, with a warning.
    """
    target = cache_path(path if path is not None else spec.npz_name, cache_dir)
    if target.exists():
        try:
            return load_cached(target, spec)
        except IdxError:
            pass  # looked at again under the lock: another process may be replacing it
    with _cache_lock(target):
        sweep_stale(target)
        if target.exists():
            try:
                return load_cached(target, spec)
            except IdxError as exc:
                warnings.warn(f"{exc}; rebuilding it", RuntimeWarning, stacklevel=3)
        data = _build(spec, source, cache_dir)
        try:
            write_npz(target, _as_dict(data))
        except OSError as exc:
            warnings.warn(
                f"could not write the cache {target}: {exc}", RuntimeWarning, stacklevel=3
            )
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
    ``$IDXMNIST_SOURCE``): a directory, or a base URL to download them from.
    Without a source, the verified IDX files in ``<cache dir>/mnist/`` are
    used, downloaded first (``$IDXMNIST_MIRRORS``, else the built-in mirrors,
    in order) if missing. The cache is written atomically; a failed download
    raises :class:`DownloadError` saying what each mirror did.

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
