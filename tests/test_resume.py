"""Resumed downloads against the real loopback server, which speaks HTTP ranges.

A body cut after N bytes is continued with ``Range: bytes=N-`` (the server's
per-request byte counts show that only the rest was sent), in the same call
or, when the server went away, in the next one. The misbehaving servers: one
that ignores ``Range``, one whose ``Content-Range`` does not fit, and a file
that changed in between (with ``If-Range`` honoured, and ignored). The final
checksum decides every time.
"""

from __future__ import annotations

import json
import os
import time

import pytest

import idxmnist
from idxmnist.datasets import download, partial
from idxmnist.datasets.loader import load_dataset

from .support.helpers import listing
from .support.httpserver import FaultServer
from .support.synth import NAMES, same, spec_for, synthetic, with_files

BIG = NAMES[0]  # the training images: the one file worth cutting
N = 3000


@pytest.fixture
def data(tmp_path_factory):
    files, arrays = synthetic(tmp_path_factory.mktemp("upstream"), n_train=40, n_test=10)
    return files, arrays, spec_for(files)


def flipped(body: bytes, at: int = 100) -> bytes:
    """``body`` with one bit changed at ``at``: another version of the file."""
    return body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]


def ranges(server: FaultServer, name: str = BIG) -> list[str | None]:
    return [h.get("Range") for h in server.headers_of(name)]


def test_a_cut_download_resumes_in_the_same_call(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, size - N]  # no byte sent twice
        assert server.sent[f"/ok/{BIG}"] == size
        # If-Range carries the validator the first answer gave
        etag = server.headers_of(BIG)[1]["If-Range"]
        assert etag.startswith('"') and etag != '""'
    assert listing(tmp_path) == with_files(*NAMES)
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]


def test_a_cut_download_resumes_in_the_next_call(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.down_after_cut = True  # the retry gets a 503: this call gives up
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError, match="HTTP 503"):
            load_dataset(spec, cache_dir=tmp_path)
        kept = tmp_path / "synth" / f".{BIG}.part"
        assert kept.read_bytes() == files[BIG][:N]
        assert json.loads(kept.with_name(kept.name + ".json").read_text())["synced"] == N
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-", f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, 0, size - N]
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_server_that_ignores_range_sends_it_all_and_that_is_used(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.range_mode = "ignore"  # 200 and the whole body, whatever is asked
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, size]
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]  # not the first N twice
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_content_range_that_does_not_fit_restarts_the_file(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.range_mode = "misfit"  # 206, Content-Range starting 7 bytes later
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        # cut; a 206 that does not fit (refused before its body is used); whole again
        assert ranges(server) == [None, f"bytes={N}-", None]
        assert server.sent_per_request(BIG)[2] == size
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]
    assert listing(tmp_path) == with_files(*NAMES)


@pytest.mark.parametrize("etags", [True, False], ids=["etag", "last-modified"])
def test_a_file_that_changed_comes_back_whole_through_if_range(data, tmp_path, monkeypatch, etags):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer({**files, BIG: flipped(files[BIG])}) as server:
        server.etags = etags
        server.cut[BIG] = N
        server.down_after_cut = True
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError):
            load_dataset(spec, cache_dir=tmp_path)
        old = server.headers_of(BIG)[1]["If-Range"]
        server.put(BIG, files[BIG])  # the mirror replaced its bad copy meanwhile
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        third = server.headers_of(BIG)[2]
        assert third["Range"] == f"bytes={N}-" and third["If-Range"] == old
        assert old.startswith('"') == etags  # an ETag, else the Last-Modified date
        assert server.sent_per_request(BIG)[2] == size  # the new file, whole
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]


