"""``transpose=True`` allocates no more than the array it turns (found by ``fuzz/idx_reader.py``).

The fuzzer's input was 16 bytes: an IDX header declaring 0 images of
2,046,820,380 x 28 pixels. The payload is empty, so the header fits the file
and the output array is empty; but the transposer's scratch buffer, one image,
asked for 53.4 GiB, and ``MemoryError`` escaped ``read_idx``.
"""

from __future__ import annotations

import io
import struct
import tracemalloc

import numpy as np
import pytest

from idxmnist import read_idx

FOUND = bytes.fromhex("00000803000000007a00001c0000001c")  # the fuzzer's 16 bytes


def header(shape: tuple[int, ...]) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, 8, len(shape), *shape)


def peak_of(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_fuzzers_input_reads_as_an_empty_array():
    assert FOUND == header((0, 2046820380, 28))
    arr = read_idx(io.BytesIO(FOUND), transpose=True)
    assert arr.shape == (0, 28, 2046820380) and arr.dtype == np.uint8


@pytest.mark.parametrize("source", ["bytes", "file"])
def test_no_images_of_a_huge_size_allocate_nothing(source, tmp_path):
    data = header((0, 1 << 16, 1 << 15))  # 2 GiB an image: allocated lazily, still traced
    path = tmp_path / "x.idx"
    path.write_bytes(data)
    arr, peak = peak_of(
        lambda: read_idx(io.BytesIO(data) if source == "bytes" else path, transpose=True)
    )
    assert arr.shape == (0, 1 << 15, 1 << 16)
    assert peak < 1 << 20, peak


def test_the_scratch_is_no_larger_than_a_few_images():
    x = np.arange(2 * 300 * 400, dtype=np.uint8).reshape(2, 300, 400)  # 240 KB
    data = header(x.shape) + x.tobytes()
    arr, peak = peak_of(lambda: read_idx(io.BytesIO(data), transpose=True))
    assert np.array_equal(arr, x.transpose(0, 2, 1))
    assert peak < 3 * x.nbytes + (1 << 20), peak  # the input, the output, one scratch
