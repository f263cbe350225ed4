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
import io
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


# -- Tally, copy_tallied, mismatch: the one hash-and-compare of bytes with a pin ---------------


def test_a_tally_of_small_chunks_keeps_the_first_six_bytes_the_size_and_the_digest():
    body = bytes(range(40))
    tally = checksum.Tally("md5")
    for start in (0, 1, 3, 4, 5, 9, 20):  # chunks of 1, 2, 1, 1, 4, 11 and 20 bytes
        end = {0: 1, 1: 3, 3: 4, 4: 5, 5: 9, 9: 20, 20: 40}[start]
        tally.update(memoryview(body)[start:end])
    assert tally.lead == body[:6]
    assert tally.size == 40 and tally.algorithm == "md5"
    assert tally.digest == hashlib.md5(body).hexdigest()
    pin = RemoteFile(NAME, 40, "md5", hashlib.md5(body).hexdigest())
    assert tally.mismatch(pin) is None
    assert tally.mismatch(RemoteFile(NAME, 41, "md5", pin.digest)) == "40 bytes, expected 41"
    other = hashlib.md5(b"x").hexdigest()
    assert tally.mismatch(RemoteFile(NAME, 40, "md5", other)) == (
        f"md5 {pin.digest}, expected {other}"
    )


class _Chunks:
    """A stream that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        self.data, self.asked = data, []

    def read(self, n: int) -> bytes:
        self.asked.append(n)
        out, self.data = self.data[:n], self.data[n:]
        return out


def test_copy_tallied_copies_in_bounded_chunks_and_tallies_what_it_copied():
    from idxmnist.files import CHUNK

    body = RNG.integers(0, 256, 2 * CHUNK + 7, dtype=np.uint8).tobytes()
    src, out = _Chunks(body), io.BytesIO()
    tally = checksum.copy_tallied(src, out, "sha1")
    assert out.getvalue() == body
    assert src.asked == [CHUNK] * 4  # three chunks, then the empty read at the end
    assert (tally.size, tally.lead) == (len(body), body[:6])
    assert tally.digest == hashlib.sha1(body).hexdigest()


def test_hash_file_with_several_algorithms_in_one_pass(tmp_path):
    path = tmp_path / "f"
    body = RNG.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    path.write_bytes(body)
    assert checksum.hash_file(path, ("md5", "sha256", "md5")) == {
        "md5": hashlib.md5(body).hexdigest(),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    assert checksum.hash_file(path, ["md5"]) == {"md5": hashlib.md5(body).hexdigest()}


def test_a_file_of_another_size_is_refused_by_its_size_without_reading_it(tmp_path):
    path = tmp_path / NAME
    with open(path, "wb") as f:  # a sparse file of 1 TiB: reading it would take many minutes
        f.truncate(1 << 40)
    pin = remote(b"upstream")
    assert checksum.mismatch(path, pin) == f"{1 << 40} bytes, expected {len(b'upstream')}"
    v = checksum.verdict(path, remote(b"upstream", None, None))
    assert v == checksum.Verdict(
        None,
        "raw",
        f"container check failed: {1 << 40} bytes, expected 8 (no content hash is pinned "
        f"for {NAME}, so only its exact upstream bytes verify)",
    )


def test_a_file_of_the_pinned_size_with_other_bytes_is_refused_by_its_digest(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"upstreaM")
    found = hashlib.sha256(b"upstreaM").hexdigest()
    pin = remote(b"upstream")
    assert checksum.mismatch(path, pin) == f"sha256 {found}, expected {pin.digest}"
    path.write_bytes(b"upstream")
    assert checksum.mismatch(path, pin) is None


def test_a_failed_verdict_names_both_checks_word_for_word(tmp_path):
    path = tmp_path / NAME
    other = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 7, 4, 5) + bytes(7 * 4 * 5)
    path.write_bytes(gzip.compress(other, mtime=0))
    v = checksum.verdict(path, remote(b"upstream"))
    assert v == checksum.Verdict(
        None,
        "gzip",
        f"container check failed: {path.stat().st_size} bytes, expected 8; content check "
        f"failed: its IDX header declares uint8 (7, 4, 5), {len(other)} bytes; expected "
        f"{len(RAW)} bytes",
    )


def test_hash_file_with_several_algorithms_reads_in_bounded_chunks(tmp_path):
    path = tmp_path / "big"
    block = RNG.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    with open(path, "wb") as f:
        for _ in range(12):
            f.write(block)
    tracemalloc.start()
    try:
        got = checksum.hash_file(path, ("md5", "sha256"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got["md5"] == hashlib.md5(block * 12).hexdigest()
    assert peak < 4 << 20, peak  # a chunk or two, never the 12 MiB file


def test_a_file_pinned_by_md5_is_compared_by_its_md5(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"upstream")
    pin = RemoteFile(NAME, 8, "md5", hashlib.md5(b"upstream").hexdigest())
    assert checksum.mismatch(path, pin) is None
    assert checksum.verdict(path, pin) == checksum.Verdict("container", "raw")
    path.write_bytes(b"upstreaM")
    assert checksum.mismatch(path, pin) == (
        f"md5 {hashlib.md5(b'upstreaM').hexdigest()}, expected {pin.digest}"
    )
