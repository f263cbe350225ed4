"""Every packaging of MNIST loads, verified by content; a one-pixel change never does.

Against the real loopback server, the real MNIST files repackaged four ways
(and a few more): the four files as ``.xz``, decompressed, inside a
keras-layout npz at one URL, and a zip of the four ``.gz``. Each loads the
same arrays as the upstream files read by the standard library; the same
packaging of a copy with one flipped pixel is refused, and the error names
the content check.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import download, registry

from .support.helpers import MNIST_STEMS as STEMS
from .support.helpers import listing
from .support.httpserver import FaultServer
from .support.synth import NAMES

KEYS = ("x_train", "y_train", "x_test", "y_test")
pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def upstream(mnist_dir: Path) -> dict[str, bytes]:
    """The four upstream .gz files."""
    return {n: (mnist_dir / n).read_bytes() for n in NAMES}


@pytest.fixture(scope="module")
def raw(upstream) -> dict[str, bytes]:
    """The IDX bytes, by stem, as the standard library's gzip inflates them."""
    return {s: gzip.decompress(upstream[n]) for s, n in zip(STEMS, NAMES, strict=True)}


@pytest.fixture(scope="module")
def flipped_raw(raw) -> dict[str, bytes]:
    """The same, with one pixel of the first test image changed."""
    images = bytearray(raw["t10k-images-idx3-ubyte"])
    images[16 + 14 * 28 + 14] ^= 0x01
    return {**raw, "t10k-images-idx3-ubyte": bytes(images)}


def arrays_of(idx: dict[str, bytes]) -> list[np.ndarray]:
    """x_train, y_train, x_test, y_test read straight from the IDX bytes, by hand."""
    x, y, xt, yt = (np.frombuffer(idx[s], np.uint8) for s in STEMS)
    return [x[16:].reshape(-1, 28, 28), y[8:], xt[16:].reshape(-1, 28, 28), yt[8:]]


def npz_bytes(idx: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **dict(zip(KEYS, arrays_of(idx), strict=True)))
    return buf.getvalue()


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
        return {f"{s}.xz": packed("xz", idx[s]) for s in STEMS}, ""
    if name == "xz-under-gz-names":
        return {f"{s}.gz": packed("xz", idx[s]) for s in STEMS}, ""
    if name == "decompressed":
        return {s: idx[s] for s in STEMS}, ""
    if name == "regzipped-level-1":
        return {f"{s}.gz": packed("gzip", idx[s]) for s in STEMS}, ""
    if name == "bz2":
        return {f"{s}.bz2": packed("bz2", idx[s]) for s in STEMS}, ""
    if name == "keras-npz":
        return {"mnist.npz": npz_bytes(idx)}, "mnist.npz"
    if name == "zip-of-gz":
        return {"mnist.zip": zip_bytes({f"mnist/{n}": b for n, b in gz.items()})}, "mnist.zip"
    if name == "tar-of-torchvision-raw":
        return {
            "mnist.tar.gz": tar_bytes({f"MNIST/raw/{s}": idx[s] for s in STEMS})
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
]  # bz2 and the rest of the containers: test_content.py, on small files


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
        assert idxmnist.datasets.checksum.verdict(path, remote).ok


@pytest.mark.parametrize("name", ROUTES)
def test_one_flipped_pixel_is_refused_by_each_packaging_naming_the_content_check(
    name, flipped_raw, tmp_path, monkeypatch
):
    gz = {}
    if name == "zip-of-gz":  # the .gz files made from the changed bytes
        gz = {f"{s}.gz": packed("gzip", flipped_raw[s]) for s in STEMS}
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


def test_whole_file_mirror_after_a_dead_base_mirror(raw, tmp_path, monkeypatch):
    """The registry's order: per-file mirrors first, the one-file copy last."""
    files = {"mnist.npz": npz_bytes(raw)}
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url('500')},{server.url()}mnist.npz")
        idxmnist.load_data(cache_dir=tmp_path)
        assert server.gets("ok") == {"/ok/mnist.npz": 1}  # fetched once for the four
        assert sum(server.gets("500").values()) == 4


def test_a_local_npz_as_source(raw, tmp_path):
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "mnist.npz").write_bytes(npz_bytes(raw))
    data = idxmnist.load_data(cache_dir=tmp_path / "cache", source=tmp_path / "keras/mnist.npz")
    assert np.array_equal(data[1][0], arrays_of(raw)[2])
    assert listing(tmp_path / "cache" / "mnist") == {".idxmnist.lock", *STEMS}


def test_registry_mirror_order():
    """MNIST: per-file mirrors, keras's one-file copy last; Fashion-MNIST: keras's copy first."""
    mnist = registry.get("mnist")
    assert [download.is_whole(m) for m in mnist.mirrors] == [False, False, True]
    assert mnist.mirrors[-1].endswith("/tf-keras-datasets/mnist.npz")
    assert [w.name for w in mnist.whole_files] == ["mnist.npz"]
    assert all(m.startswith("https://") for m in mnist.mirrors)
    fashion = registry.get("fashion_mnist")
    assert fashion.mirrors[0] == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def damaged_tar_xz() -> bytes:
    """A ``.tar.xz`` whose xz stream breaks in its middle (one byte flipped)."""
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=0) as tf:
        for s in STEMS:
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
    assert listing(tmp_path / "mnist") == {".idxmnist.lock", *STEMS[1:]}
