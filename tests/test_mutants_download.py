"""Tests aimed at mutation-testing survivors in ``idxmnist/datasets/download.py``
(``python tools/mutation.py download``).

Each test pins behaviour a user sees (an exact message, a retry, a timeout, a
progress bar's label, what is left in the directory) that a surviving mutant
changed. Expected values come from ``hashlib``, ``gzip`` and ``numpy``, never
from the code under test; the mirrors are the loopback server of
``tests/httpserver.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gzip
import hashlib
import io
import lzma
import os
import pty
import re
import select
import struct
import sys
import termios
import time

import numpy as np
import pytest

from idxmnist import ChecksumError, DownloadError, config
from idxmnist.datasets.spec import RemoteFile, plain_name
from idxmnist.fetch import download

from .httpserver import FaultServer
from .test_download import listing
from .test_mutants_sources import (
    ARRAYS,
    IDX,
    KEYS,
    NPZ,
    STEMS,
    UPSTREAM,
    cut_whole_download,
    idx_of,
    npz_of,
    pinned_spec,
)


def npz_with(arrays, **extra) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **dict(zip(KEYS, arrays, strict=True)), **extra)
    return buf.getvalue()


def md5_pinned_spec(whole: bytes):
    """``pinned_spec`` with its whole-dataset file pinned by md5 instead of sha256."""
    spec = pinned_spec(whole)
    pin = RemoteFile("synth.npz", len(whole), "md5", hashlib.md5(whole).hexdigest())
    return dataclasses.replace(spec, whole_files=(pin,))


def failed_members(arrays, spec) -> str:
    """Why each array of an npz fails its registry file: container, then content check."""
    return "; ".join(
        f"{k}: container check failed: {len(idx_of(a))} bytes, expected {r.size}; content "
        f"check failed: sha256 of the IDX bytes is {hashlib.sha256(idx_of(a)).hexdigest()}, "
        f"expected {r.content}"
        for k, a, r in zip(KEYS, arrays, spec.files, strict=True)
    )


# -- a whole-dataset file: its pin, its size bound, its timeout, its retry -----------------


def test_a_whole_file_that_matches_its_md5_pin_is_not_called_another_file(tmp_path):
    # the whole file is the one pinned (by md5), but the registry pins other arrays for
    # its members: the error must blame the members, not the file
    wrong = tuple(a ^ 1 for a in ARRAYS)
    served = npz_of(wrong)
    spec = md5_pinned_spec(served)
    why = failed_members(wrong, spec)
    with FaultServer({"synth.npz": served}) as server:
        url = server.url() + "synth.npz"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path / "a", [url], offline=False)
        assert str(info.value).split("\n")[1] == f"  {url} -> {why}"
        # and a file that is not the pinned one is said to be so, by the pin's algorithm
        other = md5_pinned_spec(NPZ)
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(other, tmp_path / "b", [url], offline=False)
        assert str(info.value).split("\n")[1] == (
            f"  {url} -> not the pinned synth.npz (md5 mismatch); {failed_members(wrong, other)}"
        )
    assert listing(tmp_path / "a") == {".idxmnist.lock"}
    assert listing(tmp_path / "b") == {".idxmnist.lock"}


def test_a_pinned_whole_file_may_be_larger_than_its_members_allow(tmp_path):
    # 1.5 MiB of padding: more than the members' bounds plus 1 MiB, but the pinned size
    padding = np.zeros(3 << 19, dtype=np.uint8)
    big = npz_with(ARRAYS, padding=padding)
    spec = pinned_spec(big)
    bound = sum(max(r.size, r.content_size + r.content_size // 64 + 65536) for r in spec.files)
    assert len(big) > bound + (1 << 20)
    with FaultServer({"synth.npz": big}) as server:
        got = download.fetch_dataset(spec, tmp_path, [server.url() + "synth.npz"], offline=False)
        assert server.gets() == {"/ok/synth.npz": 1}
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}


def test_a_whole_file_on_a_stalled_mirror_times_out_after_the_seconds_given(tmp_path):
    spec = pinned_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        server.stall_seconds = 10.0
        url = server.url("stall") + "synth.npz"
        with pytest.raises(DownloadError) as info:
            download.fetch_file(spec.files[0], tmp_path, [url], spec=spec, seconds=2)
    line = str(info.value).split("\n")[1]
    assert re.fullmatch(
        rf"  {re.escape(url)} -> timed out after 2 s \(stalled after \d+ of {len(NPZ)} bytes\)",
        line,
    ), line
    assert listing(tmp_path) == set()


def test_a_resumed_whole_file_that_fails_is_fetched_once_more_from_the_start(tmp_path):
    spec = pinned_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        url = cut_whole_download(server, spec, tmp_path)
        # the resume is damaged in transit (its end-of-directory record): no member can
        # be read, so the whole file is fetched again, from its first byte
        eocd = NPZ.rindex(b"PK\x05\x06")
        server.mangle = eocd
        before = len(server.requests)
        got = download.fetch_dataset(spec, tmp_path, [url], offline=False)
        ranges = [r["headers"].get("Range") for r in server.requests[before:]]
    assert ranges == ["bytes=300-", None]
    assert got.downloaded == [tmp_path / s for s in STEMS]
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}


# -- the progress bar on a terminal names the file, not the URL -----------------------------


END = "-- end of what the test shows --"


@contextlib.contextmanager
def terminal(monkeypatch):
    """``sys.stderr`` on a real pseudo-terminal; yields a function reading what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    tty = os.fdopen(slave, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", tty)

    def read() -> str:
        # the kernel passes a terminal's output on asynchronously: read up to a marker
        tty.write(f"\n{END}\n")
        tty.flush()
        shown, deadline = b"", time.monotonic() + 60  # a deadline for a hang, not a timing
        while END.encode() not in shown:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"the terminal never showed the end marker: {shown!r}"
            shown += os.read(master, 65536)
        return shown.decode("utf-8", "replace").split(END)[0]

    try:
        yield read
    finally:
        monkeypatch.undo()
        tty.close()
        os.close(master)


def test_the_progress_bar_of_a_file_names_it_not_its_url(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    remote = pinned_spec().files[0]
    with FaultServer(UPSTREAM) as server, terminal(monkeypatch) as shown:
        got = download.fetch_file(remote, tmp_path, [server.url()], seconds=10)
        out = shown()
    assert got.read_bytes() == UPSTREAM[remote.name]
    assert f"{remote.name}:" in out, out
    assert "http://" not in out, out


def test_the_progress_bar_of_a_whole_file_names_it_not_its_url(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    spec = pinned_spec()
    with FaultServer({"synth.npz": NPZ}) as server, terminal(monkeypatch) as shown:
        download.fetch_file(spec.files[0], tmp_path, [server.url() + "synth.npz"], spec=spec)
        out = shown()
    assert "synth.npz:" in out, out
    assert "http://" not in out, out


# -- one file from a base mirror: the name it is kept under ---------------------------------


def test_a_repacked_copy_from_a_base_mirror_is_kept_by_content_as_its_raw_idx_bytes(tmp_path):
    spec = pinned_spec()
    remote = spec.files[0]  # train-images-idx3-ubyte.gz, its content pinned
    stem = STEMS[0]
    raw = IDX[stem]
    # a copy that is not the upstream bytes is kept as its IDX bytes under the stem: a name
    # another tool checking the upstream hash (keras's fashion-mnist/*.gz) never rejects
    cases = [
        # raw IDX bytes under the registry's .gz name
        ({remote.name: raw}, [remote.name]),
        # gzip of another level under the registry's name
        ({remote.name: gzip.compress(raw, 1, mtime=1)}, [remote.name]),
        # xz, served only under the .xz name: the names asked for in order
        ({f"{stem}.xz": lzma.compress(raw)}, [remote.name, stem, f"{stem}.xz"]),
    ]
    for i, (files, asked) in enumerate(cases):
        assert hashlib.sha256(next(iter(files.values()))).hexdigest() != remote.digest
        dest = tmp_path / str(i)
        with FaultServer(files) as server:
            got = download.fetch_file(remote, dest, [server.url()])
            assert server.gets() == {f"/ok/{n}": 1 for n in asked}
        assert got == dest / stem
        assert got.read_bytes() == raw
        assert listing(dest) == {stem}


def test_a_copy_whose_content_is_wrong_is_a_checksum_error_naming_both_checks(tmp_path):
    spec = pinned_spec()
    remote = spec.files[0]
    bad = bytearray(IDX[STEMS[0]])
    bad[-1] ^= 1
    with FaultServer({remote.name: bytes(bad)}) as server:
        url = server.url()
        with pytest.raises(ChecksumError) as info:
            download.fetch_file(remote, tmp_path, [url])
        assert server.gets() == {f"/ok/{remote.name}": 1}  # not a 404: no other name asked
    assert str(info.value) == (
        f"could not download {remote.name} from any mirror; tried, in order:\n"
        f"  {url}{remote.name} -> container check failed: {len(bad)} bytes, expected "
        f"{remote.size}; content check failed: sha256 of the IDX bytes is "
        f"{hashlib.sha256(bytes(bad)).hexdigest()}, expected {remote.content}"
    )
    assert listing(tmp_path) == set()


def test_a_body_of_another_length_than_the_pinned_one_says_both_lengths(tmp_path):
    body = np.random.default_rng(6).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    for size in (len(body) - 10, len(body) + 10):
        remote = RemoteFile("blob.gz", size, "sha256", "0" * 64)
        with FaultServer({"blob.gz": body}) as server:
            url = server.url()
            with pytest.raises(ChecksumError) as info:
                download.fetch_file(remote, tmp_path, [url])
        assert str(info.value).split("\n")[1:] == [
            f"  {url}blob.gz -> got {len(body)} bytes, expected {size}"
        ]
        assert listing(tmp_path) == set()


def test_a_copy_without_content_length_is_kept_by_content_or_refused_past_its_bound(tmp_path):
    spec = pinned_spec()
    remote = spec.files[0]
    raw = IDX[STEMS[0]]
    bound = len(raw) + len(raw) // 64 + 65536  # the content size, a 64th more, and 64 KiB
    with FaultServer({remote.name: raw}) as server:
        got = download.fetch_file(remote, tmp_path / "a", [server.url("nolength")])
    assert got == tmp_path / "a" / STEMS[0]
    assert got.read_bytes() == raw
    too_long = raw + bytes(bound + 1 - len(raw))
    with FaultServer({remote.name: too_long}) as server:
        url = server.url("nolength")
        with pytest.raises(ChecksumError) as info:
            download.fetch_file(remote, tmp_path / "b", [url])
    assert str(info.value).split("\n")[1] == (
        f"  {url}{remote.name} -> got more than {bound} bytes, more than a copy can be"
    )
    assert listing(tmp_path / "b") == set()


def test_exact_upstream_bytes_served_under_the_raw_name_keep_the_registry_name(tmp_path):
    # the registry calls it .gz, upstream publishes it raw; this mirror has it only under
    # its raw name (a 404 for the .gz), with exactly the registry's bytes
    raw = IDX[STEMS[1]]
    labels = RemoteFile(
        "train-labels-idx1-ubyte.gz",
        len(raw),
        "sha256",
        hashlib.sha256(raw).hexdigest(),
        hashlib.sha256(raw).hexdigest(),
        len(raw),
    )
    with FaultServer({"train-labels-idx1-ubyte": raw}) as server:
        got = download.fetch_file(labels, tmp_path, [server.url()])
        assert server.gets() == {
            "/ok/train-labels-idx1-ubyte.gz": 1,
            "/ok/train-labels-idx1-ubyte": 1,
        }
    assert got.read_bytes() == raw
    assert got == tmp_path / "train-labels-idx1-ubyte.gz"


# -- what the errors say: no mirrors, offline, how to load from local files ----------------

MNIST_HINT = (
    "idxmnist import PATH installs mnist's files from a copy you have: a folder of them "
    "(torchvision's MNIST/raw/ too), a zip or tar of them, or a keras-layout .npz"
)
MNIST_WHAT = (
    "the four mnist files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)"
)


def shared_labels_spec():
    """A spec whose two splits share their labels file: three distinct files."""
    base = pinned_spec()
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


def test_fetch_file_without_mirrors_says_so(tmp_path):
    remote = pinned_spec().files[0]
    with pytest.raises(DownloadError) as info:
        download.fetch_file(remote, tmp_path, [])
    assert type(info.value) is DownloadError
    assert str(info.value) == (
        "could not download train-images-idx3-ubyte.gz from any mirror; tried, in order:\n"
        "  (no mirrors configured)"
    )


def test_a_complete_folder_needs_no_mirror(tmp_path):
    spec = pinned_spec()
    for s in STEMS:
        (tmp_path / s).write_bytes(IDX[s])  # raw IDX files: they verify by content
    got = download.fetch_dataset(spec, tmp_path, [], offline=False)
    assert got.downloaded == []
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}


def test_a_mirror_that_is_not_a_url_is_refused_word_for_word(tmp_path, monkeypatch):
    remote = pinned_spec().files[0]
    why = (
        " is not a URL to download from (http://, https:// or file://; "
        "a base URL, or the URL of one .npz, .zip or .tar file)"
    )
    with pytest.raises(DownloadError) as info:
        download.fetch_file(remote, tmp_path, ["ftp://example.org/mnist/"])
    assert str(info.value) == "mirror: 'ftp://example.org/mnist/'" + why
    monkeypatch.setenv("IDXMNIST_MIRRORS", "https://example.org/a/, mnist")
    with pytest.raises(DownloadError) as info:
        download.mirrors_for(pinned_spec())
    assert str(info.value) == "IDXMNIST_MIRRORS: 'mnist'" + why
    assert listing(tmp_path) == set()


# -- one file from base mirrors: variants, wrong bytes on every mirror ----------------------


def test_a_file_under_none_of_its_names_lists_the_names_asked_for(tmp_path):
    spec = pinned_spec()
    remote = spec.files[1]
    with FaultServer({"other": b"x"}) as server:
        url = server.url()
        with pytest.raises(DownloadError) as info:
            download.fetch_file(remote, tmp_path, [url])
        assert server.gets() == {
            "/ok/train-labels-idx1-ubyte.gz": 1,
            "/ok/train-labels-idx1-ubyte": 1,
            "/ok/train-labels-idx1-ubyte.xz": 1,
            "/ok/train-labels-idx1-ubyte.bz2": 1,
        }
    assert type(info.value) is DownloadError
    assert str(info.value).split("\n")[1] == (
        f"  {url}train-labels-idx1-ubyte.gz -> HTTP 404 (nor under train-labels-idx1-ubyte, "
        "train-labels-idx1-ubyte.xz, train-labels-idx1-ubyte.bz2)"
    )
    # without a content hash only the registry's name is asked for, and said
    exact = dataclasses.replace(remote, content=None, content_size=None)
    with FaultServer({"other": b"x"}) as server:
        url = server.url()
        with pytest.raises(DownloadError) as info:
            download.fetch_file(exact, tmp_path, [url])
        assert server.gets() == {"/ok/train-labels-idx1-ubyte.gz": 1}
    assert str(info.value).split("\n")[1] == f"  {url}train-labels-idx1-ubyte.gz -> HTTP 404"
    assert listing(tmp_path) == set()


def test_wrong_bytes_from_every_mirror_is_a_checksum_error(tmp_path):
    spec = pinned_spec()
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


def test_a_spliced_file_that_fails_again_says_so_word_for_word(tmp_path):
    body = np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    flipped = body[:100] + bytes([body[100] ^ 1]) + body[101:]
    remote = RemoteFile(f"{STEMS[0]}.gz", len(body), "sha256", hashlib.sha256(body).hexdigest())
    with FaultServer({remote.name: flipped}) as server:
        server.cut[remote.name] = 300
        url = server.url()
        with pytest.raises(ChecksumError) as info:
            download.fetch_file(remote, tmp_path, [url])
        ranges = [h.get("Range") for h in server.headers_of(remote.name)]
    assert ranges == [None, "bytes=300-", None]  # cut, resumed, then again from the start
    assert str(info.value).split("\n")[1] == (
        f"  {url}{remote.name} -> sha256 mismatch (right size, wrong bytes) "
        "(after a resume, and again from the start)"
    )
    assert listing(tmp_path) == set()


# -- fetch_dataset: its folder, its settings -------------------------------------------------


def test_fetch_dataset_makes_its_folder_and_the_folders_above_it(tmp_path):
    spec = pinned_spec()
    dest = tmp_path / "a" / "b" / "synth"
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_dataset(spec, dest, [server.url() + "synth.npz"], offline=False)
    assert got.downloaded == [dest / s for s in STEMS]
    again = download.fetch_dataset(spec, dest, [], offline=False)  # the folder exists now
    assert again.downloaded == [] and again.files == got.files


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


def test_names_with_a_nul_byte_are_not_plain():
    for name in ["a\0b", "train-images-idx3-ubyte.gz\0"]:
        with pytest.raises(ValueError) as info:
            plain_name(name)
        assert str(info.value) == (
            f"{name!r} is not a plain file name; refusing to use it as a path"
        )
