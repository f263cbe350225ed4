"""One file from one base mirror: the names it is asked under, its checks, its kept name.

A file whose content is pinned is asked for under the registry's name, then
raw, ``.xz`` and ``.bz2``; a copy verifies by its exact bytes (kept under the
registry's name) or by its content (kept under its stem and real suffix),
and may be a 64th plus 64 KiB larger than its content, no more. Expected
values come from ``hashlib``, ``gzip`` and ``lzma``, never from the code
under test.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import lzma

import numpy as np
import pytest

from idxmnist import ChecksumError, DownloadError
from idxmnist.datasets.spec import RemoteFile
from idxmnist.fetch import download

from ..support.helpers import listing
from ..support.httpserver import FaultServer
from ..support.pinned import IDX, RNG, STEMS, idx_of, synth_spec

# -- the name a copy is kept under -------------------------------------------------------------


def test_a_repacked_copy_from_a_base_mirror_is_kept_by_content_as_its_raw_idx_bytes(tmp_path):
    spec = synth_spec()
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


# -- the names asked for, both checks, the bound on a copy's size ------------------------------


def test_a_file_under_none_of_its_names_lists_the_names_asked_for(tmp_path):
    spec = synth_spec()
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


def test_a_copy_whose_content_is_wrong_is_a_checksum_error_naming_both_checks(tmp_path):
    spec = synth_spec()
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


def test_a_copy_without_content_length_is_kept_by_content_or_refused_past_its_bound(tmp_path):
    spec = synth_spec()
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


def test_a_body_may_be_up_to_the_content_size_plus_a_64th_plus_64_kib(tmp_path):
    idx = idx_of(RNG.integers(0, 256, (10, 12, 34), dtype=np.uint8))
    assert len(idx) == 4096  # 4096 // 64 == 64, while // 63 and // 65 differ
    upstream = gzip.compress(idx, mtime=0)
    remote = RemoteFile(
        "x-idx3-ubyte.gz",
        len(upstream),
        "sha256",
        hashlib.sha256(upstream).hexdigest(),
        hashlib.sha256(idx).hexdigest(),
        len(idx),
    )
    limit = 4096 + 64 + 65536
    for size, refused in [(limit + 1, True), (limit, False)]:
        with FaultServer({remote.name: b"\x07" * size}) as server:
            url = server.url()
            with pytest.raises(ChecksumError) as info:
                download.fetch_file(remote, tmp_path, [url])
        line = str(info.value).split("\n")[1]
        too_big = f"  {url}{remote.name} -> got {size} bytes, more than a copy of this file can be"
        assert (line == too_big) is refused, line
        if not refused:
            assert line.startswith(f"  {url}{remote.name} -> container check failed: "), line
        assert listing(tmp_path) == set()
