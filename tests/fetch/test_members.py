"""An archive member is kept only when its exact bytes, or its content, are the pinned ones.

Through ``emnist.load_data``, the way a user meets it: EMNIST's members have no
content pin, so only a member's exact bytes (its size *and* its SHA-256)
make it the registry's file. A member of the right size with other bytes
(here: the test labels with two of them swapped, packed to the same length)
must never be kept, cached or returned.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import emnist
from idxmnist.datasets.spec import RemoteFile

from ..support.family import emnist_archive, emnist_member_names, emnist_specs, idx_bytes
from ..support.helpers import listing
from ..support.httpserver import FaultServer

COUNTS = {"digits": (60, 40), "mnist": (20, 10)}


def same_size_other_labels(member: bytes) -> bytes:
    """The labels of a ``.gz`` member with two labels swapped, gzip'ed to the same length."""
    labels = np.frombuffer(gzip.decompress(member), np.uint8, offset=8)
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] == labels[j]:
                continue
            swapped = labels.copy()
            swapped[i], swapped[j] = labels[j], labels[i]
            packed = gzip.compress(idx_bytes(swapped), mtime=0)
            if len(packed) == len(member):
                return packed
    raise AssertionError("no swap packs to the same length")


def rezip(archive: bytes, replace: dict[str, bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(archive))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info, replace.get(info.filename, src.read(info)))
    return buf.getvalue()


@pytest.mark.parametrize("range_mode", ["honor", "ignore"])  # by ranges, then whole
def test_a_member_of_the_pinned_size_with_other_bytes_is_never_kept(
    range_mode, tmp_path, registered, monkeypatch
):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    release = emnist_archive(tmp_path / "up", COUNTS)
    name = emnist_member_names("digits")[3]  # the test labels
    wrong = same_size_other_labels(release.files[name])
    assert len(wrong) == len(release.files[name]) and wrong != release.files[name]
    archive = rezip(release.files["gzip.zip"], {f"gzip/{name}": wrong})
    with FaultServer({"gzip.zip": archive}) as server:
        server.range_mode = range_mode
        pin = RemoteFile("gzip.zip", len(archive), "sha256", hashlib.sha256(archive).hexdigest())
        registered(*emnist_specs(release, (server.url(),), pin))
        with pytest.raises(idxmnist.ChecksumError) as info:
            emnist.load_data("digits", cache_dir=tmp_path / "cache")
    assert f"could not download {name}" in str(info.value)
    assert "sha256" in str(info.value)
    kept = listing(tmp_path / "cache" / "emnist")
    assert name not in kept  # the wrong labels are not in the store
    assert not [p for p in listing(tmp_path / "cache") if p.endswith(".npz")]  # nor a cache
    for other in emnist_member_names("digits")[:3]:  # the members that verify stay kept
        assert (tmp_path / "cache" / "emnist" / other).read_bytes() == release.files[other]


def written() -> int:
    """The bytes this process has written so far (every ``write`` call, to any file)."""
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("range_mode", ["honor", "ignore"])  # by ranges, then whole
def test_a_member_declaring_more_than_its_file_can_be_is_not_inflated(
    range_mode, tmp_path, registered, monkeypatch
):
    # issue 19, row 2's bound where a member is read straight out of the archive: the test
    # labels replaced by 64 MiB of zeros, deflated (64 KiB), which its directory entry declares
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    release = emnist_archive(tmp_path / "up", COUNTS)
    name = emnist_member_names("digits")[3]
    src = zipfile.ZipFile(io.BytesIO(release.files["gzip.zip"]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            bomb = info.filename == f"gzip/{name}"
            body = bytes(64 << 20) if bomb else src.read(info)
            z.writestr(info, body, zipfile.ZIP_DEFLATED if bomb else info.compress_type)
    archive = buf.getvalue()
    assert len(archive) < len(release.files["gzip.zip"]) + (1 << 17)
    with FaultServer({"gzip.zip": archive}) as server:
        server.range_mode = range_mode
        pin = RemoteFile("gzip.zip", len(archive), "sha256", hashlib.sha256(archive).hexdigest())
        registered(*emnist_specs(release, (server.url(),), pin))
        before = written()
        with pytest.raises(idxmnist.DownloadError) as info:
            emnist.load_data("digits", cache_dir=tmp_path / "cache")
        wrote = written() - before
    assert f"gzip/{name}]: declares {64 << 20} bytes, more than any copy of {name} can be (" in (
        str(info.value)
    ), str(info.value)
    assert wrote < 4 << 20, wrote  # the three other members, the archive: never the 64 MiB
    assert name not in listing(tmp_path / "cache" / "emnist")
