"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import numpy as np

from .conftest import run_cli as run
from .test_load_data import make_dataset


def test_build_and_info(tmp_path):
    arrays = make_dataset(tmp_path / "src")
    r = run("build", "--source", tmp_path / "src", "--out", tmp_path / "m.npz")
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert np.array_equal(z["y_train"], arrays["train-labels-idx1-ubyte"])
    r = run("info", tmp_path / "src" / "train-images-idx3-ubyte.gz")
    assert r.returncode == 0, r.stderr
    assert "uint8" in r.stdout and "(50, 28, 28)" in r.stdout and "gzip" in r.stdout
    assert f"{16 + 50 * 784:,} B raw" in r.stdout


def test_bad_input_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(b"<html><body>404 Not Found</body></html>")
    for args in (("info", bad), ("build", "--source", tmp_path)):
        r = run(*args)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert r.stderr.startswith("idxmnist: error:")


def test_usage_error_exit_2():
    assert run("build").returncode == 2
    r = run("--help")
    assert r.returncode == 0 and "build" in r.stdout and "exit codes" in r.stdout
