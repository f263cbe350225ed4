"""Stamps: a cache file idxmnist wrote is trusted at a hit only while nothing about it changed.

Real files: each change is made as a user or another tool would make it (a
byte written in place, the mtime put back with ``os.utime``, the file
replaced by an identical copy, a stamp from someone else) and the stamp
must stop vouching for the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from idxmnist.datasets import registry
from idxmnist.datasets.spec import Split
from idxmnist.store.npzfile import write_npz
from idxmnist.store.stamp import binding, stamp_path, stamped, write_stamp

SPEC = registry.get("mnist")


@pytest.fixture
def cache(tmp_path):
    rng = np.random.default_rng(3)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    path = write_npz(tmp_path / "mnist.idxmnist.npz", arrays)
    write_stamp(path, binding(SPEC, True))
    return path


def test_a_fresh_stamp_vouches_for_the_file_and_is_newer_than_it(cache):
    st = stamped(cache, binding(SPEC, True))
    assert st is not None and st.st_ino == os.stat(cache).st_ino
    # written in a later tick of the file system's clock than the file's last change
    assert os.stat(stamp_path(cache)).st_mtime_ns > os.stat(cache).st_ctime_ns
    record = json.loads(stamp_path(cache).read_text())
    assert record["file"]["size"] == cache.stat().st_size
    assert record["binding"]["files"]["x_train"].startswith(f"sha256:{SPEC.files[0].digest}:")


def test_one_byte_changed_in_place_even_with_its_mtime_put_back(cache):
    before = os.stat(cache)
    data = bytearray(cache.read_bytes())
    with open(cache, "r+b") as f:  # one pixel, near the end of the last array
        f.seek(len(data) - 200)
        f.write(bytes([data[-200] ^ 1]))
    os.utime(cache, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(cache)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert stamped(cache, binding(SPEC, True)) is None  # its ctime moved


def test_the_file_replaced_by_an_identical_copy(cache, tmp_path):
    copy = tmp_path / "copy"
    shutil.copy2(cache, copy)  # same bytes, same mtime
    os.replace(copy, cache)
    assert stamped(cache, binding(SPEC, True)) is None  # another inode


def test_another_entry_or_orientation_is_another_binding(cache):
    other = dataclasses.replace(SPEC, splits=(Split("train", 6), Split("test", 3)))
    assert stamped(cache, binding(other, True)) is None
    emnist = registry.get("emnist_letters")
    assert binding(emnist, True) != binding(emnist, False)
    assert binding(SPEC, True) == binding(SPEC, False)  # MNIST has one orientation


def test_a_missing_damaged_or_foreign_stamp_vouches_for_nothing(cache):
    bound = binding(SPEC, True)
    record = stamp_path(cache).read_text()
    stamp_path(cache).write_text(record[:-5])
    assert stamped(cache, bound) is None
    stamp_path(cache).unlink()
    assert stamped(cache, bound) is None
    write_stamp(cache, bound)
    assert stamped(cache, bound) is not None
    if os.geteuid() == 0:  # a stamp planted by another user is not trusted
        os.chown(stamp_path(cache), 54321, -1)
        assert stamped(cache, bound) is None
    else:  # one's own is
        assert os.stat(stamp_path(cache)).st_uid == os.getuid()
