"""The Numba decoder against NumPy: 64 MB byte swaps and the fused uint8 -> float32.

The first (JIT) call happens in the fixture, outside the timing; ``idxmnist
bench`` reports compile time separately.
"""

from __future__ import annotations

import numpy as np
import pytest

from idxmnist import to_float32
from idxmnist.idx import decode

pytestmark = pytest.mark.skipif(not decode.numba_available(), reason="numba is not installed")

N = (64 << 20) // 4


@pytest.fixture(scope="module")
def kernels():
    from idxmnist.idx import _numba

    _numba.swap_inplace(np.zeros(8, np.int32))  # compile / load outside the timing
    _numba.swap_inplace(np.zeros(8, np.float32))
    to_float32(np.zeros(8, np.uint8), backend="numba")
    return _numba


@pytest.mark.parametrize("dtype", ["int32", "float32"])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_swap_64mb(benchmark, kernels, dtype, backend):
    benchmark.group = f"byte swap 64 MB {dtype}"
    a = np.arange(N).astype(dtype)
    original = a.copy()
    if backend == "numpy":
        benchmark(a.byteswap, inplace=True)
    else:
        benchmark(kernels.swap_inplace, a)
    b = original.copy()
    kernels.swap_inplace(b) if backend == "numba" else b.byteswap(inplace=True)
    assert np.array_equal(b.view(np.uint32), original.byteswap().view(np.uint32))


@pytest.fixture(scope="module")
def pixels():
    return np.random.default_rng(0).integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)


@pytest.mark.benchmark(group="uint8 -> float32 / 255, 47 MB")
def test_astype_divide(benchmark, pixels):
    out = benchmark(lambda: pixels.astype("float32") / 255)
    assert out.dtype == np.float32


@pytest.mark.benchmark(group="uint8 -> float32 / 255, 47 MB")
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_to_float32(benchmark, kernels, pixels, backend):
    out = benchmark(to_float32, pixels, backend=backend)
    want = pixels.astype(np.float32) / np.float32(255)
    assert np.array_equal(out.view(np.uint32), want.view(np.uint32))
