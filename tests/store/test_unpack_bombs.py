"""Archives built to make idxmnist decompress far more than they hold (issue 19, rows 2 and 3).

Row 2, a zip bomb by overlap: many directory entries, all pointing at one
deflated member, so each entry inflates the same bytes again (the attack: 200
entries on one 160 MiB member, 2 GiB written in under 10 s). Overlapping
entries are now a damaged archive, refused before anything is inflated; and
the members copied out of one archive hold at most what the files it could
stand for can be, plus ``MARGIN``.

Row 3, a tar.bz2 whose first member is gigabytes of zeros: skipped as too
large, but ``tarfile`` decompressed all of it to get past it (the attack's
32 GiB ran for minutes). Decompression is now bounded: past the members
copied plus ``MARGIN`` the archive is refused.

Each archive is built here (``zipfile``, ``tarfile``, ``bz2``, by hand where
the attack needs a directory no zip tool writes), run through the entry point
the attack used (``idxmnist import`` as a real process, ``load_data(source=)``)
with a deadline, and measured: the bytes the process wrote (``wchar`` of
``/proc/self/io``: every temporary copy goes through it), its CPU time and
its peak memory (VmHWM).
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

import idxmnist
from idxmnist import IdxError
from idxmnist.datasets.registry import DATASETS
from idxmnist.store import unpack
from idxmnist.store.unpack import members

from ..support.helpers import child_env

DATE = (2020, 1, 1, 0, 0, 0)
MiB = 1 << 20
#: what unpack may decompress beyond the members it copies (docs/errors.md states it)
MARGIN = 64 * MiB
LABELS = struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + b"\x01\x02\x03"
#: what MNIST's four files can be at most, in any packing (as the fetchers bound them:
#: the content, 1/64 more and 64 KiB, for a compression that gained nothing)
MNIST_NEED = sum(
    max(r.size, (r.content_size or 0) + (r.content_size or 0) // 64 + (1 << 16))
    for r in DATASETS["mnist"].remote_files
)

# -- the archives ------------------------------------------------------------------------------


def overlapping_zip(entries: int, size: int) -> bytes:
    """One deflated member of ``size`` zero bytes, listed ``entries`` times in the directory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("train-images-idx3-ubyte", DATE), bytes(size), 8)
    one = buf.getvalue()
    entry, eocd = one.index(b"PK\x01\x02"), one.rindex(b"PK\x05\x06")
    directory = one[entry:eocd] * entries
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), entry, 0)
    data = one[:entry] + directory + end
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()  # zipfile reads every entry as one
    assert len(infos) == entries and {i.header_offset for i in infos} == {0}
    return data


def distinct_zip(count: int, size: int) -> bytes:
    """``count`` members of ``size`` zero bytes each, deflated, side by side (no overlap)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(count):
            z.writestr(zipfile.ZipInfo(f"zeros-{i}-idx3-ubyte", DATE), bytes(size), 8)
    return buf.getvalue()


@functools.cache
def bz2_zeros() -> bytes:
    """45 MB of zeros as one bz2 stream (50 bytes); tar.bz2 readers take several streams."""
    return bz2.compress(bytes(45_000_000))


def tar_header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = size, 0
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def tar_bz2_huge_first(streams: int) -> bytes:
    """A tar.bz2 whose first member is ``streams`` x 45 MB of zeros, then a labels file."""
    size = 45_000_000 * streams
    rest = bytes(-size % 512) + tar_header("train-labels-idx1-ubyte", len(LABELS)) + LABELS
    rest += bytes(-len(LABELS) % 512) + bytes(1024)
    data = bz2.compress(tar_header("zeros", size)) + bz2_zeros() * streams + bz2.compress(rest)
    with tarfile.open(fileobj=io.BytesIO(data[:4096]), mode="r|bz2") as tf:
        first = tf.next()  # tarfile reads the header as declared
        assert first is not None and (first.name, first.size) == ("zeros", size)
    return data


# -- running the attack the way it was run, measured ---------------------------------------------

#: ``python -m idxmnist ...`` with, at exit, what it wrote, its CPU time and peak memory
#: written to $MEASURE
CHILD = """
import atexit, json, os, runpy, sys

def measure():
    io_ = dict(l.split(": ") for l in open("/proc/self/io").read().splitlines())
    status = dict(l.split(":\\t") for l in open("/proc/self/status").read().splitlines())
    t = os.times()
    with open(os.environ["MEASURE"], "w") as f:
        json.dump({"wchar": int(io_["wchar"]), "cpu": t.user + t.system,
                   "peak_kb": int(status["VmHWM"].split()[0])}, f)

