"""Content checksums, whole-dataset archives and identification, on small files.

The expected hashes are computed here by hand: the IDX header packed with
``struct`` and the payload from NumPy, hashed with ``hashlib``; never with the
code under test.
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

from idxmnist.datasets import checksum, unpack
from idxmnist.datasets.identify import EMPTY, HTML, Catalog, Known, Unknown
from idxmnist.datasets.registry import DIGITS, DatasetSpec, RemoteFile

from .support.content import IMAGES30 as IMAGES
from .support.content import RAW30 as RAW
from .support.content import RNG7 as RNG
from .support.content import SHA30 as SHA
from .support.content import idx_bytes

LABELS = RNG.integers(0, 10, 30, dtype=np.uint8)


# -- verdicts: container, then content ----------------------------------------------------


def remote_for(body: bytes, *, pinned_content: bool = True) -> RemoteFile:
    return RemoteFile(
        "train-images-idx3-ubyte.gz",
        len(body),
        "sha256",
        hashlib.sha256(body).hexdigest(),
        SHA if pinned_content else None,
        len(RAW) if pinned_content else None,
    )


def test_verdict_container_then_content_then_which_failed(tmp_path):
    upstream = gzip.compress(RAW, 9, mtime=0)
    remote = remote_for(upstream)
    path = tmp_path / "f"
    path.write_bytes(upstream)
    assert checksum.verdict(path, remote) == checksum.Verdict("container", "gzip")
    path.write_bytes(lzma.compress(RAW))
    assert checksum.verdict(path, remote) == checksum.Verdict("content", "xz")
    changed = bytearray(RAW)
    changed[500] ^= 1
    path.write_bytes(lzma.compress(bytes(changed)))
    v = checksum.verdict(path, remote)
    assert not v.ok and v.reason.startswith("container check failed: ")
    assert "; content check failed: sha256 of the IDX bytes is " in v.reason
    assert v.reason.endswith(f"expected {SHA}")
    path.write_bytes(lzma.compress(RAW))
    v = checksum.verdict(path, remote_for(upstream, pinned_content=False))
    assert not v.ok and "no content hash is pinned" in v.reason


# -- whole-dataset files ------------------------------------------------------------------

ARRAYS = {
    "x_train": IMAGES,
    "y_train": LABELS,
    "x_test": IMAGES[:5],
    "y_test": LABELS[:5],
}


def npz(path: Path, compressed: bool, arrays=ARRAYS) -> Path:
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def collect(path: Path, workdir: Path, limit: int = 1 << 30) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for m in unpack.members(path, workdir, limit=limit):
        out[m.name] = m.problem if m.path is None else m.path.read_bytes()
    return out


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_an_npz_yields_each_array_as_its_idx_bytes(tmp_path, compressed):
    path = npz(tmp_path / "mnist.npz", compressed)
    assert unpack.kind_of(path) == "npz"
    got = collect(path, tmp_path)
    assert got == {k: idx_bytes(a) for k, a in ARRAYS.items()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]  # temporaries gone


def test_npz_arrays_of_wider_types_become_big_endian_idx(tmp_path):
    arrays = {**ARRAYS, "x_train": RNG.integers(-999, 999, (4, 3, 2), dtype=np.int16)}
    arrays["x_test"] = RNG.random((2, 3)).astype(np.float64)
    got = collect(npz(tmp_path / "a.npz", True, arrays), tmp_path)
    assert got["x_train"] == idx_bytes(arrays["x_train"])
    assert got["x_test"] == idx_bytes(arrays["x_test"])


def test_an_npz_not_in_keras_layout_is_refused(tmp_path):
    path = tmp_path / "k.npz"
    np.savez(path, arr_0=IMAGES)  # as KMNIST publishes its npz files
    with pytest.raises(ValueError, match="not keras's layout"):
        collect(path, tmp_path)


def test_an_npz_with_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{**ARRAYS, "x_train": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="no pickle"):
        collect(path, tmp_path)


def members_dict() -> dict[str, bytes]:
    return {"data/train-images-idx3-ubyte.gz": gzip.compress(RAW, mtime=0), "README": b"hello"}


def test_zip_members(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members_dict().items():
            zf.writestr(name, body)
        zf.writestr("dir/", b"")
    assert unpack.kind_of(path) == "zip"
    assert collect(path, tmp_path) == members_dict()
    got = collect(path, tmp_path, limit=100)
    assert got["data/train-images-idx3-ubyte.gz"].endswith("larger than any file")


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:xz", "w:bz2"])
def test_tar_members_in_any_compression(tmp_path, mode):
    path = tmp_path / "a.tar"
    with tarfile.open(path, mode) as tf:
        for name, body in members_dict().items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    assert unpack.kind_of(path) == "tar"
    assert collect(path, tmp_path) == members_dict()  # the link is not followed


@pytest.mark.parametrize(
    "body", [b"", RAW, gzip.compress(RAW, mtime=0), b"PK\x03\x04garbage" + bytes(100)], ids=str
)
def test_other_files_are_not_archives(tmp_path, body):
    path = tmp_path / "f"
    path.write_bytes(body)
    assert unpack.kind_of(path) is None


# -- identification -----------------------------------------------------------------------


def two_specs() -> tuple[DatasetSpec, DatasetSpec]:
    labels = idx_bytes(LABELS)
    gz = gzip.compress(RAW, 9, mtime=0)
    a = tuple(
        RemoteFile(n, len(b), "sha256", hashlib.sha256(b).hexdigest(), c, s)
        for n, b, c, s in [
            ("train-images-idx3-ubyte.gz", gz, SHA, len(RAW)),
            ("train-labels-idx1-ubyte.gz", gzip.compress(labels, mtime=0), None, None),
            ("t10k-images-idx3-ubyte.gz", b"x", None, None),
            ("t10k-labels-idx1-ubyte.gz", b"y", None, None),
        ]
    )
    b = tuple(RemoteFile(f.name, f.size + 1, "md5", "0" * 32) for f in a)
    return (
        DatasetSpec("one", "one.npz", "one", a, (), DIGITS),
        DatasetSpec("two", "two.npz", "two", b, (), DIGITS),
    )


def test_identify_by_container_by_content_or_say_what_it_is(tmp_path):
    one, two = two_specs()
    catalog = Catalog([one, two])
    path = tmp_path / "f"
    cases = {
        gzip.compress(RAW, 9, mtime=0): ("container", "train-images-idx3-ubyte.gz"),
        RAW: ("content", "train-images-idx3-ubyte"),
        bz2.compress(RAW): ("content", "train-images-idx3-ubyte.bz2"),
    }
    for body, (how, name) in cases.items():
        path.write_bytes(body)
        found = catalog.identify(path)
        assert isinstance(found, Known) and found.spec is one
        assert (found.how, found.install_name) == (how, name)
    path.write_bytes(b"")
    assert catalog.identify(path) == Unknown(EMPTY)
    path.write_bytes(b"\n<html><body>403</body></html>")
    assert catalog.identify(path) == Unknown(HTML)
    path.write_bytes(gzip.compress(RAW, mtime=0)[:-20])
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("truncated: ")
    path.write_bytes(idx_bytes(IMAGES[:3]))
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and "matches no registered file" in found.reason
    assert "one, two pin only their exact upstream files" in found.reason
    path.write_bytes(b"\x00\x00\x99\x01abcd")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("unknown IDX type code 0x99")
    path.write_bytes(b"PK\x03\x04")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("not an IDX file: first bytes")
