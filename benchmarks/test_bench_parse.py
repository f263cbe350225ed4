"""Cold parse: the four upstream .gz files -> four arrays, every loader side by side.

Run ``pytest benchmarks --benchmark-only`` (``idxmnist bench`` prints the same
comparison with the target ratios). Each benchmark also checks its arrays.
"""

from __future__ import annotations

import pytest

from idxmnist import load_idx_dataset
from idxmnist.cli.bench import inflaters, keras_style, peer, read_compressed, same_arrays
from idxmnist.idx import decode

GROUP = "cold parse: four .gz files -> arrays"


def _as_dict(data):
    (x, y), (xt, yt) = data
    return {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}


@pytest.mark.benchmark(group=GROUP)
def test_keras_style(benchmark, mnist_dir, reference):
    got = benchmark(keras_style, mnist_dir)
    assert same_arrays(got, reference)


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("name", ["idx2numpy", "mnist"])
def test_peer(benchmark, mnist_dir, reference, name):
    run = peer(name)
    if run is None:
        pytest.skip(f"{name} is not installed (pip install 'idxmnist[bench]')")
    assert same_arrays(benchmark(run, mnist_dir), reference)


@pytest.mark.benchmark(group=GROUP)
def test_python_mnist(benchmark, mnist_dir, reference):
    run = peer("python-mnist")
    if run is None:
        pytest.skip("python-mnist is not installed (pip install 'idxmnist[bench]')")
    got = benchmark.pedantic(run, args=(mnist_dir,), rounds=1, iterations=1)  # seconds
    assert same_arrays(got, reference)


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("name", ["zlib", "isal", "zlib-ng", "libdeflate"])
def test_raw_inflate_floor(benchmark, mnist_dir, name):
    """The floor: inflate alone, serially, from bytes already in memory."""
    inflate = inflaters().get(name)
    if inflate is None:
        pytest.skip(f"{name} is not installed")
    blobs = read_compressed(mnist_dir)
    out = benchmark(lambda: [inflate(b, n) for b, n in blobs])
    assert [len(o) for o in out] == [n for _, n in blobs]


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_idxmnist_cold_parse(benchmark, mnist_dir, reference, backend):
    if backend == "numba" and not decode.numba_available():
        pytest.skip("numba is not installed")
    got = benchmark(load_idx_dataset, mnist_dir, backend=backend)
    assert same_arrays(_as_dict(got), reference)
