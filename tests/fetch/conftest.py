"""Fixtures of the download tests: a dataset to cut and resume, the real files to serve.

``data`` is a small synthetic dataset with its spec; ``upstream`` and ``raw``
are the four real MNIST files, as published and as the standard library's
gzip inflates them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ..support.helpers import MNIST_STEMS
from ..support.synth import NAMES, spec_for, synthetic


@pytest.fixture(scope="module")
def upstream(mnist_dir: Path) -> dict[str, bytes]:
    """The four upstream .gz files."""
    return {n: (mnist_dir / n).read_bytes() for n in NAMES}


@pytest.fixture(scope="module")
def raw(upstream) -> dict[str, bytes]:
    """The IDX bytes, by stem, as the standard library's gzip inflates them."""
    return {s: gzip.decompress(upstream[n]) for s, n in zip(MNIST_STEMS, NAMES, strict=True)}


@pytest.fixture
def data(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"), n_train=40, n_test=10)
    return files, arrays, spec_for(files)
