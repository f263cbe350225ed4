"""kmnist, keras style: ``from idxmnist import kmnist; kmnist.load_data()``."""

from __future__ import annotations

import os

from .datasets import registry
from .datasets.layout import Arrays
from .load.loader import load_dataset

__all__ = ["load_data", "class_names"]


def load_data(
    path: str | os.PathLike[str] = "kmnist.npz",
    *,
    source: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool | None = None,
) -> Arrays:
    """Loads Kuzushiji-MNIST, as ``mnist.load_data`` loads MNIST.

    70,000 28x28 grayscale images of 10 cursive hiragana (see
    :func:`class_names`), in MNIST's layout: the same call, verification and cache.

    Args:
        path: the cache file's name, relative to the cache directory
            (default ``kmnist.npz``; idxmnist writes ``kmnist.idxmnist.npz``,
            see ``mnist.load_data``); the verified upstream files are kept in
            ``<cache dir>/kmnist/``.
        source: a folder holding the four files (``.gz`` is fine), a local
            ``.npz``/``.zip``/``.tar`` holding them, or a mirror URL.
            Default: ``$IDXMNIST_SOURCE/kmnist``, else the mirrors.
        cache_dir: the cache directory, overriding the environment.
        offline: ``True``: open no network connection; default
            ``$IDXMNIST_OFFLINE``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shape
        ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``;
        labels 0-9.

    Raises:
        IdxError: a file is malformed, truncated or not Kuzushiji-MNIST's.
        DownloadError: no mirror delivered a verified file; offline, a
            missing file.
        FileNotFoundError: ``source`` lacks one of the four files.

    Example:

    ```python
    from idxmnist import kmnist
    (x_train, y_train), (x_test, y_test) = kmnist.load_data()
    print(kmnist.class_names()[y_train[0]])
    ```

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP

    License:
        CC BY-SA 4.0, by CODH, from the Kuzushiji dataset (NIJL and others).
    """
    return load_dataset(
        registry.get("kmnist"), path, source=source, cache_dir=cache_dir, offline=offline
    )


def class_names() -> tuple[str, ...]:
    """What each label stands for: ``class_names()[label]``.

    Returns:
        One name per label, in label order: ``class_names()[label]``.

    Example:

    >>> from idxmnist import kmnist
    >>> kmnist.class_names()[0]
    'お'
    """
    return tuple(registry.get("kmnist").class_names.values())
