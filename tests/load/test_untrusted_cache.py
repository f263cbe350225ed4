"""The cache folder is not trusted: only regular files are read, nothing is written through a
link, a folder others can write is warned about, a read-only one still loads.

Real files, FIFOs, device files and symbolic links; the loads that could hang
or read without end run in their own process with a deadline, and report
their peak memory (VmHWM).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry

from ..support.httpserver import FaultServer
from ..support.readonly import run_on_readonly
from ..support.synth import make_dataset
from ..support.synthetic import pinned_spec

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip

CHILD = """
import json, sys, warnings
from pathlib import Path
from idxmnist.datasets import registry
from tests.support.synthetic import pinned_spec
registry.register(pinned_spec(registry.get("mnist"), Path(sys.argv[1])), replace=True)
import idxmnist
source = sys.argv[3] if len(sys.argv) > 3 else None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        d = idxmnist.load_data(cache_dir=sys.argv[2], source=source, offline=True)
        out = {"sums": [int(a.sum()) for p in d for a in p]}
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
out["warnings"] = [str(w.message) for w in caught]
out["peak_kb"] = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
print(json.dumps(out))
"""


@pytest.fixture
def src(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src", n_train=30, n_test=10, seed=5)
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    sums = [int(arrays[n.removesuffix(".gz")].sum()) for n in NAMES]
    return tmp_path / "src", sums


def child(src: Path, cache: Path, *source: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(cache), *map(str, source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO opened for reading would block here for ever
    )
    assert r.stdout, r.stderr
    return json.loads(r.stdout)


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def dev_zero(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("make", [fifo, dev_zero], ids=["fifo", "dev-zero-link"])
def test_a_special_file_under_kerass_name_is_never_opened(make, src, tmp_path):
    folder, _ = src
    cache = tmp_path / "cache"
    special = make(cache / "mnist.npz")
    out = child(folder, cache)  # nothing else to load from: it is named, never read
    assert out["error"].startswith(f"IdxError: {special}: ")
    assert "not a regular file" in out["error"]
    assert any(w.startswith(f"{special}: ") and w.endswith("; not read") for w in out["warnings"])
    assert out["peak_kb"] < 400_000  # /dev/zero was read without end before: a MemoryError
    assert special.is_symlink() or special.is_fifo()  # left as it was


@pytest.mark.parametrize("make", [fifo, dev_zero], ids=["fifo", "dev-zero-link"])
def test_a_special_file_under_idxmnists_own_cache_name_is_replaced(make, src, tmp_path):
    folder, sums = src
    cache = tmp_path / "cache"
    own = make(cache / "mnist.idxmnist.npz")
    out = child(folder, cache, folder)
    assert out["sums"] == sums
    assert any(w.startswith(f"{own}: ") and "not a regular file" in w for w in out["warnings"])
    assert own.is_file() and not own.is_symlink()  # its own name: a real cache in its place
    again = child(folder, cache)  # a hit: nothing to say
    assert again["sums"] == sums and again["warnings"] == []


def test_a_store_file_linked_to_shared_storage_is_followed(src, tmp_path):
    folder, sums = src
    shared = tmp_path / "shared"
    shared.mkdir()
    store = tmp_path / "cache" / "mnist"
    store.mkdir(parents=True)
    for name in NAMES:
        (shared / name).write_bytes((folder / name).read_bytes())
        (store / name).symlink_to(shared / name)
    before = {n: (shared / n).read_bytes() for n in NAMES}
    data = idxmnist.load_data(cache_dir=tmp_path / "cache", offline=True)
    assert [int(a.sum()) for p in data for a in p] == sums
    assert {n: (shared / n).read_bytes() for n in NAMES} == before
    assert all((store / n).is_symlink() for n in NAMES)


def test_a_special_file_in_the_store_is_named_and_never_opened(src, tmp_path):
    folder, sums = src
    cache = tmp_path / "cache"
    special = fifo(cache / "mnist" / NAMES[1])
    out = child(folder, cache)
    assert out["error"].startswith("DownloadError: offline")
    assert any(w.startswith(f"{special}: a FIFO") for w in out["warnings"])
    # with a mirror, the verified file takes that name; the FIFO is never read or written
    mirror = folder.as_uri() + "/"
    with pytest.warns(RuntimeWarning, match=r"a FIFO \(named pipe\).*; downloading it again"):
        data = idxmnist.load_data(cache_dir=cache, offline=False, source=mirror)
    assert [int(a.sum()) for p in data for a in p] == sums
    assert (cache / "mnist" / NAMES[1]).read_bytes() == (folder / NAMES[1]).read_bytes()


def test_a_linked_part_file_and_record_are_never_written_through(src, tmp_path, monkeypatch):
    folder, sums = src
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"keep me" * 100)
    (outside / "precious.json").write_text('{"url": "x"}')
    store = tmp_path / "cache" / "mnist"
    store.mkdir(parents=True)
    for name in NAMES:
        (store / f".{name}.part").symlink_to(outside / "precious")
        (store / f".{name}.part.json").symlink_to(outside / "precious.json")
    files = {n: (folder / n).read_bytes() for n in NAMES}
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        data = idxmnist.load_data(cache_dir=tmp_path / "cache")
    assert [int(a.sum()) for p in data for a in p] == sums
    assert (outside / "precious").read_bytes() == b"keep me" * 100
    assert (outside / "precious.json").read_text() == '{"url": "x"}'
    for name in NAMES:
        assert (store / name).read_bytes() == files[name]


def test_a_linked_lock_is_never_opened(src, tmp_path):
    folder, sums = src
    outside = tmp_path / "precious"
    outside.write_bytes(b"not a lock")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / ".mnist.idxmnist.npz.lock").symlink_to(outside)
    with pytest.warns(RuntimeWarning, match=r"cannot lock .*: the lock file is a symbolic link"):
        data = idxmnist.load_data(cache_dir=cache, source=folder)
    assert [int(a.sum()) for p in data for a in p] == sums
    assert outside.read_bytes() == b"not a lock"
    (cache / "mnist" / ".idxmnist.lock").unlink()
    (cache / "mnist" / ".idxmnist.lock").symlink_to(outside)  # the store's own lock
    (cache / "mnist.idxmnist.npz").unlink()
    (cache / "mnist" / NAMES[0]).unlink()
    with pytest.warns(RuntimeWarning, match="cannot lock"):
        with pytest.raises(OSError, match="the lock file is a symbolic link.*remove it"):
            idxmnist.load_data(cache_dir=cache, source=folder)
    assert outside.read_bytes() == b"not a lock"


def test_a_cache_folder_others_can_write_is_warned_about_and_its_plants_unused(src, tmp_path):
    folder, sums = src
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    planted = {k: np.zeros((n, 28, 28) if k[0] == "x" else n, np.uint8) for k, n in
               (("x_train", 30), ("y_train", 30), ("x_test", 10), ("y_test", 10))}  # fmt: skip
    np.savez(cache / "mnist.npz", **planted)
    with pytest.warns(RuntimeWarning) as record:
        data = idxmnist.load_data(cache_dir=cache, source=folder)
    assert [int(a.sum()) for p in data for a in p] == sums  # not the planted zeros
    said = [str(w.message) for w in record]
    assert any(
        m.startswith(f"{cache}: the cache folder is writable by every user (mode 777)")
        and m.endswith(f"Fix: chmod go-w {cache}")
        for m in said
    ), said
    cache.chmod(0o755)
    with _no_warning():  # fixed: silent again
        idxmnist.load_data(cache_dir=cache)


class _no_warning:  # noqa: N801 - used as a context manager, like pytest.warns
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self.record = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        assert not self.record, [str(w.message) for w in self.record]


def test_a_read_only_cache_holding_the_verified_files_loads_with_one_warning(src, tmp_path):
    """Case 7's last point: the store's lock used to raise PermissionError."""
    folder, sums = src
    cache = tmp_path / "cache"
    idxmnist.load_data(cache_dir=cache, source=folder)
    (cache / "mnist.idxmnist.npz").unlink()  # the store's files only
    (cache / ".mnist.idxmnist.npz.stamp").unlink()
    out = run_on_readonly(cache, str(folder), "-", bind=True)
    assert out["sums"] == sums
    assert out["warnings"] == [
        f"RuntimeWarning: {cache} cannot be written (read-only): the arrays were read from "
        "the verified files there and not cached; every call reads them again"
    ]
