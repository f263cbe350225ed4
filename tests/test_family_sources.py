"""The family (EMNIST, QMNIST, Kuzushiji-49) through the sources machinery.

Offline opens no connection for any of them and says what to import;
``idxmnist import`` installs NIST's ``gzip.zip`` (every split), QMNIST's and
K49's files, after which each loads offline; ``export`` writes torchvision's
names for EMNIST and QMNIST and refuses K49's (torchvision has no class for
it); ``verify`` picks the split a shared ``emnist`` folder holds. Every spec
is a synthetic release registered at run time, served by the loopback server.
"""

from __future__ import annotations

import gzip
import lzma

import numpy as np
import pytest

import idxmnist
from idxmnist import cli, emnist, k49, qmnist
from idxmnist.manage import export, importer

from .family import (
    emnist_archive,
    emnist_member_names,
    emnist_specs,
    k49_release,
    k49_spec,
    qmnist_release,
    qmnist_specs,
)
from .httpserver import FaultServer
from .test_download import listing


def same(got, want: dict[str, np.ndarray]) -> bool:
    (x, y), (xt, yt) = got
    wanted = [want[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    pairs = zip((x, y, xt, yt), wanted, strict=True)
    return all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in pairs)


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("family")
    return {
        "emnist": emnist_archive(root / "emnist"),
        "qmnist": qmnist_release(root / "qmnist"),
        "k49": k49_release(root / "k49"),
    }


@pytest.fixture
def served(releases, registered):
    """A loopback server holding every release's files, each spec registered with it."""
    files = {}
    for release in releases.values():
        files.update(release.files)
    with FaultServer(files) as server:
        mirrors = (server.url(),)
        registered(
            *emnist_specs(releases["emnist"], mirrors),
            *qmnist_specs(releases["qmnist"], mirrors),
            k49_spec(releases["k49"], mirrors),
        )
        yield server


def loaders(releases):
    """name -> (load(cache, **kw), the reference arrays)."""
    upright = releases["emnist"].extra["upright"]
    q, k = releases["qmnist"].arrays, releases["k49"].arrays
    qmnist_ref = {**q, "y_train": q["y_train"][:, 0].astype(np.uint8)}
    qmnist_ref["y_test"] = q["y_test"][:, 0].astype(np.uint8)
    return {
        "emnist-digits": (
            lambda c, **kw: emnist.load_data("digits", cache_dir=c, **kw),
            upright["digits"],
        ),
        "qmnist": (lambda c, **kw: qmnist.load_data(cache_dir=c, **kw), qmnist_ref),
        "k49": (lambda c, **kw: k49.load_data(cache_dir=c, **kw), k),
    }


# -- offline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["emnist-digits", "qmnist", "k49"])
@pytest.mark.parametrize("how", ["env", "argument"])
def test_offline_opens_no_connection_and_says_what_to_import(
    name, how, releases, served, tmp_path, monkeypatch
):
    load, reference = loaders(releases)[name]
    kwargs = {"offline": True} if how == "argument" else {}
    if how == "env":
        monkeypatch.setenv("IDXMNIST_OFFLINE", "1")
    monkeypatch.delenv("IDXMNIST_MIRRORS")  # the registered spec's own mirror would be used
    with pytest.raises(idxmnist.DownloadError) as info:
        load(tmp_path, **kwargs)
    assert served.connections == 0
    message = str(info.value)
    assert message.startswith("offline (") and "no network access" in message
    assert "idxmnist import PATH" in message and "source='DIR'" in message
    if name.startswith("emnist"):
        assert "lacks emnist_digits's emnist-digits-train-images-idx3-ubyte.gz" in message
        assert "gzip.zip, the archive that holds them" in message
    # online once, then offline from the verified files: still no connection
    load(tmp_path, offline=False)
    before = served.connections
    for npz in tmp_path.glob("*.npz"):
        npz.unlink()
    assert same(load(tmp_path, **kwargs), reference)
    assert served.connections == before


def test_qmnist_nist_offline(releases, served, tmp_path, monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with pytest.raises(idxmnist.DownloadError, match=r"lacks qmnist_nist's xnist-images"):
        qmnist.load_nist(cache_dir=tmp_path, offline=True)
    assert served.connections == 0


# -- import ------------------------------------------------------------------------------------


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
        assert same(got, release.extra["upright"][split]), split
    assert served.connections == 0


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
        assert same(load(second, offline=True), reference), name
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


# -- verify ------------------------------------------------------------------------------------


def test_verify_checks_the_split_a_shared_folder_holds(
    releases, served, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    folder = tmp_path / "emnist"
    folder.mkdir()
    files = releases["emnist"].files
    for name in emnist_member_names("letters"):
        (folder / name).write_bytes(files[name])
    for name in emnist_member_names("digits")[:2]:
        (folder / name).write_bytes(files[name])
    assert cli.main(["verify", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "should hold emnist_letters (by its name, emnist and its files)" in captured.err
    assert sorted(line.split()[0] for line in captured.out.splitlines()) == ["ok"] * 4
    assert cli.main(["verify", str(folder), "--dataset", "emnist-digits"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("missing") == 2
    assert "emnist_digits in" in captured.err and "2 missing" in captured.err
    # --repair fetches the two missing members out of the archive
    assert cli.main(["verify", str(folder), "--dataset", "emnist-digits", "--repair"]) == 0
    assert "fetched" in capsys.readouterr().err
