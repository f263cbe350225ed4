"""Whole-dataset files whose members idxmnist cannot turn into IDX files, or cannot list.

Found by the seed corpus of ``fuzz/unpack.py`` (issue 19's row 5): an npz
whose ``x_train`` is ``bool`` or ``uint16`` raised ``TypeError`` out of
``unpack.members``, so ``idxmnist import`` stopped with a traceback; now the
member is reported with why and the walk moves on. Found by the fuzzer (in
``fuzz/zip_directory.py``; the same bytes reach ``unpack``): a zip whose
"version needed to extract" zipfile does not know raised
``NotImplementedError`` from ``kind_of``; by ``fuzz/unpack.py``: a member
whose local header offset lies before the archive raised ``OSError``, one
named ``""`` ``IndexError``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

from idxmnist import IdxError
from idxmnist.store.unpack import members

from ..support.family import patch

REPO = Path(__file__).resolve().parents[2]
DATE = (2020, 1, 1, 0, 0, 0)


def npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key, arr in arrays.items():
            member = io.BytesIO()
            npy.write_array(member, arr)
            z.writestr(zipfile.ZipInfo(f"{key}.npy", DATE), member.getvalue())
    return buf.getvalue()


def keras(x_train: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "x_train": x_train,
        "y_train": np.array([1, 2], np.uint8),
        "x_test": np.zeros((1, 4, 4), np.uint8),
        "y_test": np.array([3], np.uint8),
    }


@pytest.mark.parametrize(
    ("x_train", "why"),
    [
        (np.ones((2, 4, 4), bool), "a bool array of shape (2, 4, 4): IDX cannot store dtype bool"),
        (
            np.ones((2, 4, 4), np.uint16),
            "a uint16 array of shape (2, 4, 4): IDX cannot store dtype uint16",
        ),
        (np.array(7, np.uint8), "a uint8 array of shape (): IDX needs 1 to 32 dimensions"),
    ],
)
def test_a_member_idx_cannot_hold_is_reported_and_the_walk_moves_on(x_train, why, tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz(keras(x_train)))
    work = tmp_path / "work"
    work.mkdir()
    seen = []
    for member in members(path, work, limit=1 << 20):
        seen.append((member.name, member.path is not None, member.problem))
        if member.path is not None:  # the others are IDX files, as their arrays say
            data = member.path.read_bytes()
            assert data[:3] == b"\x00\x00\x08"
    assert seen[0][2].startswith(why), seen[0]
    assert seen == [
        ("x_train", False, seen[0][2]),
        ("y_train", True, ""),
        ("x_test", True, ""),
        ("y_test", True, ""),
    ]
    assert not any(work.iterdir())


def test_import_of_a_bool_x_train_lists_it_as_skipped_without_a_traceback(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz(keras(np.ones((2, 4, 4), bool))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    r = subprocess.run(
        [sys.executable, "-m", "idxmnist", "import", str(path), "--cache-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1  # none of the (synthetic) arrays is a known dataset file
    lines = r.stdout.splitlines()
    assert lines[0] == (
        f"skipped     {path}:x_train: a bool array of shape (2, 4, 4): IDX cannot store "
        "dtype bool; use one of uint8, int8, int16, int32, float32, float64"
    )
    assert [line.split(":")[1] for line in lines[1:]] == ["y_train", "x_test", "y_test"]


def test_a_zip_of_a_version_zipfile_does_not_know_is_a_damaged_archive(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("train-labels-idx1-ubyte", DATE), b"\x00\x00\x08\x01")
    path = tmp_path / "mnist.zip"
    path.write_bytes(patch(buf.getvalue(), "train-labels-idx1-ubyte", 6, "<H", 255))
    with pytest.raises(IdxError) as err:
        list(members(path, tmp_path, limit=1 << 20))
    assert str(err.value) == f"{path}: not an npz, zip or tar archive"


def test_a_zip_member_whose_header_offset_is_before_the_archive_is_reported(tmp_path):
    # the fuzzer's input (431 executions): zipfile adds the difference between where the
    # directory is and where the end record says it is to every offset, here making one
    # negative; the seek to it failed with EINVAL, an OSError with an errno, which the walk
    # took for a disk error and let escape
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("train-labels-idx1-ubyte", DATE), b"\x00\x00\x08\x01")
        z.writestr(zipfile.ZipInfo("t10k-labels-idx1-ubyte", DATE), b"\x00\x00\x08\x01")
    data = bytearray(buf.getvalue())
    eocd = data.rindex(b"PK\x05\x06")
    first_at = int.from_bytes(data[eocd + 16 : eocd + 20], "little")
    data[eocd + 16 : eocd + 20] = (first_at + 100).to_bytes(4, "little")  # 100 bytes later
    path = tmp_path / "mnist.zip"
    path.write_bytes(bytes(data))
    infos = zipfile.ZipFile(path).infolist()
    assert [i.header_offset for i in infos][0] == -100
    seen = [(m.name, m.path is not None, m.problem) for m in members(path, tmp_path, limit=1 << 20)]
    assert seen[0] == (
        "train-labels-idx1-ubyte",
        False,
        f"its local header offset -100 is outside the {len(data)}-byte archive",
    )
    assert seen[1][0] == "t10k-labels-idx1-ubyte" and not seen[1][1]  # 100 bytes off: unreadable


def test_a_zip_member_with_an_empty_name_is_copied_like_any_other(tmp_path):
    # the fuzzer's input (2,086 executions): ZipInfo.is_dir() reads the name's last
    # character, and IndexError escaped for a member named ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("", DATE), b"\x00\x00\x08\x01\x00\x00\x00\x00")
        z.writestr(zipfile.ZipInfo("folder/", DATE), b"")
        z.writestr(zipfile.ZipInfo("t10k-labels-idx1-ubyte", DATE), b"\x00\x00\x08\x01")
    path = tmp_path / "mnist.zip"
    path.write_bytes(buf.getvalue())
    work = tmp_path / "work"
    work.mkdir()
    seen = []
    for m in members(path, work, limit=1 << 20):
        seen.append((m.name, m.path.read_bytes() if m.path is not None else m.problem))
    assert seen == [
        ("", b"\x00\x00\x08\x01\x00\x00\x00\x00"),
        ("t10k-labels-idx1-ubyte", b"\x00\x00\x08\x01"),
    ]
