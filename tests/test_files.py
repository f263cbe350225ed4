"""Temporary files: ``sweep`` removes what killed writers left, and only that.

(``idxmnist/atomic.py`` today, ``idxmnist/files.py`` in the new layout. Atomic
writes under SIGKILL and a full disk are in ``tests/contracts/test_crash_safety.py``.)
"""

from __future__ import annotations

import os


def test_sweep_stale_removes_temporary_files_of_killed_writers(tmp_path):
    from idxmnist.files import sweep

    dest = tmp_path / "mnist.npz"
    stale = tmp_path / ".mnist.npz.abc123.part"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    fresh = tmp_path / ".mnist.npz.def456.part"
    fresh.write_bytes(b"in progress")
    sweep(dest.parent)
    assert not stale.exists() and fresh.exists()


def test_sweep_stale_removes_a_temporary_file_just_over_an_hour_old(tmp_path):
    """The default cutoff is one hour: a writer's leftover 3600.01 s old goes, a fresh
    one stays. (Only a stall of about a second between the two lines below could let a
    cutoff of 3601 s remove it too; the original removes it whatever the stall.)"""
    import time

    from idxmnist import files as atomic

    dest = tmp_path / "mnist.npz"
    old = tmp_path / f".mnist.npz.1234{atomic.TEMP_SUFFIX}"
    fresh = tmp_path / f".mnist.npz.5678{atomic.TEMP_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    now = time.time()
    os.utime(old, (now - 3600.01, now - 3600.01))
    atomic.sweep(dest.parent)
    assert not old.exists() and fresh.exists()
