"""Downloads against a real HTTP server on 127.0.0.1, with real faults and real processes.

No mocks: ``tests/httpserver.py`` is a threaded ``http.server`` on an ephemeral
loopback port whose first path segment picks a fault mode, so one server is
several mirrors. Small synthetic datasets are registered with their real
sizes and sha256 (a ``DatasetSpec`` built here); the real MNIST files from
``$IDXMNIST_TEST_DATA`` are served for the end-to-end tests.
"""

from __future__ import annotations

import pytest

from idxmnist.datasets import download
from idxmnist.datasets.loader import load_dataset

from .support.httpserver import FaultServer
from .support.synth import same

# -- where the files come from: IDXMNIST_MIRRORS, a base URL as source, file:// ---------------


def test_mirrors_env_replaces_the_builtin_list_in_order(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f" {server.url('404')} , {server.url('ok')},")
        assert download.mirrors_for(spec) == (server.url("404"), server.url("ok"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert sum(server.gets("404").values()) == 4 and sum(server.gets("ok").values()) == 4


def test_bad_timeout_value_is_refused(monkeypatch):
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="IDXMNIST_TIMEOUT"):
        download.timeout()
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "2.5")
    assert download.timeout() == 2.5
