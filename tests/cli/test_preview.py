"""idxmnist preview: the sample it picks, the text it prints, the PNG it writes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import idxmnist
from idxmnist.cli.preview import render_text, select_samples

from ..support.helpers import run_cli as run
from ..support.synth import make_dataset

GLYPHS = set(" \u2580\u2584\u2588")


def first_per_class(labels, k):
    """The first k indices of each label, by a plain loop (the independent oracle)."""
    seen: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        if len(seen.setdefault(label, [])) < k:
            seen[label].append(i)
    return [seen[c] for c in sorted(seen)]


def header_labels(text):
    """Labels from the header lines of a text rendering, in order."""
    labels = []
    for line in text.splitlines():
        if line and not set(line) <= GLYPHS:
            labels.extend(int(tok) for tok in line.split())
    return labels


def test_select_ten_per_class_in_label_order():
    labels = np.random.default_rng(1).integers(0, 10, 500).astype(np.uint8)
    rows = select_samples(labels, 100)
    assert [r.tolist() for r in rows] == first_per_class(labels, 10)
    assert sum(len(r) for r in rows) == 100
    for c, row in enumerate(rows):
        assert (labels[row] == c).all()


def test_select_uneven_n_and_rare_classes():
    labels = np.array([5, 5, 5, 2, 2, 7, 5, 2], dtype=np.uint8)
    assert [r.tolist() for r in select_samples(labels, 7)] == [[3, 4, 7], [0, 1, 2], [5]]
    assert [r.tolist() for r in select_samples(labels, 2)] == [[3], [0]]
    with pytest.raises(ValueError):
        select_samples(labels, 0)


def test_real_mnist_selection(mnist_dir):
    y = idxmnist.read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    rows = select_samples(y, 100)
    assert [r.tolist() for r in rows] == first_per_class(y, 10)
    # the first test images are 7 2 1 0 4 1 4 9 5 9: index 0 leads the row of 7s
    assert rows[7][0] == 0 and rows[2][0] == 1 and rows[1][:2].tolist() == [2, 5]


def test_text_block_shape():
    x = np.zeros((2, 28, 28), np.uint8)
    x[0, 4:24, 10:12] = 255  # a vertical bar: a "1"
    x[1, 4:6, 4:24] = 255  # a horizontal bar at the top
    # 12 columns: room for one 10-wide block per line
    text = render_text(x, np.array([1, 4]), [np.array([0]), np.array([1])], width=12)
    lines = text.split("\n")
    assert lines[0] == "1" and header_labels(text) == [1, 4]
    # one block per image: a header line, then the glyph lines of the common box
    height = (len(lines) - 2) // 2
    bar, top = lines[1 : 1 + height], lines[2 + height :]
    assert all(set(line) <= GLYPHS for line in bar + top)
    assert sum("\u2588" in line for line in bar) == height  # the bar fills every line
    # rows 4-5 halve to one pixel row: the upper half of the first line
    assert top[0] == "\u2580" * 10 and all(line == "" for line in top[1:])


def test_short_rows_share_a_line():
    x = np.full((4, 8, 8), 255, np.uint8)
    rows = [np.array([0, 1]), np.array([2]), np.array([3])]
    # blocks are 4 wide: 3 fit in 14 columns, so rows 0 and 1 share the first line
    lines = render_text(x, np.array([0, 0, 1, 2]), rows, width=14).split("\n")
    assert lines[0] == "0    0    1" and lines[3] == "2"
    assert lines[1] == " ".join(["\u2588" * 4] * 3)


def test_cli_text_has_one_labelled_block_per_sample(tmp_path):
    arrays = make_dataset(tmp_path / "src", n_train=200)
    y = arrays["train-labels-idx1-ubyte"]
    r = run("preview", "--source", tmp_path / "src", "--n", 30, env=_env(COLUMNS="60"))
    assert r.returncode == 0, r.stderr
    expected = [int(y[i]) for row in first_per_class(y, 3) for i in row][:30]
    assert header_labels(r.stdout) == expected
    assert max(len(line) for line in r.stdout.splitlines()) <= 60


def _env(**extra):
    import os

    return {**os.environ, **extra}


def test_cli_png(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    arrays = make_dataset(tmp_path / "src", n_train=10, n_test=300)
    x, y = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    out = tmp_path / "grid.png"
    r = run("preview", "--source", tmp_path / "src", "--split", "test", "--out", out)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "grid.png")  # the result on stdout
    assert r.stderr == "idxmnist: wrote 100 test images, one row per class\n"
    img = Image.open(out)
    assert img.format == "PNG"
    assert img.size == (4 + 10 * (56 + 4), 4 + 10 * (56 + 14 + 4))
    pixels = np.asarray(img.convert("L"))
    rows = first_per_class(y, 10)
    for r_, c_ in ((0, 0), (3, 7), (9, 9)):
        top, left = 4 + r_ * (56 + 14 + 4), 4 + c_ * (56 + 4)
        cell = pixels[top : top + 56, left : left + 56]
        expected = 255 - x[rows[r_][c_]].repeat(2, axis=0).repeat(2, axis=1)
        assert np.array_equal(cell, expected)
        band = pixels[top + 56 : top + 70, left : left + 56]
        assert band.min() < 200  # the label is drawn beneath


BLOCK_PIL = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("blocked for the test: " + name)
sys.meta_path.insert(0, Block())
from idxmnist.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_png_without_pillow_is_one_line(tmp_path):
    make_dataset(tmp_path / "src")
    out = tmp_path / "g.png"
    r = subprocess.run(
        [sys.executable, "-c", BLOCK_PIL, "preview", "--source", tmp_path / "src", "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert r.stderr == "idxmnist: error: --out needs Pillow: pip install 'idxmnist[preview]'\n"
    assert not out.exists()
    # text needs no Pillow
    r = subprocess.run(
        [sys.executable, "-c", BLOCK_PIL, "preview", "--source", tmp_path / "src", "--n", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert len(header_labels(r.stdout)) == 5


def test_real_mnist_png(mnist_dir, tmp_path):
    pytest.importorskip("PIL")
    out = tmp_path / "p.png"
    r = run("preview", "--source", mnist_dir, "--out", out)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size < 100_000


def test_wide_class_names_keep_the_columns_aligned():
    """Kana take two terminal columns: a header never pushes the next block right."""
    x = np.zeros((2, 28, 28), np.uint8)
    x[:, 4:24, 4:12] = 255  # 8 pixels wide: a 4-column block
    rows = [np.array([0]), np.array([1])]
    text = render_text(x, np.array([0, 1]), rows, names=("\u304a", "\u304d\u304d"))
    head, glyphs = text.splitlines()[0], text.splitlines()[1]
    assert glyphs == "\u2588" * 4 + " " + "\u2588" * 4
    assert head == "0 \u304a 1 \u304d"  # "1 きき" cut to 4 columns: "1 き"
    text = render_text(x, np.array([0, 1]), rows, names={1: "\u304d"})  # a mapping
    assert text.splitlines()[0] == "0    1 \u304d"
