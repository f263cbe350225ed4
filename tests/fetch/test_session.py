"""A check that fails after a resume: the file is fetched once more, from its first byte.

A resumed body may be spliced from two versions of the file (a server that
ignores ``If-Range``) or damaged in transit: the retry from zero takes it
whole, and when that fails too the error says both tries. For a base
mirror's file and for a whole-dataset file alike.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

import idxmnist
from idxmnist import ChecksumError
from idxmnist.datasets.spec import RemoteFile
from idxmnist.fetch import download
from idxmnist.load.loader import load_dataset

from ..support.helpers import listing
from ..support.httpserver import FaultServer
from ..support.pinned import ARRAYS, IDX, KEYS, NPZ, STEMS, cut_whole_download, synth_spec
from ..support.resume import BIG, N, flipped, ranges
from ..support.synth import NAMES, same, with_files


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


def test_a_resumed_whole_file_that_fails_is_fetched_once_more_from_the_start(tmp_path):
    spec = synth_spec()
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


def test_a_whole_file_changed_before_its_resume_is_fetched_again_whole(tmp_path):
    spec = synth_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        url = cut_whole_download(server, spec, tmp_path)
        # the file changes upstream, and the server answers the resume regardless
        server.range_mode = "ignore-if-range"
        changed = io.BytesIO()
        np.savez_compressed(changed, **dict(zip(KEYS, ARRAYS, strict=True)))
        server.put("synth.npz", changed.getvalue())
        before = len(server.requests)
        download.fetch_dataset(spec, tmp_path, [url], offline=False)
        ranges = [r["headers"].get("Range") for r in server.requests[before:]]
    assert ranges == ["bytes=300-", None]  # the resume, then the whole file again
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]
