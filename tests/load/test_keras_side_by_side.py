"""keras and idxmnist on one machine, sharing ``~/.keras/datasets``, in any order.

Each call is a real process, as a user runs them: keras's
``mnist.load_data()`` is ``tests/support/keras_fake.py`` (keras 3's
``get_file``: its own SHA-256 check, a download again when it fails, the file
removed when that download fails), idxmnist is the package itself. keras's
download URL is the loopback server; "offline" for keras is a port that
refuses connections, for idxmnist ``IDXMNIST_OFFLINE=1``.

keras's official ``mnist.npz`` is not on this machine, so its part is played
by a synthetic one registered under a test pin: the MNIST entry of the child
processes has the synthetic files' container pins, no content pins, and the
test npz's SHA-256 as its ``whole_files`` pin, as the real entry has keras's.
So the file is recognised only through that pin, the same code path keras's
real file takes (``test_kerass_file_is_recognised_by_its_pin_alone``).

What must hold after every step: idxmnist's next call succeeds offline once
any earlier call succeeded, its second call is a memory map, and keras's
file is never modified, renamed or deleted by idxmnist.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from idxmnist.datasets.layout import KEYS

from ..support.helpers import dead_mirror_url
from ..support.httpserver import FaultServer
from ..support.synth import make_dataset

ROOT = Path(__file__).resolve().parents[2]
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")  # fmt: skip

IDXMNIST = """
import json, sys, warnings
from pathlib import Path
from idxmnist.datasets import registry
from tests.support.synthetic import pinned_spec
from tests.support.family import is_mapped
up = Path(sys.argv[1])
# the test pin: the synthetic files' containers, and the test npz as keras's mnist.npz
spec = pinned_spec(registry.get("mnist"), up, content=False, whole=(up / "mnist.npz",))
registry.register(spec, replace=True)
import idxmnist
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        d = idxmnist.mnist.load_data()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
print(json.dumps({"sums": [int(a.sum()) for p in d for a in p], "mapped": is_mapped(d[0][0]),
                  "warnings": [str(w.message) for w in caught]}))
"""


@pytest.fixture
def world(tmp_path):
    """The synthetic upstream files and keras's file, a server for both, a user's HOME."""
    up = tmp_path / "up"
    named = make_dataset(up, n_train=40, n_test=16, seed=9)
    arrays = [named[s] for s in STEMS]
    buf = io.BytesIO()
    np.savez_compressed(buf, **dict(zip(KEYS, arrays, strict=True)))
    (up / "mnist.npz").write_bytes(buf.getvalue())
    files = {p.name: p.read_bytes() for p in up.iterdir()}
    home = tmp_path / "home"
    with FaultServer(files) as server:
        yield World(up, home, server, [int(a.sum()) for a in arrays])


class World:
    def __init__(self, up: Path, home: Path, server: FaultServer, sums: list[int]) -> None:
        self.up, self.home, self.server, self.sums = up, home, server, sums
        self.pin = hashlib.sha256((up / "mnist.npz").read_bytes()).hexdigest()
        self.datasets = home / ".keras" / "datasets"

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("IDXMNIST_", "KERAS_"))}
        return {**base, "HOME": str(self.home), "PYTHONPATH": str(ROOT), **extra}

    def keras(self, online: bool) -> dict:
        origin = (self.server.url() if online else dead_mirror_url()) + "mnist.npz"
        r = subprocess.run(
            [sys.executable, "-m", "tests.support.keras_fake", origin, self.pin],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(r.stdout)

    def idxmnist(self, online: bool, **extra: str) -> dict:
        env = self.env(IDXMNIST_MIRRORS=self.server.url(), **extra)
        if not online:
            env["IDXMNIST_OFFLINE"] = "1"
        r = subprocess.run(
            [sys.executable, "-c", IDXMNIST, str(self.up)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.stdout, r.stderr
        return json.loads(r.stdout)

    def kerass_file(self) -> tuple | None:
        path = self.datasets / "mnist.npz"
        if not path.exists():
            return None
        st = path.stat()
        return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_ino


def test_idxmnist_built_from_a_folder_then_keras_offline_then_idxmnist_offline(world):
    """Case 1: keras used to delete idxmnist's mnist.npz, and idxmnist could not go on."""
    built = world.idxmnist(online=False, IDXMNIST_SOURCE=str(world.up))
    assert built["sums"] == world.sums
    listing = sorted(p.name for p in world.datasets.iterdir())
    assert "mnist.npz" not in listing  # keras's name: never written by idxmnist
    k = world.keras(online=False)
    assert k["error"].startswith("Exception: URL fetch failure")
    assert sorted(p.name for p in world.datasets.iterdir()) == listing  # nothing lost
    for _ in range(2):
        again = world.idxmnist(online=False)
        assert again["sums"] == world.sums and again["mapped"] and again["warnings"] == []
    assert world.server.connections == 0


