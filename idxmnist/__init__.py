"""idxmnist: MNIST-style IDX datasets into NumPy, fast, safe and faithful.

The whole public API::

    load_data(path="mnist.npz", *, source=None, cache_dir=None)   # keras drop-in
    fashion_mnist.load_data(...), kmnist.load_data(...)           # the siblings
    load_idx_dataset(source_dir)    # four IDX files -> ((x_train, y_train), (x_test, y_test))
    build_npz(source_dir, out, *, compress=False)                 # regenerate mnist.npz
    read_idx(source, *, backend="auto")                           # one IDX file -> ndarray
    read_idx_header(source)                                       # -> IdxHeader
    write_idx(dest, array, *, compress=None)                      # ndarray -> IDX file
    to_float32(x, divisor=255, *, backend="auto")                 # x.astype(float32) / 255, fused
    IdxError, DownloadError                                       # the two error families
"""

from . import fashion_mnist, kmnist, mnist
from .datasets.assemble import load_idx_dataset
from .datasets.loader import build_npz, load_data
from .errors import ChecksumError, DownloadError, IdxError, TruncatedError
from .idx.format import IdxHeader
from .idx.reader import read_idx, read_idx_header
from .idx.scaling import to_float32
from .idx.writer import write_idx

__version__ = "0.1.0"

__all__ = [
    "load_data",
    "fashion_mnist",
    "kmnist",
    "mnist",
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
