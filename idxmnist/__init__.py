"""idxmnist: MNIST-style IDX datasets into NumPy, fast, safe and faithful.

The whole public API::

    load_data(path="mnist.npz", *, source=None, cache_dir=None, offline=None)  # keras drop-in
    mnist.load_data, fashion_mnist.load_data, kmnist.load_data     # one module per dataset
    emnist.load_data(split, *, upright=True), emnist.class_names   # six splits, upright
    qmnist.load_data(*, test="test", extended=False), qmnist.load_nist
    k49.load_data, k49.class_names                                 # Kuzushiji-49
    load_idx_dataset(source_dir)    # four IDX files -> ((x_train, y_train), (x_test, y_test))
    build_npz(source_dir, out, *, compress=False)                 # regenerate mnist.npz
    read_idx(source, *, backend="auto")                           # one IDX file -> ndarray
    read_idx_header(source)                                       # -> IdxHeader
    write_idx(dest, array, *, compress=None)                      # ndarray -> IDX file
    to_float32(x, divisor=255, *, backend="auto")                 # x.astype(float32) / 255, fused
    IdxError, TruncatedError, ChecksumError, DownloadError        # the error families

Layers, each a subpackage: ``idxmnist.idx`` (bytes <-> arrays: the IDX format,
containers, zip members, decoding) and ``idxmnist.datasets`` (registry,
downloads, the assembler, the npz cache). Datasets of your own, or built-in
ones pointed at other files, are added at run time with
``idxmnist.datasets.register(DatasetSpec(...))`` and loaded with
``idxmnist.datasets.load_dataset(name)``. The command line is ``idxmnist.cli``.
"""

from typing import Any

from . import emnist, fashion_mnist, k49, kmnist, mnist, qmnist
from .datasets.assemble import load_idx_dataset
from .datasets.loader import build_npz, load_data
from .errors import ChecksumError, DownloadError, IdxError, TruncatedError
from .idx.format import IdxHeader
from .idx.reader import read_idx, read_idx_header
from .idx.scaling import to_float32
from .idx.writer import write_idx

__all__ = [
    "load_data",
    "mnist",
    "fashion_mnist",
    "kmnist",
    "emnist",
    "qmnist",
    "k49",
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


def __getattr__(name: str) -> Any:
    # read from the installed metadata on first use: importlib.metadata costs
    # a few ms, too much to pay at every ``import idxmnist``
    if name == "__version__":
        from importlib.metadata import version

        return version(__name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
