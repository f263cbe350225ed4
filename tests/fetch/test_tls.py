"""HTTPS against a real TLS server on 127.0.0.1 with a self-signed certificate.

A certificate that does not verify is reported as such, naming the host and
the supported fixes, never suggesting to turn verification off; the mirror
is not asked again, and never over plain ``http``. ``SSL_CERT_FILE`` pointing
at the certificate makes it work. A redirect from ``https`` to ``http`` is
refused.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import idxmnist
from idxmnist.fetch import tls
from idxmnist.load.loader import load_dataset

from ..support.httpserver import FaultServer
from ..support.synth import NAMES, same, spec_for, synthetic

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")
NEVER = ("verify=False", "CERT_NONE", "insecure", "disable", "PYTHONHTTPSVERIFY", "http://")


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", d / "key.pem", "-out", d / "cert.pem",
            "-subj", "/CN=idxmnist test", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(d / "cert.pem"), str(d / "key.pem")


@pytest.fixture
def synth(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"))
    return files, arrays, spec_for(files)


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("store", ["truststore", "python"])
def test_an_untrusted_certificate_is_named_with_its_fixes(
    store, synth, cert, tmp_path, monkeypatch, clean_env
):
    files, _, spec = synth
    if store == "python":
        monkeypatch.setitem(sys.modules, "truststore", None)  # as if not installed
    else:
        pytest.importorskip("truststore")
    with FaultServer(files, tls=cert) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError) as info:
            load_dataset(spec, cache_dir=tmp_path)
        assert server.gets() == {}  # no request got through, over https or http
    lines = str(info.value).splitlines()
    assert lines[1].startswith(
        f"  {server.url()}{NAMES[0]} -> TLS certificate verification failed for 127.0.0.1 ("
    )
    assert "self-signed certificate" in lines[1] or "self signed" in lines[1]
    trusted = {"truststore": "the operating system's trust store", "python": "Python's default"}
    assert f"trusted: {trusted[store]}" in lines[1]
    assert "set SSL_CERT_FILE to a PEM bundle" in lines[1]
    # installing truststore is advice only where it is not already the trust store in use
    assert ("pip install 'idxmnist[truststore]'" in lines[1]) == (store == "python")
    if store == "truststore":
        assert "add the CA that signs it (a company proxy's CA, say) to the operating" in lines[1]
    assert not any(word in str(info.value).split("To load")[0] for word in NEVER)


def test_ssl_cert_file_makes_it_work(synth, cert, tmp_path, monkeypatch, clean_env):
    files, arrays, spec = synth
    monkeypatch.setenv("SSL_CERT_FILE", cert[0])
    with FaultServer(files, tls=cert) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets() == {f"/ok/{n}": 1 for n in NAMES}
    assert "SSL_CERT_FILE" in tls.store_name()


def test_a_redirect_from_https_to_http_is_refused(synth, cert, tmp_path, monkeypatch, clean_env):
    files, _, spec = synth
    monkeypatch.setenv("SSL_CERT_FILE", cert[0])
    with FaultServer(files) as plain, FaultServer(files, tls=cert) as secure:
        secure.redirect_base = plain.url()
        monkeypatch.setenv("IDXMNIST_MIRRORS", secure.url("redirect"))
        with pytest.raises(idxmnist.DownloadError, match="refused a redirect from https to http"):
            load_dataset(spec, cache_dir=tmp_path)
        assert plain.connections == 0
