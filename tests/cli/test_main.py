"""The command line, run as a user runs it: a real subprocess per call.

Every subcommand: usage errors exit 2 with argparse's ``usage:`` line and
``idxmnist COMMAND: error:``; bad data, failed downloads and unreadable files
exit 1 with ``idxmnist: error:``; results go to stdout, status to stderr.
``fetch`` and ``verify`` also run against the real MNIST files on a loopback
mirror.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

import idxmnist
from idxmnist import cli
from idxmnist.cli.main import EXAMPLES

from ..support.helpers import listing
from ..support.helpers import run_cli as run
from ..support.helpers import run_cli_from_repo as run_cli
from ..support.synth import NAMES, closed_port_url, make_dataset


def usage_error(r, command: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith(f"usage: idxmnist {command}"), r.stderr
    assert lines[-1].startswith(f"idxmnist {command}: error: "), r.stderr
    assert "Traceback" not in r.stderr


@pytest.fixture
def env(tmp_path):
    """No source, no usable mirror, an empty cache: nothing outside tmp_path."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    out["IDXMNIST_HOME"] = str(tmp_path / "cache")
    out["IDXMNIST_MIRRORS"] = "file:///nonexistent-idxmnist-test-mirror/"
    return out


@pytest.fixture
def src(tmp_path):
    make_dataset(tmp_path / "src")
    return tmp_path / "src"


