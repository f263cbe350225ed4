"""Temporary files: ``sweep`` removes what killed writers left, and only that; locks; a
temporary that finds no room to be written is an error naming it.

(Atomic writes under SIGKILL and a full disk, and the order of fsyncs and renames
under strace, are in ``tests/contracts/test_crash_safety.py``.)
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


# -- file_lock: a lock file may go while held, and mutual exclusion still holds -------------

LOCKER = r"""
import os, sys
from idxmnist.files import file_lock
lock, inside, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(rounds):
    with file_lock(lock, remove=True):
        fd = os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another is inside
        os.close(fd)
        os.unlink(inside)
print("ok")
"""


def test_locks_removed_on_release_still_exclude_each_other_across_processes(tmp_path):
    """Four real processes take and drop one lock 300 times each, the lock file removed at
    every release: a waiter that locked the removed file must lock the new one instead, or
    two are inside at once (O_EXCL on the marker fails)."""
    import subprocess
    import sys

    from .support.helpers import child_env

    lock, inside = tmp_path / ".x.lock", tmp_path / "inside"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(lock), str(inside), "300"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert not lock.exists() and not inside.exists()


def test_untidy_removes_a_lock_only_folder_and_nothing_else(tmp_path):
    from idxmnist.files import file_lock, untidy

    lone = tmp_path / "lone"
    with file_lock(lone / ".idxmnist.lock"):
        pass
    untidy(lone, ".idxmnist.lock", remove_folder=True)
    assert not lone.exists()
    kept = tmp_path / "kept"
    with file_lock(kept / ".idxmnist.lock"):
        pass
    (kept / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    untidy(kept, ".idxmnist.lock", remove_folder=True)
    assert sorted(p.name for p in kept.iterdir()) == [
        ".idxmnist.lock",
        "train-images-idx3-ubyte.gz",
    ]
    mine = tmp_path / "mine"  # a folder the caller did not create: only its lock goes
    with file_lock(mine / ".idxmnist.lock"):
        pass
    untidy(mine, ".idxmnist.lock", remove_folder=False)
    assert mine.is_dir() and list(mine.iterdir()) == []


# -- temporary: no room to write it is an error naming it --------------------------------------

STORE_LIMITED = """
import idxmnist
try:
    idxmnist.mnist.load_data(source=sys.argv[2], cache_dir=sys.argv[1])
except OSError as exc:
    print(type(exc).__name__, exc.errno)
    print(exc)
else:
    print("no error")
"""


def test_a_full_disk_while_the_store_copies_a_source_file_names_it_and_leaves_the_store(
    mnist_dir, tmp_path
):
    """``load_data(source=...)`` copies each file into the store through ``files.temporary``.
    A child that cannot write past 1 MB (``RLIMIT_FSIZE``) gets an ``OSError`` (EFBIG) naming
    the temporary copy in the store and the limit, where it was a bare "File too large"; the
    copy is removed and the file the store held already is untouched."""
    import errno

    from .support.helpers import MNIST_FILES, listing, run_size_limited, sha256

    store = tmp_path / "cache" / "mnist"
    store.mkdir(parents=True)
    kept = store / MNIST_FILES[3]
    kept.write_bytes((mnist_dir / kept.name).read_bytes())
    before, digest = listing(store), sha256(kept)
    out = run_size_limited(STORE_LIMITED, 1_000_000, tmp_path / "cache", mnist_dir)
    assert out.returncode == 0, out.stderr
    head, message = out.stdout.split("\n", 1)
    assert head == f"OSError {errno.EFBIG}", out.stdout
    assert message.startswith(f"[Errno {errno.EFBIG}] could not write {store}/."), message
    assert "file-size limit was hit); the temporary file was removed" in message, message
    assert listing(store) == before | {".idxmnist.lock"}
    assert sha256(kept) == digest
