"""Any registered dataset, keras style: its files -> checked arrays -> the npz cache.

:func:`load_arrays` is the one path every loader takes: a valid cache file
is memory-mapped; otherwise, under a lock beside it, the arrays are built
(from ``source``, or from the verified files kept in the dataset's folder,
fetched first if missing) and written atomically. :func:`load_dataset` and
:func:`hand_out` give them to the caller as keras does. Each dataset module
(``idxmnist.mnist`` ...) is a thin face over these. What is kept where, and
when a cache is rebuilt: ``docs/sources.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from .. import config
from ..datasets import labels, registry
from ..datasets.layout import SPLITS, Arrays, as_tuple, pair_of
from ..datasets.spec import DatasetSpec
from ..errors import DownloadError, IdxError, warn
from ..files import file_lock, sweep
from ..store.npzfile import load_npz, write_npz
from .assemble import Location, check_arrays, find_sources, read_arrays

__all__ = [
    "load_dataset",
    "load_arrays",
    "load_cached",
    "hand_out",
    "cached_name",
    "cache_lock",
]

PathLike = str | os.PathLike[str]


def cached_name(spec: DatasetSpec, upright: bool = True) -> str:
    """The default cache file of ``spec``: ``emnist-letters.npz`` upright, else
    ``emnist-letters-transposed.npz`` (images as stored; only for transposed datasets).
    """
    if upright or not spec.transposed:
        return spec.npz_name
    stem = spec.npz_name[:-4] if spec.npz_name.endswith(".npz") else spec.npz_name
    return f"{stem}-transposed.npz"


def _load_cached(path: Path, spec: DatasetSpec) -> dict[str, np.ndarray]:
    arrays = load_npz(path, spec.keys)
    check_arrays(arrays, {k: f"{path}[{k}]" for k in spec.keys}, spec)
    return arrays


def load_cached(path: Path, spec: DatasetSpec) -> Arrays:
    """Load and check a cache file; IdxError if it is not a valid dataset."""
    return as_tuple(_load_cached(path, spec))


def _build(
    spec: DatasetSpec,
    source: PathLike | None,
    cache_dir: PathLike | None,
    upright: bool = True,
    offline: bool | None = None,
) -> dict[str, np.ndarray]:
    """The arrays from ``source``, else the verified files kept in the cache.

    ``source`` is a directory (read as it is), a local ``.npz``/``.zip``/``.tar``
    holding the whole dataset (EMNIST's ``gzip.zip`` is one), or a mirror URL.
    Without a directory the files are kept, verified, in
    ``<cache dir>/<spec.subdir>/``: fetched there (from ``source``, else
    ``$IDXMNIST_MIRRORS``, else the registry's mirrors; never over the network
    when offline) unless already there. A dataset published as an archive
    (EMNIST's ``gzip.zip``) keeps there the verified members it needs.
    """
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    if source is None:
        source = _env_source(spec)
    if isinstance(source, str) and "://" in source and not download.is_url(source):
        raise DownloadError(
            f"source: {source!r} is not a directory, a file nor a URL to download from "
            "(http://, https:// or file://)"
        )
    mirrors = None
    if source is not None and download.is_url(source):
        mirrors = [os.fspath(source)]
    elif source is not None:
        local = Path(source).expanduser()
        if not local.is_file():
            return read_arrays(spec, find_sources(local, spec), upright=upright)
        mirrors = [local.resolve().as_uri()]
        if not download.is_whole(mirrors[0]):
            raise DownloadError(
                f"source: {os.fspath(source)!r} is a file: it must be a .npz, .zip or .tar "
                "holding the whole dataset (or pass the directory that holds its files)"
            )
    files_dir = config.cache_dir(cache_dir) / spec.subdir
    fetched = download.fetch_dataset(spec, files_dir, mirrors, offline=offline)
    sources: dict[str, Location] = dict(fetched.files)
    return read_arrays(spec, sources, upright=upright)


def _env_source(spec: DatasetSpec) -> str | None:
    """``$IDXMNIST_SOURCE`` as it applies to ``spec``.

    Its ``<subdir>`` (``mnist``, ``fashion-mnist``, ``kmnist``, ``emnist`` ...)
    if that is a directory; else, for MNIST only, the value itself. So a
    folder of MNIST files never stands in for another dataset.
    """
    value = config.source()
    if value is None:
        return None
    from ..fetch.download import is_url  # the fetch stage: loaded only when a source is set

    if not is_url(value) and (Path(value).expanduser() / spec.subdir).is_dir():
        return os.fspath(Path(value).expanduser() / spec.subdir)
    return value if spec.name == "mnist" else None


@contextmanager
def cache_lock(target: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside the cache file; go unlocked where it cannot be created."""
    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(target.parent / f".{target.name}.lock"))
        except OSError as exc:
            warn(f"cannot lock {target} ({exc}); building it without a lock")
        yield


def load_arrays(
    spec: DatasetSpec,
    path: PathLike | None = None,
    *,
    source: PathLike | None = None,
    cache_dir: PathLike | None = None,
    upright: bool = True,
    offline: bool | None = None,
) -> dict[str, np.ndarray]:
    """Every array of ``spec``, by key (``x_train`` ...), whole: the cache or a build.

    A valid cache file is loaded without locking. Otherwise, under a file
    lock beside it (so concurrent processes build it once), the cache is
    checked again, then built from ``source`` or the downloaded files and
    written atomically. An invalid cache file is rebuilt once, with a warning.
    ``upright`` picks the orientation of transposed datasets (EMNIST), each
    cached in its own file (:func:`cached_name`). ``offline``: never touch
    the network (default ``$IDXMNIST_OFFLINE``).
    """
    target = config.cache_path(path if path is not None else cached_name(spec, upright), cache_dir)
    if target.exists():
        try:
            return _load_cached(target, spec)
        except IdxError:
            pass  # looked at again under the lock: another process may be replacing it
    with cache_lock(target):
        sweep(target.parent)  # what writers killed an hour ago or more left
        if target.exists():
            try:
                return _load_cached(target, spec)
            except IdxError as exc:
                warn(f"{exc}; rebuilding it")
        data = _build(spec, source, cache_dir, upright, offline)
        try:
            write_npz(target, data)
        except OSError as exc:
            warn(f"could not write the cache {target}: {exc}; the arrays are returned uncached")
    return data


def _check_extended(spec: DatasetSpec, extended: bool) -> None:
    if extended and not spec.columns:
        raise ValueError(f"{spec.name} has plain class labels; extended=True needs a label matrix")


def hand_out(
    arrays: Mapping[str, np.ndarray], spec: DatasetSpec, *, extended: bool = False
) -> dict[str, np.ndarray]:
    """The arrays as a loader hands them out: each split's ``rows`` cut (views), and
    label matrices as their class column (uint8) or, ``extended``, named records.
    """
    _check_extended(spec, extended)
    out = {}
    for split in spec.splits:
        xk, yk = pair_of(split.name)
        x, y = arrays[xk], arrays[yk]
        if split.rows is not None:
            x, y = x[split.rows[0] : split.rows[1]], y[split.rows[0] : split.rows[1]]
        out[xk] = x
        out[yk] = labels.records(y, spec) if extended else labels.classes(y, spec)
    return out


def load_dataset(
    spec: DatasetSpec | str,
    path: PathLike | None = None,
    *,
    source: PathLike | None = None,
    cache_dir: PathLike | None = None,
    upright: bool = True,
    extended: bool = False,
    offline: bool | None = None,
) -> Arrays:
    """Loads any registered dataset with a train and a test split, keras style.

    The built-in ones, or one added with :func:`idxmnist.datasets.register`:
    the same cache, verified downloads, checks and errors as ``load_data``.

    Args:
        spec: the dataset's registry name (``"emnist-letters"``, ``"qmnist"``,
            your own) or its :class:`DatasetSpec`.
        path: the cache file (default: the entry's, in the cache directory).
        source: a directory holding the files (or, for an archive dataset,
            the archive), a local file holding the whole dataset (a
            keras-layout ``.npz``, a ``.zip`` or ``.tar``; EMNIST's
            ``gzip.zip``), or a mirror URL (a base URL, or the URL of one
            such file).
        cache_dir: the cache directory, overriding the environment.
        upright: transposed datasets (EMNIST) come upright; False: as stored.
        extended: for a label matrix (QMNIST), named records instead of classes.
        offline: ``True``: no network access at all (a missing file raises
            at once, saying how to import it); default ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Raises:
        IdxError: a file is malformed, or not the dataset the entry describes.
        DownloadError: no mirror delivered a verified file (the message
            lists each mirror and why); offline, a missing file.
        FileNotFoundError: ``source`` lacks a file.
        ValueError: an unknown name, a dataset without train and test splits,
            or ``extended=True`` for plain labels.

    Example:

    >>> from idxmnist.datasets import load_dataset
    >>> (x_train, y_train), (x_test, y_test) = load_dataset("emnist-digits")  # doctest: +SKIP
    """
    if isinstance(spec, str):
        spec = registry.get(spec)
    if tuple(s.name for s in spec.splits) != SPLITS:
        raise ValueError(
            f"{spec.name} has splits {', '.join(s.name for s in spec.splits)}, not train "
            "and test; load it with load_arrays"
        )
    _check_extended(spec, extended)
    arrays = load_arrays(
        spec, path, source=source, cache_dir=cache_dir, upright=upright, offline=offline
    )
    return as_tuple(hand_out(arrays, spec, extended=extended))
