"""Shared fixtures: the real MNIST files, a switch between read paths, shared data.

The data that tests in several folders use: a small synthetic dataset
(``synth``), a loopback mirror of the real MNIST files (``mnist_server``), and
the family's synthetic releases with a server for them (``releases``,
``served``). Plain helpers are in ``tests/support/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from idxmnist.idx import compression

from .support.family import (
    emnist_archive,
    emnist_specs,
    k49_release,
    k49_spec,
    qmnist_release,
    qmnist_specs,
)
from .support.helpers import MNIST_FILES, close_dead_mirror, dead_mirror_url
from .support.httpserver import FaultServer
from .support.synth import NAMES, spec_for, synthetic


def _real_data_dir() -> Path | None:
    value = os.environ.get("IDXMNIST_TEST_DATA")
    if not value:
        return None
    path = Path(value)
    return path if all((path / n).is_file() for n in MNIST_FILES) else None


#: variables of the suite itself, kept; every other IDXMNIST_* is the developer's and goes
SUITE_VARIABLES = ("IDXMNIST_TEST_DATA", "IDXMNIST_NO_SKIPS", "IDXMNIST_REGISTRY_FACTS")
#: false values of $CI; anything else set there means "this is CI"
FALSY = ("", "0", "false", "no", "off")


def in_ci() -> bool:
    """True when $CI holds any truthy value (true, 1, yes, on, any case...)."""
    return os.environ.get("CI", "").strip().lower() not in FALSY


def pytest_sessionfinish(session, exitstatus):
    close_dead_mirror()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    """No test reaches the internet or the developer's cache, whatever the environment.

    Every IDXMNIST_* variable (but the suite's own) and KERAS_HOME are removed,
    HOME points at an empty directory (so ``~/.keras`` is not the real one), and
    the mirrors are a loopback port that refuses connections. A test that needs
    a mirror, a source or a cache directory sets its own.
    """
    for name in list(os.environ):
        if name.startswith("IDXMNIST_") and name not in SUITE_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("IDXMNIST_MIRRORS", dead_mirror_url())


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory with the four upstream MNIST .gz files.

    Skipped locally when $IDXMNIST_TEST_DATA is not set; when $CI is set to
    any truthy value (true, 1, yes, on...) a missing directory fails instead.
    """
    path = _real_data_dir()
    if path is None:
        msg = (
            "the upstream MNIST files are not available: set IDXMNIST_TEST_DATA to "
            "a directory holding " + ", ".join(MNIST_FILES)
        )
        if in_ci():
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

    Skipped locally when the directory is missing; when $CI is set to any
    truthy value a missing directory fails instead.
    """
    path = _registry_facts_dir()
    if not (path / "emnist-members.tsv").is_file():
        msg = f"the registry facts are not available at {path}: set IDXMNIST_REGISTRY_FACTS"
        if in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    return path


#: QMNIST's two label files, the ones MNIST's metadata is built from
QMNIST_LABEL_FILES = ("qmnist-train-labels-idx2-int.gz", "qmnist-test-labels-idx2-int.gz")


@pytest.fixture(scope="session")
def qmnist_dir() -> Path:
    """QMNIST's three real label files: ``qmnist/`` beside ``$IDXMNIST_TEST_DATA``, else
    ``<repo>/../shared/qmnist``. Skipped locally when missing; in CI a missing one fails."""
    if os.environ.get("IDXMNIST_TEST_DATA"):
        path = Path(os.environ["IDXMNIST_TEST_DATA"]).parent / "qmnist"
    else:
        path = Path(__file__).resolve().parents[2] / "shared" / "qmnist"
    names = (*QMNIST_LABEL_FILES, "xnist-labels-idx2-int.xz")
    if not all((path / name).is_file() for name in names):
        msg = f"QMNIST's real label files are not available at {path}: {', '.join(names)}"
        if in_ci():
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


@pytest.fixture(params=["whole", "stream"])
def read_path(request, monkeypatch):
    """Run a test through the libdeflate whole-buffer path and the streaming path."""
    if request.param == "whole":
        if compression.libdeflate() is None:
            pytest.skip("the deflate package (idxmnist[fast]) is not installed")
    else:
        monkeypatch.setattr(compression, "libdeflate", lambda: None)
    return request.param


# -- data that tests in several folders use ----------------------------------------------------


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("family")
    return {
        "emnist": emnist_archive(root / "emnist"),
        "qmnist": qmnist_release(root / "qmnist"),
        "k49": k49_release(root / "k49"),
    }


@pytest.fixture
def served(releases, registered):
    """A loopback server holding every release's files, each spec registered with it."""
    files = {}
    for release in releases.values():
        files.update(release.files)
    with FaultServer(files) as server:
        mirrors = (server.url(),)
        registered(
            *emnist_specs(releases["emnist"], mirrors),
            *qmnist_specs(releases["qmnist"], mirrors),
            k49_spec(releases["k49"], mirrors),
        )
        yield server


@pytest.fixture
def synth(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"))
    return files, arrays, spec_for(files)


@pytest.fixture(scope="module")
def mnist_server(mnist_dir):
    files = {n: (mnist_dir / n).read_bytes() for n in NAMES}
    with FaultServer(files) as server:
        yield server
