"""The cache states a user meets, on the real MNIST files: each ends in a memory map.

* idxmnist's own cache: a hit, memory-mapped;
* a keras-layout compressed npz of the real arrays under keras's name
  (``mnist.npz``): verified by content, left byte for byte as it was (same
  mtime, same inode), its arrays kept in the store, and from the second call
  on a memory map of idxmnist's own cache;
* one pixel changed, or 59,999 training images: refused (a warning and an
  error naming the file), never returned; idxmnist's own cache changed in
  place: rebuilt from the store;
* the cache deleted after a ``source=`` build: the next offline call rebuilds
  it from the store, opening no connection (real processes, the loopback
  server as the only mirror).

The reference is the upstream files read with ``gzip`` and NumPy alone.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets.layout import KEYS

from ..support.family import is_mapped
from ..support.helpers import MNIST_FILES
from ..support.httpserver import FaultServer

pytestmark = pytest.mark.realdata
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference(mnist_dir):
    raw = [gzip.decompress((mnist_dir / n).read_bytes()) for n in MNIST_FILES]
    x, y, xt, yt = (np.frombuffer(b, np.uint8) for b in raw)
    arrays = (x[16:].reshape(-1, 28, 28), y[8:], xt[16:].reshape(-1, 28, 28), yt[8:])
    return dict(zip(KEYS, arrays, strict=True))


def flat(data):
    return [a for pair in data for a in pair]


def same(data, reference) -> bool:
    return all(np.array_equal(a, reference[k]) for a, k in zip(flat(data), KEYS, strict=True))


def identity(path: Path) -> tuple:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def test_a_compressed_npz_of_the_real_arrays_is_left_as_it_is_then_mapped(reference, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    found = cache / "mnist.npz"
    np.savez_compressed(found, **reference)  # what keras's own file holds, packed anew
    before = identity(found)
    first = idxmnist.load_data(cache_dir=cache, offline=True)
    assert same(first, reference)
    second = idxmnist.load_data(cache_dir=cache, offline=True)
    assert same(second, reference) and all(is_mapped(a) for a in flat(second))
    assert identity(found) == before  # byte for byte, same mtime, same file
    # its arrays are the store's verified files now, as raw IDX bytes
    stems = sorted(n.removesuffix(".gz") for n in MNIST_FILES)
    assert sorted(p.name for p in (cache / "mnist").iterdir() if p.name[0] != ".") == stems
    assert (cache / "mnist.idxmnist.npz").is_file()


def one_pixel_changed(reference):
    changed = {k: v.copy() for k, v in reference.items()}
    changed["x_train"][1234, 14, 14] ^= 0x40
    return changed


def fewer_images(reference):
    return {**reference, "x_train": reference["x_train"][:-1], "y_train": reference["y_train"][:-1]}


@pytest.mark.parametrize("variant", [one_pixel_changed, fewer_images], ids=lambda f: f.__name__)
def test_a_changed_npz_under_kerass_name_is_never_returned(variant, mnist_dir, reference, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    found = cache / "mnist.npz"
    np.savez_compressed(found, **variant(reference))
    before = identity(found)
    with pytest.warns(RuntimeWarning, match=rf"{found}: not mnist's data .*x_train"):
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.load_data(cache_dir=cache, offline=True)
    message = str(info.value)
    assert message.startswith(f"{found}: not mnist's data")
    assert "content check failed" in message and "holds no verified copy" in message
    assert identity(found) == before
    assert not (cache / "mnist.idxmnist.npz").exists()
    # with the store holding the verified files, the changed file is simply not needed
    data = idxmnist.load_data(cache_dir=cache, source=mnist_dir, offline=True)
    assert same(data, reference) and identity(found) == before


def test_idxmnists_own_cache_changed_in_place_is_rebuilt_from_the_store(
    mnist_dir, reference, tmp_path
):
    cache = tmp_path / "cache"
    idxmnist.load_data(cache_dir=cache, source=mnist_dir)
    own = cache / "mnist.idxmnist.npz"
    st = own.stat()
    with open(own, "r+b") as f:  # one pixel of the stored x_train
        f.seek(st.st_size // 3)
        byte = f.read(1)
        f.seek(st.st_size // 3)
        f.write(bytes([byte[0] ^ 0x40]))
    os.utime(own, ns=(st.st_atime_ns, st.st_mtime_ns))  # and its mtime put back
    with pytest.warns(RuntimeWarning, match="not as idxmnist stamped it"):
        data = idxmnist.load_data(cache_dir=cache, offline=True)
    assert same(data, reference)
    again = idxmnist.load_data(cache_dir=cache, offline=True)
    assert same(again, reference) and is_mapped(again[0][0])


CHILD = (
    "import json, idxmnist\n"
    "from tests.support.family import is_mapped\n"
    "d = idxmnist.load_data()\n"
    "print(json.dumps({'sums': [int(a.sum()) for p in d for a in p],"
    " 'mapped': is_mapped(d[0][0])}))\n"
)


def run(env: dict[str, str]) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("IDXMNIST_", "KERAS_"))}
    base["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_the_cache_deleted_after_a_source_build_is_rebuilt_offline(mnist_dir, reference, tmp_path):
    home = tmp_path / "home"
    sums = [int(reference[k].sum()) for k in KEYS]
    with FaultServer({}) as server:
        env = {"HOME": str(home), "IDXMNIST_MIRRORS": server.url()}
        assert run({**env, "IDXMNIST_SOURCE": str(mnist_dir)})["sums"] == sums
        datasets = home / ".keras" / "datasets"
        (datasets / "mnist.idxmnist.npz").unlink()
        got = run({**env, "IDXMNIST_OFFLINE": "1"})
        assert got == {"sums": sums, "mapped": False}  # built from the store, once
        assert run({**env, "IDXMNIST_OFFLINE": "1"}) == {"sums": sums, "mapped": True}
        assert server.connections == 0
    kept = sorted(p.name for p in (datasets / "mnist").iterdir() if p.name[0] != ".")
    assert kept == sorted(MNIST_FILES)  # the upstream .gz files, byte for byte
    for name in MNIST_FILES:
        assert (datasets / "mnist" / name).read_bytes() == (mnist_dir / name).read_bytes()
    assert not (datasets / "mnist.npz").exists()
