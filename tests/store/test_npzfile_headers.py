"""``.npy`` headers NumPy's parser fails on with something else than ValueError.

Found by ``fuzz/unpack.py`` (601 executions): a version 1.0 header with an
unclosed bracket makes NumPy re-tokenize it (its Python 2 fallback), and
``tokenize.TokenError`` escaped ``npz_members``, so ``load_npz``,
``unpack.members`` and ``idxmnist import`` too. Found reading that parser
after it: a ``descr`` of ``()`` or ``('u1',)`` raises ``IndexError``. Found by
``fuzz/npz.py`` (113,338 executions): a subarray dtype (``('<i2', (1,))``)
loaded as an array of another shape than declared, or raised ``ValueError``;
probing after it, ``'S0'`` items of no size raised ``ValueError`` too. And
(7,293 executions) a 2.0 header declaring 4 GiB was read before NumPy's size
check: the header is now read by idxmnist, at most ``NPY_HEADER_MAX`` bytes.
And (203,967 executions) a stored member whose two sizes disagree loaded other
bytes than ``numpy.load`` reads.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from idxmnist import IdxError
from idxmnist.store.npzfile import NPY_HEADER_MAX, load_npz
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


def npy_v1_padded(text: str, payload: bytes) -> bytes:
    body = text + " " * (-(10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode() + payload


@pytest.mark.parametrize(
    ("descr", "shape", "payload", "why"),
    [
        # the fuzzer's input (113,338 executions): the mapped array came back int16 (2, 3, 4),
        # not the (2, 3, 4, 1) the header means; with (2,), reshape raised ValueError
        ("('<i2', (1,))", (2, 3, 4), bytes(48), "declares the subarray dtype ('<i2', (1,))"),
        ("('<i2', (2,))", (3,), bytes(12), "declares the subarray dtype ('<i2', (2,))"),
        ("'S0'", (5,), b"", "declares items of no size (|S0)"),
        ("'|V0'", (2,), b"", "declares items of no size (|V0)"),
    ],
)
def test_a_dtype_no_array_has_is_a_corrupt_npz(descr, shape, payload, why, tmp_path):
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}"
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_with_x_train(npy_v1_padded(header, payload)))
    with pytest.raises(IdxError) as err:
        load_npz(path, KEYS)
    assert str(err.value) == (
        f"{path}: member 'x_train' {why}; the npz file is corrupt or not a dataset cache"
    )


def test_a_header_length_of_4_gib_is_refused_before_it_is_read(tmp_path):
    # the fuzzer's input (7,293 executions): a 2.0 header whose 32-bit length says 4 GiB;
    # NumPy read() that many bytes before its own size check, a 4 GiB allocation from a
    # file of a few hundred bytes (MemoryError under the fuzzer's address-space bound)
    member = b"\x93NUMPY\x02\x00" + struct.pack("<I", 4143906932) + b"{'descr': '|u1'" + bytes(64)
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_with_x_train(member))
    tracemalloc.start()
    try:
        with pytest.raises(IdxError) as err:
            load_npz(path, KEYS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(err.value) == (
        f"{path}: member 'x_train' has a .npy header of 4143906932 bytes, more than the "
        "10000 an array's header takes; the npz file is corrupt or not a dataset cache"
    )
    assert peak < 1 << 20, peak


def test_a_header_over_numpys_limit_is_refused_in_idxmnists_words(tmp_path):
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"
    member = npy_v1(text + " " * (20000 - len(text)))
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_with_x_train(member))
    with pytest.raises(IdxError) as err:
        load_npz(path, KEYS)
    assert str(err.value) == (
        f"{path}: member 'x_train' has a .npy header of 20001 bytes, more than the "
        "10000 an array's header takes; the npz file is corrupt or not a dataset cache"
    )  # not NumPy's advice to load it with allow_pickle=True
    at_limit = npy_v1(text + " " * (NPY_HEADER_MAX - 1 - len(text)))
    path.write_bytes(npz_with_x_train(at_limit))
    assert load_npz(path, KEYS)["x_train"].tolist() == [1, 2, 3]


def test_a_stored_member_whose_sizes_disagree_is_a_corrupt_npz(tmp_path):
    # the fuzzer's input (203,967 executions): a stored member whose directory entry says
    # 131 bytes but 0 stored ones; zipfile (so numpy.load) reads it as b"" (its CRC-32
    # field is 0), the mapping read the 131 bytes after its local header as the array
    path = tmp_path / "mnist.npz"
    data = bytearray(
        npz_with_x_train(npy_v1("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"))
    )
    at = data.index(b"PK\x01\x02")  # x_train's central directory entry
    struct.pack_into("<L", data, at + 20, 0)  # its compressed size
    path.write_bytes(bytes(data))
    with pytest.raises(IdxError) as err:
        load_npz(path, KEYS)
    size = struct.unpack_from("<L", data, at + 24)[0]
    assert str(err.value) == (
        f"{path}: member 'x_train' is stored, {size} bytes, but declares 0 stored bytes; "
        "the npz file is corrupt or not a dataset cache"
    )
