"""Whole-dataset files unpacked: an npz's arrays as IDX bytes, a zip's or tar's members.

The expected bytes are computed here by hand (``tests/support/content.py``):
the IDX header packed with ``struct`` and the payload from NumPy; never with
the code under test.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from idxmnist.store import unpack

from ..support.content import IMAGES30, LABELS30, RAW30, RNG7, idx_bytes

# -- whole-dataset files ------------------------------------------------------------------

ARRAYS = {
    "x_train": IMAGES30,
    "y_train": LABELS30,
    "x_test": IMAGES30[:5],
    "y_test": LABELS30[:5],
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
    arrays = {**ARRAYS, "x_train": RNG7.integers(-999, 999, (4, 3, 2), dtype=np.int16)}
    arrays["x_test"] = RNG7.random((2, 3)).astype(np.float64)
    got = collect(npz(tmp_path / "a.npz", True, arrays), tmp_path)
    assert got["x_train"] == idx_bytes(arrays["x_train"])
    assert got["x_test"] == idx_bytes(arrays["x_test"])


def test_an_npz_not_in_keras_layout_is_refused(tmp_path):
    path = tmp_path / "k.npz"
    np.savez(path, arr_0=IMAGES30)  # as KMNIST publishes its npz files
    with pytest.raises(ValueError, match="not keras's layout"):
        collect(path, tmp_path)


def test_an_npz_with_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{**ARRAYS, "x_train": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="no pickle"):
        collect(path, tmp_path)


def members_dict() -> dict[str, bytes]:
    return {"data/train-images-idx3-ubyte.gz": gzip.compress(RAW30, mtime=0), "README": b"hello"}


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
    "body", [b"", RAW30, gzip.compress(RAW30, mtime=0), b"PK\x03\x04garbage" + bytes(100)], ids=str
)
def test_other_files_are_not_archives(tmp_path, body):
    path = tmp_path / "f"
    path.write_bytes(body)
    assert unpack.kind_of(path) is None
