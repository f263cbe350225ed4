"""Downloads against a real HTTP server on 127.0.0.1, with real faults and real processes.

No mocks: ``tests/httpserver.py`` is a threaded ``http.server`` on an ephemeral
loopback port whose first path segment picks a fault mode, so one server is
several mirrors. Small synthetic datasets are registered with their real
sizes and sha256 (a ``DatasetSpec`` built here); the real MNIST files from
``$IDXMNIST_TEST_DATA`` are served for the end-to-end tests.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from idxmnist.datasets import download
from idxmnist.datasets.loader import load_dataset

from .support.helpers import listing
from .support.helpers import run_cli_from_repo as run_cli
from .support.httpserver import FaultServer
from .support.synth import NAMES, closed_port_url, same

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


# -- the real MNIST files over loopback ------------------------------------------------------


@pytest.mark.realdata
def test_cli_fetch_then_verify(mnist_server, tmp_path):
    dest = tmp_path / "files"
    r = run_cli("fetch", "--dir", dest, env={"IDXMNIST_MIRRORS": mnist_server.url()})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(dest) and "4 files verified" in r.stderr
    assert listing(dest) == {".idxmnist.lock", *NAMES}
    r = run_cli("verify", dest)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "should hold mnist (by the checksums of its files)" in r.stderr
    assert r.stdout.count("ok  ") == 4
    with open(dest / NAMES[3], "r+b") as f:  # one flipped byte
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    r = run_cli("verify", dest)
    assert r.returncode == 1
    line = f"MISMATCH  {dest / NAMES[3]}: container check failed: sha256 "
    assert line in r.stdout and "; content check failed: corrupt gzip data" in r.stdout
    assert "idxmnist verify --repair fixes what it can" in r.stderr
    (dest / NAMES[0]).unlink()
    r = run_cli("verify", dest, "--dataset", "mnist")
    assert r.returncode == 1 and f"missing   {dest / NAMES[0]}" in r.stdout


def test_cli_verify_empty_dir_and_failed_fetch(tmp_path):
    r = run_cli("verify", tmp_path)
    assert r.returncode == 1 and "none of the mnist files" in r.stderr
    r = run_cli("fetch", "--dir", tmp_path / "d", env={"IDXMNIST_MIRRORS": closed_port_url()})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("idxmnist: error: could not download train-images-idx3-ubyte.gz")
    assert "IDXMNIST_SOURCE=DIR" in r.stderr
    assert listing(tmp_path / "d") == {".idxmnist.lock"}


def test_import_does_not_load_the_network_stack():
    code = (
        "import sys, idxmnist; print([m for m in ('urllib.request', 'http.client', "
        "'filelock', 'tqdm', 'numba') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
