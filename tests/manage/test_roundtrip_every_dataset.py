"""Export from the store, import the best copy: every dataset round-trips.

* MNIST, on its real files, as the user runs it (real processes): a cache
  built with ``IDXMNIST_SOURCE=DIR`` exports offline (case 4); ``export
  --layout torchvision`` writes what torchvision keeps in ``raw/``, the
  upstream ``.gz`` and the decompressed file; ``import`` of that folder into
  an empty cache gives back the same verified files, byte for byte, and of
  each file it keeps the ``.gz`` (case 5); ``export --layout plain`` is then
  the upstream files again.
* Fashion-MNIST, KMNIST, EMNIST (from a local ``gzip.zip``), QMNIST and its
  nist set: the real files are not here, so each is a synthetic release in
  its real layout, registered under a test entry with its own pins (by
  container only, as the built-in entries pin their images). Kuzushiji-49 has
  no torchvision class: its round trip is the plain layout.
* The offline error advises only the routes that can verify (case 6).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.fetch import download
from idxmnist.load.loader import load_arrays
from idxmnist.manage import export, importer

from ..support.family import (
    emnist_member_names,
    emnist_release,
    emnist_spec,
    k49_release,
    k49_spec,
    qmnist_release,
    qmnist_specs,
)
from ..support.helpers import MNIST_FILES
from ..support.helpers import run_cli as shared_run_cli
from ..support.synth import make_dataset
from ..support.synthetic import pinned_spec

ROOT = Path(__file__).resolve().parents[2]


def env_of(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDXMNIST_", "KERAS_"))}
    return {**env, "PYTHONPATH": str(ROOT), "IDXMNIST_MIRRORS": "file:///nowhere/", **extra}


def cli(*args, **extra: str) -> subprocess.CompletedProcess:
    return shared_run_cli(*args, env=env_of(**extra))


def store_files(folder: Path) -> dict[str, str]:
    """name -> sha256 of each visible file in a store folder."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".")
    }


