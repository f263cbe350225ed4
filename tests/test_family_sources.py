"""The family (EMNIST, QMNIST, Kuzushiji-49) through the sources machinery.

Offline opens no connection for any of them and says what to import;
``idxmnist import`` installs NIST's ``gzip.zip`` (every split), QMNIST's and
K49's files, after which each loads offline; ``export`` writes torchvision's
names for EMNIST and QMNIST and refuses K49's (torchvision has no class for
it); ``verify`` picks the split a shared ``emnist`` folder holds. Every spec
is a synthetic release registered at run time, served by the loopback server.
"""

from __future__ import annotations

import pytest

import idxmnist
from idxmnist import qmnist

from .support.family import loaders
from .support.family import same_arrays as same

# -- offline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["emnist-digits", "qmnist", "k49"])
@pytest.mark.parametrize("how", ["env", "argument"])
def test_offline_opens_no_connection_and_says_what_to_import(
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
    assert same(load(tmp_path, **kwargs), reference)
    assert served.connections == before


def test_qmnist_nist_offline(releases, served, tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with pytest.raises(idxmnist.DownloadError, match=r"lacks qmnist_nist's xnist-images"):
        qmnist.load_nist(cache_dir=tmp_path, offline=True)
    assert served.connections == 0
