"""The mirror loop: each file from the mirrors in order, verified, every failure listed.

Downloads against a real HTTP server on 127.0.0.1, with real faults and real
processes. No mocks: ``tests/support/httpserver.py`` is a threaded
``http.server`` on an ephemeral loopback port whose first path segment picks
a fault mode, so one server is several mirrors. Small synthetic datasets are
registered with their real sizes and sha256 (``tests/support/synth.py``,
``tests/support/pinned.py``). The real MNIST files from
``$IDXMNIST_TEST_DATA`` are served for the end-to-end tests, also repackaged
as a mirror may serve them (``.xz``, decompressed, a keras-layout npz, a zip
of the ``.gz``, a tar): each loads the arrays the standard library reads from
the upstream files, and the same packaging of a copy with one flipped pixel
is refused, naming the content check.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import io
import lzma
import re
import subprocess
import sys
import tarfile
import time
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import ChecksumError, DownloadError
from idxmnist.datasets import registry
from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile
from idxmnist.fetch import download
from idxmnist.load.loader import load_dataset

from ..support.helpers import MNIST_STEMS, child_env, listing
from ..support.httpserver import FaultServer
from ..support.packings import arrays_of, npz_bytes
from ..support.pinned import IDX, KEYS, NPZ, STEMS, UPSTREAM, synth_spec
from ..support.synth import NAMES, child_config, closed_port_url, same, with_files

# -- one test per fault mode: fallback to the next mirror, and failure when alone --------------


#: the socket timeout of the stall cases only: the stalled mirror fails after this long,
#: and it is long enough for a healthy loopback mirror on a loaded machine
STALL_TIMEOUT = "2"


def timeout_for(fault: str, monkeypatch) -> None:
    """A short read timeout only where a mirror stalls; the default (10 s) elsewhere."""
    if fault == "stall":
        monkeypatch.setenv("IDXMNIST_TIMEOUT", STALL_TIMEOUT)


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


MNIST_HINT = (
    "idxmnist import PATH installs mnist's files from a copy you have: a folder of them "
    "(torchvision's MNIST/raw/ too), a zip or tar of them, or a keras-layout .npz"
)


def test_wrong_bytes_from_every_mirror_is_a_checksum_error(tmp_path):
    spec = synth_spec()
    remote = dataclasses.replace(spec.files[1], content=None, content_size=None)
    with FaultServer(UPSTREAM) as server:
        for mirrors in ([server.url("wrong")], [server.url("wrong"), server.url("wrong")]):
            with pytest.raises(ChecksumError) as info:
                download.fetch_file(remote, tmp_path, mirrors)
            lines = str(info.value).split("\n")[1:]
            assert lines == [
                f"  {m}{remote.name} -> sha256 mismatch (right size, wrong bytes)" for m in mirrors
            ]
        # wrong bytes from one mirror, none from the other: not (only) a checksum problem
        with pytest.raises(DownloadError) as info:
            download.fetch_file(remote, tmp_path, [server.url("wrong"), server.url("500")])
        assert type(info.value) is DownloadError
    assert listing(tmp_path) == set()


# -- mirrors: what is one, and what happens without any ----------------------------------------


@pytest.mark.parametrize("mirror", ["ftp://example.invalid/mnist/", "/srv/mnist", "mnist"])
def test_a_mirror_that_is_not_a_url_is_a_download_error(tmp_path, monkeypatch, mirror):
    monkeypatch.setenv("IDXMNIST_MIRRORS", mirror)
    with pytest.raises(idxmnist.DownloadError, match="IDXMNIST_MIRRORS") as exc:
        idxmnist.load_data(cache_dir=tmp_path)
    assert repr(mirror) in str(exc.value) and "http://, https:// or file://" in str(exc.value)


def test_a_mirror_that_is_not_a_url_is_refused_word_for_word(tmp_path, monkeypatch):
    remote = synth_spec().files[0]
    why = (
        " is not a URL to download from (http://, https:// or file://; "
        "a base URL, or the URL of one .npz, .zip or .tar file)"
    )
    with pytest.raises(DownloadError) as info:
        download.fetch_file(remote, tmp_path, ["ftp://example.org/mnist/"])
    assert str(info.value) == "mirror: 'ftp://example.org/mnist/'" + why
    monkeypatch.setenv("IDXMNIST_MIRRORS", "https://example.org/a/, mnist")
    with pytest.raises(DownloadError) as info:
        download.mirrors_for(synth_spec())
    assert str(info.value) == "IDXMNIST_MIRRORS: 'mnist'" + why
    assert listing(tmp_path) == set()


def test_fetch_file_without_mirrors_says_so(tmp_path):
    remote = synth_spec().files[0]
    with pytest.raises(DownloadError) as info:
        download.fetch_file(remote, tmp_path, [])
    assert type(info.value) is DownloadError
    assert str(info.value) == (
        "could not download train-images-idx3-ubyte.gz from any mirror; tried, in order:\n"
        "  (no mirrors configured)"
    )


MNIST_WHAT = (
    "the four mnist files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)"
)


def shared_labels_spec():
    """A spec whose two splits share their labels file: three distinct files."""
    base = synth_spec()
    files = (base.files[0], base.files[1], base.files[2], base.files[1])
    return dataclasses.replace(base, files=files, whole_files=())


#: spec -> (what the import hint lists, how the files are named, which URLs would serve them)
HINTS = {
    "mnist": (
        "a folder of them (torchvision's MNIST/raw/ too), a zip or tar of them, "
        "or a keras-layout .npz",
        MNIST_WHAT[len("the four mnist files ") :],
        "four",
        "",
        "base URLs that serve them",
    ),
    "emnist_digits": (
        "gzip.zip, the archive that holds them, or a folder of them "
        "(torchvision's EMNIST/raw/ too)",
        "(emnist-digits-train-images-idx3-ubyte.gz, emnist-digits-train-labels-idx1-ubyte.gz, "
        "emnist-digits-test-images-idx3-ubyte.gz, emnist-digits-test-labels-idx1-ubyte.gz)",
        "four",
        ", or gzip.zip, the archive that holds them,",
        "base URLs that serve gzip.zip",
    ),
    "qmnist_nist": (
        "a folder of them (torchvision's QMNIST/raw/ too), or a zip or tar of them",
        "(xnist-images-idx3-ubyte.xz, xnist-labels-idx2-int.xz)",
        "two",
        "",
        "base URLs that serve them",
    ),
    "k49": (
        "a folder of them",
        "(k49-train-imgs.npz, k49-train-labels.npz, k49-test-imgs.npz, k49-test-labels.npz)",
        "four",
        "",
        "base URLs that serve them",
    ),
    "synth": (
        "a folder of them, a zip or tar of them, or a keras-layout .npz",
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz)",
        "3",
        "",
        "base URLs that serve them",
    ),
}


def spec_named(name: str):
    from idxmnist.datasets import registry

    return shared_labels_spec() if name == "synth" else registry.DATASETS[name]


@pytest.mark.parametrize("name", list(HINTS))
def test_without_mirrors_the_error_says_so_and_how_to_load_from_local_files(name, tmp_path):
    spec = spec_named(name)
    layouts, names, count, archive, urls = HINTS[name]
    first = names[1:-1].split(", ")[0]
    hint = f"idxmnist import PATH installs {name}'s files from a copy you have: {layouts}"
    with pytest.raises(DownloadError) as info:
        download.fetch_dataset(spec, tmp_path, [], offline=False)
    assert type(info.value) is DownloadError  # no mirror tried: not a ChecksumError
    assert str(info.value) == (
        f"could not download {first} from any mirror; tried, in order:\n"
        "  (no mirrors configured)\n"
        "To load from local files instead: load_data(source='DIR') or IDXMNIST_SOURCE=DIR "
        f"with the {count} {name} files {names}{archive} in DIR; or set IDXMNIST_MIRRORS to "
        f"{urls}; or {hint}"
    )
    assert listing(tmp_path) == {".idxmnist.lock"}


def test_a_complete_folder_needs_no_mirror(tmp_path):
    spec = synth_spec()
    for s in STEMS:
        (tmp_path / s).write_bytes(IDX[s])  # raw IDX files: they verify by content
    got = download.fetch_dataset(spec, tmp_path, [], offline=False)
    assert got.downloaded == []
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}


# -- fetch_file and fetch_dataset: their arguments, their folder, their files ------------------


def test_fetch_file_failure_lists_the_mirrors_and_only_the_hint_given(tmp_path):
    spec = synth_spec()
    remote = spec.files[0]
    with FaultServer(UPSTREAM) as server:
        url = server.url("500")
        with pytest.raises(DownloadError) as info:
            download.fetch_file(remote, tmp_path / "d", [url])
        assert str(info.value) == (
            "could not download train-images-idx3-ubyte.gz from any mirror; tried, in order:\n"
            f"  {url}train-images-idx3-ubyte.gz -> HTTP 500"
        )
        with pytest.raises(DownloadError) as info:
            download.fetch_file(remote, tmp_path / "d", [url], hint="see the docs")
        assert str(info.value).endswith(" -> HTTP 500\nsee the docs")


def test_fetch_file_reads_its_timeout_from_the_environment_unless_given(tmp_path, monkeypatch):
    remote = synth_spec().files[0]
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "soon")
    with FaultServer(UPSTREAM) as server:
        with pytest.raises(ValueError, match=r"^IDXMNIST_TIMEOUT='soon': expected a positive"):
            download.fetch_file(remote, tmp_path, [server.url()])
        got = download.fetch_file(remote, tmp_path, [server.url()], seconds=10)
    assert got.read_bytes() == UPSTREAM[remote.name]


def test_fetch_file_gives_up_on_a_stalled_mirror_after_its_timeout(tmp_path):
    spec = synth_spec()
    remote = spec.files[0]
    big = {remote.name: UPSTREAM[remote.name]}
    with FaultServer(big) as server:
        server.stall_seconds = 8.0
        url = server.url("stall")
        for kwargs in ({}, {"spec": spec}):
            with pytest.raises(DownloadError) as info:
                download.fetch_file(remote, tmp_path, [url], seconds=2, **kwargs)
            line = str(info.value).split("\n")[1]
            # half the body at once, then nothing: a stall, whether that half came with the
            # headers or after them
            assert re.fullmatch(
                rf"  {re.escape(url)}{remote.name} -> timed out after 2 s "
                r"\(stalled after \d+ of \d+ bytes\)",
                line,
            ), line


def test_fetch_dataset_makes_its_folder_and_the_folders_above_it(tmp_path):
    spec = synth_spec()
    dest = tmp_path / "a" / "b" / "synth"
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_dataset(spec, dest, [server.url() + "synth.npz"], offline=False)
    assert got.downloaded == [dest / s for s in STEMS]
    again = download.fetch_dataset(spec, dest, [], offline=False)  # the folder exists now
    assert again.downloaded == [] and again.files == got.files


def test_verified_files_are_not_downloaded_again(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    with FaultServer(files) as server:
        assert len(download.fetch_dataset(spec, tmp_path / "synth", [server.url()]).downloaded) == 4
        assert download.fetch_dataset(spec, tmp_path / "synth", [server.url()]).downloaded == []
        # no npz yet, the IDX files are there: load_data builds offline, no request
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("404"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert server.gets() == {f"/ok/{n}": 1 for n in NAMES}


# -- offline: what is missing and how to import it, word for word ------------------------------


@pytest.mark.parametrize("name", list(HINTS))
def test_the_offline_error_says_word_for_word_what_is_missing_and_how_to_import_it(
    name, tmp_path, monkeypatch
):
    spec = spec_named(name)
    layouts, names, count, archive, _ = HINTS[name]
    missing = names[1:-1]
    hint = f"idxmnist import PATH installs {name}'s files from a copy you have: {layouts}"
    what = f"the {count} {name} files {names}{archive}"
    for how, kwargs in [("offline=True", {"offline": True}), ("IDXMNIST_OFFLINE=1", {})]:
        if not kwargs:
            monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
        with pytest.raises(DownloadError) as info:
            download.fetch_dataset(spec, tmp_path, **kwargs)
        assert type(info.value) is DownloadError
        assert str(info.value) == (
            f"offline ({how}): no network access, and {tmp_path} lacks {name}'s {missing}. "
            f"{hint}; or load_data(source='DIR') with {what} in DIR; or go online "
            "(unset IDXMNIST_OFFLINE)"
        )


# -- self-healing ------------------------------------------------------------------------------


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


# -- paths: only fixed plain registry names ----------------------------------------------------


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


# -- real processes: concurrency ---------------------------------------------------------------


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


# -- the real MNIST files over loopback, and every packaging of them ---------------------------


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


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return buf.getvalue()


_PACKED: dict[tuple[str, str], bytes] = {}


def packed(codec: str, body: bytes) -> bytes:
    """``body`` compressed fast with ``codec``; remembered, as most files recur unchanged."""
    key = (codec, hashlib.sha1(body).hexdigest())
    if key not in _PACKED:
        if codec == "xz":
            _PACKED[key] = lzma.compress(body, preset=0)
        elif codec == "bz2":
            _PACKED[key] = bz2.compress(body, 1)
        else:
            _PACKED[key] = gzip.compress(body, 1, mtime=0)
    return _PACKED[key]


def route(name: str, idx: dict[str, bytes], gz: dict[str, bytes]):
    """``(files the mirror serves, the mirror's path under the server: "" for a base URL)``.

    ``idx``: the IDX bytes by stem; ``gz``: the .gz files by name (for the zip).
    """
    if name == "xz":
        return {f"{s}.xz": packed("xz", idx[s]) for s in MNIST_STEMS}, ""
    if name == "xz-under-gz-names":
        return {f"{s}.gz": packed("xz", idx[s]) for s in MNIST_STEMS}, ""
    if name == "decompressed":
        return {s: idx[s] for s in MNIST_STEMS}, ""
    if name == "regzipped-level-1":
        return {f"{s}.gz": packed("gzip", idx[s]) for s in MNIST_STEMS}, ""
    if name == "bz2":
        return {f"{s}.bz2": packed("bz2", idx[s]) for s in MNIST_STEMS}, ""
    if name == "keras-npz":
        return {"mnist.npz": npz_bytes(idx)}, "mnist.npz"
    if name == "zip-of-gz":
        return {"mnist.zip": zip_bytes({f"mnist/{n}": b for n, b in gz.items()})}, "mnist.zip"
    if name == "tar-of-torchvision-raw":
        return {
            "mnist.tar.gz": tar_bytes({f"MNIST/raw/{s}": idx[s] for s in MNIST_STEMS})
        }, "mnist.tar.gz"
    raise AssertionError(name)


ROUTES = [
    "xz",
    "decompressed",
    "keras-npz",
    "zip-of-gz",
    "xz-under-gz-names",
    "regzipped-level-1",
    "tar-of-torchvision-raw",
]  # bz2 and the rest of the containers: tests/store/test_unpack.py, on small files


@pytest.mark.realdata
@pytest.mark.parametrize("name", ROUTES)
def test_each_packaging_loads_mnist_verified_by_content(name, raw, upstream, tmp_path, monkeypatch):
    files, where = route(name, raw, upstream)  # the zip holds the upstream .gz bytes
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url() + where)
        data = idxmnist.load_data(cache_dir=tmp_path)
        got = [a for pair in data for a in pair]
        for a, b in zip(got, arrays_of(raw), strict=True):
            assert np.array_equal(a, b)
        if where:  # one request for the whole dataset
            assert server.gets() == {f"/ok/{where}": 1}
    kept = listing(tmp_path / "mnist") - {".idxmnist.lock"}
    assert len(kept) == 4 and not any(k.startswith(".") for k in kept)  # no temporary left
    # each kept file verifies on its own, by container or content
    spec = registry.get("mnist")
    for remote in spec.files:
        (path,) = [tmp_path / "mnist" / k for k in kept if k.startswith(remote.stem)]
        assert idxmnist.store.verify.verdict(path, remote).ok


@pytest.fixture(scope="module")
def flipped_raw(raw) -> dict[str, bytes]:
    """The same, with one pixel of the first test image changed."""
    images = bytearray(raw["t10k-images-idx3-ubyte"])
    images[16 + 14 * 28 + 14] ^= 0x01
    return {**raw, "t10k-images-idx3-ubyte": bytes(images)}


@pytest.mark.realdata
@pytest.mark.parametrize("name", ROUTES)
def test_one_flipped_pixel_is_refused_by_each_packaging_naming_the_content_check(
    name, flipped_raw, tmp_path, monkeypatch
):
    gz = {}
    if name == "zip-of-gz":  # the .gz files made from the changed bytes
        gz = {f"{s}.gz": packed("gzip", flipped_raw[s]) for s in MNIST_STEMS}
    files, where = route(name, flipped_raw, gz)
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url() + where)
        with pytest.raises(idxmnist.ChecksumError) as info:
            idxmnist.load_data(cache_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("could not download t10k-images-idx3-ubyte.gz from any mirror")
    assert "content check failed: sha256 of the IDX bytes is " in message, message
    expected = registry.get("mnist").files[2].content
    assert f"expected {expected}" in message
    assert not (tmp_path / "mnist.npz").exists()
    left = listing(tmp_path / "mnist")
    assert not any(n.startswith("t10k-images") for n in left)  # never kept
    assert not any(n.endswith((".part", ".json")) for n in left)


@pytest.mark.realdata
def test_whole_file_mirror_after_a_dead_base_mirror(raw, tmp_path, monkeypatch):
    """The registry's order: per-file mirrors first, the one-file copy last."""
    files = {"mnist.npz": npz_bytes(raw)}
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url('500')},{server.url()}mnist.npz")
        idxmnist.load_data(cache_dir=tmp_path)
        assert server.gets("ok") == {"/ok/mnist.npz": 1}  # fetched once for the four
        assert sum(server.gets("500").values()) == 4
