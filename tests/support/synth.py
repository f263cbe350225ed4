"""A small synthetic MNIST-shaped dataset, its registry entry, and what its cache holds.

``synthetic`` writes four small gzip IDX files under the upstream names;
``spec_for`` turns them into a ``DatasetSpec`` with their real sizes and
sha256 (registered or passed at run time, so the real download path serves
them); ``with_files`` is the cache listing to expect. ``make_dataset`` writes
a dataset by file stem; ``CHILD`` and ``child_config`` run a download in a
real subprocess.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np

import idxmnist
from idxmnist.datasets.catalog import DIGITS
from idxmnist.datasets.spec import DatasetSpec, RemoteFile

from .helpers import dead_mirror_url


def make_dataset(root, n_train=50, n_test=20, seed=0, compress="gzip"):
    """Write a small MNIST-shaped dataset with the upstream file names."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    suffix = {"gzip": ".gz", None: ""}[compress]
    for name, arr in arrays.items():
        idxmnist.write_idx(root / f"{name}{suffix}", arr, compress=compress)
    return arrays


NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def synthetic(root: Path, n_train=60, n_test=20, seed=0):
    """Four small gzip IDX files: ``(bytes by name, arrays in keras order)``."""
    rng = np.random.default_rng(seed)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, arr in zip(NAMES, arrays, strict=True):
        idxmnist.write_idx(root / name, arr, compress="gzip")
        files[name] = (root / name).read_bytes()
    return files, arrays


def spec_for(files: dict[str, bytes], name="synth") -> DatasetSpec:
    remote = tuple(
        RemoteFile(n, len(files[n]), "sha256", hashlib.sha256(files[n]).hexdigest()) for n in NAMES
    )
    return DatasetSpec(
        name=name, npz_name=f"{name}.npz", subdir=name, files=remote, mirrors=(), classes=DIGITS
    )


def with_files(*names: str, subdir="synth", npz=True) -> set[str]:
    """The expected cache listing: the store's lock file, the npz and its stamp (the npz's
    lock goes at release), the dataset directory, ``names`` and the content pins learnt
    from them (MNIST ships its own)."""
    out = {f"{subdir}", f"{subdir}/.idxmnist.lock"}
    out |= {f"{subdir}/{n}" for n in names}
    out |= {f"{subdir}/.idxmnist-pins.json"} if names and subdir != "mnist" else set()
    return out | ({f"{subdir}.idxmnist.npz", f".{subdir}.idxmnist.npz.stamp"} if npz else set())


def closed_port_url() -> str:
    """A mirror that refuses connections: a port held bound, never listened on."""
    return dead_mirror_url()


def same(data, arrays) -> bool:
    (x, y), (xt, yt) = data
    return all(np.array_equal(a, b) for a, b in zip((x, y, xt, yt), arrays, strict=True))


CHILD = textwrap.dedent(
    """
    import hashlib, json, sys
    from idxmnist.datasets.catalog import DIGITS
    from idxmnist.datasets.spec import DatasetSpec, RemoteFile
    from idxmnist.fetch import download
    from idxmnist.load.loader import load_dataset

    cfg = json.load(open(sys.argv[1]))
    spec = DatasetSpec(cfg["name"], cfg["name"] + ".npz", cfg["name"],
                       tuple(RemoteFile(*f) for f in cfg["files"]), (), tuple("0123456789"))
    if cfg["what"] == "fetch":
        download.fetch_dataset(spec, cfg["dir"])
    else:
        import os, time
        deadline = time.monotonic() + 60
        while not os.path.exists(cfg["go"]):   # start together
            assert time.monotonic() < deadline, "never told to go"
            time.sleep(0.005)
        data = load_dataset(spec, cache_dir=cfg["dir"])
        h = hashlib.sha256()
        for pair in data:
            for a in pair:
                h.update(a.tobytes())
        print(h.hexdigest())
    """
)


def child_config(tmp_path, spec, **cfg) -> Path:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    conf = tmp_path / "child.json"
    files = [[r.name, r.size, r.algorithm, r.digest] for r in spec.files]
    conf.write_text(json.dumps({"name": spec.name, "files": files, **cfg}))
    return conf
