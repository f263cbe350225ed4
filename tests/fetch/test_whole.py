"""A whole-dataset file (an npz, a zip or tar of the IDX files): fetched once, members kept.

Each member is checked against its own file's pin and kept when it
verifies; the file itself is checked against its own pin where it has one.
On synthetic files with pinned content (``tests/support/pinned.py``), and on
the real MNIST files as a local npz and in damaged or oversized archives.
Expected values come from ``hashlib``, ``gzip``, ``struct`` and ``zipfile``,
never from the code under test.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import lzma
import re
import tarfile
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import ChecksumError, DownloadError
from idxmnist.datasets.spec import RemoteFile
from idxmnist.fetch import download

from ..support.helpers import MNIST_STEMS, listing
from ..support.httpserver import FaultServer
from ..support.packings import arrays_of, npz_bytes
from ..support.pinned import ARRAYS, IDX, KEYS, NPZ, STEMS, UPSTREAM, idx_of, npz_of, synth_spec
from ..support.synth import NAMES

# -- an npz or a zip of the dataset: fetched once, each member kept by its own check -----------


def test_a_whole_npz_mirror_is_fetched_once_and_each_array_kept_by_content(tmp_path):
    spec = synth_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_dataset(spec, tmp_path, [server.url() + "synth.npz"], offline=False)
        assert server.gets() == {"/ok/synth.npz": 1}
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}  # no .part, no temporary
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}
    assert got.downloaded == [tmp_path / s for s in STEMS]
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


def test_a_zip_mirror_of_the_upstream_files_keeps_them_under_their_names(tmp_path):
    spec = synth_spec()
    folders = ["synth/", "MNIST/raw/", "synth\\", ""]  # one member packed on Windows
    members = {f"{d}{n}": b for d, (n, b) in zip(folders, UPSTREAM.items(), strict=True)}
    body = zip_of(members | {"README": b"hello"})
    with FaultServer({"synth.zip": body}) as server:
        download.fetch_dataset(spec, tmp_path, [server.url() + "synth.zip"], offline=False)
        assert server.gets() == {"/ok/synth.zip": 1}
    assert listing(tmp_path) == {".idxmnist.lock", *UPSTREAM}
    for n, b in UPSTREAM.items():
        assert (tmp_path / n).read_bytes() == b


def test_a_zip_member_under_a_dotted_raw_name_is_kept_by_content(tmp_path):
    spec = synth_spec()
    body = zip_of({"data/train-labels.idx1-ubyte": IDX[STEMS[1]]})
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(spec.files[1], tmp_path, [server.url() + "synth.zip"], spec=spec)
    assert got == tmp_path / STEMS[1]
    assert got.read_bytes() == IDX[STEMS[1]]


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
    base = synth_spec()
    spec = dataclasses.replace(base, files=(base.files[0], labels, *base.files[2:]))
    body = zip_of({labels.name: raw})
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(labels, tmp_path, [server.url() + "synth.zip"], spec=spec)
    assert got == tmp_path / "train-labels-idx1-ubyte.gz"
    assert listing(tmp_path) == {"train-labels-idx1-ubyte.gz"}


def test_fetch_file_with_its_spec_takes_just_that_file_from_a_whole_file(tmp_path):
    spec = synth_spec()
    dest = tmp_path / "a" / "b"  # parents are made
    body = zip_of(UPSTREAM)
    with FaultServer({"synth.zip": body}) as server:
        got = download.fetch_file(spec.files[1], dest, [server.url() + "synth.zip"], spec=spec)
        assert server.gets() == {"/ok/synth.zip": 1}
    assert got == dest / "train-labels-idx1-ubyte.gz"
    assert listing(dest) == {"train-labels-idx1-ubyte.gz"}
    assert got.read_bytes() == UPSTREAM["train-labels-idx1-ubyte.gz"]


def test_fetch_file_with_its_spec_keeps_only_its_own_array_from_an_npz(tmp_path):
    spec = synth_spec()
    with FaultServer({"synth.npz": NPZ}) as server:
        got = download.fetch_file(spec.files[3], tmp_path, [server.url() + "synth.npz"], spec=spec)
    assert got == tmp_path / STEMS[3]
    assert listing(tmp_path) == {STEMS[3]}


# -- members that fail, files that are not the pinned one --------------------------------------


def test_a_whole_file_with_one_bad_member_keeps_the_others_and_names_the_bad_one(tmp_path):
    spec = synth_spec()
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
    spec = synth_spec()
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


def md5_pinned_spec(whole: bytes):
    """``synth_spec`` with its whole-dataset file pinned by md5 instead of sha256."""
    spec = synth_spec(whole)
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


def test_a_whole_file_that_lacks_a_file_is_a_download_error_not_a_checksum_error(tmp_path):
    spec = synth_spec()
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
            download.fetch_dataset(synth_spec(), tmp_path / "b", [url], offline=False)
    assert type(info.value) is DownloadError
    assert str(info.value).split("\n")[1] == f"  {url} -> it holds none of the files"


def test_an_unreadable_member_is_named_and_the_members_after_it_are_still_kept(tmp_path):
    spec = synth_spec()
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


def test_a_whole_file_that_is_no_archive_says_so(tmp_path):
    spec = synth_spec()
    with FaultServer({"synth.zip": b"\x00not an archive at all" * 10}) as server:
        url = server.url() + "synth.zip"
        with pytest.raises(ChecksumError) as info:
            download.fetch_dataset(spec, tmp_path, [url], offline=False)
    line = str(info.value).split("\n")[1]
    # named as the file it is, not as its temporary copy
    assert line == f"  {url} -> synth.zip: not an npz, zip or tar archive"
    assert listing(tmp_path) == {".idxmnist.lock"}


# -- its size bound, its name, its timeout -----------------------------------------------------


def test_a_whole_file_may_be_up_to_its_files_limits_plus_1_mib(tmp_path):
    spec = synth_spec()
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


def npz_with(arrays, **extra) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **dict(zip(KEYS, arrays, strict=True)), **extra)
    return buf.getvalue()


def test_a_pinned_whole_file_may_be_larger_than_its_members_allow(tmp_path):
    # 1.5 MiB of padding: more than the members' bounds plus 1 MiB, but the pinned size
    padding = np.zeros(3 << 19, dtype=np.uint8)
    big = npz_with(ARRAYS, padding=padding)
    spec = synth_spec(big)
    bound = sum(max(r.size, r.content_size + r.content_size // 64 + 65536) for r in spec.files)
    assert len(big) > bound + (1 << 20)
    with FaultServer({"synth.npz": big}) as server:
        got = download.fetch_dataset(spec, tmp_path, [server.url() + "synth.npz"], offline=False)
        assert server.gets() == {"/ok/synth.npz": 1}
    assert got.files == {k: tmp_path / s for k, s in zip(KEYS, STEMS, strict=True)}
    for s in STEMS:
        assert (tmp_path / s).read_bytes() == IDX[s]
    assert listing(tmp_path) == {".idxmnist.lock", *STEMS}


def test_a_whole_file_url_whose_name_is_not_plain_downloads_under_a_fixed_name(tmp_path):
    spec = synth_spec()
    with FaultServer({".npz": NPZ}) as server:
        server.cut[".npz"] = 100
        server.down_after_cut = True
        url = server.url() + ".npz"
        with pytest.raises(DownloadError):
            download.fetch_file(spec.files[0], tmp_path, [url], spec=spec)
    # the partial download is kept for a resume, under a name of its own, not ".npz"
    assert listing(tmp_path) == {".whole-dataset.part", ".whole-dataset.part.json"}
    assert (tmp_path / ".whole-dataset.part").read_bytes() == NPZ[:100]


def test_a_whole_file_on_a_stalled_mirror_times_out_after_the_seconds_given(tmp_path):
    spec = synth_spec()
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


# -- the real MNIST files: a local npz, damaged and oversized archives -------------------------


@pytest.mark.realdata
def test_a_local_npz_as_source(raw, tmp_path):
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "mnist.npz").write_bytes(npz_bytes(raw))
    data = idxmnist.load_data(cache_dir=tmp_path / "cache", source=tmp_path / "keras/mnist.npz")
    assert np.array_equal(data[1][0], arrays_of(raw)[2])
    assert listing(tmp_path / "cache" / "mnist") == {".idxmnist.lock", *MNIST_STEMS}


def damaged_tar_xz() -> bytes:
    """A ``.tar.xz`` whose xz stream breaks in its middle (one byte flipped)."""
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=0) as tf:
        for s in MNIST_STEMS:
            body = rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes()
            info = tarfile.TarInfo(f"MNIST/raw/{s}")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    data = bytearray(buf.getvalue())
    data[len(data) * 3 // 5] ^= 0xFF
    with pytest.raises(lzma.LZMAError):  # what the standard library makes of it
        with tarfile.open(fileobj=io.BytesIO(bytes(data)), mode="r:xz") as tf:
            for info in tf:
                f = tf.extractfile(info)
                assert f is not None
                f.read()
    return bytes(data)


@pytest.mark.realdata
def test_a_damaged_tar_xz_mirror_is_a_mirror_failure_and_the_next_one_serves(
    upstream, raw, tmp_path, monkeypatch
):
    files = {"mnist.tar.xz": damaged_tar_xz(), **upstream}
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url()}mnist.tar.xz,{server.url()}")
        data = idxmnist.load_data(cache_dir=tmp_path)
        assert server.gets()["/ok/mnist.tar.xz"] == 1
        assert all(server.gets()[f"/ok/{n}"] == 1 for n in NAMES)
    for a, b in zip([a for pair in data for a in pair], arrays_of(raw), strict=True):
        assert np.array_equal(a, b)
    assert listing(tmp_path / "mnist") == {".idxmnist.lock", *NAMES}


@pytest.mark.realdata
def test_a_damaged_tar_xz_mirror_alone_is_a_download_error_naming_it(tmp_path, monkeypatch):
    with FaultServer({"mnist.tar.xz": damaged_tar_xz()}) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url()}mnist.tar.xz")
        with pytest.raises(idxmnist.DownloadError) as info:
            idxmnist.load_data(cache_dir=tmp_path)
    message = str(info.value)
    assert "a damaged tar archive (Corrupt input data)" in message or (
        "cannot be read (Corrupt input data)" in message
    ), message
    assert not [n for n in listing(tmp_path / "mnist") if n != ".idxmnist.lock"]


@pytest.mark.realdata
def test_an_npz_member_larger_than_any_file_is_not_unpacked(raw, tmp_path, monkeypatch):
    """A keras-layout npz whose x_train declares more than MNIST's images can be:
    refused from its directory entry, before a byte of it is inflated."""
    arrays = dict(zip(KEYS, arrays_of(raw), strict=True))
    big = np.zeros(
        (120_000, 28, 28), np.uint8
    )  # 94 MB: twice the largest file, compresses to little
    buf = io.BytesIO()
    np.savez_compressed(buf, **{**arrays, "x_train": big})
    with FaultServer({"mnist.npz": buf.getvalue()}) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url()}mnist.npz")
        with pytest.raises(idxmnist.DownloadError) as info:
            idxmnist.load_data(cache_dir=tmp_path)
    size = zipfile.ZipFile(buf).getinfo("x_train.npy").file_size
    assert f"x_train: {size} bytes, larger than any file" in str(info.value), str(info.value)
    # the three arrays that are MNIST's were kept; no temporary file is left
    assert listing(tmp_path / "mnist") == {".idxmnist.lock", *MNIST_STEMS[1:]}
