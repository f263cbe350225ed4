"""fashion-mnist, keras style: ``from idxmnist import fashion_mnist; fashion_mnist.load_data()``."""

from __future__ import annotations

import os

from .datasets import registry
from .datasets.layout import Arrays
from .load.loader import load_dataset

__all__ = ["load_data", "class_names"]


def load_data(
    path: str | os.PathLike[str] = "fashion-mnist.npz",
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Loads Fashion-MNIST, as ``mnist.load_data`` loads MNIST.

    Zalando's 70,000 28x28 grayscale images of clothing in 10 classes (see
    :func:`class_names`), in MNIST's layout: the same call, verification and cache.

    Args:
        path: the cache file's name, relative to the cache directory
            (default ``fashion-mnist.npz``): idxmnist writes its cache as
            ``fashion-mnist.idxmnist.npz``; the verified upstream files are
            kept in ``<cache dir>/fashion-mnist/`` (where keras keeps them too,
            the same files).
        source: a folder holding the four files (``.gz`` is fine), a local
            ``.npz``/``.zip``/``.tar`` holding them, or a mirror URL.
            Default: ``$IDXMNIST_SOURCE/fashion-mnist``, else the mirrors.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: open no network connection; default
            ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shape
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``;
        labels 0-9.

    Raises:
        IdxError: a file is malformed, truncated or not Fashion-MNIST's.
        DownloadError: no mirror delivered a verified file; offline, a
            missing file.
        FileNotFoundError: ``source`` lacks one of the four files.

    Example:

    ```python
    from idxmnist import fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    print(fashion_mnist.class_names()[y_train[0]])  # 'Ankle boot'
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP

    License:
        MIT, by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf).
    """
    return load_dataset(
        registry.get("fashion_mnist"), path, source=source, cache_dir=cache_dir, offline=offline
    )


def class_names() -> tuple[str, ...]:
    """What each label stands for: ``class_names()[label]``.

    Returns:
        One name per label, in label order: ``class_names()[label]``.

    Example:

    >>> from idxmnist import fashion_mnist
    >>> fashion_mnist.class_names()[0]
    'T-shirt/top'
    """
    return tuple(registry.get("fashion_mnist").class_names.values())
