"""Shared fixtures: the real MNIST files and a switch between read paths."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from idxmnist.idx import compression

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _real_data_dir() -> Path | None:
    value = os.environ.get("IDXMNIST_TEST_DATA")
    if not value:
        return None
    path = Path(value)
    return path if all((path / n).is_file() for n in MNIST_FILES) else None


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """No test reaches beyond loopback: unless a test (or the caller) sets its own
    mirrors, downloads go to a file:// mirror that does not exist."""
    if not os.environ.get("IDXMNIST_MIRRORS"):
        monkeypatch.setenv("IDXMNIST_MIRRORS", "file:///nonexistent-idxmnist-test-mirror/")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory with the four upstream MNIST .gz files.

    Skipped locally when $IDXMNIST_TEST_DATA is not set; under CI=true a
    missing directory fails the run instead.
    """
    path = _real_data_dir()
    if path is None:
        msg = (
            "the upstream MNIST files are not available: set IDXMNIST_TEST_DATA to "
            "a directory holding " + ", ".join(MNIST_FILES)
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def mnist_sha256(mnist_dir: Path) -> dict[str, str]:
    """The published checksums, from the SHA256SUMS file beside the data."""
    sums = {}
    for line in (mnist_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name.lstrip("*")] = digest
    return sums


def _registry_facts_dir() -> Path:
    """``$IDXMNIST_REGISTRY_FACTS``; else ``registry-facts/`` beside ``$IDXMNIST_TEST_DATA``
    (CI sets that to ``<repo>/../shared/mnist``); else ``<repo>/../shared/registry-facts``."""
    if os.environ.get("IDXMNIST_REGISTRY_FACTS"):
        return Path(os.environ["IDXMNIST_REGISTRY_FACTS"])
    if os.environ.get("IDXMNIST_TEST_DATA"):
        return Path(os.environ["IDXMNIST_TEST_DATA"]).parent / "registry-facts"
    return Path(__file__).resolve().parents[2] / "shared" / "registry-facts"


@pytest.fixture(scope="session")
def registry_facts() -> Path:
    """The published facts (sizes, checksums, class tables) the registry must match.

    Skipped locally when the directory is missing; under CI=true a missing
    directory fails the run instead.
    """
    path = _registry_facts_dir()
    if not (path / "emnist-members.tsv").is_file():
        msg = f"the registry facts are not available at {path}: set IDXMNIST_REGISTRY_FACTS"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def registered():
    """``registered(spec, ...)`` registers specs for one test, through the public API;
    afterwards each name is given back its earlier entry (or removed)."""
    from idxmnist.datasets import registry

    before: dict[str, object] = {}

    def register(*specs):
        for spec in specs:
            key = registry.key_of(spec.name)
            before.setdefault(key, registry.DATASETS.get(key))
            registry.register(spec, replace=True)

    yield register
    for key, old in before.items():
        if old is None:
            registry.unregister(key)
        else:
            registry.register(old, replace=True)


def run_cli(*args, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m idxmnist ARGS...`` as a user would: a real subprocess, text output."""
    return subprocess.run(
        [sys.executable, "-m", "idxmnist", *map(str, args)], capture_output=True, text=True, **kw
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["whole", "stream"])
def read_path(request, monkeypatch):
    """Run a test through the libdeflate whole-buffer path and the streaming path."""
    if request.param == "whole":
        if compression.libdeflate() is None:
            pytest.skip("the deflate package (idxmnist[fast]) is not installed")
    else:
        monkeypatch.setattr(compression, "libdeflate", lambda: None)
    return request.param
