"""The registry: every dataset idxmnist knows, by name, and how to add your own.

:data:`DATASETS` holds the built-in entries (``catalog``) and any added with
:func:`register`; the loaders, downloads, ``idxmnist verify``, ``import``,
``export``, ``info`` and ``preview`` all read from it, and treat an entry
added at run time exactly like a built-in one.

>>> get("emnist-letters").splits[0]
Split(name='train', count=124800, rows=None)
>>> get("qmnist-test10k").splits[1].rows
(0, 10000)
"""

from __future__ import annotations

import dataclasses

from .catalog import BUILTIN
from .spec import DatasetSpec, key_of

__all__ = ["DATASETS", "get", "names", "register", "unregister", "key_of"]

#: registry key -> entry: the built-in ones, then those :func:`register` added
DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in BUILTIN}


def names() -> tuple[str, ...]:
    """The registered dataset names, built-in ones first.

    Returns:
        Each registry key (``"mnist"``, ``"fashion_mnist"``, ...); the command
        line also takes them with ``-`` for ``_``.

    Example:

    >>> names()[:3]
    ('mnist', 'fashion_mnist', 'kmnist')
    """
    return tuple(DATASETS)


def get(name: str) -> DatasetSpec:
    """The registry entry of a dataset.

    Args:
        name: its name, any case, ``-`` or ``_`` (``"fashion-mnist"``).

    Returns:
        Its :class:`DatasetSpec`.

    Raises:
        ValueError: no dataset of that name is registered (the message lists
            those that are).

    Example:

    >>> get("Fashion-MNIST").npz_name
    'fashion-mnist.npz'
    """
    key = key_of(name)
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[key]


def register(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Adds a dataset to the registry at run time; returns the entry as registered.

    The loaders (``idxmnist.datasets.load_dataset(name)``, each dataset
    module's ``load_data``), the downloads and the checks then treat it like a
    built-in entry: the same mirrors-in-order download, verified by the
    sizes and checksums given here, the same cache, the same errors.

    Args:
        spec: the dataset: its files (names, sizes, sha256 or md5), mirrors
            (base URLs), splits, classes, and for archives the zip and each
            member's checksum. Its name is used as given, lowercased, ``-``
            read as ``_``.
        replace: allow replacing an entry of the same name (a built-in one
            too: say, EMNIST served from your own mirror with your own
            checksums). Without it a taken name is a ValueError.

    Returns:
        The registered :class:`DatasetSpec` (its ``name`` normalised).

    Raises:
        ValueError: the name is taken (and ``replace`` is False). (A spec
            whose names are not plain file names cannot be made at all.)
        TypeError: ``spec`` is not a :class:`DatasetSpec`.

    Example:

    >>> from idxmnist.datasets import DatasetSpec, RemoteFile, register
    >>> spec = register(DatasetSpec(                       # doctest: +SKIP
    ...     name="my_digits", npz_name="my-digits.npz", subdir="my-digits",
    ...     files=(RemoteFile("train-images-idx3-ubyte.gz", 1234, "sha256", "ab..."),
    ...            ...),                                     # four files
    ...     mirrors=("https://example.org/my-digits/",),
    ...     classes=tuple("0123456789")))
    >>> (x, y), (xt, yt) = load_dataset("my_digits")        # doctest: +SKIP
    """
    if not isinstance(spec, DatasetSpec):
        raise TypeError(f"register needs a DatasetSpec, not {type(spec).__name__}")
    key = key_of(spec.name)
    if key in DATASETS and not replace:
        raise ValueError(f"dataset {key!r} is already registered; pass replace=True to replace it")
    spec = dataclasses.replace(spec, name=key) if key != spec.name else spec
    DATASETS[key] = spec
    return spec


def unregister(name: str) -> DatasetSpec:
    """Removes a dataset from the registry.

    A built-in entry that was replaced is not restored: register it again
    (keep the spec :func:`get` returned before replacing it).

    Args:
        name: its name, as for :func:`get`.

    Returns:
        The :class:`DatasetSpec` that was registered.

    Raises:
        KeyError: no dataset of that name is registered.

    Example:

    >>> spec = unregister("my_digits")  # doctest: +SKIP
    """
    return DATASETS.pop(key_of(name))
