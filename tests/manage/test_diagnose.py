"""``idxmnist verify`` names what each file is, by content; ``--repair`` fixes what it can.

The five cases, made from the real MNIST files in a cache-layout folder: an
HTML page saved as ``.gz``, a truncated file, a file a browser decompressed
(raw IDX under a ``.gz`` name: valid by content), a zero-byte leftover, and
MNIST's files in the Fashion-MNIST folder (the right format, the wrong
dataset). Repairs fetch from the loopback server; nothing is deleted that is
not replaced, except files holding no data, and every action is said. Also
the family: the split a shared ``emnist`` folder holds.
"""

from __future__ import annotations

import gzip

import pytest

from idxmnist import cli

from ..support.family import emnist_member_names
from ..support.helpers import MNIST_FILES, listing
from ..support.helpers import run_cli_from_repo as _run_cli
from ..support.httpserver import FaultServer

HTML = b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head></html>\n"
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = MNIST_FILES


def run_cli(*args, mirrors="file:///nowhere/", **env):
    return _run_cli(*args, env={"IDXMNIST_MIRRORS": mirrors, **env})


@pytest.fixture
def upstream(mnist_dir):
    return {n: (mnist_dir / n).read_bytes() for n in MNIST_FILES}


@pytest.fixture
def cache(tmp_path, upstream):
    """``cache/mnist`` with four of the five cases, ``cache/fashion-mnist`` with the fifth."""
    mnist = tmp_path / "cache" / "mnist"
    mnist.mkdir(parents=True)
    (mnist / TRAIN_IMAGES).write_bytes(upstream[TRAIN_IMAGES])  # fine
    (mnist / "train-images-idx3-ubyte").write_bytes(b"")  # a zero-byte leftover
    (mnist / TRAIN_LABELS).write_bytes(gzip.decompress(upstream[TRAIN_LABELS]))  # decompressed
    (mnist / TEST_IMAGES).write_bytes(upstream[TEST_IMAGES][: len(upstream[TEST_IMAGES]) // 2])
    (mnist / TEST_LABELS).write_bytes(HTML)
    fashion = tmp_path / "cache" / "fashion-mnist"
    fashion.mkdir()
    for name in MNIST_FILES:
        (fashion / name).write_bytes(upstream[name])
    return tmp_path / "cache"


def lines_of(stdout: str) -> dict[str, str]:
    return {line[10:].split(": ")[0]: line for line in stdout.splitlines()}


@pytest.mark.realdata
def test_verify_names_each_case(cache):
    mnist = cache / "mnist"
    r = run_cli("verify", mnist)
    assert r.returncode == 1
    assert f"{mnist} should hold mnist (by its name, mnist)" in r.stderr
    got = lines_of(r.stdout)
    assert got[str(mnist / TRAIN_IMAGES)] == (
        f"ok        {mnist / TRAIN_IMAGES}: ok (its exact upstream bytes)"
    )
    assert got[str(mnist / "train-images-idx3-ubyte")] == (
        f"MISMATCH  {mnist / 'train-images-idx3-ubyte'}: empty (0 bytes): a leftover of an "
        "interrupted download or copy"
    )
    assert got[str(mnist / TRAIN_LABELS)] == (
        f"ok        {mnist / TRAIN_LABELS}: decompressed: raw IDX bytes under a .gz name, as a "
        "browser that unpacks downloads saves them; valid by content"
    )
    assert got[str(mnist / TEST_IMAGES)].startswith(
        f"MISMATCH  {mnist / TEST_IMAGES}: truncated: the gzip stream ends early"
    )
    assert got[str(mnist / TEST_LABELS)] == (
        f"MISMATCH  {mnist / TEST_LABELS}: an HTML page (a mirror's error or login page), not data"
    )
    assert len(got) == 5
    assert "idxmnist: error: mnist in " in r.stderr and "3 bad" in r.stderr
    assert "idxmnist verify --repair fixes what it can" in r.stderr


@pytest.mark.realdata
def test_verify_names_the_wrong_dataset(cache):
    fashion = cache / "fashion-mnist"
    r = run_cli("verify", fashion)
    assert r.returncode == 1
    assert "should hold fashion_mnist (by its name, fashion-mnist)" in r.stderr
    for name in MNIST_FILES:
        stem = name.removesuffix(".gz")
        assert (
            f"MISMATCH  {fashion / name}: the right format, the wrong dataset: this is "
            f"mnist's {stem} (by container sha256), not fashion_mnist's"
        ) in r.stdout.splitlines()


@pytest.mark.realdata
def test_repair_fixes_what_it_can_and_says_so(cache, upstream):
    mnist = cache / "mnist"
    with FaultServer(upstream) as server:
        r = run_cli("verify", mnist, "--repair", mirrors=server.url())
        assert server.gets() == {f"/ok/{TEST_IMAGES}": 1, f"/ok/{TEST_LABELS}": 1}
    assert r.returncode == 0, r.stdout + r.stderr
    said = r.stderr
    assert f"renamed {mnist / TRAIN_LABELS} -> {mnist / 'train-labels-idx1-ubyte'}" in said
    assert f"removed {mnist / 'train-images-idx3-ubyte'}: empty (0 bytes)" in said
    assert f"fetched {mnist / TEST_IMAGES}, verified (replacing the bad file" in said
    assert f"fetched {mnist / TEST_LABELS}, verified (replacing the bad file" in said
    assert r.stdout.count("ok        ") == 4 and "MISMATCH" not in r.stdout
    assert listing(mnist) == {
        ".idxmnist.lock",
        TRAIN_IMAGES,
        "train-labels-idx1-ubyte",
        TEST_IMAGES,
        TEST_LABELS,
    }
    assert (mnist / TEST_IMAGES).read_bytes() == upstream[TEST_IMAGES]


@pytest.mark.realdata
def test_repair_offline_keeps_what_it_cannot_replace(cache, upstream):
    mnist = cache / "mnist"
    with FaultServer(upstream) as server:
        r = run_cli("verify", mnist, "--repair", mirrors=server.url(), IDXMNIST_OFFLINE="1")
        assert server.connections == 0
    assert r.returncode == 1
    assert f"kept {mnist / TEST_IMAGES}: no verified copy to replace it (offline" in r.stderr
    assert f"removed {mnist / TEST_LABELS}: it held no data" in r.stderr  # the HTML page
    assert (mnist / TEST_IMAGES).exists() and not (mnist / TEST_LABELS).exists()
    assert f"missing   {mnist / TEST_LABELS}" in r.stdout


def test_repair_moves_another_datasets_files_home(cache, upstream):
    fashion, mnist = cache / "fashion-mnist", cache / "mnist"
    for name in MNIST_FILES:
        (mnist / name).unlink()
    (mnist / "train-images-idx3-ubyte").unlink()
    (mnist / TRAIN_IMAGES).write_bytes(upstream[TRAIN_IMAGES])  # already there, verified
    with FaultServer({}) as server:  # Fashion-MNIST cannot be fetched here
        r = run_cli("verify", fashion, "--repair", mirrors=server.url())
    assert r.returncode == 1
    # a verified file is never removed: the duplicate is kept, and said so
    assert f"kept {fashion / TRAIN_IMAGES}: mnist train-images-idx3-ubyte" in r.stderr
    assert "which " + str(mnist / TRAIN_IMAGES) + " already holds, verified" in r.stderr
    for name in MNIST_FILES[1:]:
        assert f"moved {fashion / name} -> {mnist / name}: it is mnist" in r.stderr
        assert (mnist / name).read_bytes() == upstream[name]
    assert r.stderr.count("still missing ") == 3  # the duplicate stands for train images
    assert listing(fashion) == {".idxmnist.lock", TRAIN_IMAGES}
    assert run_cli("verify", mnist).returncode == 0


# -- the family: the split a shared emnist folder holds ----------------------------------------


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