@pytest.mark.realdata
def test_mnist_built_from_a_folder_exports_offline_and_imports_back(mnist_dir, tmp_path):
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    code = "import idxmnist; idxmnist.load_data()"
    built = subprocess.run(
        [sys.executable, "-c", code],
        env=env_of(IDXMNIST_HOME=str(first), IDXMNIST_SOURCE=str(mnist_dir)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    r = cli(
        "export", "--layout", "torchvision", out, IDXMNIST_HOME=str(first), IDXMNIST_OFFLINE="1"
    )
    assert r.returncode == 0, r.stderr
    raw = out / "MNIST" / "raw"
    for name in MNIST_FILES:  # what torchvision keeps: the .gz and the decompressed file
        assert (raw / name).read_bytes() == (mnist_dir / name).read_bytes()
        idx = gzip.decompress((mnist_dir / name).read_bytes())
        assert (raw / name.removesuffix(".gz")).read_bytes() == idx
    r = cli("import", out, IDXMNIST_HOME=str(second))
    assert r.returncode == 0, r.stderr
    assert store_files(second / "mnist") == store_files(first / "mnist")
    assert sorted(store_files(second / "mnist")) == sorted(MNIST_FILES)


@pytest.mark.realdata
def test_a_torchvision_root_with_both_copies_imports_the_gz(mnist_dir, tmp_path):
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:  # as torchvision leaves it after a download
        (raw / name).write_bytes((mnist_dir / name).read_bytes())
        (raw / name.removesuffix(".gz")).write_bytes(
            gzip.decompress((mnist_dir / name).read_bytes())
        )
    cache = tmp_path / "cache"
    r = cli("import", tmp_path / "root", IDXMNIST_HOME=str(cache))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for name in MNIST_FILES:
        stem = name.removesuffix(".gz")
        assert f"recognised  {raw / name}: mnist {stem} (by container sha256) -> " in r.stdout
        assert f"recognised  {raw / stem}: mnist {stem} (by content sha256) (already in" in (
            "\n".join(lines)
        )
    assert sorted(store_files(cache / "mnist")) == sorted(MNIST_FILES)  # 11.6 MB, not 55
    out = tmp_path / "plain"
    r = cli("export", "--layout", "plain", out, IDXMNIST_HOME=str(cache), IDXMNIST_OFFLINE="1")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("(the upstream file)") == 4
    for name in MNIST_FILES:
        assert (out / "mnist" / name).read_bytes() == (mnist_dir / name).read_bytes()


def round_trip(spec, source: Path, tmp_path: Path, layout: str = "torchvision") -> None:
    """Build from ``source``, export offline, import into an empty cache: the same files."""
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    load_arrays(spec, source=source, cache_dir=first, offline=True)
    written = export.export_dataset(spec, layout, out, cache_dir=first, offline=True)
    if layout == "torchvision":
        names = {p.name for p, _ in written}
        for remote in spec.remote_files:  # the upstream file and the decompressed one
            assert {remote.name, remote.stem} <= names, remote.name
    outcomes = importer.import_paths([out], cache_dir=second)
    assert all(o.known is not None for o in outcomes), [str(o) for o in outcomes]
    kept = store_files(second / spec.subdir)
    want = {r.name: hashlib.new("sha256", (first / spec.subdir / r.name).read_bytes()).hexdigest()
            for r in spec.remote_files}  # fmt: skip
    assert kept == want
    for remote in spec.remote_files:  # each verifies by its own pin
        data = (second / spec.subdir / remote.name).read_bytes()
        assert hashlib.new(remote.algorithm, data).hexdigest() == remote.digest
    load_arrays(spec, cache_dir=second, offline=True)


@pytest.mark.parametrize("name", ["fashion_mnist", "kmnist"])
def test_fashion_and_kmnist_round_trip(name, tmp_path, registered):
    make_dataset(tmp_path / "src", n_train=25, n_test=9, seed=11)
    spec = pinned_spec(registry.get(name), tmp_path / "src", content=False)
    registered(spec)
    round_trip(spec, tmp_path / "src", tmp_path)


def test_emnist_from_a_local_gzip_zip_round_trips(tmp_path, registered):
    release = emnist_release(tmp_path / "release")
    spec = emnist_spec(release)
    registered(spec)
    round_trip(spec, release.root, tmp_path)  # the folder holds only gzip.zip
    assert sorted(store_files(tmp_path / "second" / "emnist")) == sorted(
        emnist_member_names("letters")
    )


@pytest.mark.parametrize("name", ["qmnist", "qmnist_nist"])
def test_qmnist_round_trips(name, tmp_path, registered):
    release = qmnist_release(tmp_path / "release")
    specs = qmnist_specs(release)
    registered(*specs)
    round_trip(next(s for s in specs if s.name == name), release.root, tmp_path)


def test_k49_round_trips_through_the_plain_layout(tmp_path, registered):
    release = k49_release(tmp_path / "release")
    spec = k49_spec(release)
    registered(spec)
    with pytest.raises(ValueError, match="torchvision has no class for it"):
        export.torchvision_dir(spec, tmp_path)
    round_trip(spec, release.root, tmp_path, layout="plain")


@pytest.mark.parametrize(
    "name", ["fashion_mnist", "kmnist", "emnist_letters", "qmnist", "qmnist_nist", "k49"]
)
def test_the_offline_advice_names_only_routes_that_verify(name, tmp_path):
    spec = registry.get(name)
    with pytest.raises(idxmnist.DownloadError) as info:
        download.fetch_dataset(spec, tmp_path / spec.subdir, offline=True)
    message = str(info.value)
    assert "keras-layout .npz" not in message and "mnist.npz" not in message  # cannot verify
    assert "a folder of them" in message
    mnist = registry.get("mnist")
    with pytest.raises(idxmnist.DownloadError) as info:
        download.fetch_dataset(mnist, tmp_path / "mnist", offline=True)
    assert "a keras-layout .npz" in str(info.value)  # MNIST pins its content


def test_the_offline_advice_offers_the_npz_once_its_pins_are_learnt(tmp_path, registered):
    make_dataset(tmp_path / "src", n_train=25, n_test=9, seed=12)
    spec = pinned_spec(registry.get("fashion_mnist"), tmp_path / "src", content=False)
    registered(spec)
    store = tmp_path / "cache" / spec.subdir
    download.fetch_dataset(spec, store, [(tmp_path / "src").as_uri()], offline=True)
    (store / spec.files[0].name).unlink()
    with pytest.raises(idxmnist.DownloadError) as info:
        download.fetch_dataset(spec, store, offline=True)
    assert "a keras-layout .npz" in str(info.value)  # in this cache, it verifies now
    no_pins = dataclasses.replace(spec, name="other")  # the same files, another store
    with pytest.raises(idxmnist.DownloadError) as info:
        download.fetch_dataset(no_pins, tmp_path / "other", offline=True)
    assert "keras-layout .npz" not in str(info.value)
