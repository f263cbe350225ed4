"""``idxmnist import`` and ``export``, run as a user runs them, on the real MNIST files.

The round trip: export to torchvision's layout, import that folder into an
empty cache, load offline (the loopback server in the mirrors sees no
connection), the same arrays as the upstream files read by the standard
library.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.manage import importer

from .conftest import MNIST_FILES
from .httpserver import FaultServer
from .test_download import child_env, listing
from .test_download import run_cli as _run_cli

pytestmark = pytest.mark.realdata
STEMS = [n.removesuffix(".gz") for n in MNIST_FILES]
TORCHVISION_NAMES = {  # torchvision's MNIST._check_exists: each resource's name without .gz
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
}


def run_cli(*args, cache: Path, **env):
    return _run_cli(
        *args,
        env={"IDXMNIST_HOME": str(cache), "IDXMNIST_MIRRORS": "file:///nowhere/", **env},
    )


@pytest.fixture(scope="module")
def reference(mnist_dir):
    """The four arrays, read from the upstream files with gzip and NumPy alone."""
    raw = [gzip.decompress((mnist_dir / n).read_bytes()) for n in MNIST_FILES]
    x, y, xt, yt = (np.frombuffer(b, np.uint8) for b in raw)
    return [x[16:].reshape(-1, 28, 28), y[8:], xt[16:].reshape(-1, 28, 28), yt[8:]]


def flat(data):
    return [a for pair in data for a in pair]


def test_export_torchvision_then_import_then_load_offline(mnist_dir, reference, tmp_path):
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    r = run_cli("import", mnist_dir, cache=first)
    assert r.returncode == 0, r.stderr
    r = run_cli("export", "--layout", "torchvision", out, cache=first)
    assert r.returncode == 0, r.stderr
    # what torchvision itself keeps in raw/: the upstream .gz and the decompressed file
    kept = TORCHVISION_NAMES | set(MNIST_FILES)
    assert {p.name for p in (out / "MNIST" / "raw").iterdir()} == kept
    assert listing(out) == {"MNIST", "MNIST/raw", *(f"MNIST/raw/{n}" for n in kept)}
    for stem, name in zip(STEMS, MNIST_FILES, strict=True):  # decompressed, byte for byte
        assert (out / "MNIST/raw" / stem).read_bytes() == gzip.decompress(
            (mnist_dir / name).read_bytes()
        )
        assert (out / "MNIST/raw" / name).read_bytes() == (mnist_dir / name).read_bytes()

    r = run_cli("import", out, cache=second)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("recognised  ") == 8 and "(by content sha256)" in r.stdout
    assert "mnist: 4 of 4 files verified" in r.stderr and "loads offline now" in r.stderr
    assert listing(second / "mnist") == {".idxmnist.lock", *MNIST_FILES}  # the .gz won

    with FaultServer({}) as server:
        env = child_env(
            IDXMNIST_HOME=str(second), IDXMNIST_MIRRORS=server.url(), IDXMNIST_OFFLINE="1"
        )
        code = (
            "import hashlib, idxmnist\n"
            "data = idxmnist.load_data()\n"
            "print(*[hashlib.sha256(a.tobytes()).hexdigest() for p in data for a in p])\n"
        )
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        assert server.connections == 0
    assert p.stdout.split() == [hashlib.sha256(a.tobytes()).hexdigest() for a in reference]


def test_export_plain_writes_the_upstream_files(mnist_dir, mnist_sha256, reference, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    assert run_cli("import", mnist_dir, cache=cache).returncode == 0
    r = run_cli("export", "--layout", "plain", out, cache=cache)
    assert r.returncode == 0, r.stderr
    assert "(the upstream file)" in r.stderr
    for name in MNIST_FILES:
        assert (
            hashlib.sha256((out / "mnist" / name).read_bytes()).hexdigest() == (mnist_sha256[name])
        )
    # the plain layout is what IDXMNIST_SOURCE=DIR reads
    data = idxmnist.load_data(cache_dir=tmp_path / "c2", source=out / "mnist")
    assert all(np.array_equal(a, b) for a, b in zip(flat(data), reference, strict=True))


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


def test_import_of_nothing_known_fails_and_installs_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    r = run_cli("import", tmp_path / "a.txt", cache=tmp_path / "cache")
    assert r.returncode == 1
    assert r.stderr.startswith("idxmnist: error: none of the 1 files looked at")
    assert r.stdout.startswith(f"skipped     {tmp_path / 'a.txt'}: not an IDX file")
    r = run_cli("import", tmp_path / "missing", cache=tmp_path / "cache")
    assert r.returncode == 1 and "no such file or directory" in r.stderr


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
