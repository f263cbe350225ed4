"""``write_idx``: the bytes on disk, checked by hand, and what it refuses, word for word."""

from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest

import idxmnist
from idxmnist.idx.format import encode_header


def _numpy_makes(ndim: int) -> bool:
    try:
        np.empty((1,) * ndim, np.uint8)
    except ValueError:  # "maximum supported dimension for an ndarray is 32"
        return False
    return True


#: NumPy 2 makes arrays of up to 64 dimensions, NumPy 1.x of up to 32
NUMPY_MAKES_33_DIMENSIONS = _numpy_makes(33)


def test_file_format_is_big_endian_per_spec(tmp_path):
    """Bytes on disk checked by hand, not by our reader."""
    path = tmp_path / "t-idx"
    idxmnist.write_idx(path, np.array([[1, -2]], dtype=np.int32))
    assert path.read_bytes() == bytes.fromhex("0000 0c02 00000001 00000002 00000001 fffffffe")


@pytest.mark.parametrize(
    ("suffix", "opener"), [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)]
)
def test_suffix_picks_compression(tmp_path, suffix, opener):
    path = tmp_path / f"labels-idx1-ubyte{suffix}"
    idxmnist.write_idx(path, np.arange(10, dtype=np.uint8))
    raw = opener(path).read()
    assert raw == bytes.fromhex("00000801 0000000a") + bytes(range(10))


def test_gzip_output_is_reproducible(tmp_path):
    a = np.arange(1000, dtype=np.float32)
    idxmnist.write_idx(tmp_path / "a.gz", a)
    idxmnist.write_idx(tmp_path / "b.gz", a)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_write_rejects_what_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError):
        idxmnist.write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))
    with pytest.raises(ValueError):
        idxmnist.write_idx(tmp_path / "x", np.float32(1.0))
    with pytest.raises(ValueError):
        idxmnist.write_idx(tmp_path / "x", np.zeros(3, np.uint8), compress="zip")
    assert not (tmp_path / "x").exists()


def test_write_messages_word_for_word(tmp_path):
    cases = [
        (
            np.zeros(3, np.uint16),
            TypeError,
            "IDX cannot store dtype uint16; use one of uint8, int8, int16, int32, float32, float64",
        ),
        (np.float32(1), ValueError, "IDX needs 1 to 32 dimensions, got shape ()"),
        (
            np.zeros((1 << 32, 0), np.uint8),
            ValueError,
            "IDX dimensions are 32-bit; shape (4294967296, 0) does not fit",
        ),
    ]
    if NUMPY_MAKES_33_DIMENSIONS:
        cases.append(
            (
                np.zeros((1,) * 33, np.uint8),
                ValueError,
                f"IDX needs 1 to 32 dimensions, got shape {(1,) * 33}",
            )
        )
    for array, kind, text in cases:
        with pytest.raises(kind) as info:
            idxmnist.write_idx(tmp_path / "x", array)
        assert str(info.value) == text
    # the guard write_idx's message comes from, also where NumPy cannot make the array
    with pytest.raises(ValueError) as info:
        encode_header(np.dtype(np.uint8), (1,) * 33)
    assert str(info.value) == f"IDX needs 1 to 32 dimensions, got shape {(1,) * 33}"
    idxmnist.write_idx(tmp_path / "x", np.zeros((1,) * 32, np.uint8))  # 32 is allowed
    assert idxmnist.read_idx(tmp_path / "x").shape == (1,) * 32
    assert not [p for p in tmp_path.iterdir() if p.name != "x"]


def test_write_idx_refuses_a_dimension_of_2_to_the_32(tmp_path):
    empty = np.empty((1 << 32, 0), np.uint8)  # no data, but the dimension does not fit
    with pytest.raises(ValueError, match=r"IDX dimensions are 32-bit; shape \(4294967296, 0\)"):
        idxmnist.write_idx(tmp_path / "x.idx", empty)
    assert list(tmp_path.iterdir()) == []
    edge = np.empty(((1 << 32) - 1, 0), np.uint8)  # the largest that fits is written
    idxmnist.write_idx(tmp_path / "y.idx", edge)
    assert idxmnist.read_idx(tmp_path / "y.idx").shape == ((1 << 32) - 1, 0)
