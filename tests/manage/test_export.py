"""``idxmnist export``: torchvision's layout or the upstream files, then imported back.

The round trip on the real MNIST files: export to torchvision's layout,
import that folder into an empty cache, load offline (the loopback server in
the mirrors sees no connection), the same arrays as the upstream files read
by the standard library. For the family: torchvision's names for EMNIST and
QMNIST, K49's refused (torchvision has no class for it), the plain layout
imported back and loaded offline.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import subprocess
import sys

import numpy as np
import pytest

import idxmnist
from idxmnist import cli, qmnist
from idxmnist.manage import export, importer

from ..support.family import emnist_member_names, loaders, same_arrays
from ..support.helpers import MNIST_FILES, child_env, flat, listing
from ..support.helpers import MNIST_STEMS as STEMS
from ..support.helpers import run_cli_in_cache as run_cli
from ..support.httpserver import FaultServer

# -- the real MNIST files ----------------------------------------------------------------------

TORCHVISION_NAMES = {  # torchvision's MNIST._check_exists: each resource's name without .gz
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
}


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


@pytest.mark.realdata
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


# -- the family: EMNIST, QMNIST, Kuzushiji-49 --------------------------------------------------


def test_export_plain_then_import_then_load_offline(releases, served, tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    names = ["emnist_digits", "qmnist", "qmnist_nist", "k49"]
    assert (
        cli.main(
            ["export", "--layout", "plain", str(out), "--cache-dir", str(first)]
            + [a for n in names for a in ("--dataset", n)]
        )
        == 0
    )
    assert listing(out) >= {
        *(f"emnist/{n}" for n in emnist_member_names("digits")),
        "qmnist/qmnist-train-labels-idx2-int.gz",
        "qmnist/xnist-images-idx3-ubyte.xz",
        "k49/k49-test-imgs.npz",
    }
    for folder in ("emnist", "qmnist", "k49"):
        for path in (out / folder).iterdir():
            assert path.read_bytes() == releases[folder.split("-")[0]].files[path.name]
    before = served.connections
    importer.import_paths([out], second)
    for name, (load, reference) in loaders(releases).items():
        assert same_arrays(load(second, offline=True), reference), name
    x, _ = qmnist.load_nist(cache_dir=second, offline=True)
    assert np.array_equal(x, releases["qmnist"].arrays["x_nist"])
    assert served.connections == before


def test_export_torchvision_names_for_emnist_and_qmnist(releases, served, tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    out = tmp_path / "out"
    written = export.export_dataset(
        idxmnist.datasets.get("emnist_letters"), "torchvision", out, cache_dir=tmp_path / "c"
    )
    written += export.export_dataset(
        idxmnist.datasets.get("qmnist_nist"), "torchvision", out, cache_dir=tmp_path / "c"
    )
    files = releases["emnist"].files | releases["qmnist"].files
    raw = {f"EMNIST/raw/{n[:-3]}": n for n in emnist_member_names("letters")}
    raw |= {
        f"QMNIST/raw/{n[:-3]}": n
        for n in ("xnist-images-idx3-ubyte.xz", "xnist-labels-idx2-int.xz")
    }
    # the decompressed file torchvision checks for, and the upstream file beside it
    upstreams = {f"{path.split('/raw/')[0]}/raw/{name}": name for path, name in raw.items()}
    assert {p.relative_to(out).as_posix() for p, _ in written} == set(raw) | set(upstreams)
    for path, upstream in raw.items():
        unpack = lzma.decompress if upstream.endswith(".xz") else gzip.decompress
        assert (out / path).read_bytes() == unpack(files[upstream]), path
    for path, upstream in upstreams.items():
        assert (out / path).read_bytes() == files[upstream], path


def test_export_torchvision_refuses_k49_as_a_usage_error(served, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["export", "--layout", "torchvision", str(tmp_path), "--dataset", "k49"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "torchvision has no class for k49" in err and "--layout plain" in err
    assert served.connections == 0 and not any(tmp_path.iterdir())


# -- a pinned synthetic dataset: what each file is written from, and the guards on the way ----


def _stocked(tmp_path, suffix: str, *, torchvision: str | None = None):
    """``synth``'s four files (each IDX file as ``suffix``) verified into a cache; the spec."""
    from dataclasses import replace

    from idxmnist.load.loader import load_dataset

    from ..support.pinned import IDX, UPSTREAM, synth_spec

    spec = replace(synth_spec(), torchvision=torchvision)
    src = tmp_path / "src"
    src.mkdir(parents=True)
    for stem, raw in IDX.items():
        body = UPSTREAM[f"{stem}.gz"] if suffix == ".gz" else lzma.compress(raw)
        (src / f"{stem}{suffix}").write_bytes(body)
    load_dataset(spec, source=src, cache_dir=tmp_path / "cache")
    return spec, tmp_path / "cache"


