"""``idxmnist import``: any copy a user has, each file identified by content, then installed.

On the real MNIST files in every layout (a keras npz, a zip, a tar, single
files, and what is not data), run as a user runs it; what is installed is the
copy that was identified. NIST's ``gzip.zip`` installs every EMNIST split,
which then loads offline.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import emnist
from idxmnist.manage import importer

from ..support.family import emnist_member_names, same_arrays
from ..support.helpers import MNIST_FILES, flat, listing
from ..support.helpers import MNIST_STEMS as STEMS
from ..support.helpers import run_cli_in_cache as run_cli

# -- the real MNIST files ----------------------------------------------------------------------


def test_import_any_layout_reports_each_file(mnist_dir, reference, tmp_path):
    src, cache = tmp_path / "src", tmp_path / "cache"
    src.mkdir()
    gz = {n: (mnist_dir / n).read_bytes() for n in MNIST_FILES}
    buf = io.BytesIO()
    keys = ("x_train", "y_train", "x_test", "y_test")
    np.savez_compressed(buf, **dict(zip(keys, reference, strict=True)))
    (src / "mnist.npz").write_bytes(buf.getvalue())  # keras's layout
    with zipfile.ZipFile(src / "bundle.zip", "w") as zf:
        zf.writestr("x/train-labels-idx1-ubyte.gz", gz[MNIST_FILES[1]])
        zf.writestr("notes.txt", b"hello")
    with tarfile.open(src / "t.tar.gz", "w:gz") as tf:
        body = gzip.decompress(gz[MNIST_FILES[3]])
        info = tarfile.TarInfo("MNIST/raw/t10k-labels-idx1-ubyte")
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
    (src / "page.gz").write_bytes(b"<!DOCTYPE html><html>Forbidden</html>")
    (src / "cut.gz").write_bytes(gz[MNIST_FILES[2]][:5000])
    (src / "empty.gz").write_bytes(b"")
    (src / "other-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x03abc")
    r = run_cli("import", src, cache=cache)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    # in name order: the zip's upstream .gz first, then the npz, then the tar
    assert lines[f"recognised  {src}/bundle.zip:x/train-labels-idx1-ubyte.gz"] == (
        f"mnist train-labels-idx1-ubyte (by container sha256) -> "
        f"{cache}/mnist/train-labels-idx1-ubyte.gz"
    )
    for key, stem in zip(keys, STEMS, strict=True):
        where = "(already in the cache)" if key == "y_train" else f"-> {cache}/mnist/{stem}"
        assert lines[f"recognised  {src}/mnist.npz:{key}"] == (
            f"mnist {stem} (by content sha256) {where}"
        )
    assert lines[f"recognised  {src}/t.tar.gz:MNIST/raw/t10k-labels-idx1-ubyte"].endswith(
        "(already in the cache)"
    )
    assert lines[f"skipped     {src}/bundle.zip:notes.txt"].startswith("not an IDX file")
    assert lines[f"skipped     {src}/page.gz"].startswith("an HTML page")
    assert lines[f"skipped     {src}/cut.gz"].startswith("truncated: ")
    assert lines[f"skipped     {src}/empty.gz"].startswith("empty (0 bytes)")
    assert (
        "matches no registered file (the content of mnist's files is pinned, and some of the "
        "others' files; any other file verifies only as its exact upstream file, or by a "
        "content pin learnt from that file in this cache)"
        in (lines[f"skipped     {src}/other-idx1-ubyte"])
    )
    assert "recognised 6 of 11 files; installed 4" in r.stderr
    assert listing(cache / "mnist") == {
        ".idxmnist.lock",
        STEMS[0],
        MNIST_FILES[1],
        STEMS[2],
        STEMS[3],
    }
    assert not [p for p in cache.iterdir() if p.name.startswith(".import")]  # no leftovers
    data = idxmnist.load_data(cache_dir=cache, offline=True)
    assert all(np.array_equal(a, b) for a, b in zip(flat(data), reference, strict=True))


@pytest.mark.realdata
def test_import_of_nothing_known_fails_and_installs_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    r = run_cli("import", tmp_path / "a.txt", cache=tmp_path / "cache")
    assert r.returncode == 1
    assert r.stderr.startswith("idxmnist: error: none of the 1 files looked at")
    assert r.stdout.startswith(f"skipped     {tmp_path / 'a.txt'}: not an IDX file")
    r = run_cli("import", tmp_path / "missing", cache=tmp_path / "cache")
    assert r.returncode == 1 and "no such file or directory" in r.stderr


@pytest.mark.realdata
def test_a_replaced_source_file_is_not_installed(mnist_dir, tmp_path, monkeypatch):
    """What is installed is the copy that was identified, not the file as it is later."""
    src = tmp_path / "src"
    src.mkdir()
    (src / MNIST_FILES[1]).write_bytes((mnist_dir / MNIST_FILES[1]).read_bytes())
    real_identify = importer.Catalog.identify
    calls = []

    def identify(self, path):  # the source changes between the look and the copy
        calls.append(path)
        if len(calls) == 1:
            result = real_identify(self, path)
            (src / MNIST_FILES[1]).write_bytes(b"<html>swapped</html>")
            return result
        return real_identify(self, path)

    monkeypatch.setattr(importer.Catalog, "identify", identify)
    outcomes = importer.import_paths([src], cache_dir=tmp_path / "cache")
    assert [o.reason for o in outcomes] == [
        "an HTML page (a mirror's error or login page), not data"
    ]
    assert not (tmp_path / "cache" / "mnist").exists()


# -- the family: NIST's gzip.zip ---------------------------------------------------------------


def test_import_gzip_zip_installs_every_split_which_then_loads_offline(releases, served, tmp_path):
    release = releases["emnist"]
    cache = tmp_path / "cache"
    outcomes = importer.import_paths([release.root / "gzip.zip"], cache)
    recognised = {o.source.rsplit(":", 1)[1] for o in outcomes if o.known is not None}
    skipped = {o.source.rsplit(":", 1)[1]: o.reason for o in outcomes if o.known is None}
    members = [n for split in emnist.SPLITS for n in emnist_member_names(split)]
    assert recognised == {f"gzip/{n}" for n in members}
    assert set(skipped) == {f"gzip/emnist-{s}-mapping.txt" for s in emnist.SPLITS}
    assert listing(cache / "emnist") == {".idxmnist.lock", ".idxmnist-pins.json", *members}
    lines = importer.summary([o for o in outcomes if o.known], cache)
    assert "emnist_digits: 4 of 4 files verified in" in "\n".join(lines)
    for split in emnist.SPLITS:
        got = emnist.load_data(split, cache_dir=cache, offline=True)
        assert same_arrays(got, release.extra["upright"][split]), split
    assert served.connections == 0


def _encrypt_in_place(archive: bytes, member: str) -> bytes:
    """``archive`` with ``member`` flagged encrypted (bit 0 of the general purpose flags), in
    its local header and its central directory entry: zipfile then asks for a password."""
    data = bytearray(archive)
    name = member.encode()
    for sig, flags_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(sig)
        while at >= 0:
            if data[at + name_at : at + name_at + len(name)] == name:
                data[at + flags_at] |= 0x01
            at = data.find(sig, at + 4)
    return bytes(data)


def test_an_encrypted_member_is_skipped_and_the_others_are_still_imported(tmp_path):
    from ..support.synth import NAMES, spec_for, synthetic

    files, arrays = synthetic(tmp_path / "up")
    spec = spec_for(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"secret/{NAMES[0]}", files[NAMES[0]])
        for name in NAMES[1:]:
            zf.writestr(name, files[name])
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(_encrypt_in_place(buf.getvalue(), f"secret/{NAMES[0]}"))
    with zipfile.ZipFile(bundle) as zf:  # the archive really asks for a password there
        with pytest.raises(RuntimeError, match="password required"):
            zf.read(f"secret/{NAMES[0]}")
    outcomes = importer.import_paths([bundle], cache_dir=tmp_path / "cache", specs=[spec])
    by_source = {o.source: o for o in outcomes}
    skipped = by_source[f"{bundle}:secret/{NAMES[0]}"]
    assert skipped.known is None and skipped.reason == "encrypted"
    for name in NAMES[1:]:  # the walk went on past it
        got = by_source[f"{bundle}:{name}"]
        assert got.known is not None and got.installed == tmp_path / "cache" / "synth" / name
        assert got.installed.read_bytes() == files[name]
    assert not (tmp_path / "cache" / "synth" / NAMES[0]).exists()


# -- hostile names and special files (issue 19, rows 1 and 7) ----------------------------------

#: a name that would colour the terminal and, printed raw, add a line of its own
INJECTED = "recognised  mnist t10k-labels-idx1-ubyte (by container sha256) -> /etc/passwd"
HOSTILE = f"evil\x1b[31m\n{INJECTED}"


def test_hostile_names_are_shown_escaped_one_line_each(mnist_dir, tmp_path):
    src, cache = tmp_path / "src", tmp_path / "cache"
    labels = (mnist_dir / MNIST_FILES[3]).read_bytes()
    # a file name cannot hold "/", so the folders on the way spell the injected line
    *dirs, last = HOSTILE.split("/")
    deep = src.joinpath(*dirs)
    deep.mkdir(parents=True)
    (deep / last).write_bytes(labels)  # the real file: recognised, under its hostile name
    (src / "junk\x1b]0;title\x07\rskipped").write_bytes(b"hello")
    with zipfile.ZipFile(src / "a.zip", "w") as zf:
        zf.writestr(HOSTILE, labels)
        zf.writestr(f"note\x1b[2J\n{INJECTED}.txt", b"hello")
    with tarfile.open(src / "b.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo(HOSTILE)
        info.size = len(labels)
        tf.addfile(info, io.BytesIO(labels))
    r = run_cli("import", src, cache=cache)
    assert r.returncode == 0, r.stderr
    for out in (r.stdout, r.stderr):
        assert "\x1b" not in out and "\r" not in out and "\x07" not in out
        assert not any(line.startswith(INJECTED) for line in out.splitlines())
    lines = r.stdout.splitlines()
    assert len(lines) == 5  # the folder's two files, the zip's two members, the tar's one
    assert all(line.startswith((f"recognised  {src}/", f"skipped     {src}/")) for line in lines)
    shown = "evil\\x1b[31m\\nrecognised  mnist t10k-labels-idx1-ubyte"
    assert sum(shown in line and line.startswith("recognised") for line in lines) == 3
    assert any("junk\\x1b]0;title\\x07\\rskipped" in line for line in lines)
    assert any("note\\x1b[2J\\nrecognised" in line for line in lines)


def test_a_fifo_in_an_imported_folder_is_skipped_with_why(mnist_dir, tmp_path):
    src, cache = tmp_path / "src", tmp_path / "cache"
    src.mkdir()
    (src / MNIST_FILES[3]).write_bytes((mnist_dir / MNIST_FILES[3]).read_bytes())
    os.mkfifo(src / MNIST_FILES[1])  # opened for reading, it would block for ever
    os.mkfifo(src / "pipe.tar")
    r = run_cli("import", src, cache=cache)  # run_cli's deadline: a hang fails the test
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for fifo in (MNIST_FILES[1], "pipe.tar"):
        (line,) = [line for line in lines if line.startswith(f"skipped     {src / fifo}: ")]
        assert line.endswith(": a FIFO (named pipe), not a regular file: idxmnist reads only "
                             "regular files")  # fmt: skip
    assert f"recognised  {src / MNIST_FILES[3]}: mnist t10k-labels" in r.stdout
    assert "recognised 1 of 3 files; installed 1" in r.stderr
    assert (src / MNIST_FILES[1]).is_fifo()  # left as it was


@pytest.mark.timeout(60)
def test_the_members_copied_from_one_archive_hold_at_most_what_the_datasets_take(tmp_path):
    # issue 19, row 2's bound for import: after the dataset's own files, 80 members of 1 MiB
    # of zeros each (deflated to 1 KB), none overlapping, each small enough to be a file
    from ..support.synth import NAMES, spec_for, synthetic

    files, _ = synthetic(tmp_path / "up")
    spec = spec_for(files)
    need = sum(
        n + n // 64 + (1 << 16)
        for n in (max(r.size, r.content_size or 0) for r in spec.remote_files)
    )
    cap = need + (64 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in NAMES:
            zf.writestr(name, files[name])
        for i in range(80):
            zf.writestr(f"zeros-{i}", bytes(1 << 20))
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(buf.getvalue())
    outcomes = importer.import_paths([bundle], cache_dir=tmp_path / "cache", specs=[spec])
    for o, name in zip(outcomes, NAMES, strict=False):  # the dataset's files are installed
        assert o.source == f"{bundle}:{name}" and o.installed is not None, o
    zeros = [o for o in outcomes if ":zeros-" in o.source]
    copied = sum(len(files[n]) for n in NAMES) + len(zeros) * (1 << 20)
    assert copied <= cap < copied + (1 << 20), (copied, cap)  # as many as fit, not one more
    assert outcomes[-1].source == str(bundle) and outcomes[-1].reason == (
        f"a zip archive, but: {bundle}: its members hold more than the {cap} bytes the files "
        f"it can stand for take ({need} bytes) plus 64 MiB; refused (a zip bomb, or an "
        "archive of other files: unpack the files you need)"
    )
