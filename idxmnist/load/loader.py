"""Any registered dataset, keras style: the store -> checked arrays -> idxmnist's npz cache.

:func:`load_arrays` is the one path every loader takes:

1. **A hit.** idxmnist's own cache, :func:`cache_file` of the file ``path``
   names (``mnist.npz`` -> ``mnist.idxmnist.npz``), is memory-mapped when its
   stamp vouches for it (``store/stamp.py``: a stat and a small read, no
   hash). Nothing is locked, nothing else is read.
2. **A miss**, under a lock beside that file. The store (``<cache
   dir>/<subdir>/``, ``store/kept.py``) is made to hold the dataset's
   verified files: those already there; ``source``'s (a folder's files, each
   verified and copied in; a file holding the whole dataset; a mirror URL);
   those of a file found under ``path`` itself (keras's ``mnist.npz``,
   recognised by keras's pin; any other npz verified by content); the rest
   from the mirrors. A file that does not verify is not used (a warning names
   it), and :class:`IdxError` names it when nothing else can stand in.
3. The arrays are read from the store, checked, written as the aligned cache
   and stamped; later calls are hits.

``path`` itself is never written, renamed or deleted: keras checks the file
of that name against its own hash and deletes one that fails. A read-only
cache still loads from the verified files it holds (one warning, nothing
written). What is kept where: ``docs/sources.md``.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .. import config
from ..datasets import labels, registry
from ..datasets.layout import SPLITS, Arrays, as_tuple, pair_of
from ..datasets.spec import DatasetSpec
from ..errors import DownloadError, IdxError, shown_url, warn
from ..files import file_lock, not_regular, sweep, untidy, writable_by_others
from ..store.kept import LOCK_NAME, find_verified, keep_copy
from ..store.npzfile import load_npz, write_npz
from ..store.pins import Learnt
from ..store.stamp import binding, stamped, write_stamp
from .assemble import Location, MemberRef, check_arrays, find_sources, read_arrays

__all__ = [
    "CACHE_SUFFIX",
    "load_dataset",
    "load_arrays",
    "load_cached",
    "hand_out",
    "cached_name",
    "cache_file",
    "cache_lock",
    "stock",
]

PathLike = str | os.PathLike[str]

#: idxmnist's own cache file is the name ``path`` gives, with this in place of ``.npz``
CACHE_SUFFIX = ".idxmnist.npz"


def cached_name(spec: DatasetSpec, upright: bool = True) -> str:
    """The default ``path`` of ``spec``: ``emnist-letters.npz`` upright, else
    ``emnist-letters-transposed.npz`` (images as stored; only for transposed datasets).
    """
    if upright or not spec.transposed:
        return spec.npz_name
    stem = spec.npz_name[:-4] if spec.npz_name.endswith(".npz") else spec.npz_name
    return f"{stem}-transposed.npz"


def cache_file(named: PathLike) -> Path:
    """idxmnist's own cache for the file ``path`` names: ``mnist.npz`` -> ``mnist.idxmnist.npz``.

    The name keras (or you) gave is only ever read, as a source; idxmnist
    writes the memory-mapped cache beside it under this name, which no other
    tool uses. A name without ``.npz`` gets the suffix added
    (``my-cache`` -> ``my-cache.idxmnist.npz``); one that already ends so is
    its own cache.
    """
    path = Path(named)
    if path.name.endswith(CACHE_SUFFIX):
        return path
    stem = path.name[:-4] if path.name.endswith(".npz") else path.name
    return path.with_name(stem + CACHE_SUFFIX)


def _load_cached(
    path: Path, spec: DatasetSpec, expect: os.stat_result | None = None
) -> dict[str, np.ndarray]:
    arrays = load_npz(path, spec.keys, expect=expect)
    check_arrays(arrays, {k: f"{path}[{k}]" for k in spec.keys}, spec)
    return arrays


def load_cached(path: Path, spec: DatasetSpec) -> Arrays:
    """Load and check an npz of ``spec``'s arrays; IdxError if it is not a valid dataset.

    It is read as it is, its arrays only checked for shape, type, split sizes
    and labels (no pins): for your own files, not for the cache.
    """
    return as_tuple(_load_cached(path, spec))


def _hit(target: Path, spec: DatasetSpec, bound: dict[str, object]) -> dict[str, np.ndarray] | None:
    """The arrays of the stamped cache ``target``; None if its stamp does not vouch for it."""
    st = stamped(target, bound)
    if st is None:
        return None
    try:
        return _load_cached(target, spec, expect=st)
    except IdxError:
        return None


def _untrusted(target: Path) -> tuple[str | None, bool]:
    """Why the file at ``target`` (idxmnist's cache name) is not used, if one is there,
    and whether it is a regular file (which may still hold verified data)."""
    try:
        why = not_regular(target)
    except (FileNotFoundError, NotADirectoryError):
        return None, False
    if why is not None:
        return why, False
    return "not as idxmnist stamped it (changed, replaced or never stamped)", True


def _warn_if_shared(folder: Path) -> None:
    why = writable_by_others(folder)
    if why is not None:
        warn(
            f"{folder}: the cache folder is {why}: other users can plant files in it "
            f"(idxmnist verifies every file it did not write, but trusts the cache it "
            f"stamped). Fix: chmod go-w {folder}"
        )


def _build(
    spec: DatasetSpec,
    source: PathLike | None,
    cache_dir: PathLike | None,
    upright: bool = True,
    offline: bool | None = None,
    found: tuple[Path, ...] = (),
    writable: bool = True,
) -> dict[str, np.ndarray]:
    """The arrays, from the store once it holds every verified file.

    The store (``<cache dir>/<spec.subdir>/``) gets what it lacks from
    ``source`` (else ``$IDXMNIST_SOURCE``): a directory's files, each verified
    and copied in; a local ``.npz``/``.zip``/``.tar`` holding the whole
    dataset (EMNIST's ``gzip.zip`` is one) or a mirror URL, used as the only
    mirror. Then from the files ``found`` in the cache (keras's ``mnist.npz``),
    then from the mirrors (``$IDXMNIST_MIRRORS``, else the registry's; never
    over the network when offline). A cache that cannot be written
    (``writable`` False) is only read: what it lacks is gathered in a scratch
    folder, never downloaded.
    """
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    if source is None:
        source = _env_source(spec)
    if isinstance(source, str) and "://" in source and not download.is_url(source):
        raise DownloadError(
            f"source: '{shown_url(source)}' is not a directory, a file nor a URL to download from "
            "(http://, https:// or file://)"
        )
    store = config.cache_dir(cache_dir) / spec.subdir
    if not writable:
        return _build_read_only(spec, store, source, upright, found)
    return read_arrays(spec, _stock(spec, store, source, offline, found), upright=upright)


def _stock(
    spec: DatasetSpec,
    store: Path,
    source: PathLike | None,
    offline: bool | None,
    found: tuple[Path, ...],
) -> dict[str, Location]:
    """Make ``store`` hold every verified file (see :func:`_build`); where each key's is."""
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    mirrors, refused = _take_source(spec, store, source)
    for path in found:
        refused += _adopt(spec, store, path)
    try:
        fetched = download.fetch_dataset(spec, store, mirrors, offline=offline)
    except DownloadError as exc:
        if not refused:
            raise
        raise IdxError(
            f"{'; '.join(refused)}: not used (not {spec.name}'s data, or damaged: fetch it "
            f"again, or use its upstream file), and {store} holds no verified copy to stand "
            f"in ({str(exc).splitlines()[0]})"
        ) from exc
    return dict(fetched.files)


def stock(
    spec: DatasetSpec,
    *,
    source: PathLike | None = None,
    cache_dir: PathLike | None = None,
    offline: bool | None = None,
    store: PathLike | None = None,
) -> dict[str, Path]:
    """Make the store (``<cache dir>/<spec.subdir>/``) hold ``spec``'s verified files;
    return each key's file there.

    From whatever the cache holds: the store's own files, the file under the
    default name (keras's ``mnist.npz``) and idxmnist's cache of it, verified
    as :func:`load_arrays` verifies them; then ``source`` (default
    ``$IDXMNIST_SOURCE``), then the mirrors (never when offline). A store that
    cannot be written must hold them all. ``store``: another folder to fill
    instead (``idxmnist fetch --dir``), from its own files, ``source`` and the
    mirrors.
    """
    if source is None:
        source = _env_source(spec)
    found: tuple[Path, ...] = ()
    if store is not None:
        folder = Path(store)
    else:
        folder = config.cache_dir(cache_dir) / spec.subdir
        named = config.cache_path(spec.npz_name, cache_dir)
        found = (named,) if spec.transposed else (named, cache_file(named))
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        locations = _stock(spec, folder, source, offline, found)
    except PermissionError:
        from ..fetch import download  # the fetch stage: only a cache miss needs it

        locations = dict(download.fetch_dataset(spec, folder, read_only=True).files)
    except BaseException:
        untidy(folder, LOCK_NAME, remove_folder=created)  # a failed call leaves no lock-only folder
        raise
    return {key: loc for key, loc in locations.items() if isinstance(loc, Path)}


def _take_source(
    spec: DatasetSpec, store: Path, source: PathLike | None
) -> tuple[list[str] | None, list[str]]:
    """The mirrors ``source`` stands for (None: the usual ones), and why each file of a
    ``source`` folder that was not taken into ``store`` was refused."""
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    if source is None:
        return None, []
    if download.is_url(source):
        return [os.fspath(source)], []
    local = Path(source).expanduser()
    if local.is_file():
        url = local.resolve().as_uri()
        if not download.is_whole(url):
            raise DownloadError(
                f"source: {os.fspath(source)!r} is a file: it must be a .npz, .zip or .tar "
                "holding the whole dataset (or pass the directory that holds its files)"
            )
        return [url], []
    return None, _take_folder(spec, store, find_sources(local, spec))


def _take_folder(spec: DatasetSpec, store: Path, found: Mapping[str, Location]) -> list[str]:
    """Copy each verified file of a ``source`` folder into ``store``; why each other was not."""
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    refused = []
    archives = {str(loc.archive) for loc in found.values() if isinstance(loc, MemberRef)}
    for archive in sorted(archives):
        problems = download.adopt(spec, store, Path(archive).resolve().as_uri())
        refused += [f"{archive}: {why}" for why in dict.fromkeys(problems.values())]
    store.mkdir(parents=True, exist_ok=True)
    with file_lock(store / LOCK_NAME):
        learnt = Learnt(store)
        for key, remote in zip(spec.keys, spec.files, strict=True):
            loc = found[key]
            if isinstance(loc, MemberRef) or find_verified(store, remote, learnt)[0] is not None:
                continue
            _, why = keep_copy(loc, remote, learnt)
            if why:
                warn(f"{loc}: {why}; not used")
                refused.append(f"{loc}: {why}")
    return refused


def _adopt(spec: DatasetSpec, store: Path, path: Path) -> list[str]:
    """Take into ``store`` what the file ``path`` found in the cache holds that verifies."""
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    try:
        why = not_regular(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    if why is not None:
        warn(f"{path}: {why}; not read")
        return [f"{path}: {why}"]
    problems = download.adopt(spec, store, path.resolve().as_uri())
    if not problems:
        return []
    what = "; ".join(dict.fromkeys(problems.values()))
    warn(f"{path}: not {spec.name}'s data ({what}); not used, and left as it is")
    return [f"{path}: not {spec.name}'s data ({what})"]


def _build_read_only(
    spec: DatasetSpec,
    store: Path,
    source: PathLike | None,
    upright: bool,
    found: tuple[Path, ...],
) -> dict[str, np.ndarray]:
    """The arrays from a store that cannot be written: its verified files, and what it
    lacks gathered (never downloaded) in a private scratch folder, removed afterwards."""
    from ..fetch import download  # the fetch stage: only a cache miss needs it

    learnt = Learnt(store)
    have = {r.name: find_verified(store, r, learnt)[0] for r in spec.remote_files}
    scratch = Path(tempfile.mkdtemp(prefix="idxmnist-"))
    try:
        if None in have.values():
            mirrors, _ = _take_source(spec, scratch, source)
            for url in mirrors or ():
                if url.lower().startswith("file:"):
                    download.adopt(spec, scratch, url)
            for path in found:
                _adopt(spec, scratch, path)
            extra = Learnt(scratch)
            for remote in spec.remote_files:
                if have[remote.name] is None:
                    have[remote.name] = find_verified(scratch, remote, extra)[0]
        lacking = [name for name, path in have.items() if path is None]
        if lacking:
            download.fetch_dataset(spec, store, read_only=True)  # raises, naming them
        files: dict[str, Location] = {}
        for key, remote in zip(spec.keys, spec.files, strict=True):
            kept = have[remote.name]
            assert kept is not None
            files[key] = kept
        return read_arrays(spec, files, upright=upright)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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


_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


@contextmanager
def cache_lock(target: Path) -> Iterator[bool]:
    """Hold ``.<name>.lock`` beside the cache file; yield whether the folder can be written.

    A folder that cannot be written (no permission, a read-only file system)
    is read as it is; a lock that cannot be made for another reason (a
    symbolic link or a folder in its place) is gone without, with a warning.
    """
    lock = target.parent / f".{target.name}.lock"
    held = file_lock(lock, remove=True)  # none is left in a folder shared with keras
    try:
        held.__enter__()
    except OSError as exc:
        failed: OSError | None = exc
    else:
        failed = None
    if failed is None:
        try:
            yield True
        finally:
            held.__exit__(None, None, None)
    elif failed.errno in _READ_ONLY or not os.access(target.parent, os.W_OK):
        yield False
    else:
        warn(f"cannot lock {target} ({failed}); building it without a lock")
        yield True


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

    ``path`` (default :func:`cached_name`) names the keras-compatible file,
    relative to the cache directory; idxmnist's own cache is
    :func:`cache_file` of it. A cache its stamp vouches for is memory-mapped
    without locking. Otherwise, under a file lock beside it (so concurrent
    processes build it once), the cache is checked again, the store made to
    hold the verified files (from ``source``, a file found at ``path``, the
    mirrors), the arrays read from it, and the cache written atomically and
    stamped. ``upright`` picks the orientation of transposed datasets
    (EMNIST), each cached in its own file. ``offline``: never touch the
    network (default ``$IDXMNIST_OFFLINE``).
    """
    named = config.cache_path(path if path is not None else cached_name(spec, upright), cache_dir)
    target = cache_file(named)
    bound = binding(spec, upright)
    _warn_if_shared(target.parent)
    data = _hit(target, spec, bound)
    if data is not None:
        return data
    with cache_lock(target) as writable:
        if writable:
            sweep(target.parent)  # what writers killed an hour ago or more left
        data = _hit(target, spec, bound)
        if data is not None:
            return data
        stale, regular = _untrusted(target)
        found = [named] if named != target else []
        if stale is not None:
            warn(f"{target}: {stale}; not used: the cache is made again from the verified files")
            if regular and not (spec.transposed and upright):
                found.append(target)  # it may hold verified data: by content, like any file
        data = _build(spec, source, cache_dir, upright, offline, tuple(found), writable)
        if not writable:
            warn(
                f"{target.parent} cannot be written (read-only): the arrays were read from "
                "the verified files there and not cached; every call reads them again"
            )
            return data
        try:
            write_npz(target, data)
            write_stamp(target, bound)
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
        path: the cache file's name (default: the entry's, in the cache directory;
            idxmnist writes its cache as :func:`cache_file` of it).
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