def test_a_changed_file_behind_a_server_ignoring_if_range_fails_the_hash_and_restarts(
    data, tmp_path, monkeypatch
):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer({**files, BIG: flipped(files[BIG])}) as server:
        server.cut[BIG] = N
        server.down_after_cut = True
        server.range_mode = "ignore-if-range"  # serves the new file's tail after the old head
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError):
            load_dataset(spec, cache_dir=tmp_path)
        server.put(BIG, files[BIG])
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        # the spliced file failed its sha256, so it was fetched once more, whole
        assert ranges(server) == [None, f"bytes={N}-", f"bytes={N}-", None]
        assert server.sent_per_request(BIG)[2:] == [size - N, size]
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_spliced_file_that_fails_again_is_a_checksum_error_naming_both_tries(
    data, tmp_path, monkeypatch
):
    files, _, spec = data
    with FaultServer({**files, BIG: flipped(files[BIG])}) as server:
        server.cut[BIG] = N
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.ChecksumError, match="again from the start"):
            load_dataset(spec, cache_dir=tmp_path)
        assert ranges(server) == [None, f"bytes={N}-", None]
    assert listing(tmp_path) == with_files(npz=False)


def test_no_range_support_no_kept_part(data, tmp_path, monkeypatch):
    """A server that does not say ``Accept-Ranges: bytes`` leaves nothing to resume."""
    files, _, spec = data
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("half"))
        with pytest.raises(idxmnist.DownloadError, match="connection closed after"):
            load_dataset(spec, cache_dir=tmp_path)
        assert ranges(server, BIG) == []  # the half mode is under /half/
        assert [h.get("Range") for h in server.headers_of(BIG, "half")] == [None]
    assert listing(tmp_path) == with_files(npz=False)


def test_a_part_of_another_url_is_not_resumed(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.down_after_cut = True
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError):
            load_dataset(spec, cache_dir=tmp_path)
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("latency"))
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert [h.get("Range") for h in server.headers_of(BIG, "latency")] == [None]
    assert listing(tmp_path) == with_files(*NAMES)


# -- the .part files themselves ------------------------------------------------------------


def test_sweep_keeps_resumable_parts_and_removes_the_rest(tmp_path):
    fresh = partial.Partial(tmp_path, "a.gz")
    fresh.path.write_bytes(b"x" * 10)
    fresh.save(partial.Meta("http://h/a.gz", '"e"', None, 20, 10))
    old = partial.Partial(tmp_path, "b.gz")
    old.path.write_bytes(b"y")
    old.save(partial.Meta("http://h/b.gz", None, None, None, 1))
    week = time.time() - partial.MAX_AGE - 60
    os.utime(old.record, (week, week))
    (tmp_path / ".c.gz.k3j4h5g6.part").write_bytes(b"a killed atomic_write")
    (tmp_path / ".d.gz.part.json").write_text("{}")  # a record without its part
    (tmp_path / "e.gz").write_bytes(b"not a temporary file")
    partial.sweep(tmp_path)
    assert listing(tmp_path) == {".a.gz.part", ".a.gz.part.json", "e.gz"}


@pytest.mark.parametrize("record", ["", "{", '{"url": 5}', '{"url": "http://h/a.gz"}'])
def test_a_damaged_record_means_no_resume(tmp_path, record):
    p = partial.Partial(tmp_path, "a.gz")
    p.path.write_bytes(b"x" * 10)
    p.record.write_text(record)
    assert p.resume_point("http://h/a.gz") == (0, None)
    assert listing(tmp_path) == set()


def test_resume_point_cuts_back_to_the_verified_length(tmp_path):
    p = partial.Partial(tmp_path, "a.gz")
    p.path.write_bytes(b"0123456789")  # 4 bytes written after the last fsync
    p.save(partial.Meta("http://h/a.gz", '"e"', None, 100, 6))
    offset, meta = p.resume_point("http://h/a.gz")
    assert offset == 6 and meta is not None and meta.validator == '"e"'
    assert p.path.read_bytes() == b"012345"
    assert p.resume_point("http://other/a.gz") == (0, None)  # another URL: dropped
    assert listing(tmp_path) == set()


def test_download_error_lists_each_try(data, tmp_path):
    files, _, spec = data
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.down_after_cut = True
        with pytest.raises(idxmnist.DownloadError) as info:
            download.fetch_dataset(spec, tmp_path, [server.url()])
    assert f"{server.url()}{BIG} -> HTTP 503" in str(info.value)
