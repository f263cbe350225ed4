"""The model stage: what a dataset is, as data. Public: the names below.

==============  =================================================================
module          its job
==============  =================================================================
``spec``        the record types (``DatasetSpec``, ``RemoteFile``, ``Split``,
                ``Column``, ``Archive``) and all their checks
``catalog``     the built-in entries, data only
``registry``    ``DATASETS``; ``get``, ``names``, ``register``, ``unregister``
``classes``     the class-name tables the entries point at (package data)
``layout``      keras's four keys and the tuple <-> dict conversions
``labels``      labels as stored, checked; class column or named records
``review``      the MNIST test labels people reviewed (package data), checked
``validation``  ``validation_split``: seeded train/validation indices, by class
                or by writer (public as ``idxmnist.validation_split``)
==============  =================================================================

What a user needs to add a dataset at run time, and to load any registered
one, is exported here::

    from idxmnist.datasets import DatasetSpec, RemoteFile, register, load_dataset

``load_dataset`` lives in the load stage (``idxmnist.load.loader``) and is
imported from there on first use. See :func:`register` and
``docs/datasets.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .classes import ClassFile
from .registry import DATASETS, get, names, register, unregister
from .spec import Archive, Column, DatasetSpec, RemoteFile, Split

if TYPE_CHECKING:
    from ..load.loader import load_dataset

__all__ = [
    "DatasetSpec",
    "RemoteFile",
    "Split",
    "Column",
    "Archive",
    "ClassFile",
    "DATASETS",
    "register",
    "unregister",
    "get",
    "names",
    "load_dataset",
]


def __getattr__(name: str) -> Any:
    # the loaders are a higher stage: this package's face keeps the name working (PEP 562)
    if name == "load_dataset":
        from ..load.loader import load_dataset

        return load_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
