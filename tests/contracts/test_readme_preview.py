"""The README's ``idxmnist preview --dataset emnist-letters`` block is real output.

The letters are drawn here from a 5x7 bitmap (so the picture never depends
on a font), stored transposed as NIST stores EMNIST, and served through the
built-in letters entry with its split sizes and pins changed to the files'
own (registered at run time: every file idxmnist did not write is verified).
The command in the README then prints exactly the block shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import idxmnist
from idxmnist import cli
from idxmnist.datasets import registry

from ..support.synthetic import pinned_spec

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
GLYPHS = {
    1: ["..#..", ".#.#.", "#...#", "#####", "#...#", "#...#", "#...#"],
    2: ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
    3: [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
    4: ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
}


def letter(label: int) -> np.ndarray:
    """An upright 28x28 image of the letter: the bitmap scaled 3x, white on black."""
    bitmap = np.array([[c == "#" for c in row] for row in GLYPHS[label]])
    image = np.zeros((28, 28), np.uint8)
    image[3:24, 6:21] = np.where(np.kron(bitmap, np.ones((3, 3), bool)), 255, 0)
    return image


def readme_block() -> tuple[str, str]:
    block = re.search(
        r"```text\n\$ (idxmnist preview --dataset emnist-letters[^\n]*)\n(.*?)```", README, re.S
    )
    assert block, "README shows no emnist-letters preview"
    return block.group(1), block.group(2)


def test_the_readme_letters_are_what_preview_prints(tmp_path, registered, monkeypatch, capsys):
    labels = np.array([1, 2, 3, 4] * 3, np.uint8)
    upright = np.stack([letter(int(label)) for label in labels])
    folder = tmp_path / "source" / "emnist"
    for part in ("train", "test"):
        stored = upright.transpose(0, 2, 1).copy()  # as NIST stores them
        idxmnist.write_idx(folder / f"emnist-letters-{part}-images-idx3-ubyte.gz", stored)
        idxmnist.write_idx(folder / f"emnist-letters-{part}-labels-idx1-ubyte.gz", labels)
    base = registry.get("emnist_letters")
    spec = pinned_spec(base, folder, content=False)  # pinned as EMNIST is: by container
    assert [s.count for s in spec.splits] == [12, 12]
    registered(spec)
    monkeypatch.setenv("IDXMNIST_SOURCE", str(tmp_path / "source"))
    monkeypatch.setenv("IDXMNIST_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "80")
    command, shown = readme_block()
    assert cli.main(command.split()[1:]) == 0
    printed = capsys.readouterr().out
    assert printed == shown
    # and it is upright: the A's apex, one block wide, tops the first image
    assert printed.splitlines()[1].startswith("   \u2584 ")
