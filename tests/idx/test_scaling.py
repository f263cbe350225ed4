"""``to_float32``: bit for bit ``x.astype(np.float32) / np.float32(divisor)``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import idxmnist
from idxmnist.idx import decode, scaling


def _backend(name: str):
    """A parameter that shows as a skip where numba is missing, never disappears."""
    missing = name == "numba" and not decode.numba_available()
    reason = "numba (idxmnist[numba]) is not installed"
    return pytest.param(name, marks=pytest.mark.skipif(missing, reason=reason))


BACKENDS = [_backend("numpy"), _backend("numba")]


def _reference(x, divisor=255):
    return np.asarray(x).astype(np.float32) / np.float32(divisor)


def _bits_equal(a, b):
    return (
        a.dtype == b.dtype == np.float32
        and a.shape == b.shape
        and np.array_equal(a.view(np.uint32), b.view(np.uint32))
    )


@pytest.mark.parametrize("backend", [*BACKENDS, "auto"])
def test_every_byte_value_exact(backend):
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    got = idxmnist.to_float32(x, backend=backend)
    assert _bits_equal(got, _reference(x))
    # the spelling people use today, too (x / 255 in float32, not x * (1/255))
    assert _bits_equal(got, x.astype("float32") / 255)
    assert got.flags.c_contiguous and got.flags.writeable


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(
    x=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9)),
    divisor=st.sampled_from([255, 1, 3, 7.5, 256, 0.1]),
)
def test_matches_reference(backend, x, divisor):
    assert _bits_equal(idxmnist.to_float32(x, divisor, backend=backend), _reference(x, divisor))


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous_and_other_dtypes(backend):
    x = np.arange(600, dtype=np.uint8).reshape(20, 30)[:, ::3]
    assert _bits_equal(idxmnist.to_float32(x, backend=backend), _reference(x))
    for dtype in (np.int16, np.int32, np.float64, np.bool_):
        y = np.arange(-50, 50).astype(dtype)
        assert _bits_equal(idxmnist.to_float32(y, 7, backend=backend), _reference(y, 7))


def test_input_is_not_modified_and_result_is_new():
    x = np.arange(10, dtype=np.float32)
    out = idxmnist.to_float32(x)
    assert out is not x and np.array_equal(x, np.arange(10, dtype=np.float32))


def test_bad_arguments():
    with pytest.raises(ValueError, match="backend"):
        idxmnist.to_float32(np.zeros(3, np.uint8), backend="fast")
    with pytest.raises(TypeError, match="numeric"):
        idxmnist.to_float32(np.array(["a"]))


def test_auto_uses_numba_only_once_warm(monkeypatch):
    big = np.zeros(scaling.NUMBA_AUTO_MIN_ITEMS, np.uint8)
    monkeypatch.setattr(decode, "numba_warm", lambda: False)
    assert scaling._resolve("auto", big) == "numpy"
    monkeypatch.setattr(decode, "numba_warm", lambda: True)
    assert scaling._resolve("auto", big) == "numba"
    assert scaling._resolve("auto", big[:10]) == "numpy"
