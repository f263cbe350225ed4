"""kmnist, keras style: ``from idxmnist import kmnist; kmnist.load_data()``."""

from __future__ import annotations

import os

from .datasets import registry
from .datasets.layout import Arrays
from .datasets.loader import load_dataset

__all__ = ["load_data"]


def load_data(
    path: str | os.PathLike[str] = "kmnist.npz",
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Load kmnist: ``(x_train, y_train), (x_test, y_test)``, as ``idxmnist.load_data``.

    The same arguments and cache directory; the cache file is ``kmnist.npz``.

    >>> from idxmnist import kmnist  # doctest: +SKIP
    >>> (x_train, y_train), (x_test, y_test) = kmnist.load_data()  # doctest: +SKIP
    """
    return load_dataset(
        registry.get("kmnist"), path, source=source, cache_dir=cache_dir, offline=offline
    )
