"""``.npy`` headers NumPy's parser fails on with something else than ValueError.

Found by ``fuzz/unpack.py`` (601 executions): a version 1.0 header with an
unclosed bracket makes NumPy re-tokenize it (its Python 2 fallback), and
``tokenize.TokenError`` escaped ``npz_members``, so ``load_npz``,
``unpack.members`` and ``idxmnist import`` too. Found reading that parser
after it: a ``descr`` of ``()`` or ``('u1',)`` raises ``IndexError``.
"""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest

from idxmnist import IdxError
from idxmnist.store.npzfile import load_npz
from idxmnist.store.unpack import members

DATE = (2020, 1, 1, 0, 0, 0)
KEYS = ("x_train", "y_train", "x_test", "y_test")


def npy_v1(text: str) -> bytes:
    body = text + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode() + b"\x01\x02\x03"


def npz_with_x_train(member: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key in KEYS:
            data = member if key == "x_train" else _npy(np.zeros(3, np.uint8))
            z.writestr(zipfile.ZipInfo(f"{key}.npy", DATE), data)
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


HEADERS = {
    "unclosed": "{'descr': '|u1', 'fortran_order': False, 'shape': (3,)",
    "empty descr": "{'descr': (), 'fortran_order': False, 'shape': (3,)}",
    "descr of one": "{'descr': ('|u1',), 'fortran_order': False, 'shape': (3,)}",
}


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
def test_a_header_numpy_cannot_parse_is_a_corrupt_npz(header, tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_with_x_train(npy_v1(header)))
    with pytest.raises(IdxError) as err:
        load_npz(path, KEYS)
    message = str(err.value)
    assert message.startswith(f"{path}: member 'x_train' has a bad .npy header (")
    assert message.endswith("); the npz file is corrupt or not a dataset cache")
    with pytest.raises(IdxError, match="member 'x_train' has a bad .npy header"):
        list(members(path, tmp_path, limit=1 << 20))
