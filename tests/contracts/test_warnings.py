"""Library warnings point at the user's line, not at the idxmnist frame that noticed.

(The helper that does it, ``errors.warn``, has its own tests in
``tests/test_errors.py``.)
"""

from __future__ import annotations

import numpy as np

import idxmnist
from idxmnist.datasets import registry

from ..support.helpers import caught
from ..support.synth import make_dataset
from ..support.synthetic import pinned_spec


def test_a_rebuilt_cache_warns_at_the_callers_line(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "mnist.idxmnist.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    data, record = caught(
        lambda: idxmnist.load_data(cache_dir=tmp_path / "c", source=tmp_path / "src")
    )
    assert np.array_equal(data[0][0], arrays["train-images-idx3-ubyte"])
    [w] = record
    assert issubclass(w.category, RuntimeWarning) and "not as idxmnist stamped" in str(w.message)
    assert w.filename == __file__


def test_an_unlockable_cache_warns_at_the_callers_line_and_still_loads(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    (tmp_path / "c" / ".mnist.idxmnist.npz.lock").mkdir(parents=True)  # a folder for the lock
    data, record = caught(
        lambda: idxmnist.mnist.load_data(cache_dir=tmp_path / "c", source=tmp_path / "src")
    )
    assert np.array_equal(data[1][1], arrays["t10k-labels-idx1-ubyte"])
    [w] = record
    assert str(w.message).startswith(f"cannot lock {tmp_path / 'c' / 'mnist.idxmnist.npz'}")
    assert w.filename == __file__
    assert (tmp_path / "c" / "mnist.idxmnist.npz").is_file()