atexit.register(measure)
sys.argv = ["idxmnist", *sys.argv[1:]]
runpy.run_module("idxmnist", run_name="__main__", alter_sys=True)
"""


def run_import(tmp_path: Path, archive: Path, deadline: float):
    """``idxmnist import ARCHIVE`` in a real process: (result, measures, seconds)."""
    measure = tmp_path / "measure.json"
    started = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-c", CHILD, "import", str(archive), "--cache-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=child_env(MEASURE=str(measure), IDXMNIST_OFFLINE="1"),
        timeout=deadline,
    )
    return r, json.loads(measure.read_text()), time.monotonic() - started


def written() -> int:
    """The bytes this process has written so far (every ``write`` call, to any file)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


def load_from(tmp_path: Path, archive: Path) -> tuple[str, int, float]:
    """``load_data(source=ARCHIVE)``: (its DownloadError's message, bytes written, seconds)."""
    before, started = written(), time.monotonic()
    with pytest.raises(idxmnist.DownloadError) as err:
        idxmnist.load_data(cache_dir=tmp_path / "c", source=archive, offline=True)
    return str(err.value), written() - before, time.monotonic() - started


# -- row 2: the overlap ------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_import_refuses_a_zip_of_overlapping_entries_before_inflating_any(tmp_path):
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(overlapping_zip(64, 32 * MiB))  # 2 GiB if every entry is inflated
    assert archive.stat().st_size < 64 << 10
    r, m, seconds = run_import(tmp_path, archive, deadline=60)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1  # nothing recognised
    assert r.stdout.splitlines() == [
        f"skipped     {archive}: a zip archive, but: {archive}: a damaged zip archive "
        "(its entries 'train-images-idx3-ubyte' and 'train-images-idx3-ubyte' overlap: "
        "both start at byte 0); overlapping entries are refused (a zip bomb)"
    ]
    assert m["wchar"] < 1 * MiB, m  # not one entry was inflated to disk
    assert m["peak_kb"] < 200 << 10, m
    assert seconds < 20 and m["cpu"] < 10, (seconds, m)


@pytest.mark.timeout(90)
def test_import_shows_the_names_of_overlapping_entries_escaped(tmp_path):
    data = bytearray(overlapping_zip(3, 1 * MiB))
    # the second directory entry's name, same length, now an escape sequence and a newline
    at = data.index(b"PK\x01\x02") + 46 + len(b"train-images-idx3-ubyte") + 46
    name = b"\x1b[31m-recognised-\n-x-ab"
    assert len(name) == len("train-images-idx3-ubyte")
    data[at : at + len(name)] = name
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(bytes(data))
    r, m, _ = run_import(tmp_path, archive, deadline=60)
    (line,) = r.stdout.splitlines()
    assert "'\\x1b[31m-recognised-\\n-x-ab'" in line and "\x1b" not in line, line
    assert "overlap" in line and m["wchar"] < 1 * MiB


@pytest.mark.timeout(90)
def test_load_data_refuses_a_source_zip_of_overlapping_entries(tmp_path):
    archive = tmp_path / "mnist.zip"
    archive.write_bytes(overlapping_zip(64, 32 * MiB))
    message, wrote, seconds = load_from(tmp_path, archive)
    assert "a damaged zip archive (its entries 'train-images-idx3-ubyte' and " in message
    assert "overlap: both start at byte 0)" in message, message
    assert wrote < 1 * MiB and seconds < 20, (wrote, seconds)


def test_entries_overlapping_by_part_are_refused_too(tmp_path):
    # two members side by side, then the second's directory entry moved into the first's data
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("a", DATE), bytes(1000))
        z.writestr(zipfile.ZipInfo("b", DATE), bytes(1000))
    data = bytearray(buf.getvalue())
    second = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 4)
    struct.pack_into("<L", data, second + 42, 500)  # b's local header "at" byte 500
    archive = tmp_path / "a.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(IdxError) as err:
        list(members(archive, tmp_path, limit=MiB))
    assert str(err.value) == (
        f"{archive}: a damaged zip archive (its entries 'a' and 'b' overlap: 'b' starts at "
        "byte 500, inside 'a' (bytes 0 to 1030)); overlapping entries are refused (a zip bomb)"
    )


