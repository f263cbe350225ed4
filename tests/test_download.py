"""Downloads against a real HTTP server on 127.0.0.1, with real faults and real processes.

No mocks: ``tests/httpserver.py`` is a threaded ``http.server`` on an ephemeral
loopback port whose first path segment picks a fault mode, so one server is
several mirrors. Small synthetic datasets are registered with their real
sizes and sha256 (a ``DatasetSpec`` built here); the real MNIST files from
``$IDXMNIST_TEST_DATA`` are served for the end-to-end tests.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist import config
from idxmnist.datasets import registry
from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile, plain_name
from idxmnist.fetch import download
from idxmnist.load.loader import load_dataset

from .conftest import dead_mirror_url
from .conftest import run_cli as shared_run_cli
from .httpserver import FaultServer

NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
TESTS_DIR = Path(__file__).parent
REPO = TESTS_DIR.parent


# -- helpers -------------------------------------------------------------------------------


def synthetic(root: Path, n_train=60, n_test=20, seed=0):
    """Four small gzip IDX files: ``(bytes by name, arrays in keras order)``."""
    rng = np.random.default_rng(seed)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, arr in zip(NAMES, arrays, strict=True):
        idxmnist.write_idx(root / name, arr, compress="gzip")
        files[name] = (root / name).read_bytes()
    return files, arrays


def spec_for(files: dict[str, bytes], name="synth") -> DatasetSpec:
    remote = tuple(
        RemoteFile(n, len(files[n]), "sha256", hashlib.sha256(files[n]).hexdigest()) for n in NAMES
    )
    return DatasetSpec(
        name=name, npz_name=f"{name}.npz", subdir=name, files=remote, mirrors=(), classes=DIGITS
    )


def listing(root: Path) -> set[str]:
    """Every file and directory under ``root``, hidden ones too, as relative paths."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def with_files(*names: str, subdir="synth", npz=True) -> set[str]:
    """The expected cache listing: lock files, the npz and its stamp, the dataset directory,
    ``names`` and the content pins learnt from them (MNIST ships its own)."""
    out = {f"{subdir}", f"{subdir}/.idxmnist.lock", f".{subdir}.idxmnist.npz.lock"}
    out |= {f"{subdir}/{n}" for n in names}
    out |= {f"{subdir}/.idxmnist-pins.json"} if names and subdir != "mnist" else set()
    return out | ({f"{subdir}.idxmnist.npz", f".{subdir}.idxmnist.npz.stamp"} if npz else set())


def closed_port_url() -> str:
    """A mirror that refuses connections: a port held bound, never listened on."""
    return dead_mirror_url()


def same(data, arrays) -> bool:
    (x, y), (xt, yt) = data
    return all(np.array_equal(a, b) for a, b in zip((x, y, xt, yt), arrays, strict=True))