def test_keras_online_then_idxmnist_offline_leaves_kerass_file_and_maps(world):
    """Case 2: keras's compressed file was decompressed again at every call."""
    assert world.keras(online=True)["sums"] == world.sums
    kerass = world.kerass_file()
    assert kerass is not None and kerass[0] == world.pin
    first = world.idxmnist(online=False)
    assert first["sums"] == world.sums and first["warnings"] == []
    second = world.idxmnist(online=False)
    assert second["sums"] == world.sums and second["mapped"]
    assert world.kerass_file() == kerass  # the same bytes, mtime and inode
    assert world.keras(online=False)["sums"] == world.sums  # keras's check still passes
    (world.datasets / "mnist.idxmnist.npz").unlink()  # idxmnist's cache gone: the store
    assert world.idxmnist(online=False)["sums"] == world.sums
    assert world.idxmnist(online=False)["mapped"]
    (world.datasets / "mnist.npz").unlink()  # keras's gone too: idxmnist needs neither
    assert world.idxmnist(online=False)["mapped"]
    assert world.server.gets() == {"/ok/mnist.npz": 1}  # keras's one download


def test_idxmnist_online_then_keras_online_then_both_offline(world):
    got = world.idxmnist(online=True)
    assert got["sums"] == world.sums
    assert set(world.server.gets()) == {f"/ok/{s}.gz" for s in STEMS}
    assert world.keras(online=True)["sums"] == world.sums
    kerass = world.kerass_file()
    for _ in range(2):
        assert world.idxmnist(online=False)["mapped"]
        assert world.keras(online=False)["sums"] == world.sums
    assert world.kerass_file() == kerass


def test_keras_offline_first_then_idxmnist_offline_then_online(world):
    assert "error" in world.keras(online=False)  # nothing anywhere yet
    assert world.kerass_file() is None
    assert world.idxmnist(online=False)["error"].startswith("DownloadError: offline")
    assert world.idxmnist(online=True)["sums"] == world.sums
    assert world.idxmnist(online=False)["mapped"]


def test_kerass_file_is_recognised_by_its_pin_alone(world, tmp_path):
    """The same arrays packed another way are not keras's file: with no content pin to
    check them by (the test entry has none), they are refused, and left as they are."""
    world.datasets.mkdir(parents=True)
    with np.load(world.up / "mnist.npz") as z:
        np.savez(world.datasets / "mnist.npz", **{k: z[k] for k in z.files})  # stored, not keras's
    before = world.kerass_file()
    got = world.idxmnist(online=False)
    assert got["error"].startswith(f"IdxError: {world.datasets / 'mnist.npz'}: not mnist's data")
    assert "not the pinned mnist.npz (sha256 mismatch)" in got["error"]
    assert world.kerass_file() == before
    # keras's own file, by its pin: its members are vouched for, their content learnt
    (world.datasets / "mnist.npz").write_bytes((world.up / "mnist.npz").read_bytes())
    assert world.idxmnist(online=False)["sums"] == world.sums
    assert (world.datasets / "mnist" / ".idxmnist-pins.json").is_file()
