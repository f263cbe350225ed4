"""What a file is: a registered dataset's file by its container or content, or why not.

A catalog of specs built here identifies a file by its exact bytes or by
its IDX content; anything else (empty, an HTML page, truncated, an IDX file
no dataset has) is named. The expected hashes come from ``hashlib``, never
from the code under test.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import struct

from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile
from idxmnist.store.identify import EMPTY, HTML, Catalog, Known, Unknown

from ..support.content import IMAGES30, LABELS30, RAW30, SHA30, idx_bytes
from ..support.pinned import RAW


def two_specs() -> tuple[DatasetSpec, DatasetSpec]:
    labels = idx_bytes(LABELS30)
    gz = gzip.compress(RAW30, 9, mtime=0)
    a = tuple(
        RemoteFile(n, len(b), "sha256", hashlib.sha256(b).hexdigest(), c, s)
        for n, b, c, s in [
            ("train-images-idx3-ubyte.gz", gz, SHA30, len(RAW30)),
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
        gzip.compress(RAW30, 9, mtime=0): ("container", "train-images-idx3-ubyte.gz"),
        RAW30: ("content", "train-images-idx3-ubyte"),
        bz2.compress(RAW30): ("content", "train-images-idx3-ubyte.bz2"),
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
    path.write_bytes(gzip.compress(RAW30, mtime=0)[:-20])
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("truncated: ")
    path.write_bytes(idx_bytes(IMAGES30[:3]))
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and "matches no registered file" in found.reason
    assert "one, two pin only their exact upstream files" in found.reason
    path.write_bytes(b"\x00\x00\x99\x01abcd")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("unknown IDX type code 0x99")
    path.write_bytes(b"PK\x03\x04")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason.startswith("not an IDX file: first bytes")


LABELS = struct.pack(">BBBBI", 0, 0, 0x08, 1, 6) + bytes(range(6))
GZ = gzip.compress(RAW, mtime=0)
GZ_LABELS = gzip.compress(LABELS, mtime=0)


def spec(name: str, *, pinned: bool, algorithm: str = "sha256") -> DatasetSpec:
    def one(file: str, body: bytes, idx: bytes) -> RemoteFile:
        digest = hashlib.new(algorithm, body).hexdigest()
        if not pinned:
            return RemoteFile(file, len(body), algorithm, digest)  # type: ignore[arg-type]
        sha = hashlib.sha256(idx).hexdigest()
        return RemoteFile(file, len(body), algorithm, digest, sha, len(idx))  # type: ignore[arg-type]

    files = (
        one("train-images-idx3-ubyte.gz", GZ, RAW),
        one("train-labels-idx1-ubyte.gz", GZ_LABELS, LABELS),
        one("t10k-images-idx3-ubyte.gz", b"t" * 3, b"T"),
        one("t10k-labels-idx1-ubyte.gz", b"l" * 4, b"L"),
    )
    return DatasetSpec(name, f"{name}.npz", name, files, (), DIGITS)


def test_identify_by_an_md5_container_checksum(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(GZ)
    found = Catalog([spec("md", pinned=False, algorithm="md5")]).identify(path)
    assert isinstance(found, Known)
    assert (found.remote.name, found.how, found.kind) == (
        "train-images-idx3-ubyte.gz",
        "container",
        "gzip",
    )


def test_an_unmatched_idx_file_names_which_datasets_pin_their_content(tmp_path):
    other = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 2, 4, 5) + bytes(40)
    path = tmp_path / "f"
    path.write_bytes(gzip.compress(other))
    both = Catalog(
        [spec("alpha", pinned=True), spec("beta", pinned=False), spec("gamma", pinned=True)]
    )
    assert (both.pinned, both.unpinned) == (("alpha", "gamma"), ("beta",))
    found = both.identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == (
        "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file "
        "(the content of alpha, gamma's files is pinned; any other file verifies only as its "
        "exact upstream file, or by a content pin learnt from that file in this cache)"
    )
    assert found.content is not None and found.content.header.shape == (2, 4, 5)
    # a size no registered content has: its header is read, its payload not hashed
    assert found.content.sha256 is None
    found = Catalog([spec("alpha", pinned=True), spec("gamma", pinned=True)]).identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file"
    found = Catalog([spec("beta", pinned=False), spec("delta", pinned=False)]).identify(path)
    assert isinstance(found, Unknown)
    assert found.reason == (
        "an IDX file (uint8 (2, 4, 5), gzip) that matches no registered file "
        "(beta, delta pin only their exact upstream files, so only those verify)"
    )


def test_identify_says_how_a_truncated_file_ends(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(GZ[:-20])
    found = Catalog([spec("alpha", pinned=True)]).identify(path)
    assert found == Unknown(
        "truncated: the gzip stream ends early: the file is truncated "
        "(an interrupted download?); delete it and fetch it again"
    )


def test_an_html_page_is_recognised_within_its_first_512_bytes(tmp_path):
    catalog = Catalog([spec("alpha", pinned=True)])
    path = tmp_path / "f"
    path.write_bytes(b" " * 507 + b"<html><body>gone</body></html>")
    assert catalog.identify(path) == Unknown(HTML)
    path.write_bytes(b" " * 508 + b"<html><body>gone</body></html>")
    found = catalog.identify(path)
    assert isinstance(found, Unknown) and found.reason != HTML
    assert found.reason.startswith("not an IDX file"), found.reason