@pytest.fixture
def synth(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"))
    return files, arrays, spec_for(files)


#: the socket timeout of the stall cases only: the stalled mirror fails after this long,
#: and it is long enough for a healthy loopback mirror on a loaded machine
STALL_TIMEOUT = "2"


def timeout_for(fault: str, monkeypatch) -> None:
    """A short read timeout only where a mirror stalls; the default (10 s) elsewhere."""
    if fault == "stall":
        monkeypatch.setenv("IDXMNIST_TIMEOUT", STALL_TIMEOUT)


# -- one test per fault mode: fallback to the next mirror, and failure when alone ------------

FAULTS = {
    "404": r"HTTP 404",
    "500": r"HTTP 500",
    "html": r"an HTML page, not data",
    "htmlgz": r"an HTML page, not data",
    "half": r"connection closed after \d+ of \d+ bytes",
    "stall": r"timed out after 2 s \(stalled after \d+ of \d+ bytes\)",
    "wrong": r"sha256 mismatch \(right size, wrong bytes\)",
    "garbage": r"not an HTTP answer from 127\.0\.0\.1 \(BadStatusLine",
}
#: faults that mark the host dead: it is not asked for the dataset's other files
DEAD = {"garbage"}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_falls_back_to_the_next_mirror(fault, synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    timeout_for(fault, monkeypatch)
    cache = tmp_path / "cache"
    with FaultServer(files) as server:
        mirrors = f"{server.url(fault)},{server.url('ok')}"
        monkeypatch.setenv("IDXMNIST_MIRRORS", mirrors)
        data = load_dataset(spec, cache_dir=cache)
        assert same(data, arrays)
        # each file: one GET from the faulty mirror, one from the good one, no retries
        if fault in DEAD:
            assert sum(server.gets(fault).values()) == 1
        else:
            assert server.gets(fault) == {f"/{fault}/{n}": 1 for n in NAMES}
        assert server.gets("ok") == {f"/ok/{n}": 1 for n in NAMES}
    assert listing(cache) == with_files(*NAMES)
    for n in NAMES:
        assert (cache / "synth" / n).read_bytes() == files[n]


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_alone_is_a_download_error_and_leaves_nothing(fault, synth, tmp_path, monkeypatch):
    files, _, spec = synth
    timeout_for(fault, monkeypatch)
    cache = tmp_path / "cache"
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url(fault))
        with pytest.raises(idxmnist.DownloadError) as info:
            load_dataset(spec, cache_dir=cache)
        # the first file failed on the only mirror: one request, then the error
        assert server.gets() == {f"/{fault}/{NAMES[0]}": 1}
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert f"{server.url(fault)}{NAMES[0]} -> " in message
    assert re.search(FAULTS[fault], message), message
    assert "IDXMNIST_SOURCE=DIR" in message and "load_data(source='DIR')" in message
    # no partial file, no temporary file: only the (empty) lock files and the directory
    assert listing(cache) == with_files(npz=False)


def test_every_mirror_is_listed_in_order_with_its_reason(synth, tmp_path):
    files, _, spec = synth
    dead = closed_port_url()
    with FaultServer(files) as server:
        urls = [server.url("404"), dead, server.url("html"), server.url("wrong")]
        with pytest.raises(idxmnist.DownloadError) as info:
            download.fetch_dataset(spec, tmp_path / "d", urls)
    lines = str(info.value).splitlines()
    assert lines[0] == f"could not download {NAMES[0]} from any mirror; tried, in order:"
    assert lines[1] == f"  {urls[0]}{NAMES[0]} -> HTTP 404"
    assert lines[2].startswith(f"  {dead}{NAMES[0]} -> cannot connect (")
    assert lines[3] == f"  {urls[2]}{NAMES[0]} -> an HTML page, not data"
    assert lines[4] == f"  {urls[3]}{NAMES[0]} -> sha256 mismatch (right size, wrong bytes)"
    assert lines[5].startswith("To load from local files instead: load_data(source='DIR')")
    assert listing(tmp_path / "d") == {".idxmnist.lock"}


def test_an_unreachable_mirror_is_tried_once_per_fetch(synth, tmp_path):
    files, arrays, spec = synth
    dead = closed_port_url()
    with FaultServer(files) as server:
        got = download.fetch_dataset(spec, tmp_path / "d", [dead, server.url()])
        assert server.gets("ok") == {f"/ok/{n}": 1 for n in NAMES}
    assert [p.name for p in got.downloaded] == list(NAMES)
    assert list(got.files.values()) == got.downloaded


def test_an_unreachable_mirror_is_skipped_and_said_so(synth, tmp_path):
    files, _, spec = synth
    second = spec.files[1]
    spec = DatasetSpec(  # the second file's registered digest matches nothing served
        "synth",
        "synth.npz",
        "synth",
        (spec.files[0], RemoteFile(second.name, second.size, "sha256", "0" * 64), *spec.files[2:]),
        (),
        DIGITS,
    )
    dead = closed_port_url()
    with FaultServer(files) as server:
        with pytest.raises(idxmnist.DownloadError) as info:
            download.fetch_dataset(spec, tmp_path / "d", [dead, server.url()])
        assert server.gets() == {f"/ok/{NAMES[0]}": 1, f"/ok/{NAMES[1]}": 1}
    lines = str(info.value).splitlines()
    assert lines[1].startswith(f"  {dead}{NAMES[1]} -> skipped, unreachable earlier (cannot ")
    assert lines[2] == f"  {server.url()}{NAMES[1]} -> sha256 mismatch (right size, wrong bytes)"
    assert listing(tmp_path / "d") == {".idxmnist.lock", ".idxmnist-pins.json", NAMES[0]}


def test_a_wrong_content_length_is_refused_before_the_body(tmp_path, synth):
    files, _, spec = synth
    # the registry says the file is one byte longer than what the server has
    remote = spec.files[1]
    longer = RemoteFile(remote.name, remote.size + 1, remote.algorithm, remote.digest)
    with FaultServer(files) as server:
        with pytest.raises(idxmnist.DownloadError, match=r"got \d+ bytes, expected \d+"):
            download.fetch_file(longer, tmp_path / "d", [server.url()])
        assert server.gets() == {f"/ok/{remote.name}": 1}
    assert not (tmp_path / "d").exists() or listing(tmp_path / "d") == set()


# -- where the files come from: IDXMNIST_MIRRORS, a base URL as source, file:// ---------------


def test_mirrors_env_replaces_the_builtin_list_in_order(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f" {server.url('404')} , {server.url('ok')},")
        assert download.mirrors_for(spec) == (server.url("404"), server.url("ok"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert sum(server.gets("404").values()) == 4 and sum(server.gets("ok").values()) == 4


def test_source_may_be_a_base_url(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        base = server.url().rstrip("/")  # the trailing slash is optional
        assert same(load_dataset(spec, source=base, cache_dir=tmp_path / "a"), arrays)
        monkeypatch.setenv("IDXMNIST_SOURCE", base)  # the variable is MNIST's
        mnist_spec = dataclasses.replace(spec, name="mnist")
        assert same(load_dataset(mnist_spec, cache_dir=tmp_path / "b"), arrays)
        assert server.gets() == {f"/ok/{n}": 2 for n in NAMES}
    assert listing(tmp_path / "a") == with_files(*NAMES)


def test_file_urls_work(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    for name, body in files.items():
        (tmp_path / "mirror").mkdir(exist_ok=True)
        (tmp_path / "mirror" / name).write_bytes(body)
    good = (tmp_path / "mirror").as_uri() + "/"
    monkeypatch.setenv("IDXMNIST_MIRRORS", f"file://{tmp_path}/missing/,{good}")
    assert same(load_dataset(spec, cache_dir=tmp_path / "c"), arrays)
    assert listing(tmp_path / "c") == with_files(*NAMES)


def test_verified_files_are_not_downloaded_again(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        assert len(download.fetch_dataset(spec, tmp_path / "synth", [server.url()]).downloaded) == 4
        assert download.fetch_dataset(spec, tmp_path / "synth", [server.url()]).downloaded == []
        # no npz yet, the IDX files are there: load_data builds offline, no request
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("404"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets() == {f"/ok/{n}": 1 for n in NAMES}


def test_bad_timeout_value_is_refused(monkeypatch):
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="IDXMNIST_TIMEOUT"):
        config.timeout()
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "2.5")
    assert config.timeout() == 2.5


# -- self-healing ----------------------------------------------------------------------------


def test_a_corrupt_idx_file_is_downloaded_again_once(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        load_dataset(spec, cache_dir=tmp_path)
        (tmp_path / "synth.idxmnist.npz").unlink()
        bad = tmp_path / "synth" / NAMES[2]
        bad.write_bytes(bad.read_bytes()[:-100])  # as a cut-off download would be
        with pytest.warns(RuntimeWarning, match=f"{NAMES[2]}: .*downloading it again"):
            assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets()[f"/ok/{NAMES[2]}"] == 2 and server.gets()[f"/ok/{NAMES[0]}"] == 1
    assert bad.read_bytes() == files[NAMES[2]]
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_second_failure_is_an_error_and_the_bad_file_stays(synth, tmp_path, monkeypatch):
    files, _, spec = synth
    with FaultServer(files) as server:
        download.fetch_dataset(spec, tmp_path / "synth", [server.url()])
        bad = tmp_path / "synth" / NAMES[0]
        bad.write_bytes(b"\x1f\x8b" + bytes(100))
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("wrong"))
        with pytest.warns(RuntimeWarning, match="downloading it again"):
            with pytest.raises(idxmnist.DownloadError, match="container check failed: sha256"):
                load_dataset(spec, cache_dir=tmp_path)
    # never deleted without a verified replacement: it may be another tool's file
    assert listing(tmp_path) == with_files(*NAMES, npz=False)
    assert bad.read_bytes() == b"\x1f\x8b" + bytes(100)


def test_a_corrupt_npz_is_rebuilt_from_the_kept_files(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        load_dataset(spec, cache_dir=tmp_path)
        npz = tmp_path / "synth.idxmnist.npz"
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
        with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
            assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets() == {f"/ok/{n}": 1 for n in NAMES}  # rebuilt offline


# -- paths: only fixed plain registry names ------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.gz", "a/b.gz", "/etc/passwd", ".hidden", "", "a\\b"])
def test_names_must_be_plain(name):
    with pytest.raises(ValueError, match="plain file name"):
        plain_name(name)


def test_a_registry_name_with_a_path_is_refused_before_any_request(synth, tmp_path):
    files, _, spec = synth
    evil = RemoteFile("../escaped.gz", 10, "sha256", "0" * 64)
    with FaultServer(files) as server:
        with pytest.raises(ValueError, match="plain file name"):  # no such spec can be made
            spec = DatasetSpec("evil", "evil.npz", "evil", (evil, *spec.files[1:]), (), DIGITS)
            download.fetch_dataset(spec, tmp_path / "d", [server.url()])
        assert server.gets() == {}
    assert listing(tmp_path) == set()  # checked before anything is created


def test_redirects_and_content_disposition_never_pick_the_path(synth, tmp_path):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        download.fetch_dataset(spec, tmp_path / "cache" / "synth", [server.url("evil")])
        assert server.gets("evil") == {f"/evil/{n}": 1 for n in NAMES}
        assert server.gets("ok") == {f"/ok/{n}": 1 for n in NAMES}
    assert listing(tmp_path) == {
        "cache",
        "cache/synth",
        "cache/synth/.idxmnist.lock",
        "cache/synth/.idxmnist-pins.json",
        *(f"cache/synth/{n}" for n in NAMES),
    }


def test_builtin_registry_names_are_plain():
    for spec in registry.DATASETS.values():
        assert plain_name(spec.subdir) == spec.subdir
        for remote in spec.files:
            assert plain_name(remote.name) == remote.name


# -- real processes: concurrency and SIGKILL -------------------------------------------------

CHILD = textwrap.dedent(
    """
    import hashlib, json, sys
    from idxmnist.datasets.catalog import DIGITS
    from idxmnist.datasets.spec import DatasetSpec, RemoteFile
    from idxmnist.fetch import download
    from idxmnist.load.loader import load_dataset

    cfg = json.load(open(sys.argv[1]))
    spec = DatasetSpec(cfg["name"], cfg["name"] + ".npz", cfg["name"],
                       tuple(RemoteFile(*f) for f in cfg["files"]), (), tuple("0123456789"))
    if cfg["what"] == "fetch":
        download.fetch_dataset(spec, cfg["dir"])
    else:
        import os, time
        deadline = time.monotonic() + 60
        while not os.path.exists(cfg["go"]):   # start together
            assert time.monotonic() < deadline, "never told to go"
            time.sleep(0.005)
        data = load_dataset(spec, cache_dir=cfg["dir"])
        h = hashlib.sha256()
        for pair in data:
            for a in pair:
                h.update(a.tobytes())
        print(h.hexdigest())
    """
)


def child_config(tmp_path, spec, **cfg) -> Path:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    conf = tmp_path / "child.json"
    files = [[r.name, r.size, r.algorithm, r.digest] for r in spec.files]
    conf.write_text(json.dumps({"name": spec.name, "files": files, **cfg}))
    return conf


def child_env(**extra) -> dict:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_concurrent_processes_download_each_file_once(synth, tmp_path):
    files, arrays, spec = synth
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    conf = child_config(tmp_path, spec, what="load", dir=str(cache), go=str(go))
    h = hashlib.sha256()
    for a in arrays:
        h.update(a.tobytes())
    with FaultServer(files) as server:
        env = child_env(IDXMNIST_MIRRORS=server.url("latency"))
        procs = [
            subprocess.Popen(
                [sys.executable, str(tmp_path / "child.py"), str(conf)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        time.sleep(0.5)  # let them all import and wait at the start line
        go.touch()
        results = [p.communicate(timeout=60) for p in procs]
        for p, (out, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, err
            assert out.strip() == h.hexdigest()
        assert server.gets() == {f"/latency/{n}": 1 for n in NAMES}
    assert listing(cache) == with_files(*NAMES)


def test_sigkill_mid_download_leaves_no_partial_file_and_the_next_run_resumes(
    tmp_path, monkeypatch
):
    # big enough to take a few seconds from the slow mirror, and to pass the
    # first fsync'ed MiB before the kill
    files, arrays = synthetic(tmp_path / "upstream", n_train=2000, n_test=20, seed=1)
    spec = spec_for(files)
    size = len(files[NAMES[0]])
    dest = tmp_path / "cache" / "synth"
    dest.mkdir(parents=True)
    previous = b"\x1f\x8b" + b"a previous, bad copy"
    (dest / NAMES[1]).write_bytes(previous)
    conf = child_config(tmp_path, spec, what="fetch", dir=str(dest))
    record = dest / f".{NAMES[0]}.part.json"
    with FaultServer(files) as server:
        proc = subprocess.Popen(
            [sys.executable, str(tmp_path / "child.py"), str(conf)],
            env=child_env(IDXMNIST_MIRRORS=server.url("slow")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        path = f"/slow/{NAMES[0]}"
        while not (record.is_file() and json.loads(record.read_text() or "{}").get("synced")):
            assert time.monotonic() < deadline and proc.poll() is None, "no download seen"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert server.sent[path] < size  # it really was mid-download
        left = listing(dest)
        assert NAMES[0] not in left  # never a final-named partial file
        assert (dest / NAMES[1]).read_bytes() == previous  # the previous file is intact
        assert left == {
            ".idxmnist.lock",
            NAMES[1],
            f".{NAMES[0]}.part",
            f".{NAMES[0]}.part.json",
        }
        synced = json.loads(record.read_text())["synced"]
        assert 0 < synced <= (dest / f".{NAMES[0]}.part").stat().st_size
        assert (dest / f".{NAMES[0]}.part").read_bytes()[:synced] == files[NAMES[0]][:synced]

        # the next run, same mirror: resumes from the verified length, heals the
        # bad file, completes
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("slow"))
        server.slow_pause = 0
        with pytest.warns(RuntimeWarning, match="downloading it again"):
            assert same(load_dataset(spec, cache_dir=tmp_path / "cache"), arrays)
        assert [h.get("Range") for h in server.headers_of(NAMES[0], "slow")] == [
            None,
            f"bytes={synced}-",
        ]
        assert server.sent_per_request(NAMES[0], "slow")[1] == size - synced
    assert listing(tmp_path / "cache") == with_files(*NAMES)


# -- the real MNIST files over loopback ------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_server(mnist_dir):
    files = {n: (mnist_dir / n).read_bytes() for n in NAMES}
    with FaultServer(files) as server:
        yield server


@pytest.mark.realdata
def test_registry_matches_the_upstream_files(mnist_dir, mnist_sha256):
    spec = registry.get("mnist")
    assert all(f.algorithm == "sha256" for f in spec.files)
    for remote in spec.files:
        assert remote.size == (mnist_dir / remote.name).stat().st_size
        assert remote.digest == mnist_sha256[remote.name]
        # the content pin: sha256 of the bytes the standard library's gzip inflates
        idx = gzip.decompress((mnist_dir / remote.name).read_bytes())
        assert (remote.content_size, remote.content) == (len(idx), hashlib.sha256(idx).hexdigest())
    for name in ("fashion_mnist", "kmnist"):
        files = registry.get(name).files
        assert {f.algorithm for f in files} == {"sha256"}
        images = [f for f in files if "images" in f.name]
        assert {f.content for f in images} == {None}  # no verified copy to compute them from


@pytest.mark.realdata
def test_real_mnist_downloads_over_loopback(mnist_server, tmp_path, monkeypatch):
    monkeypatch.setenv("IDXMNIST_MIRRORS", f"{mnist_server.url('404')},{mnist_server.url()}")
    before = dict(mnist_server.gets())
    (x, y), (xt, yt) = idxmnist.load_data(cache_dir=tmp_path)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    after = mnist_server.gets()
    # MNIST pins its content too, so a mirror without the .gz is asked for the
    # same file uncompressed, .xz and .bz2 before the next mirror is tried
    asked = [n.removesuffix(".gz") + s for n in NAMES for s in (".gz", "", ".xz", ".bz2")]
    assert {p: after[p] - before.get(p, 0) for p in after} == {
        **{f"/404/{n}": 1 for n in asked},
        **{f"/ok/{n}": 1 for n in NAMES},
    }
    assert listing(tmp_path) == with_files(*NAMES, subdir="mnist")


def run_cli(*args, env=None):
    return shared_run_cli(*args, env=child_env(**(env or {})))


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


@pytest.mark.parametrize("module,size", [("fashion_mnist", 26421880), ("kmnist", 18165135)])
def test_sibling_datasets_download_with_their_registry_entries(
    module, size, synth, tmp_path, monkeypatch
):
    files, _, _ = synth  # MNIST-shaped files that are not the sibling's: refused by size
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError, match=rf"got \d+ bytes, expected {size}"):
            getattr(idxmnist, module).load_data(cache_dir=tmp_path)
        assert server.gets() == {f"/ok/{NAMES[0]}": 1}
    subdir = registry.get(module).subdir
    assert listing(tmp_path) == {
        subdir,
        f"{subdir}/.idxmnist.lock",
        f".{registry.get(module).npz_name.removesuffix('.npz')}.idxmnist.npz.lock",
    }
