"""The assembler: four IDX files in a directory -> the keras tuple.

``load_idx_dataset(dir)`` finds the training and test images and labels
under their upstream names (``train-images-idx3-ubyte.gz``) or the dotted
variants (``train-images.idx3-ubyte``), raw or compressed, reads them (in
parallel threads when the inflater releases the GIL) and checks that they
fit together the way MNIST-style data must.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import IdxError
from ..idx import compression
from ..idx.decode import Backend
from ..idx.reader import read_idx
from .layout import KEYS, PAIRS, Arrays, as_tuple
from .registry import DATASETS

__all__ = ["load_idx_dataset", "read_dataset", "find_idx_files", "check_arrays", "candidate_names"]

#: preferred first: uncompressed reads fastest
SUFFIXES = ("", ".gz", ".xz", ".bz2")
#: besides the directory itself, where other tools keep the files
SUBDIRS = (".", "raw", "MNIST/raw")


def candidate_names(stem: str) -> list[str]:
    """``train-images-idx3-ubyte`` -> its names as found: dotted too, compressed too."""
    dotted = stem.replace("-idx", ".idx", 1)
    return [f"{name}{suffix}" for suffix in SUFFIXES for name in dict.fromkeys((stem, dotted))]


def find_idx_files(
    source_dir: str | os.PathLike[str], stems: Mapping[str, str] | None = None
) -> dict[str, Path]:
    """Map each key (``x_train`` ...) to the file that holds it in ``source_dir``.

    ``stems`` maps each key to its file name without compression suffix (a
    registry entry's ``stems``); MNIST's by default. Raises
    ``FileNotFoundError`` naming what is missing and what was looked for.
    """
    stems = DATASETS["mnist"].stems if stems is None else stems
    root = Path(source_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory (expected the four IDX files)")
    found: dict[str, Path] = {}
    where = root  # the directory the error names: the one holding a partial set, if any
    for sub in SUBDIRS:
        base = root / sub
        found = {}
        for key in KEYS:
            for name in candidate_names(stems[key]):
                if (base / name).is_file():
                    found[key] = base / name
                    break
        if len(found) == len(KEYS):
            return found
        if found:
            where = base
            break  # a partial set here: report what this directory lacks
    missing = [k for k in KEYS if k not in found]
    looked = "; ".join(
        f"{k}: {' or '.join(candidate_names(stems[k])[:2])} (.gz/.xz/.bz2 too)" for k in missing
    )
    raise FileNotFoundError(
        f"{where}: missing IDX files: {looked}. Put the four upstream files "
        "there (as downloaded, .gz is fine)"
    )


def check_arrays(
    arrays: dict[str, np.ndarray], names: dict[str, str], num_classes: int = 10
) -> None:
    """Check that four arrays form an MNIST-style dataset; raise IdxError if not.

    ``names`` maps each role to the file (or npz member) it came from.
    """
    for xr, yr in PAIRS:
        x, y = arrays[xr], arrays[yr]
        if x.dtype != np.uint8 or x.ndim != 3:
            raise IdxError(f"{names[xr]}: expected 3-D uint8 images, got {x.dtype} {x.shape}")
        if y.dtype != np.uint8 or y.ndim != 1:
            raise IdxError(f"{names[yr]}: expected 1-D uint8 labels, got {y.dtype} {y.shape}")
        if len(x) != len(y):
            raise IdxError(
                f"{names[xr]} holds {len(x)} images but {names[yr]} holds {len(y)} "
                "labels; the files do not belong together"
            )
        if y.size and int(y.max()) >= num_classes:
            raise IdxError(f"{names[yr]}: holds label {int(y.max())}, outside 0..{num_classes - 1}")
    (xa, _), (xb, _) = PAIRS
    if arrays[xa].shape[1:] != arrays[xb].shape[1:]:
        raise IdxError(
            f"{names[xa]} holds {arrays[xa].shape[1:]} images but "
            f"{names[xb]} holds {arrays[xb].shape[1:]}; they do not belong together"
        )


def _read_all(files: dict[str, Path], backend: Backend) -> dict[str, np.ndarray]:
    # largest first, so the biggest file starts at once and the small ones fill
    # the other core; libdeflate releases the GIL, the streaming path mostly
    # does not, so threads are used only with libdeflate. Plain threads, not
    # concurrent.futures: that import alone costs ~3 ms of ``import idxmnist``.
    roles = sorted(files, key=lambda r: files[r].stat().st_size, reverse=True)
    workers = min(len(roles), os.cpu_count() or 1)
    if workers < 2 or compression.libdeflate() is None:
        return {k: read_idx(files[k], backend=backend) for k in KEYS}
    queue = iter(roles)
    lock = threading.Lock()
    results: dict[str, np.ndarray] = {}
    errors: dict[str, BaseException] = {}

    def work() -> None:
        while True:
            with lock:
                role = next(queue, None)
            if role is None:
                return
            try:
                results[role] = read_idx(files[role], backend=backend)
            except BaseException as exc:  # re-raised in the caller's thread
                errors[role] = exc

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers - 1)]
    for t in threads:
        t.start()
    work()
    for t in threads:
        t.join()
    for key in KEYS:  # the first failure in keras's order
        if key in errors:
            raise errors[key]
    return {k: results[k] for k in KEYS}


def read_dataset(
    files: Mapping[str, Path], *, backend: Backend = "auto", num_classes: int = 10
) -> Arrays:
    """Read the four files ``find_idx_files`` found and check that they fit together."""
    arrays = _read_all(dict(files), backend)
    check_arrays(arrays, {k: os.fspath(p) for k, p in files.items()}, num_classes)
    return as_tuple(arrays)


def load_idx_dataset(
    source_dir: str | os.PathLike[str], *, backend: Backend = "auto", num_classes: int = 10
) -> Arrays:
    """Read the four MNIST-style IDX files in ``source_dir``.

    Returns ``(x_train, y_train), (x_test, y_test)``, the same uint8 arrays
    ``keras.datasets.mnist.load_data()`` returns. Raises ``FileNotFoundError``
    if a file is missing and :class:`IdxError` if one is bad or they do not
    fit together (image and label counts, dtypes, labels outside
    ``0..num_classes-1``).

    >>> (x_train, y_train), (x_test, y_test) = load_idx_dataset("mnist/")  # doctest: +SKIP
    """
    return read_dataset(find_idx_files(source_dir), backend=backend, num_classes=num_classes)
