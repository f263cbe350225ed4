"""``idxmnist preview --reviewed`` and ``idxmnist info``: the test labels people judged wrong.

Checked against the published table (``registry-facts/``, read with ``csv``)
and MNIST's real test images (read with ``gzip`` and ``numpy.frombuffer``).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist import mnist

from ..support.helpers import run_cli

pytestmark = pytest.mark.realdata
MNIST = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def judged_wrong(registry_facts: Path) -> list[dict[str, int]]:
    text = (registry_facts / "mnist-test-label-review.tsv").read_text().splitlines()
    rows = csv.DictReader([line for line in text if not line.startswith("#")], delimiter="\t")
    parsed = [{k: int(v) for k, v in row.items()} for row in rows]
    return [r for r in parsed if r["votes_given"] < 3]  # the paper's rule


def t10k_images(mnist_dir: Path) -> np.ndarray:
    data = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    return np.frombuffer(data, np.uint8, offset=16).reshape(10000, 28, 28)


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    out.update(IDXMNIST_HOME=str(tmp_path / "cache"), COLUMNS="80", **extra)
    return out


def test_the_15_judged_errors_in_the_terminal(mnist_dir, registry_facts, tmp_path):
    r = run_cli("preview", "--source", mnist_dir, "--reviewed", env=env(tmp_path))
    assert r.returncode == 0, r.stderr
    errors = judged_wrong(registry_facts)
    assert len(errors) == 15
    shown = [tuple(map(int, m)) for m in re.findall(r"(\d+): (\d)->(\d)", r.stdout)]
    assert shown == [(e["index"], e["given"], e["guessed"]) for e in errors]
    votes = [tuple(map(int, m)) for m in re.findall(r"votes (\d)/(\d)/(\d)", r.stdout)]
    assert votes == [(e["votes_given"], e["votes_guessed"], e["votes_neither"]) for e in errors]
    lines = r.stdout.splitlines()
    assert lines[0].startswith("MNIST test labels people judged wrong (Northcutt et al.")
    assert lines[1].startswith("index: given->guessed label; votes for given/guessed/neither")
    assert all(len(line) <= 80 for line in lines)
    assert sum("\u2588" in line for line in lines) > 10  # the digits are drawn
    assert r.stderr == (
        "idxmnist: 15 of the 100 reviewed test labels are judged wrong; showing 15\n"
    )
    few = run_cli("preview", "--source", mnist_dir, "--reviewed", "--n", 4, env=env(tmp_path))
    assert re.findall(r"(\d+): \d->\d", few.stdout) == ["947", "1621", "1901", "2130"]


def test_the_15_judged_errors_as_a_png(mnist_dir, registry_facts, tmp_path):
    Image = pytest.importorskip("PIL.Image")

    out = tmp_path / "errors.png"
    r = run_cli("preview", "--source", mnist_dir, "--reviewed", "--out", out, env=env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{out}\n"
    grid = np.asarray(Image.open(out).convert("L"))
    # five columns, three rows: the first cell holds test image 947, upscaled 2x, inverted
    first = judged_wrong(registry_facts)[0]["index"]
    expected = 255 - np.kron(t10k_images(mnist_dir)[first], np.ones((2, 2), np.uint8))
    found = [x for x in range(4, 40) if np.array_equal(grid[4 : 4 + 56, x : x + 56], expected)]
    assert len(found) == 1, "image 947 is not the first cell"
    stride = (grid.shape[1] - 4) // 5  # a column and the gap after it
    assert grid.shape[0] > 3 * (56 + 28)  # three rows, each with two caption lines
    last = judged_wrong(registry_facts)[4]["index"]  # the end of the first row
    expected = 255 - np.kron(t10k_images(mnist_dir)[last], np.ones((2, 2), np.uint8))
    left = found[0] + 4 * stride
    assert np.array_equal(grid[4 : 4 + 56, left : left + 56], expected)


def test_reviewed_is_for_mnists_test_set(mnist_dir, tmp_path):
    r = run_cli("preview", "--dataset", "fashion-mnist", "--reviewed", env=env(tmp_path))
    assert r.returncode == 2
    assert "argument --reviewed: the label review is of MNIST's test set" in r.stderr
    r = run_cli("preview", "--source", mnist_dir, "--split", "train", "--reviewed")
    assert r.returncode == 2 and "the reviewed labels are MNIST's test labels" in r.stderr


def test_other_test_labels_are_refused(mnist_dir, tmp_path):
    folder = tmp_path / "shuffled"
    folder.mkdir()
    for name in MNIST[:3]:
        (folder / name).symlink_to(mnist_dir / name)
    labels = np.frombuffer(
        gzip.decompress((mnist_dir / MNIST[3]).read_bytes()), np.uint8, offset=8
    ).copy()
    labels[[947, 948]] = labels[[948, 947]]
    idxmnist.write_idx(folder / MNIST[3], labels)
    r = run_cli("preview", "--source", folder, "--reviewed", env=env(tmp_path))
    assert r.returncode == 1
    assert r.stderr.startswith(f"idxmnist: error: {folder}[y_test]: test label 947 is 1, ")
    assert "not MNIST's upstream test labels in upstream order" in r.stderr


def test_info_on_the_cache_says_how_many_were_judged_wrong(mnist_dir, tmp_path):
    cache = mnist.build_npz(mnist_dir, tmp_path / "mnist.npz")
    note = "label review  15 judged wrong of 100 reviewed"
    r = run_cli("info", cache, mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert r.returncode == 0, r.stderr
    after_test = r.stdout.split("y_test")[1]
    assert note in after_test and r.stdout.count(note) == 2  # the cache, and the label file
    other = tmp_path / "other-labels.idx"  # 10,000 labels, not MNIST's
    rng = np.random.default_rng(0)
    idxmnist.write_idx(other, rng.integers(0, 10, 10000, dtype=np.uint8))
    r = run_cli("info", other, mnist_dir / "train-labels-idx1-ubyte.gz")
    assert r.returncode == 0 and "label review" not in r.stdout


ROOT = Path(__file__).resolve().parents[2]


def first_cell_is(grid: np.ndarray, image: np.ndarray) -> bool:
    expected = 255 - np.kron(image, np.ones((2, 2), np.uint8))
    return any(np.array_equal(grid[4 : 4 + 56, x : x + 56], expected) for x in range(4, 40))


def test_the_docs_show_what_the_command_prints(mnist_dir, tmp_path):
    Image = pytest.importorskip("PIL.Image")

    page = (ROOT / "docs" / "datasets.md").read_text()
    block = re.search(
        r"```text\n\$ (idxmnist preview --dataset mnist --reviewed[^\n]*)\n(.*?)```", page, re.S
    )
    assert block, "docs/datasets.md shows no preview --reviewed"
    args = block.group(1).split()[1:]
    r = run_cli(*args, "--source", mnist_dir, env=env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == block.group(2)
    picture = ROOT / "docs" / "reviewed.png"
    assert "](reviewed.png)" in page and picture.stat().st_size < 100_000
    grid = np.asarray(Image.open(picture).convert("L"))
    assert first_cell_is(grid, t10k_images(mnist_dir)[947])
