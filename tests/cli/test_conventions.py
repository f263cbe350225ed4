"""The command line's own conventions: a version, one spelling of dataset names, help that
stands on its own, pictures in the format their name says, status lines without stutter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest

from idxmnist.datasets import registry
from idxmnist.fetch import tls

from ..support.helpers import run_cli

COMMANDS_WITH_A_DATASET = ("fetch", "verify", "export", "preview")


def test_version_prints_the_installed_version():
    r = run_cli("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"idxmnist {version('idxmnist')}"


@pytest.mark.parametrize("command", COMMANDS_WITH_A_DATASET)
def test_every_command_spells_dataset_names_one_way(command):
    """The names as the user types them, `-` not `_`: the same list in every command's help."""
    r = run_cli(command, "--help")
    assert r.returncode == 0, r.stderr
    text = re.sub(r"-\s+", "-", " ".join(r.stdout.split()))  # argparse wraps at a hyphen
    listed = ", ".join(name.replace("_", "-") for name in registry.names())
    assert f"one of: {listed}" in text
    assert "fashion_mnist" not in text and "emnist_letters" not in text


def test_export_takes_several_datasets_and_either_spelling(tmp_path):
    r = run_cli(
        "export",
        "--layout",
        "plain",
        tmp_path,
        "--dataset",
        "fashion_mnist",
        "--dataset",
        "nope",
        env={**os.environ, "IDXMNIST_OFFLINE": "1"},
    )
    assert r.returncode == 2 and "invalid choice: 'nope'" in r.stderr


def test_no_help_points_at_a_file_a_pip_user_lacks():
    for command in ("build", "info", "fetch", "verify", "import", "export", "bench", "preview"):
        r = run_cli(command, "--help")
        assert "docs/" not in r.stdout, (command, r.stdout)


def test_bench_help_says_the_variable_stands_in_for_source():
    r = run_cli(
        "bench", "--help", env={k: v for k, v in os.environ.items() if k != "IDXMNIST_SOURCE"}
    )
    assert "$IDXMNIST_SOURCE stands in for it" in " ".join(r.stdout.split())


def test_the_benchmarks_help_is_plain_text():
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert r.returncode == 0, r.stderr
    description = r.stdout.split("\n\n")[1]
    assert "``" not in description and ":" not in description.split()[0], description


def test_preview_help_says_how_each_output_is_laid_out():
    text = " ".join(run_cli("preview", "--help").stdout.split())
    assert "wrapped to the terminal's width" in text
    assert "one row per class (PNG, or the format the file's suffix names" in text


def _images(tmp_path):
    import idxmnist

    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    for name, n in (("train", 20), ("t10k", 10)):
        idxmnist.write_idx(
            src / f"{name}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        )
        idxmnist.write_idx(
            src / f"{name}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8)
        )
    return src


@pytest.mark.parametrize(
    "suffix, magic", [(".png", b"\x89PNG"), (".jpg", b"\xff\xd8\xff"), (".JPEG", b"\xff\xd8\xff")]
)
def test_preview_writes_the_format_its_file_name_says(tmp_path, suffix, magic):
    pytest.importorskip("PIL")
    out = tmp_path / f"grid{suffix}"
    r = run_cli("preview", "--source", _images(tmp_path), "--n", "10", "--out", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[: len(magic)] == magic


@pytest.mark.parametrize("name", ["grid.xyz", "grid"])
def test_preview_refuses_a_name_it_cannot_write_before_reading_anything(tmp_path, name):
    out = tmp_path / name
    r = run_cli("preview", "--source", tmp_path / "missing-folder-never-read", "--out", out)
    assert r.returncode == 2
    assert "argument --source" in r.stderr or "argument --out" in r.stderr
    pytest.importorskip("PIL")  # which suffixes it writes is Pillow's answer
    r = run_cli("preview", "--source", _images(tmp_path), "--out", out)
    assert r.returncode == 2 and "argument --out: " in r.stderr and "name it .png" in r.stderr
    assert not out.exists()


def test_numba_keeps_its_compiled_kernels_under_the_cache_directory(tmp_path):
    """Not beside the installed package, where they would outlive ``pip uninstall``."""
    pytest.importorskip("numba")
    code = (
        "import numpy as np, idxmnist\n"
        "idxmnist.to_float32(np.zeros(10, np.uint8), backend='numba')\n"
        "import numba.core.config as c; print(repr(c.CACHE_DIR))\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "IDXMNIST_HOME": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "''"  # the user's own setting (none) is given back
    kept = list((tmp_path / "cache" / ".idxmnist" / "numba").rglob("*.nbi"))
    assert kept, "no compiled kernel under the cache directory"
    assert all(re.search(r"_u8_to_f32|_swap", p.name) for p in kept)


def test_a_users_numba_cache_dir_is_respected(tmp_path):
    pytest.importorskip("numba")
    code = (
        "import numpy as np, idxmnist\n"
        "idxmnist.to_float32(np.zeros(10, np.uint8), backend='numba')\n"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "IDXMNIST_HOME": str(tmp_path / "cache"),
        "NUMBA_CACHE_DIR": str(tmp_path / "mine"),
    }
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "mine").rglob("*.nbi"))
    assert not (tmp_path / "cache" / ".idxmnist").exists()


def test_the_truststore_advice_only_where_truststore_is_not_in_use(monkeypatch):
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    pytest.importorskip("truststore")
    used = tls.certificate_failure("example.org", "unable to get local issuer certificate")
    assert "pip install 'idxmnist[truststore]'" not in used
    assert "the operating system's trust store (truststore)" in used
    assert "add the CA that signs it" in used
    monkeypatch.setitem(sys.modules, "truststore", None)  # as if it were not installed
    missing = tls.certificate_failure("example.org", "unable to get local issuer certificate")
    assert "pip install 'idxmnist[truststore]'" in missing
    assert "Python's default CA bundle" in missing
