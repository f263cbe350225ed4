"""idxmnist: MNIST-style IDX datasets into NumPy, fast, safe and faithful.

The whole public API, and where it ends::

    load_data(path="mnist.npz", *, source=None, cache_dir=None, offline=None)  # keras drop-in
    mnist.load_data, fashion_mnist.load_data, kmnist.load_data     # one module per dataset
    mnist.load_data(extended=True), mnist.label_review             # writers; reviewed labels
    emnist.load_data(split, *, upright=True), emnist.class_names   # six splits, upright
    qmnist.load_data(*, test="test", extended=False), qmnist.load_nist
    k49.load_data, k49.class_names                                 # Kuzushiji-49
    validation_split(labels, fraction=0.1, *, by="class", seed=0)  # -> (train, val) indices
    load_idx_dataset(source_dir)    # four IDX files -> ((x_train, y_train), (x_test, y_test))
    build_npz(source_dir, out, *, compress=False)                 # a keras-layout npz
    read_idx(source, *, backend="auto")                           # one IDX file -> ndarray
    read_idx_header(source)                                       # -> IdxHeader
    write_idx(dest, array, *, compress=None)                      # ndarray -> IDX file
    to_float32(x, divisor=255, *, backend="auto")                 # x.astype(float32) / 255, fused
    IdxHeader                                                     # what an IDX header declares
    IdxError, TruncatedError, ChecksumError, DownloadError        # the error families
    idxmnist.datasets: DatasetSpec, RemoteFile, register, load_dataset, ...  # your own datasets

Public: these names, the six dataset modules and ``idxmnist.datasets``.
Everything else is internal: its names may change in any release. The
command line is ``idxmnist`` (``idxmnist.cli:main``). Each name is imported
on first use, so ``import idxmnist`` costs almost nothing.

The package, in stages, each importing only those above it in this list
(``docs/api.md``)::

    errors, config, files    the error families; every setting; safe files, locks
    idx/                     format: bytes <-> arrays (IDX, containers, zip members)
    datasets/                model: what a dataset is (specs, the catalog, registry)
    store/                   the cache on disk: verification, npz files, unpacking
    fetch/                   verified files from mirrors
    load/                    files -> checked arrays -> the npz cache
    mnist, fashion_mnist, kmnist, emnist, qmnist, k49   one module per dataset
    manage/                  import, export, verify and repair
    cli/                     the command line
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import ChecksumError, DownloadError, IdxError, TruncatedError

if TYPE_CHECKING:
    from . import datasets as datasets  # public, but not in __all__: a subpackage
    from . import emnist, fashion_mnist, k49, kmnist, mnist, qmnist
    from .datasets.validation import validation_split
    from .idx.format import IdxHeader
    from .idx.reader import read_idx, read_idx_header
    from .idx.scaling import to_float32
    from .idx.writer import write_idx
    from .mnist import build_npz, load_data, load_idx_dataset

__all__ = [
    "load_data",
    "mnist",
    "fashion_mnist",
    "kmnist",
    "emnist",
    "qmnist",
    "k49",
    "validation_split",
    "load_idx_dataset",
    "build_npz",
    "read_idx",
    "read_idx_header",
    "write_idx",
    "to_float32",
    "IdxHeader",
    "IdxError",
    "TruncatedError",
    "ChecksumError",
    "DownloadError",
]

#: each public name defined elsewhere -> the module that defines it (PEP 562, on first use)
_HOMES = {
    "load_data": ".mnist",
    "load_idx_dataset": ".mnist",
    "build_npz": ".mnist",
    "validation_split": ".datasets.validation",
    "read_idx": ".idx.reader",
    "read_idx_header": ".idx.reader",
    "write_idx": ".idx.writer",
    "to_float32": ".idx.scaling",
    "IdxHeader": ".idx.format",
}
_MODULES = ("mnist", "fashion_mnist", "kmnist", "emnist", "qmnist", "k49", "datasets")


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return import_module(f".{name}", __name__)
    if name in _HOMES:
        value = getattr(import_module(_HOMES[name], __name__), name)
        globals()[name] = value  # the next lookup is an ordinary attribute
        return value
    if name == "__version__":
        # read from the installed metadata on first use: importlib.metadata costs
        # a few ms, too much to pay at every ``import idxmnist``
        from importlib.metadata import version

        return version(__name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "datasets", "__version__"])
