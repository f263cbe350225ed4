"""Choosing the byte-order decoder: ``"numpy"``, ``"numba"``, or ``"auto"`` and when it is Numba.

An unknown name and a missing Numba are clear errors (``"auto"`` falls back
without a word); ``"auto"`` takes Numba for a big job only once its kernels
are loaded in the process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import idxmnist
from idxmnist.idx import decode


def test_unknown_backend_is_a_clear_error(tmp_path):
    idxmnist.write_idx(tmp_path / "x", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="backend"):
        idxmnist.read_idx(tmp_path / "x", backend="cuda")


def test_numba_backend_missing_is_a_clear_error(tmp_path, monkeypatch):
    from idxmnist.idx import decode

    monkeypatch.setattr(decode, "numba_available", lambda: False)
    idxmnist.write_idx(tmp_path / "x", np.arange(4, dtype=np.int32))
    with pytest.raises(ImportError, match=r"idxmnist\[numba\]"):
        idxmnist.read_idx(tmp_path / "x", backend="numba")
    # "auto" falls back without a word
    assert idxmnist.read_idx(tmp_path / "x", backend="auto").tolist() == [0, 1, 2, 3]


def test_auto_swap_backend_only_numba_once_warm(monkeypatch):
    from idxmnist.idx import decode

    monkeypatch.setattr(decode, "numba_available", lambda: True)
    monkeypatch.setattr(decode, "numba_warm", lambda: False)
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 4) == "numpy"
    monkeypatch.setattr(decode, "numba_warm", lambda: True)
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 4) == "numba"
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES - 1, 4) == "numpy"
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 1) == "numpy"


def test_numba_kernels_loaded_in_the_process_are_what_auto_uses_for_a_big_job():
    """``backend="auto"`` takes Numba once its kernels are loaded (and only then): in a
    fresh interpreter, before and after a ``backend="numba"`` call."""
    if not decode.numba_available():
        pytest.skip("numba is not installed")
    code = textwrap.dedent(
        """
        import numpy as np
        from idxmnist.idx import decode
        before = decode.choose_backend("auto", True)
        decode.swap_inplace(np.zeros(4, np.int32), backend="numba")
        print(before, decode.choose_backend("auto", True), decode.choose_backend("auto", False))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["numpy", "numba", "numpy"]
