"""Tests aimed at mutation-testing survivors in the download, zip/EMNIST and
content-verification modules (``python tools/mutation.py download content ...``).

Each test pins behaviour a user sees (an exact message, both sides of a bound,
what the loopback server counts, what is left in the cache) that a surviving
mutant changed. Expected values come from ``hashlib``, ``gzip``, ``struct`` and
``zipfile``, never from the code under test.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import lzma
import re
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from idxmnist import ChecksumError, DownloadError, errors
from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile
from idxmnist.fetch import download, partial
from idxmnist.idx import digest as content
from idxmnist.store import verify as checksum
from idxmnist.store.identify import HTML, Catalog, Known, Unknown

from .httpserver import FaultServer
from .test_download import listing

RNG = np.random.default_rng(12)
IMAGES = RNG.integers(0, 256, (6, 4, 5), dtype=np.uint8)
RAW = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 6, 4, 5) + IMAGES.tobytes()
SHA = hashlib.sha256(RAW).hexdigest()
NAME = "train-images-idx3-ubyte.gz"


def remote(body: bytes, content_sha: str | None = SHA, content_size: int | None = len(RAW)):
    return RemoteFile(
        NAME, len(body), "sha256", hashlib.sha256(body).hexdigest(), content_sha, content_size
    )


# -- content.py ---------------------------------------------------------------------------


def test_content_mismatch_without_a_pinned_content_hash_says_so(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(RAW))
    message = checksum.content_mismatch(path, remote(b"other", None, None))
    assert message == "no content hash is pinned for this file"


def test_content_mismatch_of_another_size_names_both_sizes_and_hashes_nothing(tmp_path):
    other = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 7, 4, 5) + bytes(7 * 4 * 5)
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(other))
    message = checksum.content_mismatch(path, remote(b"upstream"))
    assert message == (
        f"its IDX header declares uint8 (7, 4, 5), {len(other)} bytes; expected {len(RAW)} bytes"
    )


def test_content_mismatch_without_a_pinned_size_compares_the_hash(tmp_path):
    changed = bytearray(RAW)
    changed[-1] ^= 0xFF
    path = tmp_path / NAME
    path.write_bytes(lzma.compress(bytes(changed)))
    message = checksum.content_mismatch(path, remote(b"upstream", SHA, None))
    found = hashlib.sha256(bytes(changed)).hexdigest()
    assert message == f"sha256 of the IDX bytes is {found}, expected {SHA}"
    path.write_bytes(lzma.compress(RAW))
    assert checksum.content_mismatch(path, remote(b"upstream", SHA, None)) is None


def test_content_mismatch_reports_a_damaged_file_without_its_path(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(RAW)[:-30])
    message = checksum.content_mismatch(path, remote(b"upstream"))
    assert message == (
        "the gzip stream ends early: the file is truncated "
        "(an interrupted download?); delete it and fetch it again"
    )
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 1 << 16, 1 << 16, 1 << 17))
    message = checksum.content_mismatch(path, remote(b"upstream"))
    assert message == (
        f"IDX header declares shape {(1 << 16, 1 << 16, 1 << 17)} "
        f"({1 << 49} bytes), which is not a plausible file"
    )


def test_reason_of_keeps_a_message_that_does_not_start_with_the_name():
    assert errors.reason_of(ValueError("a/b: bad"), "a/b") == "bad"
    assert errors.reason_of(ValueError("other: bad"), "a/b") == "other: bad"
    assert errors.reason_of(ValueError("a/bc: bad"), "a/b") == "a/bc: bad"


def test_idx_digest_names_the_file_in_container_and_header_errors(tmp_path):
    path = tmp_path / "x.gz"
    body = bytearray(gzip.compress(RAW))
    body[12:20] = b"\xff" * 8  # damage the deflate stream
    path.write_bytes(bytes(body))
    try:
        content.idx_digest(path)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        assert str(exc).startswith(f"{path}: "), exc
    else:
        raise AssertionError("a damaged gzip stream was accepted")
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 1 << 16, 1 << 16, 1 << 17))
    try:
        content.idx_digest(path)
    except Exception as exc:  # noqa: BLE001
        assert str(exc).startswith(f"{path}: IDX header declares shape"), exc
    else:
        raise AssertionError("an implausible header was accepted")


def test_a_file_of_another_size_still_reports_its_container(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(RAW))
    found = content.idx_digest(path, sizes={len(RAW) + 1})
    assert (found.kind, found.sha256, found.header.shape) == ("gzip", None, (6, 4, 5))


# -- checksum.py --------------------------------------------------------------------------


def test_a_failed_verdict_still_names_the_container_found(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(b"not idx at all" * 10))
    unpinned = checksum.verdict(path, remote(b"upstream", None, None))
    assert (unpinned.ok, unpinned.kind) == (False, "gzip")
    pinned = checksum.verdict(path, remote(b"upstream"))
    assert (pinned.ok, pinned.kind) == (False, "gzip")


def test_hash_file_reads_in_bounded_chunks(tmp_path):
    path = tmp_path / "big"
    block = RNG.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    with open(path, "wb") as f:
        for _ in range(12):
            f.write(block)
    expected = hashlib.sha256(block * 12).hexdigest()
    tracemalloc.start()
    try:
        got = checksum.hash_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == {"sha256": expected}
    assert peak < 4 << 20, peak  # a chunk or two, never the 12 MiB file


# -- identify.py --------------------------------------------------------------------------

LABELS = struct.pack(">BBBBI", 0, 0, 0x08, 1, 6) + bytes(range(6))
GZ = gzip.compress(RAW, mtime=0)
GZ_LABELS = gzip.compress(LABELS, mtime=0)


def spec(name: str, *, pinned: bool, algorithm: str = "sha256") -> DatasetSpec:
    def one(file: str, body: bytes, idx: bytes) -> RemoteFile:
        digest = hashlib.new(algorithm, body).hexdigest()
        if not pinned:
            return RemoteFile(file, len(body), algorithm, digest)  # type: ignore[arg-type]
        sha = hashlib.sha256(idx).hexdigest()
        return RemoteFile(file, len(body), algorithm, digest, sha, len(idx))  # type: ignore[arg-type]

    files = (
        one("train-images-idx3-ubyte.gz", GZ, RAW),
        one("train-labels-idx1-ubyte.gz", GZ_LABELS, LABELS),
        one("t10k-images-idx3-ubyte.gz", b"t" * 3, b"T"),
        one("t10k-labels-idx1-ubyte.gz", b"l" * 4, b"L"),
    )
    return DatasetSpec(name, f"{name}.npz", name, files, (), DIGITS)


def test_identify_by_an_md5_container_checksum(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(GZ)
    found = Catalog([spec("md", pinned=False, algorithm="md5")]).identify(path)
    assert isinstance(found, Known)
    assert (found.remote.name, found.how, found.kind) == (
        "train-images-idx3-ubyte.gz",
        "container",
        "gzip",
    )


def test_an_unmatched_idx_file_names_which_datasets_pin_their_content(tmp_path):
    other = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 2, 4, 5) + bytes(40)
    path = tmp_path / "f"
    path.write_bytes(gzip.compress(other))
    both = Catalog(
        [spec("alpha", pinned=True), spec("beta", pinned=False), spec("gamma", pinned=True)]
    )
    assert (both.pinned, both.unpinned) == (("alpha", "gamma"), ("beta",))
    found = both.identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == (
        "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file "
        "(the content of alpha, gamma's files is pinned; any other file verifies only as its "
        "exact upstream file, or by a content pin learnt from that file in this cache)"
    )
    assert found.content is not None and found.content.header.shape == (2, 4, 5)
    # a size no registered content has: its header is read, its payload not hashed
    assert found.content.sha256 is None
    found = Catalog([spec("alpha", pinned=True), spec("gamma", pinned=True)]).identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file"
    found = Catalog([spec("beta", pinned=False), spec("delta", pinned=False)]).identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == (
        "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file "
        "(beta, delta pin only their exact upstream files, so only those verify)"
    )


def test_identify_says_how_a_truncated_file_ends(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(GZ[:-20])
    found = Catalog([spec("alpha", pinned=True)]).identify(path)
    assert found == Unknown(
        "truncated: the gzip stream ends early: the file is truncated "
        "(an interrupted download?); delete it and fetch it again"
    )


def test_an_html_page_is_recognised_within_its_first_512_bytes(tmp_path):
    catalog = Catalog([spec("alpha", pinned=True)])
    path = tmp_path / "f"
    path.write_bytes(b" " * 507 + b"<html><body>gone</body></html>")
    assert catalog.identify(path) == Unknown(HTML)
    path.write_bytes(b" " * 508 + b"<html><body>gone</body></html>")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason != HTML
    assert found.reason.startswith("not an IDX file"), found.reason


# -- download.py: whole-dataset mirrors (an npz, a zip), on synthetic files ----------------

KEYS = ("x_train", "y_train", "x_test", "y_test")
STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
ARRAYS = (
    RNG.integers(0, 256, (5, 3, 4), dtype=np.uint8),
    RNG.integers(0, 10, 5, dtype=np.uint8),
    RNG.integers(0, 256, (3, 3, 4), dtype=np.uint8),
    RNG.integers(0, 10, 3, dtype=np.uint8),
)


def idx_of(a: np.ndarray) -> bytes:
    return struct.pack(f">BBBB{a.ndim}I", 0, 0, 0x08, a.ndim, *a.shape) + a.tobytes()


IDX = {s: idx_of(a) for s, a in zip(STEMS, ARRAYS, strict=True)}
UPSTREAM = {f"{s}.gz": gzip.compress(IDX[s], 9, mtime=0) for s in STEMS}


def npz_of(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **dict(zip(KEYS, arrays, strict=True)))
    return buf.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


NPZ = npz_of(ARRAYS)


def pinned_spec(whole: bytes = NPZ) -> DatasetSpec:
    files = tuple(
        RemoteFile(
            n,
            len(b),
            "sha256",
            hashlib.sha256(b).hexdigest(),
            hashlib.sha256(IDX[n[:-3]]).hexdigest(),
            len(IDX[n[:-3]]),
        )
        for n, b in UPSTREAM.items()
    )
    pin = RemoteFile("synth.npz", len(whole), "sha256", hashlib.sha256(whole).hexdigest())
    return DatasetSpec("synth", "synth.npz", "synth", files, (), DIGITS, whole_files=(pin,))


def test_a_whole_npz_mirror_is_fetched_once_and_each_array_kept_by_content(tmp_path):
    spec = pinned_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_dataset(spec, tmp_path, [server.url() + "synth.npz"], offline=False)
        assert server.gets() == {"/ok/synth.npz": 1}
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}  # no .part, no temporary
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}
    assert got.downloaded == [tmp_path / s for s in STEMS]
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]


def test_a_zip_mirror_of_the_upstream_files_keeps_them_under_their_names(tmp_path):
    spec = pinned_spec()
    folders = ["synth/", "MNIST/raw/", "synth\\", ""]  # one member packed on Windows
    members = {f"{d}{n}": b for d, (n, b) in zip(folders, UPSTREAM.items(), strict=True)}
    body = zip_of(members | {"README": b"hello"})
    with FaultServer({"synth.zip": body}) as server:
        download.fetch_dataset(spec, tmp_path, [server.url() + "synth.zip"], offline=False)
        assert server.gets() == {"/ok/synth.zip": 1}
    assert listing(tmp_path) == {".idxmnist.lock", *UPSTREAM}
    for n, b in UPSTREAM.items():
        assert (tmp_path / n).read_bytes() == b


def test_a_whole_file_with_one_bad_member_keeps_the_others_and_names_the_bad_one(tmp_path):
    spec = pinned_spec()
    bad = bytearray(IDX[STEMS[2]])
    bad[-1] ^= 1
    members = dict(UPSTREAM)
    members["t10k-images-idx3-ubyte.gz"] = gzip.compress(bytes(bad), mtime=0)
    with FaultServer({"synth.zip": zip_of(members)}) as server:
        url = server.url() + "synth.zip"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
        assert server.gets() == {"/ok/synth.zip": 1}
    remote = spec.files[2]
    body = members[remote.name]
    assert len(body) == remote.size  # the same size: the digest decides
    first = str(info.value).split("\n")[:2]
    assert first == [
        "could not download t10k-images-idx3-ubyte.gz from any mirror; tried, in order:",
        f"  {url} -> t10k-images-idx3-ubyte.gz: container check failed: sha256 "
        f"{hashlib.sha256(body).hexdigest()}, expected {remote.digest}; "
        "content check failed: sha256 of the IDX "
        f"bytes is {hashlib.sha256(bytes(bad)).hexdigest()}, expected {remote.content}",
    ]
    kept = {n for n in UPSTREAM if n != remote.name}
    assert listing(tmp_path) == {".idxmnist.lock", *kept}


def test_a_whole_file_none_of_whose_members_verify_says_it_is_not_the_pinned_one(tmp_path):
    wrong = tuple(a ^ 1 for a in ARRAYS)
    spec = pinned_spec()
    with FaultServer({"synth.npz": npz_of(wrong)}) as server:
        url = server.url() + "synth.npz"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
        assert server.gets() == {"/ok/synth.npz": 1}
    why = "; ".join(
        f"{k}: container check failed: {len(idx_of(a))} bytes, expected {r.size}; content "
        f"check failed: sha256 of the IDX bytes is {hashlib.sha256(idx_of(a)).hexdigest()}, "
        f"expected {r.content}"
        for k, a, r in zip(KEYS, wrong, spec.files, strict=True)
    )
    assert str(info.value).split("\n")[1] == (
        f"  {url} -> not the pinned synth.npz (sha256 mismatch); {why}"
    )
    assert listing(tmp_path) == {".idxmnist.lock"}


def test_a_whole_file_that_lacks_a_file_is_a_download_error_not_a_checksum_error(tmp_path):
    spec = pinned_spec()
    members = {n: b for n, b in UPSTREAM.items() if not n.startswith("t10k-labels")}
    with FaultServer({"synth.zip": zip_of(members)}) as server:
        url = server.url() + "synth.zip"
        with pytest.raises(DownloadError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
    assert type(info.value) is DownloadError
    assert str(info.value).split("\n")[:2] == [
        "could not download t10k-labels-idx1-ubyte.gz from any mirror; tried, in order:",
        f"  {url} -> holds no t10k-labels-idx1-ubyte",
    ]
    assert listing(tmp_path) == {".idxmnist.lock", *members}
    with FaultServer({"synth.zip": zip_of({"other.txt": b"x"})}) as server:
        url = server.url() + "synth.zip"
        with pytest.raises(DownloadError) as info:
            download.fetch_dataset(pinned_spec(), tmp_path / "b", [url], offline=False)
    assert type(info.value) is DownloadError
    assert str(info.value).split("\n")[1] == f"  {url} -> it holds none of the files"


# -- download.py: fetch_file, mirrors_for --------------------------------------------------


def test_fetch_file_with_its_spec_takes_just_that_file_from_a_whole_file(tmp_path):
    spec = pinned_spec()
    dest = tmp_path / "a" / "b"  # parents are made
    body = zip_of(UPSTREAM)
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(spec.files[1], dest, [server.url() + "synth.zip"], spec=spec)
        assert server.gets() == {"/ok/synth.zip": 1}
    assert got == dest / "train-labels-idx1-ubyte.gz"
    assert listing(dest) == {"train-labels-idx1-ubyte.gz"}
    assert got.read_bytes() == UPSTREAM["train-labels-idx1-ubyte.gz"]


def test_fetch_file_failure_lists_the_mirrors_and_only_the_hint_given(tmp_path):
    spec = pinned_spec()
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
    remote = pinned_spec().files[0]
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "soon")
    with FaultServer(UPSTREAM) as server:
        with pytest.raises(ValueError, match=r"^IDXMNIST_TIMEOUT='soon': expected a positive"):
            download.fetch_file(remote, tmp_path, [server.url()])
        got = download.fetch_file(remote, tmp_path, [server.url()], seconds=10)
    assert got.read_bytes() == UPSTREAM[remote.name]


def test_fetch_file_gives_up_on_a_stalled_mirror_after_its_timeout(tmp_path):
    spec = pinned_spec()
    remote = spec.files[0]
    big = {remote.name: UPSTREAM[remote.name]}
    with FaultServer(big) as server:
        server.stall_seconds = 8.0
        url = server.url("stall")
        for kwargs in ({}, {"spec": spec}):
            with pytest.raises(DownloadError) as info:
                download.fetch_file(remote, tmp_path, [url], seconds=2, **kwargs)
            line = str(info.value).split("\n")[1]
            assert re.fullmatch(
                rf"  {re.escape(url)}{remote.name} -> timed out after 2 s "
                r"\(stalled after \d+ of \d+ bytes\)",
                line,
            ), line


def test_mirrors_for_without_the_environment_is_the_registry_s_list(monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS", raising=False)
    spec = dataclasses.replace(
        pinned_spec(), mirrors=("https://a.example/mnist", "https://b.example/x/synth.npz")
    )
    assert download.mirrors_for(spec) == (
        "https://a.example/mnist/",
        "https://b.example/x/synth.npz",
    )


# -- partial.py -----------------------------------------------------------------------------


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


# -- download.py: how large a copy of a file may be ----------------------------------------


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


def test_a_whole_file_url_whose_name_is_not_plain_downloads_under_a_fixed_name(tmp_path):
    spec = pinned_spec()
    with FaultServer({".npz": NPZ}) as server:
        server.cut[".npz"] = 100
        server.down_after_cut = True
        url = server.url() + ".npz"
        with pytest.raises(DownloadError):
            download.fetch_file(spec.files[0], tmp_path, [url], spec=spec)
    # the partial download is kept for a resume, under a name of its own, not ".npz"
    assert listing(tmp_path) == {".whole-dataset.part", ".whole-dataset.part.json"}
    assert (tmp_path / ".whole-dataset.part").read_bytes() == NPZ[:100]


def test_a_file_verified_by_its_exact_bytes_keeps_the_registry_name_whatever_it_holds(tmp_path):
    # the registry calls it .gz, upstream publishes it raw: its exact bytes verify
    raw = IDX[STEMS[1]]
    labels = RemoteFile(
        "train-labels-idx1-ubyte.gz",
        len(raw),
        "sha256",
        hashlib.sha256(raw).hexdigest(),
        hashlib.sha256(raw).hexdigest(),
        len(raw),
    )
    base = pinned_spec()
    spec = dataclasses.replace(base, files=(base.files[0], labels, *base.files[2:]))
    body = zip_of({labels.name: raw})
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(labels, tmp_path, [server.url() + "synth.zip"], spec=spec)
    assert got == tmp_path / "train-labels-idx1-ubyte.gz"
    assert listing(tmp_path) == {"train-labels-idx1-ubyte.gz"}


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


def test_a_part_holding_all_the_announced_bytes_is_started_over(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    for total, expected in [(10, (0, None)), (11, (10, partial.Meta(url, None, "d", 11, 10)))]:
        part.path.write_bytes(b"0123456789")
        part.save(partial.Meta(url, None, "d", total, 10))
        assert part.meta() == partial.Meta(url, None, "d", total, 10)
        assert part.resume_point(url) == expected, total
        assert part.path.exists() is (total == 11)


def test_fetch_file_with_its_spec_keeps_only_its_own_array_from_an_npz(tmp_path):
    spec = pinned_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_file(spec.files[3], tmp_path, [server.url() + "synth.npz"], spec=spec)
    assert got == tmp_path / STEMS[3]
    assert listing(tmp_path) == {STEMS[3]}


def test_a_record_without_its_part_is_dropped_by_resume_point(tmp_path):
    url = "https://example.org/a.gz"
    part = partial.Partial(tmp_path, "a.gz")
    part.save(partial.Meta(url, '"e"', None, 10, 4))
    assert listing(tmp_path) == {".a.gz.part.json"}
    assert part.resume_point(url) == (0, None)
    assert listing(tmp_path) == set()


def test_a_zip_member_under_a_dotted_raw_name_is_kept_by_content(tmp_path):
    spec = pinned_spec()
    body = zip_of({"data/train-labels.idx1-ubyte": IDX[STEMS[1]]})
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(spec.files[1], tmp_path, [server.url() + "synth.zip"], spec=spec)
    assert got == tmp_path / STEMS[1]
    assert got.read_bytes() == IDX[STEMS[1]]


def test_an_unreadable_member_is_named_and_the_members_after_it_are_still_kept(tmp_path):
    spec = pinned_spec()
    arrays = (np.asfortranarray(ARRAYS[0]), *ARRAYS[1:])  # x_train, first in the npz
    with FaultServer({"synth.npz": npz_of(arrays)}) as server:
        url = server.url() + "synth.npz"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
    assert str(info.value).split("\n")[:2] == [
        "could not download train-images-idx3-ubyte.gz from any mirror; tried, in order:",
        f"  {url} -> x_train: a Fortran-ordered array, not keras's C order",
    ]
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS[1:]}


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


def test_a_whole_file_that_is_no_archive_says_so(tmp_path):
    spec = pinned_spec()
    with FaultServer({"synth.zip": b"\x00not an archive at all" * 10}) as server:
        url = server.url() + "synth.zip"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
    line = str(info.value).split("\n")[1]
    # named as the file it is, not as its temporary copy
    assert line == f"  {url} -> synth.zip: not an npz, zip or tar archive"
    assert listing(tmp_path) == {".idxmnist.lock"}


def test_a_whole_file_may_be_up_to_its_files_limits_plus_1_mib(tmp_path):
    spec = pinned_spec()
    limit = sum(max(r.size, r.content_size + r.content_size // 64 + 65536) for r in spec.files)
    limit += 1 << 20
    for size, refused in [(limit + 1, True), (limit, False)]:
        with FaultServer({"synth.zip": b"\x00" * size}) as server:
            url = server.url() + "synth.zip"
            with pytest.raises(ChecksumError) as info:
                download.fetch_dataset(spec, tmp_path, [url], offline=False)
        line = str(info.value).split("\n")[1]
        too_big = f"  {url} -> got {size} bytes, more than a copy of this file can be"
        assert (line == too_big) is refused, line
        if not refused:
            assert line.endswith(": not an npz, zip or tar archive"), line


def cut_whole_download(server: FaultServer, spec, dest) -> str:
    """A first fetch of ``synth.npz`` from ``server`` cut after 300 bytes: it fails and
    leaves those bytes in ``.synth.npz.part``; the server is then up again. Its URL."""
    url = server.url() + "synth.npz"
    server.cut["synth.npz"] = 300
    server.down_after_cut = True
    with pytest.raises(DownloadError):
        download.fetch_dataset(spec, dest, [url], offline=False)
    assert (dest / ".synth.npz.part").read_bytes() == NPZ[:300]
    server.down_after_cut = False
    return url


def test_a_whole_file_changed_before_its_resume_is_fetched_again_whole(tmp_path):
    spec = pinned_spec()
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
