"""The settings read from the environment, each with its default and its refusals.

The cache directory (``IDXMNIST_HOME``, ``KERAS_HOME``, ``~/.keras``),
``IDXMNIST_SOURCE`` (MNIST's, or a sibling's own subdirectory of it),
``IDXMNIST_MIRRORS``, ``IDXMNIST_TIMEOUT`` and ``IDXMNIST_OFFLINE``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import idxmnist
from idxmnist import config
from idxmnist.datasets import registry
from idxmnist.fetch import download
from idxmnist.load.loader import load_dataset

from .support.httpserver import FaultServer
from .support.pinned import synth_spec
from .support.synth import make_dataset, same
from .support.synthetic import pinned_spec

# -- the cache directory -----------------------------------------------------------------------


def test_cache_dir_precedence(tmp_path, monkeypatch):
    from idxmnist.config import cache_dir

    monkeypatch.delenv("IDXMNIST_HOME", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".keras" / "datasets"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "k"))
    assert cache_dir() == tmp_path / "k" / "datasets"
    monkeypatch.setenv("IDXMNIST_HOME", str(tmp_path / "i"))
    assert cache_dir() == tmp_path / "i"
    assert cache_dir(tmp_path / "x") == tmp_path / "x"


# -- IDXMNIST_SOURCE ---------------------------------------------------------------------------


def test_env_source_never_stands_in_for_another_dataset(tmp_path, monkeypatch, registered):
    """$IDXMNIST_SOURCE is MNIST's; a sibling uses only its own subdirectory of it."""
    mnist = make_dataset(tmp_path / "data", seed=1)
    fashion = make_dataset(tmp_path / "data" / "fashion-mnist", seed=2)
    registered(
        pinned_spec(registry.get("mnist"), tmp_path / "data"),
        pinned_spec(registry.get("fashion_mnist"), tmp_path / "data" / "fashion-mnist"),
    )
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "data"))
    (x, _), _ = idxmnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(x, mnist["train-images-idx3-ubyte"])
    (xf, _), _ = idxmnist.fashion_mnist.load_data(cache_dir=tmp_path / "c")
    assert np.array_equal(xf, fashion["train-images-idx3-ubyte"])
    # no kmnist/ subdirectory: the MNIST files are not used, a download is tried instead
    with pytest.raises(idxmnist.DownloadError):
        idxmnist.kmnist.load_data(cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "kmnist.idxmnist.npz").exists()


# -- IDXMNIST_MIRRORS --------------------------------------------------------------------------


def test_mirrors_env_replaces_the_builtin_list_in_order(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f" {server.url('404')} , {server.url('ok')},")
        assert download.mirrors_for(spec) == (server.url("404"), server.url("ok"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert sum(server.gets("404").values()) == 4 and sum(server.gets("ok").values()) == 4


def test_mirrors_for_without_the_environment_is_the_registry_s_list(monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS", raising=False)
    spec = dataclasses.replace(
        synth_spec(), mirrors=("https://a.example/mnist", "https://b.example/x/synth.npz")
    )
    assert download.mirrors_for(spec) == (
        "https://a.example/mnist/",
        "https://b.example/x/synth.npz",
    )


# -- IDXMNIST_TIMEOUT --------------------------------------------------------------------------


def test_bad_timeout_value_is_refused(monkeypatch):
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="IDXMNIST_TIMEOUT"):
        config.timeout()
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "2.5")
    assert config.timeout() == 2.5


def test_a_timeout_must_be_a_positive_finite_number_of_seconds(monkeypatch):
    for value, seconds in [("0.5", 0.5), ("1", 1.0), (" 30 ", 30.0), ("", 10.0)]:
        monkeypatch.setenv("IDXMNIST_TIMEOUT", value)
        assert config.timeout() == seconds, value
    for value in ["0", "-1", "inf", "nan", "soon"]:
        monkeypatch.setenv("IDXMNIST_TIMEOUT", value)
        with pytest.raises(ValueError) as info:
            config.timeout()
        assert (
            str(info.value) == f"IDXMNIST_TIMEOUT={value!r}: expected a positive number of seconds"
        )


# -- IDXMNIST_OFFLINE --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_bad_offline_value_is_refused(monkeypatch, value):
    monkeypatch.setenv("IDXMNIST_OFFLINE", value)
    with pytest.raises(ValueError, match="IDXMNIST_OFFLINE"):
        config.offline()
