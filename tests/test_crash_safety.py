"""Subprocess tests: peak memory on lying files, SIGKILL mid-write, a full disk.

Peak memory is ``ru_maxrss`` of a fresh interpreter, measured after a warm-up
read so that imports and library state are already counted in the baseline.
"""

from __future__ import annotations

import os

# --- SIGKILL in the middle of build_npz ---


def test_sweep_stale_removes_temporary_files_of_killed_writers(tmp_path):
    from idxmnist.atomic import sweep_stale

    dest = tmp_path / "mnist.npz"
    stale = tmp_path / ".mnist.npz.abc123.part"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    fresh = tmp_path / ".mnist.npz.def456.part"
    fresh.write_bytes(b"in progress")
    sweep_stale(dest)
    assert not stale.exists() and fresh.exists()
