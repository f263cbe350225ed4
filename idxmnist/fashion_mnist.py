"""fashion-mnist, keras style: ``from idxmnist import fashion_mnist; fashion_mnist.load_data()``."""

from __future__ import annotations

import os

from .datasets import registry
from .datasets.layout import Arrays
from .datasets.loader import load_dataset

__all__ = ["load_data"]


def load_data(
    path: str | os.PathLike[str] = "fashion-mnist.npz",
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Load fashion-mnist: ``(x_train, y_train), (x_test, y_test)``, as ``idxmnist.load_data``.

    The same arguments and cache directory; the cache file is ``fashion-mnist.npz``.
    Labels 0-9 are T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
    Sneaker, Bag, Ankle boot.

    >>> from idxmnist import fashion_mnist  # doctest: +SKIP
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()  # doctest: +SKIP
    """
    return load_dataset(
        registry.get("fashion_mnist"), path, source=source, cache_dir=cache_dir, offline=offline
    )
