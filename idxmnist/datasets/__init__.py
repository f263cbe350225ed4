"""The dataset layer: which files make a dataset, where they come from, the cache.

``layout`` (the keys and the keras tuple), ``registry`` (every dataset's
files, sizes, checksums, splits, mirrors and classes, as data; ``classes``
reads the class tables it points at), ``download``, ``archive`` and
``checksum`` (verified files from mirrors, members of an archive),
``assemble`` (a dataset's files -> checked arrays; ``labels`` checks and
presents them), ``cache`` (where the cache lives), ``npzfile`` (the aligned
npz, written atomically, loaded by mmap), ``loader`` (``load_data``,
``load_dataset``).

What a user needs to add a dataset at run time, and to load any registered
one, is exported here::

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
