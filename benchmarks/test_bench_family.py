"""The family, via pytest-benchmark: EMNIST from gzip.zip, QMNIST's xz, cache hits.

Full size with ``--family-full`` and benchmarking on (``pytest benchmarks
--benchmark-only --family-full``; the synthetic releases are built once per
session, a few minutes); small otherwise, so that the default test run
(``--benchmark-disable``: each case once, its output checked) and a quick
``pytest benchmarks --benchmark-only`` stay quick. The targets' verdict on
these cases is ``python -m benchmarks --family``, always at full size.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import family

GROUP_EMNIST = "EMNIST byclass from gzip.zip: libdeflate floor, upright, as stored"
GROUP_NIST = "QMNIST nist from xz: Python's lzma, load_nist"


@pytest.fixture(scope="session")
def full_size(request) -> bool:
    config = request.config
    return config.getoption("family_full", False) and not config.getoption("benchmark_disable")


@pytest.fixture(scope="session")
def sizes(full_size):
    return family.FULL if full_size else family.SMALL


@pytest.fixture(scope="session")
def byclass(mnist_dir, tmp_path_factory, sizes):
    n_train, n_test = sizes["byclass"]
    return family.build_byclass(mnist_dir, tmp_path_factory.mktemp("emnist"), n_train, n_test)


@pytest.fixture(scope="session")
def nist(mnist_dir, tmp_path_factory, sizes):
    return family.build_nist(mnist_dir, tmp_path_factory.mktemp("qmnist"), sizes["nist"])


@pytest.fixture(scope="module")
def caches(mnist_dir, tmp_path_factory, full_size):
    """Every dataset's cache file, at its real size; small, its entry scaled and
    registered as such (through the public API) while this module runs."""
    with family.scaled(1.0 if full_size else family.SMALL_SCALE):
        yield family.build_caches(mnist_dir, tmp_path_factory.mktemp("caches"))


@pytest.mark.benchmark(group=GROUP_EMNIST)
def test_libdeflate_floor(benchmark, byclass):
    floor = family.libdeflate_floor(family.read_members(byclass))
    if floor is None:  # a skip, so that IDXMNIST_NO_SKIPS=1 still fails it where deflate must be
        pytest.skip("the deflate package (idxmnist[fast]) is not installed: no libdeflate floor")
    out = benchmark(floor)
    assert [len(o) for o in out] == [  # type: ignore[union-attr]
        16 + byclass.n_train * 784,
        8 + byclass.n_train,
        16 + byclass.n_test * 784,
        8 + byclass.n_test,
    ]


@pytest.mark.benchmark(group=GROUP_EMNIST)
@pytest.mark.parametrize("upright", [True, False], ids=["upright", "as-stored"])
def test_emnist_byclass_from_gzip_zip(benchmark, byclass, upright):
    got = benchmark(family.parse, byclass, upright)
    family.check_byclass(got, byclass, upright)


@pytest.mark.benchmark(group=GROUP_NIST)
def test_lzma_floor(benchmark, nist):
    out = benchmark(family.lzma_floor(nist))
    assert len(out[0]) == 16 + nist.n * 784


@pytest.mark.benchmark(group=GROUP_NIST)
def test_load_nist_cold(benchmark, nist):
    got = benchmark(family.parse_nist, nist)
    assert np.array_equal(got["x_nist"], nist.images)
    assert np.array_equal(got["y_nist"], nist.labels)


@pytest.mark.parametrize("hit", family.HITS, ids=[h.label for h in family.HITS])
@pytest.mark.parametrize("how", ["cache hit", "np.load compressed"])
def test_cache_hit_every_dataset(benchmark, caches, hit, how):
    benchmark.group = f"cache hit: {hit.label}"
    directory, compressed = caches[hit.label]
    if how == "cache hit":
        got = benchmark(hit.load, directory)
        arrays = [a for pair in got for a in pair] if isinstance(got[0], tuple) else list(got)
        assert sorted(len(a) for a in arrays) == family.expected_lengths(hit)
    else:
        arrays = benchmark(family.np_load, compressed)
        assert len(arrays) in (2, 4)
