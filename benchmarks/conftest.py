"""Benchmark fixtures: the same real-data rule as the tests.

``mnist_dir`` is skipped locally when $IDXMNIST_TEST_DATA is not set and fails
the run under CI=true.
"""

from __future__ import annotations

import pytest

from tests.conftest import mnist_dir  # noqa: F401  (the same real-data rule as the tests)


@pytest.fixture(scope="session")
def reference(mnist_dir):  # noqa: F811  (the fixture, by name)
    """The four arrays as keras-style reading gives them."""
    from idxmnist.cli.bench import keras_style

    return keras_style(mnist_dir)


def pytest_addoption(parser):
    parser.addoption(
        "--family-full",
        action="store_true",
        help="benchmark the family at full size (EMNIST byclass, QMNIST nist, every dataset's "
        "real size: minutes to build); default: small, which only checks that they run",
    )
