"""Resumable partial downloads: ``.NAME.part``, its record, what a later run makes of them.

A record counts only for its own URL and with bytes fsync'ed on both sides;
``resume_point`` cuts the ``.part`` back to that verified length (or drops
it); ``sweep`` keeps only what can be resumed. A real process SIGKILLed
mid-download leaves a ``.part`` the next run resumes from.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import idxmnist
from idxmnist import files
from idxmnist.fetch import partial
from idxmnist.load.loader import load_dataset

from ..support.helpers import child_env, listing
from ..support.httpserver import FaultServer
from ..support.resume import BIG, N
from ..support.synth import NAMES, child_config, same, spec_for, synthetic, with_files

# -- the record --------------------------------------------------------------------------------


def test_in_progress_needs_a_record_for_that_url_and_bytes_on_both_sides(tmp_path):
    url = "https://example.org/gzip.zip"
    part = partial.Partial(tmp_path, "gzip.zip")
    assert part.path == tmp_path / ".gzip.zip.part"
    part.path.write_bytes(b"x")
    assert not part.in_progress(url)  # no record
    for data, synced, key, expected in [
        (b"x", 1, url, True),  # one byte on each side: the least that counts
        (b"xy", 2, url, True),
        (b"", 1, url, False),  # an empty .part
        (b"x", 0, url, False),  # nothing fsync'ed
        (b"xyz", 3, url + "?other", False),  # another URL
    ]:
        part.path.write_bytes(data)
        part.save(partial.Meta(url, '"e"', None, 10, synced))
        assert part.in_progress(key) is expected, (data, synced, key)
    part.discard()
    assert not part.in_progress(url)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_record_with_a_field_of_the_wrong_kind_is_not_used(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    good = {"url": url, "etag": '"e"', "last_modified": None, "total": 10, "synced": 4}
    for change in [
        {},
        {"synced": -1},
        {"synced": "4"},
        {"url": 5},
        {"total": "10"},
        {"etag": 5},
        {"last_modified": 5},
    ]:
        part.path.write_bytes(b"abcdef")
        part.record.write_text(json.dumps(good | change), encoding="utf-8")
        if not change:
            assert part.meta() == partial.Meta(url, '"e"', None, 10, 4)
            assert part.resume_point(url) == (4, part.meta())
            assert part.path.read_bytes() == b"abcd"  # cut back to the fsync'ed bytes
            part.record.write_text(json.dumps(good | {"total": None}), encoding="utf-8")
            assert part.meta() == partial.Meta(url, '"e"', None, None, 4)  # total unknown
            continue
        assert part.meta() is None, change
        assert part.resume_point(url) == (0, None), change
        assert listing(tmp_path) == set(), change


@pytest.mark.parametrize("record", ["", "{", '{"url": 5}', '{"url": "http://h/a.gz"}'])
def test_a_damaged_record_means_no_resume(tmp_path, record):
    p = partial.Partial(tmp_path, "a.gz")
    p.path.write_bytes(b"x" * 10)
    p.record.write_text(record)
    assert p.resume_point("http://h/a.gz") == (0, None)
    assert listing(tmp_path) == set()


def test_a_record_without_its_part_is_dropped_by_resume_point(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    part.save(partial.Meta(url, '"e"', None, 10, 4))
    assert listing(tmp_path) == {".a.gz.part.json"}
    assert part.resume_point(url) == (0, None)
    assert listing(tmp_path) == set()


# -- resume_point: where a download resumes ----------------------------------------------------


def test_resume_point_cuts_back_to_the_verified_length(tmp_path):
    p = partial.Partial(tmp_path, "a.gz")
    p.path.write_bytes(b"0123456789")  # 4 bytes written after the last fsync
    p.save(partial.Meta("http://h/a.gz", '"e"', None, 100, 6))
    offset, meta = p.resume_point("http://h/a.gz")
    assert offset == 6 and meta is not None and meta.validator == '"e"'
    assert p.path.read_bytes() == b"012345"
    assert p.resume_point("http://other/a.gz") == (0, None)  # another URL: dropped
    assert listing(tmp_path) == set()


def test_resume_point_needs_bytes_in_the_part_and_in_the_record(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    for data, synced in [(b"abcdef", 0), (b"", 4)]:
        part.path.write_bytes(data)
        part.save(partial.Meta(url, '"e"', None, 10, synced))
        assert part.resume_point(url) == (0, None), (data, synced)
        assert listing(tmp_path) == set(), (data, synced)


def test_one_verified_byte_is_enough_to_resume(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    part.path.write_bytes(b"a")
    meta = partial.Meta(url, '"e"', None, 10, 1)
    part.save(meta)
    assert part.resume_point(url) == (1, meta)
    assert part.path.read_bytes() == b"a"


def test_a_part_holding_all_the_announced_bytes_is_started_over(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    for total, expected in [(10, (0, None)), (11, (10, partial.Meta(url, None, "d", 11, 10)))]:
        part.path.write_bytes(b"0123456789")
        part.save(partial.Meta(url, None, "d", total, 10))
        assert part.meta() == partial.Meta(url, None, "d", total, 10)
        assert part.resume_point(url) == expected, total
        assert part.path.exists() is (total == 11)


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


# -- sweep: what is left between runs ----------------------------------------------------------


def test_sweep_keeps_resumable_parts_and_removes_the_rest(tmp_path):
    fresh = partial.Partial(tmp_path, "a.gz")
    fresh.path.write_bytes(b"x" * 10)
    fresh.save(partial.Meta("http://h/a.gz", '"e"', None, 20, 10))
    old = partial.Partial(tmp_path, "b.gz")
    old.path.write_bytes(b"y")
    old.save(partial.Meta("http://h/b.gz", None, None, None, 1))
    week = time.time() - files.RESUMABLE_MAX_AGE - 60
    os.utime(old.record, (week, week))
    (tmp_path / ".c.gz.k3j4h5g6.part").write_bytes(b"a killed atomic_write")
    (tmp_path / ".d.gz.part.json").write_text("{}")  # a record without its part
    (tmp_path / "e.gz").write_bytes(b"not a temporary file")
    files.sweep(tmp_path, older_than=0)  # as a fetch does, under the folder's lock
    assert listing(tmp_path) == {".a.gz.part", ".a.gz.part.json", "e.gz"}


# -- a real process killed mid-download --------------------------------------------------------


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
