"""The dataset layer: the registry, downloads, the assembler and the npz cache.

What a user needs to add a dataset at run time, and load any registered one::

    from idxmnist.datasets import DatasetSpec, RemoteFile, register, load_dataset

See :func:`register` and ``docs/datasets.md``.
"""

from .classes import ClassFile
from .loader import load_dataset
from .registry import Archive, Column, DatasetSpec, RemoteFile, Split, get, register, unregister

__all__ = [
    "DatasetSpec",
    "RemoteFile",
    "Split",
    "Column",
    "Archive",
    "ClassFile",
    "register",
    "unregister",
    "get",
    "load_dataset",
]
