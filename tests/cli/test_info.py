"""idxmnist info: npz caches (layout, label counts), IDX files, and zip archives."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
import pytest

import idxmnist
from idxmnist import cli
from idxmnist.cli.info import describe_file
from idxmnist.errors import IdxError

from ..support.family import emnist_member_names, emnist_release, emnist_spec
from ..support.synth import make_dataset


def member_lines(report):
    """{key: line} for the member lines of an npz report."""
    out = {}
    for line in report.splitlines()[1:]:
        m = re.match(r"  (\w+)\s", line)
        if m:
            out[m.group(1)] = line
    return out


def label_counts(report):
    """Every 'label counts' line of a report, as lists of (label, count) pairs."""
    found = []
    for line in report.splitlines():
        if "label counts" in line:
            pairs = [tok.split(":") for tok in line.split("label counts")[1].split()]
            found.append([(int(a), int(b)) for a, b in pairs])
    return found


@pytest.mark.parametrize("compress", [False, True])
def test_npz_layout_and_histogram(tmp_path, compress):
    arrays = make_dataset(tmp_path / "src", n_train=300, n_test=70)
    out = idxmnist.build_npz(tmp_path / "src", tmp_path / "m.npz", compress=compress)
    report = describe_file(out)
    lines = member_lines(report)
    assert list(lines) == ["x_train", "y_train", "x_test", "y_test"]
    layout = "deflate-compressed" if compress else "stored, aligned (mmap)"
    for line in lines.values():
        assert layout in line and "uint8" in line
    assert "(300, 28, 28)" in lines["x_train"] and "(70,)" in lines["y_test"]
    assert ("memory-maps" in report.splitlines()[0]) != compress
    expected = [
        np.bincount(arrays["train-labels-idx1-ubyte"], minlength=10),
        np.bincount(arrays["t10k-labels-idx1-ubyte"], minlength=10),
    ]
    got = label_counts(report)
    assert [[c for _, c in pairs] for pairs in got] == [e.tolist() for e in expected]
    assert all([label for label, _ in pairs] == list(range(10)) for pairs in got)


def test_numpy_savez_is_stored_unaligned(tmp_path):
    y = np.array([3, 0, 3, 3], dtype=np.int64)
    np.savez(tmp_path / "u.npz", x_a=np.zeros((4, 3), np.float32), y_a=y)
    report = describe_file(tmp_path / "u.npz")
    lines = member_lines(report)
    assert "float32" in lines["x_a"] and "(4, 3)" in lines["x_a"]
    assert "stored, unaligned" in lines["y_a"] and "int64" in lines["y_a"]
    assert label_counts(report) == [[(0, 1), (1, 0), (2, 0), (3, 3)]]


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_object_arrays_are_refused_not_unpickled(tmp_path, save):
    save(tmp_path / "o.npz", y_train=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(IdxError, match="objects"):
        describe_file(tmp_path / "o.npz")


def test_idx_label_histogram_and_cli_errors_per_file(tmp_path):
    labels = np.array([1, 1, 4, 0, 1], dtype=np.uint8)
    idxmnist.write_idx(tmp_path / "y-idx1-ubyte.gz", labels)
    idxmnist.write_idx(tmp_path / "x.idx", np.zeros((2, 3), np.int16))
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    report = describe_file(tmp_path / "y-idx1-ubyte.gz")
    assert label_counts(report) == [[(0, 1), (1, 3), (2, 0), (3, 0), (4, 1)]]
    assert "label counts" not in describe_file(tmp_path / "x.idx")
    r = subprocess.run(
        [sys.executable, "-m", "idxmnist", "info"]
        + [str(tmp_path / n) for n in ("y-idx1-ubyte.gz", "bad.npz", "x.idx")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert "y-idx1-ubyte.gz: IDX uint8" in r.stdout and "x.idx: IDX int16" in r.stdout
    assert r.stderr.count("\n") == 1 and "bad.npz" in r.stderr and "Traceback" not in r.stderr


MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist(mnist_dir, tmp_path):
    for name, counts in (
        ("train-labels-idx1-ubyte.gz", MNIST_TRAIN_COUNTS),
        ("t10k-labels-idx1-ubyte.gz", MNIST_TEST_COUNTS),
    ):
        assert label_counts(describe_file(mnist_dir / name)) == [list(enumerate(counts))]
    out = idxmnist.build_npz(mnist_dir, tmp_path / "mnist.npz")
    report = describe_file(out)
    assert label_counts(report) == [
        list(enumerate(MNIST_TRAIN_COUNTS)),
        list(enumerate(MNIST_TEST_COUNTS)),
    ]
    assert "(60000, 28, 28)" in member_lines(report)["x_train"]


# -- a zip archive: its members and what pins each one -----------------------------------------


def test_info_lists_the_archive_and_what_pins_each_member(tmp_path, registered, capsys):
    release = emnist_release(tmp_path / "release")
    registered(emnist_spec(release))
    assert cli.main(["info", str(release.root / "gzip.zip")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{release.root / 'gzip.zip'}: zip archive, 5 members, ")
    parts = ("deflated", "stored", "stored", "deflated")  # emnist_release's default
    for name, part in zip(emnist_member_names("letters"), parts, strict=True):
        size = len(release.files[name])
        assert re.search(
            rf"gzip/{name}\s+{part}\s+{size:,} B  emnist_letters, its pinned size", out
        ), name
    assert re.search(r"gzip/emnist-letters-mapping\.txt\s+deflated\s+[\d,]+ B\n", out + "\n")


# -- hostile input (issue 19, rows 1 and 8) ----------------------------------------------------

INJECTED = "recognised  mnist t10k-labels-idx1-ubyte (by container sha256) -> /etc/passwd"
HOSTILE = f"evil\x1b[31m\n{INJECTED}"


def run_info(*paths):
    from ..support.helpers import run_cli_from_repo

    return run_cli_from_repo("info", *paths)


def idx_header(code: int, *dims: int) -> bytes:
    """An IDX header, by ``struct`` alone."""
    import struct

    return struct.pack(f">HBB{len(dims)}I", 0, code, len(dims), *dims)


def test_info_shows_hostile_names_escaped_one_line_each(tmp_path):
    import zipfile

    idx = idx_header(0x08, 3) + bytes([0, 2, 2])
    named = tmp_path / f"y\x1b[31m\n{INJECTED.split('/')[0]}"
    named.write_bytes(idx)
    bad = tmp_path / "bad\x1b[2J\nrecognised  it all"
    bad.write_bytes(b"not IDX at all")
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(HOSTILE, idx)
        zf.writestr("fine.txt", b"hello")
    npz = tmp_path / "m.npz"
    with zipfile.ZipFile(npz, "w") as zf:  # an npz member named to inject a line
        buf = io.BytesIO()
        np.save(buf, np.array([0, 2, 2], dtype=np.uint8))
        zf.writestr(f"y_\x1b[31m\n{INJECTED}.npy", buf.getvalue())
    r = run_info(named, bad, archive, npz)
    assert r.returncode == 1  # the bad file
    for out in (r.stdout, r.stderr):
        assert "\x1b" not in out
        assert not any(line.startswith(("recognised", INJECTED)) for line in out.splitlines())
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{tmp_path}/y\\x1b[31m\\nrecognised  mnist t10k-labels-idx1")
    assert lines[0].endswith(": IDX uint8 (type 0x08) shape (3,), raw, 11 B stored, 11 B raw")
    assert lines[1] == "  label counts  0:1 1:0 2:2"
    assert lines[2].startswith(f"{archive}: zip archive, 2 members, ")
    assert lines[3].startswith("  evil\\x1b[31m\\nrecognised  mnist t10k-labels-idx1-ubyte ")
    assert lines[4].startswith("  fine.txt ")
    assert lines[5].startswith(f"{npz}: npz, 1 members, ")
    assert lines[6].startswith("  y_\\x1b[31m\\nrecognised  mnist t10k-labels-idx1-ubyte ")
    assert lines[7].strip() == "label counts  0:1 1:0 2:2"
    assert len(lines) == 8
    (error,) = r.stderr.splitlines()
    assert error.startswith(f"idxmnist: error: {tmp_path}/bad\\x1b[2J\\nrecognised  it all: ")


def hostile_headers(tmp_path):
    """info's three liars: a raw file claiming 3 TB, raw images cut in half, an xz claiming 4 GB."""
    import gzip
    import lzma

    claims = tmp_path / "claims-3tb-idx3-ubyte"
    claims.write_bytes(idx_header(0x08, 60000, 28, 28 * 65536) + bytes(64))
    assert len(claims.read_bytes()) == 80
    images = idx_header(0x08, 100, 28, 28) + bytes(range(256)) * 306 + bytes(64)
    assert len(images) == 16 + 100 * 28 * 28
    cut = tmp_path / "cut-idx3-ubyte"
    cut.write_bytes(images[: len(images) // 2])
    xz = tmp_path / "claims-4gb-idx3-ubyte.xz"
    xz.write_bytes(lzma.compress(idx_header(0x08, 1 << 16, 256, 256)))
    assert len(xz.read_bytes()) < 100
    packed = gzip.compress(images)
    cut_gz = tmp_path / "cut-idx3-ubyte.gz"
    cut_gz.write_bytes(packed[: len(packed) // 2])
    return {"3 TB": claims, "cut in half": cut, "4 GB xz": xz, "gzip cut in half": cut_gz}


@pytest.mark.parametrize("case", ["3 TB", "cut in half", "4 GB xz", "gzip cut in half"])
def test_info_refuses_a_header_that_declares_more_than_the_file_holds(case, tmp_path):
    path = hostile_headers(tmp_path)[case]
    with pytest.raises(IdxError) as read:  # what read_idx says of it: info says the same
        idxmnist.read_idx(path)
    r = run_info(path)
    assert r.returncode == 1, r.stdout
    assert r.stdout == ""
    assert r.stderr == f"idxmnist: error: {read.value}\n"
    assert str(path) in r.stderr
