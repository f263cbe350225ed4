"""Tests aimed at single guards: each fails if that one check is removed or weakened.

They came out of mutation testing (docs/testing.md): every test here was seen
to fail with its guard broken by hand, and to pass with it in place. None
needs the real MNIST files. No mocks of the code under test: real files, a
real HTTP server on loopback, real read-only mounts.
"""

from __future__ import annotations

import os

import pytest

import idxmnist
from idxmnist.datasets.assemble import find_idx_files, read_dataset

from .support.arrays import arrays, same, write_set

# -- the assembler: finding and reading the four files ---------------------------------------


def test_read_dataset_defaults_and_load_idx_dataset_passes_its_options_on(tmp_path):
    """read_dataset's defaults: backend "auto", labels 0..9; load_idx_dataset hands its
    backend and num_classes down to it."""
    want = arrays(seed=1)
    want["y_train"][:] = 4
    want["y_test"][:] = 9
    write_set(tmp_path, want)
    assert same(read_dataset(find_idx_files(tmp_path)), want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 9, outside 0\.\.4"):
        idxmnist.load_idx_dataset(tmp_path, num_classes=5)
    with pytest.raises(ValueError, match="backend must be one of"):
        idxmnist.load_idx_dataset(tmp_path, backend="fast")
    want["y_test"][0] = 10
    write_set(tmp_path, want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 10, outside 0\.\.9"):
        read_dataset(find_idx_files(tmp_path))
    assert same(idxmnist.load_idx_dataset(tmp_path, num_classes=11), want)


# -- read_idx_from: an open, unseekable stream (a zip member) ---------------------------------


def test_sweep_stale_removes_a_temporary_file_just_over_an_hour_old(tmp_path):
    """The default cutoff is one hour: a writer's leftover 3600.01 s old goes, a fresh
    one stays. (Only a stall of about a second between the two lines below could let a
    cutoff of 3601 s remove it too; the original removes it whatever the stall.)"""
    import time

    from idxmnist import atomic

    dest = tmp_path / "mnist.npz"
    old = tmp_path / f".mnist.npz.1234{atomic.TEMP_SUFFIX}"
    fresh = tmp_path / f".mnist.npz.5678{atomic.TEMP_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    now = time.time()
    os.utime(old, (now - 3600.01, now - 3600.01))
    atomic.sweep_stale(dest)
    assert not old.exists() and fresh.exists()