@pytest.mark.parametrize(
    "argv",
    [
        ["build"],  # --source is required
        ["build", "--source", "{missing}"],
        ["build", "--source", "{src}", "--bogus"],
        ["info"],  # at least one file
        ["fetch", "--dataset", "nope"],
        ["fetch", "--dataset"],
        ["verify"],
        ["verify", "{missing}"],
        ["verify", "{src}", "--dataset", "nope"],
        ["import"],  # at least one path
        ["export", "{src}"],  # --layout is required
        ["export", "--layout", "conda", "{src}"],
        ["export", "--layout", "plain"],  # no DIR
        ["export", "--layout", "plain", "{src}", "--dataset", "nope"],
        ["bench"],  # no --source and no $IDXMNIST_SOURCE
        ["bench", "--source", "{src}", "--rounds", "0"],
        ["bench", "--source", "{src}", "--rounds", "many"],
        ["preview", "--dataset", "nope"],
        ["preview", "--n", "0", "--source", "{src}"],
        ["preview", "--split", "valid"],
        ["preview", "--source", "{missing}"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_usage_errors_exit_2_the_same_way_in_every_subcommand(argv, src, tmp_path, env):
    args = [a.format(src=src, missing=tmp_path / "missing") for a in argv]
    usage_error(run(*args, env=env), argv[0])


def test_unknown_command_and_no_command_are_usage_errors(env):
    for argv in (["frobnicate"], []):
        r = run(*argv, env=env)
        assert r.returncode == 2 and r.stderr.startswith("usage: idxmnist")
        assert "idxmnist: error: " in r.stderr


def data_error(r, *, lines: int | None = 1) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.startswith("idxmnist: error: "), r.stderr
    assert "Traceback" not in r.stderr and "usage:" not in r.stderr
    if lines is not None:
        assert len(r.stderr.strip().splitlines()) == lines, r.stderr


def test_dataset_names_any_spelling(src, env, tmp_path):
    r = run("fetch", "--dataset", "Fashion-MNIST", "--dir", tmp_path / "f", env=env)
    data_error(r, lines=None)  # parsed: it got as far as the (dead) mirror
    assert "could not download" in r.stderr


def test_build_result_on_stdout_status_on_stderr(src, tmp_path, env):
    out = tmp_path / "m.npz"
    r = run("build", "--source", src, "--out", out, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{out}\n"
    assert r.stderr == f"idxmnist: built {out} from {src}\n"
    with np.load(out, allow_pickle=False) as z:
        assert sorted(z.files) == ["x_test", "x_train", "y_test", "y_train"]


HTML = b"<html><body>404 Not Found</body></html>"


@pytest.fixture
def bad(tmp_path):
    """A folder whose training images are an HTML page saved under the data's name."""
    make_dataset(tmp_path / "bad")
    (tmp_path / "bad" / "train-images-idx3-ubyte.gz").write_bytes(HTML)
    return tmp_path / "bad"


def test_build_and_info_on_bad_data_exit_1(bad, tmp_path, env):
    data_error(run("build", "--source", bad, "--out", tmp_path / "m.npz", env=env))
    assert not (tmp_path / "m.npz").exists()
    r = run("info", bad / "train-images-idx3-ubyte.gz", env=env)
    data_error(r)
    assert "HTML page" in r.stderr and r.stdout == ""


def test_info_reports_the_good_files_and_fails_for_the_bad(src, bad, tmp_path, env):
    good = src / "train-labels-idx1-ubyte.gz"
    r = run("info", good, bad / "train-images-idx3-ubyte.gz", tmp_path / "missing.gz", env=env)
    assert r.returncode == 1
    assert r.stdout.startswith(f"{good}: IDX uint8 (type 0x08) shape (50,), gzip")
    errors = r.stderr.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("idxmnist: error: ") for e in errors)
    assert "HTML page" in errors[0] and "missing.gz" in errors[1]


def test_fetch_from_a_dead_mirror_exits_1_listing_it(tmp_path, env):
    r = run("fetch", "--dir", tmp_path / "d", env=env)
    data_error(r, lines=None)
    assert "could not download train-images-idx3-ubyte.gz from any mirror" in r.stderr
    assert "nonexistent-idxmnist-test-mirror/train-images-idx3-ubyte.gz -> " in r.stderr
    assert r.stdout == ""


def test_verify_results_on_stdout_verdict_on_stderr(src, env):
    r = run("verify", src, "--dataset", "mnist", env=env)
    assert r.returncode == 1
    assert r.stdout.count("MISMATCH  ") == 4  # synthetic files: not the registry's bytes
    assert r.stderr == (
        f"idxmnist: error: mnist in {src}: 4 bad: idxmnist verify --repair fixes what it can\n"
    )


def test_bench_on_a_folder_without_the_files_exits_1(src, env):
    r = run("bench", "--source", src.parent, env=env)
    data_error(r)
    assert "missing train-images-idx3-ubyte.gz" in r.stderr


def test_preview_text_on_stdout_bad_data_exit_1(src, bad, env):
    r = run("preview", "--source", src, "--n", "3", env=env)
    assert r.returncode == 0 and r.stderr == ""
    assert any(set(line) & set("\u2580\u2584\u2588") for line in r.stdout.splitlines())
    data_error(run("preview", "--source", bad, env=env))


def test_preview_without_a_source_or_mirror_is_a_download_error(env):
    r = run("preview", "--dataset", "kmnist", env=env)
    data_error(r, lines=None)
    assert "could not download" in r.stderr


def test_a_bug_is_not_turned_into_a_bad_data_message(src, tmp_path, monkeypatch):
    """``main`` catches the project's error families, never a stray ValueError."""

    def broken(*args, **kwargs):
        raise ValueError("a bug, not bad data")

    monkeypatch.setattr(idxmnist.mnist, "build_npz", broken)
    with pytest.raises(ValueError, match="a bug, not bad data"):
        cli.main(["build", "--source", str(src), "--out", str(tmp_path / "m.npz")])


def test_help_lists_every_command_with_exit_codes(env):
    r = run("--help", env=env)
    assert r.returncode == 0 and "exit codes" in r.stdout
    for command in EXAMPLES:
        assert f"    {command} " in r.stdout


# -- fetch, then verify: the real MNIST files over loopback ------------------------------------


@pytest.mark.realdata
def test_cli_fetch_then_verify(mnist_server, tmp_path):
    dest = tmp_path / "files"
    r = run_cli("fetch", "--dir", dest, env={"IDXMNIST_MIRRORS": mnist_server.url()})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(dest) and "4 files verified" in r.stderr
    assert listing(dest) == {".idxmnist.lock", *NAMES}
    r = run_cli("verify", dest)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "should hold mnist (by the checksums of its files)" in r.stderr
    assert r.stdout.count("ok  ") == 4
    with open(dest / NAMES[3], "r+b") as f:  # one flipped byte
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    r = run_cli("verify", dest)
    assert r.returncode == 1
    line = f"MISMATCH  {dest / NAMES[3]}: container check failed: sha256 "
    assert line in r.stdout and "; content check failed: corrupt gzip data" in r.stdout
    assert "idxmnist verify --repair fixes what it can" in r.stderr
    (dest / NAMES[0]).unlink()
    r = run_cli("verify", dest, "--dataset", "mnist")
    assert r.returncode == 1 and f"missing   {dest / NAMES[0]}" in r.stdout


def test_cli_verify_empty_dir_and_failed_fetch(tmp_path):
    r = run_cli("verify", tmp_path)
    assert r.returncode == 1 and "none of the mnist files" in r.stderr
    r = run_cli("fetch", "--dir", tmp_path / "d", env={"IDXMNIST_MIRRORS": closed_port_url()})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("idxmnist: error: could not download train-images-idx3-ubyte.gz")
    assert "IDXMNIST_SOURCE=DIR" in r.stderr
    assert listing(tmp_path / "d") == {".idxmnist.lock"}


@pytest.mark.realdata
def test_fetch_takes_the_files_from_idxmnist_source_offline(mnist_dir, tmp_path, env):
    """The error of a failed fetch advises $IDXMNIST_SOURCE: fetch uses it (issue 23, point 4)."""
    sums = dict(
        reversed(line.split()) for line in (mnist_dir / "SHA256SUMS").read_text().splitlines()
    )
    env = dict(env, IDXMNIST_SOURCE=str(mnist_dir), IDXMNIST_OFFLINE="1")
    store = tmp_path / "cache" / "mnist"
    for argv, dest in ((["fetch"], store), (["fetch", "--dir", tmp_path / "d"], tmp_path / "d")):
        r = run(*argv, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == str(dest)
        assert "mnist: 4 files verified in" in r.stderr and "(4 new)" in r.stderr, r.stderr
        for name in NAMES:  # the upstream bytes, by the published checksums
            assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == sums[name]
        again = run(*argv, env=env)
        assert again.returncode == 0 and "(0 new)" in again.stderr, again.stderr
    assert {p.name for p in mnist_dir.iterdir()} >= set(NAMES)  # the source is left as it was