def test_export_plain_copies_upstream_files_and_gzips_verified_content_afresh(tmp_path):
    from ..support.pinned import IDX, UPSTREAM

    spec, cache = _stocked(tmp_path / "gz", ".gz")
    out = tmp_path / "out"
    written = export.export_dataset(spec, "plain", out, cache_dir=cache, offline=True)
    assert written == [(out / "synth" / n, "the upstream file") for n in UPSTREAM]
    assert all((out / "synth" / n).read_bytes() == b for n, b in UPSTREAM.items())

    spec, cache = _stocked(tmp_path / "xz", ".xz")  # verified by content only
    out = tmp_path / "out-xz"
    written = export.export_dataset(spec, "plain", out, cache_dir=cache, offline=True)
    afresh = "gzip-compressed afresh: the verified IDX bytes, not the upstream container"
    assert written == [(out / "synth" / n, afresh) for n in UPSTREAM]
    for stem, raw in IDX.items():
        body = (out / "synth" / f"{stem}.gz").read_bytes()
        assert gzip.decompress(body) == raw
        # no name and no time in the header: the same bytes from every export
        assert body[3] == 0 and body[4:8] == bytes(4), body[:10]


def test_export_torchvision_writes_the_upstream_file_only_where_the_store_holds_it(tmp_path):
    from ..support.pinned import IDX, UPSTREAM

    spec, cache = _stocked(tmp_path / "gz", ".gz", torchvision="MNIST")
    out = tmp_path / "out"
    written = export.export_dataset(spec, "torchvision", out, cache_dir=cache, offline=True)
    raw = out / "MNIST" / "raw"
    expected = []
    for stem in IDX:
        expected.append((raw / f"{stem}.gz", "the upstream file"))
        expected.append((raw / stem, f"IDX, {len(IDX[stem])} bytes"))
    assert written == expected
    assert all((raw / n).read_bytes() == b for n, b in UPSTREAM.items())
    assert all((raw / s).read_bytes() == b for s, b in IDX.items())

    spec, cache = _stocked(tmp_path / "xz", ".xz", torchvision="MNIST")
    out = tmp_path / "out-xz"
    written = export.export_dataset(spec, "torchvision", out, cache_dir=cache, offline=True)
    raw = out / "MNIST" / "raw"
    assert written == [(raw / s, f"IDX, {len(b)} bytes") for s, b in IDX.items()]
    assert listing(out) == {"MNIST", "MNIST/raw", *(f"MNIST/raw/{s}" for s in IDX)}


@pytest.mark.parametrize("how", ["_copy", "_decompressed", "_upstream"])
def test_an_export_of_a_file_that_changed_after_its_check_is_refused_and_leaves_nothing(
    how, tmp_path
):
    """Each writer checks the bytes it writes against the pin (the file may change between
    the store's check and the copy): a file that no longer matches leaves no output."""
    from ..support.pinned import IDX, UPSTREAM, synth_spec

    remote = synth_spec().files[0]
    stem = remote.name[:-3]
    changed = bytearray(IDX[stem])
    changed[-1] ^= 1
    src = tmp_path / remote.name
    src.write_bytes(gzip.compress(bytes(changed), mtime=0))
    assert len(UPSTREAM[remote.name]) == remote.size
    out = tmp_path / "out" / "file"
    out.parent.mkdir()
    with pytest.raises(idxmnist.ChecksumError) as info:
        getattr(export, how)(src, remote, out)
    assert str(info.value) == f"{src}: changed while being exported; run idxmnist verify"
    assert listing(out.parent) == set()


def test_an_offline_export_of_what_the_cache_lacks_opens_no_connection(tmp_path, monkeypatch):
    from ..support.pinned import UPSTREAM, synth_spec

    with FaultServer(UPSTREAM) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError, match=r"^offline \("):
            export.export_dataset(
                synth_spec(), "plain", tmp_path / "out", cache_dir=tmp_path / "c", offline=True
            )
        assert server.connections == 0
    assert not (tmp_path / "out").exists()


def test_a_file_without_a_pinned_content_hash_is_decompressed_as_it_is(tmp_path):
    from dataclasses import replace

    from ..support.pinned import IDX, UPSTREAM, synth_spec

    remote = replace(synth_spec().files[0], content=None, content_size=None)
    src = tmp_path / remote.name
    src.write_bytes(UPSTREAM[remote.name])
    out = tmp_path / "out"
    assert export._decompressed(src, remote, out) == f"IDX, {len(IDX[remote.stem])} bytes"
    assert out.read_bytes() == IDX[remote.stem]


def test_the_torchvision_layout_of_a_dataset_torchvision_lacks_is_refused_word_for_word(tmp_path):
    with pytest.raises(ValueError) as info:
        export.torchvision_dir(idxmnist.datasets.get("k49"), tmp_path)
    assert str(info.value) == (
        "k49: torchvision has no class for it, so there is no torchvision layout to write; "
        "--layout plain writes its upstream files"
    )
    assert export.torchvision_dir(idxmnist.datasets.get("mnist"), tmp_path) == (
        tmp_path / "MNIST" / "raw"
    )


def test_the_torchvision_layout_of_a_dataset_torchvision_lacks_fetches_nothing(
    tmp_path, monkeypatch
):
    from ..support.pinned import UPSTREAM, synth_spec

    with FaultServer(UPSTREAM) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(ValueError, match="synth: torchvision has no class for it"):
            export.export_dataset(synth_spec(), "torchvision", tmp_path / "out", cache_dir=tmp_path)
        assert server.connections == 0
    assert listing(tmp_path) == set()
