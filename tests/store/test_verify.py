"""Verifying a file: its exact bytes (the container), then its IDX content, and why not.

``verdict`` tries the container's checksum, then the content hash; the
reason it gives names both checks. ``content_mismatch`` says why the IDX
bytes are not the pinned ones; ``hash_file`` reads in bounded chunks. The
expected hashes come from ``hashlib``, ``gzip`` and ``lzma``, never from the
code under test.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import struct
import tracemalloc

import numpy as np

from idxmnist import errors
from idxmnist.datasets.spec import RemoteFile
from idxmnist.store import verify as checksum

from ..support.content import RAW30, SHA30
from ..support.pinned import RAW, RNG

# -- verdict: the container, then the content --------------------------------------------------


def remote_for(body: bytes, *, pinned_content: bool = True) -> RemoteFile:
    return RemoteFile(
        "train-images-idx3-ubyte.gz",
        len(body),
        "sha256",
        hashlib.sha256(body).hexdigest(),
        SHA30 if pinned_content else None,
        len(RAW30) if pinned_content else None,
    )


def test_verdict_container_then_content_then_which_failed(tmp_path):
    upstream = gzip.compress(RAW30, 9, mtime=0)
    remote = remote_for(upstream)
    path = tmp_path / "f"
    path.write_bytes(upstream)
    assert checksum.verdict(path, remote) == checksum.Verdict("container", "gzip")
    path.write_bytes(lzma.compress(RAW30))
    assert checksum.verdict(path, remote) == checksum.Verdict("content", "xz")
    changed = bytearray(RAW30)
    changed[500] ^= 1
    path.write_bytes(lzma.compress(bytes(changed)))
    v = checksum.verdict(path, remote)
    assert not v.ok and v.reason.startswith("container check failed: ")
    assert "; content check failed: sha256 of the IDX bytes is " in v.reason
    assert v.reason.endswith(f"expected {SHA30}")
    path.write_bytes(lzma.compress(RAW30))
    v = checksum.verdict(path, remote_for(upstream, pinned_content=False))
    assert not v.ok and "no content hash is pinned" in v.reason


SHA = hashlib.sha256(RAW).hexdigest()
NAME = "train-images-idx3-ubyte.gz"


def remote(body: bytes, content_sha: str | None = SHA, content_size: int | None = len(RAW)):
    return RemoteFile(
        NAME, len(body), "sha256", hashlib.sha256(body).hexdigest(), content_sha, content_size
    )


def test_a_failed_verdict_still_names_the_container_found(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(b"not idx at all" * 10))
    unpinned = checksum.verdict(path, remote(b"upstream", None, None))
    assert (unpinned.ok, unpinned.kind) == (False, "gzip")
    pinned = checksum.verdict(path, remote(b"upstream"))
    assert (pinned.ok, pinned.kind) == (False, "gzip")


# -- content_mismatch: why the IDX bytes are not the pinned ones -------------------------------


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


# -- hash_file ---------------------------------------------------------------------------------


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
