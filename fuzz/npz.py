"""Harness: the npz reader, the cache file's parser (``store/npzfile.py``).

The bytes are an npz, written to a file: ``npz_members`` reads the zip
directory and every member's ``.npy`` header, then ``load_npz`` loads the
members it found (stored ones memory-mapped, deflated ones through
``numpy.load(allow_pickle=False)``) and every array is read through. Beyond
the contract: the arrays have the dtypes and shapes ``npz_members``
declared, no object array comes back, an array read by mapping never
reaches past the file's end (that would be a ``SIGBUS``), the same arrays
as ``numpy.load`` gives when it reads the file, and ``load_npz`` with keys
the file does not hold refuses it.
"""

from __future__ import annotations

import numpy as np

from idxmnist.datasets.layout import KEYS
from idxmnist.store.npzfile import load_npz, npz_members

from .contract import ours, scratch


def _numpy_loads(path: str, key: str) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return np.asarray(z[key])
    except Exception:  # noqa: BLE001 (numpy is the reference here, not under test)
        return None


def TestOneInput(data: bytes) -> None:
    path = scratch() / "input.npz"
    path.write_bytes(data)
    name = str(path)
    try:
        with open(path, "rb") as f:
            found = ours(npz_members, f, name)
        if isinstance(found, BaseException):
            assert isinstance(ours(load_npz, path, KEYS), BaseException), "load_npz read it"
            return
        keys = tuple(found)
        arrays = ours(load_npz, path, keys)
        if isinstance(arrays, BaseException):
            return
        assert set(arrays) == set(keys)
        for key, arr in arrays.items():
            member = found[key]
            assert arr.dtype == member.dtype and arr.shape == member.shape, key
            assert not arr.dtype.hasobject, key
            if member.data_offset is not None:
                assert member.data_offset + arr.nbytes <= len(data), key
            arr.tobytes()  # every byte read: a mapping past the end would fault here
            reference = _numpy_loads(name, key)
            if reference is not None:
                assert reference.dtype == arr.dtype and reference.shape == arr.shape, key
                assert reference.tobytes() == arr.tobytes(), f"{key}: numpy reads other values"
        if set(keys) != set(KEYS):
            assert isinstance(ours(load_npz, path, KEYS), BaseException), "other keys loaded"
    finally:
        path.unlink()