@pytest.mark.timeout(90)
def test_members_copied_from_one_zip_hold_at_most_what_the_dataset_needs(tmp_path):
    # no overlap: ten members of 40 MiB of zeros, each one a plausible file for MNIST
    # (under its largest, 47.8 MB): 400 MiB from a 400 KB zip
    archive = tmp_path / "mnist.zip"
    archive.write_bytes(distinct_zip(10, 40 * MiB))
    message, wrote, seconds = load_from(tmp_path, archive)
    cap = MNIST_NEED + MARGIN
    assert (
        f"its members hold more than the {cap} bytes the files it can stand for take "
        f"({MNIST_NEED} bytes) plus {MARGIN >> 20} MiB; refused" in message
    ), message
    assert wrote <= cap + MiB, wrote  # what was copied before the refusal
    assert seconds < 20, seconds


def test_an_archive_of_the_files_it_stands_for_is_read_whole(tmp_path):
    # the bound leaves room: a member of exactly the cap is copied
    archive = tmp_path / "a.zip"
    archive.write_bytes(distinct_zip(2, 3 * MiB))
    work = tmp_path / "w"
    work.mkdir()
    sizes = [m.path.stat().st_size for m in members(archive, work, limit=4 * MiB, total=6 * MiB)]
    assert sizes == [3 * MiB, 3 * MiB]


# -- row 3: skipping a member costs what it inflates to ------------------------------------------


@pytest.mark.timeout(90)
def test_import_refuses_a_tar_bz2_once_skipping_inflates_past_the_margin(tmp_path):
    archive = tmp_path / "bomb.tar.bz2"
    archive.write_bytes(tar_bz2_huge_first(40))  # 1.8 GB of zeros first, in 2.3 KB
    assert archive.stat().st_size < 4 << 10
    r, m, seconds = run_import(tmp_path, archive, deadline=60)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1
    skipped, line = r.stdout.splitlines()  # the member is skipped, then the archive refused
    assert skipped == f"skipped     {archive}:zeros: 1800000000 bytes, larger than any file"
    assert line.startswith(f"skipped     {archive}: a tar archive, but: {archive}: "), line
    assert (
        f"more than {MARGIN} bytes decompressed beyond the members copied (0 bytes): "
        "members too large to be a dataset file are skipped, but not without end; refused"
    ) in line, line
    assert m["wchar"] < 1 * MiB and m["peak_kb"] < 200 << 10, m
    assert seconds < 20 and m["cpu"] < 5, (seconds, m)  # 1.8 GB of bz2 take about 7 s


@pytest.mark.timeout(90)
def test_load_data_refuses_a_source_tar_bz2_whose_skipped_member_is_huge(tmp_path):
    archive = tmp_path / "mnist.tar.bz2"
    archive.write_bytes(tar_bz2_huge_first(40))
    started = time.process_time()
    message, wrote, seconds = load_from(tmp_path, archive)
    assert f"more than {MARGIN} bytes decompressed beyond the members copied" in message, message
    assert wrote < 1 * MiB and seconds < 20 and time.process_time() - started < 5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["gz", "xz"])
def test_skipping_is_bounded_in_every_compression(mode, tmp_path):
    big = MARGIN + 8 * MiB
    raw = tar_header("zeros", big) + bytes(big) + tar_header("labels", len(LABELS)) + LABELS
    raw += bytes(-len(LABELS) % 512) + bytes(1024)
    data = gzip.compress(raw, 1) if mode == "gz" else __import__("lzma").compress(raw, preset=0)
    archive = tmp_path / f"a.tar.{mode}"
    archive.write_bytes(data)
    with pytest.raises(IdxError) as err:
        list(members(archive, tmp_path, limit=MiB))
    assert f"more than {MARGIN} bytes decompressed beyond the members copied" in str(err.value)


def test_members_up_to_the_limit_are_still_copied_and_the_margin_covers_the_rest(tmp_path):
    # a member skipped as too large but within the margin, then the wanted one
    big = 2 * MiB
    raw = tar_header("zeros", big) + bytes(big) + tar_header("labels", len(LABELS)) + LABELS
    raw += bytes(-len(LABELS) % 512) + bytes(1024)
    archive = tmp_path / "a.tar.bz2"
    archive.write_bytes(bz2.compress(raw))
    work = tmp_path / "w"
    work.mkdir()
    seen = []
    for m in members(archive, work, limit=MiB):
        seen.append((m.name, m.path.read_bytes() if m.path else m.problem))
    assert seen == [("zeros", f"{big} bytes, larger than any file"), ("labels", LABELS)]


def test_the_margin_is_the_documented_64_mib():
    assert unpack.MARGIN == MARGIN
    assert "64 MiB" in (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
