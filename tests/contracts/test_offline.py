"""Offline means no network access at all: the loopback server sees zero connections.

With ``IDXMNIST_OFFLINE=1`` (or ``offline=True``) a missing file is an error
at once, naming what is missing and how to import it; files already verified
in the cache load as usual; ``file://`` mirrors, being local, still work. The
same for the family (EMNIST, QMNIST, Kuzushiji-49), each a synthetic release
registered at run time.
"""

from __future__ import annotations

import pytest

import idxmnist
from idxmnist import qmnist
from idxmnist.load.loader import load_dataset

from ..support.family import loaders, same_arrays
from ..support.helpers import listing
from ..support.helpers import run_cli_from_repo as run_cli
from ..support.httpserver import FaultServer
from ..support.synth import NAMES, same, spec_for, synthetic


@pytest.fixture
def synth(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"))
    return files, arrays, spec_for(files)


def check_offline_message(message: str, cache) -> None:
    assert message.startswith("offline (")
    assert "no network access" in message
    assert f"{cache / 'synth'} lacks synth's " + ", ".join(NAMES) in message
    assert "idxmnist import PATH" in message and "source='DIR'" in message


@pytest.mark.parametrize("how", ["env", "argument"])
def test_offline_opens_no_connection_and_says_what_to_import(synth, tmp_path, monkeypatch, how):
    files, _, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        if how == "env":
            monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
            kwargs = {}
        else:
            kwargs = {"offline": True}
        with pytest.raises(idxmnist.DownloadError) as info:
            load_dataset(spec, cache_dir=tmp_path, **kwargs)
        # a URL given as the source is not fetched either
        with pytest.raises(idxmnist.DownloadError):
            load_dataset(spec, cache_dir=tmp_path, source=server.url(), **kwargs)
        assert server.connections == 0 and server.gets() == {}
    check_offline_message(str(info.value), tmp_path)
    assert ("IDXMNIST_OFFLINE=1" in str(info.value)) == (how == "env")
    assert listing(tmp_path) == set()  # a failed call leaves nothing, not even a lock


def test_offline_loads_what_the_cache_holds_without_a_connection(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        load_dataset(spec, cache_dir=tmp_path)
        (tmp_path / "synth.idxmnist.npz").unlink()  # rebuilt from the verified files
        before = server.connections
        monkeypatch.setenv("IDXMNIST_OFFLINE", "yes")
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.connections == before


def test_offline_still_reads_a_file_mirror(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    (tmp_path / "mirror").mkdir()
    for name, body in files.items():
        (tmp_path / "mirror" / name).write_bytes(body)
    monkeypatch.setenv("IDXMNIST_MIRRORS", (tmp_path / "mirror").as_uri())
    assert same(load_dataset(spec, cache_dir=tmp_path / "c", offline=True), arrays)


def test_offline_false_overrides_the_environment(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
        assert same(load_dataset(spec, cache_dir=tmp_path, offline=False), arrays)
        assert server.connections == 4


def test_cli_fetch_offline(tmp_path):
    files, _ = synthetic(tmp_path / "up")
    with FaultServer(files) as server:
        r = run_cli(
            "fetch",
            "--dir",
            tmp_path / "d",
            env={"IDXMNIST_MIRRORS": server.url(), "IDXMNIST_OFFLINE": "1"},
        )
        assert server.connections == 0
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("idxmnist: error: offline (IDXMNIST_OFFLINE=1): no network access")
    assert "idxmnist import PATH" in r.stderr and "MNIST/raw/" in r.stderr


# -- the family: EMNIST, QMNIST, Kuzushiji-49 --------------------------------------------------


@pytest.mark.parametrize("name", ["emnist-digits", "qmnist", "k49"])
@pytest.mark.parametrize("how", ["env", "argument"])
def test_the_family_offline_opens_no_connection_and_says_what_to_import(
    name, how, releases, served, tmp_path, monkeypatch
):
    load, reference = loaders(releases)[name]
    kwargs = {"offline": True} if how == "argument" else {}
    if how == "env":
        monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
    monkeypatch.delenv("IDXMNIST_MIRRORS")  # the registered spec's own mirror would be used
    with pytest.raises(idxmnist.DownloadError) as info:
        load(tmp_path, **kwargs)
    assert served.connections == 0
    message = str(info.value)
    assert message.startswith("offline (") and "no network access" in message
    assert "idxmnist import PATH" in message and "source='DIR'" in message
    if name.startswith("emnist"):
        assert "lacks emnist_digits's emnist-digits-train-images-idx3-ubyte.gz" in message
        assert "gzip.zip, the archive that holds them" in message
    # online once, then offline from the verified files: still no connection
    load(tmp_path, offline=False)
    before = served.connections
    for npz in tmp_path.glob("*.npz"):
        npz.unlink()
    assert same_arrays(load(tmp_path, **kwargs), reference)
    assert served.connections == before


def test_qmnist_nist_offline(releases, served, tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with pytest.raises(idxmnist.DownloadError, match=r"lacks qmnist_nist's xnist-images"):
        qmnist.load_nist(cache_dir=tmp_path, offline=True)
    assert served.connections == 0
