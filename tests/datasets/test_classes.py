"""Class-name tables: the two formats the publishers use, and every way a line can be bad.

Also a registered dataset's own mapping file: a bad line is refused by
``class_names`` and by ``load_data``, which leaves nothing in the cache.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

import idxmnist
from idxmnist import IdxError, emnist
from idxmnist.datasets import ClassFile
from idxmnist.datasets import classes as cls
from idxmnist.datasets.classes import DATA_DIR

from ..support.family import emnist_release, emnist_spec, listing


def test_mapping_lines_crlf_and_blank_lines():
    text = "1 65 97\r\n\r\n2 66 98\r\n3 67\r\n"
    assert cls.parse_mapping(text, "m.txt") == {1: "Aa", 2: "Bb", 3: "C"}


def test_mapping_is_returned_in_label_order():
    assert list(cls.parse_mapping("2 66\n0 48\n1 49\n", "m.txt")) == [0, 1, 2]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("7", "'label code \\[code ...\\]' \\(whole numbers\\)"),
        ("7 x71", "'label code \\[code ...\\]' \\(whole numbers\\)"),
        ("7 -71", "'label code \\[code ...\\]' \\(whole numbers\\)"),
        (
            "7 \u0667\u0661",
            "'label code \\[code ...\\]' \\(whole numbers\\)",
        ),  # Arabic-Indic digits
        ("7 0", "Unicode code points"),
        ("7 55296", "Unicode code points"),  # a surrogate
        ("7 1114112", "Unicode code points"),  # past U+10FFFF
        ("1 72", "each label once \\(label 1 appears twice\\)"),
    ],
)
def test_bad_mapping_line_is_named(line, expected):
    text = f"0 48\n1 49\n{line}\n"
    with pytest.raises(IdxError, match=rf"m\.txt: line 3 is {line!r}, expected {expected}"):
        cls.parse_mapping(text, "m.txt")


def test_mapping_gaps_and_emptiness():
    with pytest.raises(IdxError, match=r"labels 0\.\.3 have gaps \(no line for \[2\]\)"):
        cls.parse_mapping("0 48\n1 49\n3 51\n", "m.txt")
    with pytest.raises(IdxError, match=r"m\.txt: holds no classes"):
        cls.parse_mapping("\n\n", "m.txt")


CSV = "index,codepoint,char\n0,U+3042,\u3042\n1,U+3044,\u3044\n"


def test_classmap_rows():
    assert cls.parse_classmap(CSV, "c.csv") == {0: "\u3042", 1: "\u3044"}
    assert cls.parse_classmap("\ufeff" + CSV.replace("\n", "\r\n"), "c.csv") == {
        0: "\u3042",
        1: "\u3044",
    }


@pytest.mark.parametrize(
    "row, expected",
    [
        ("2,U+3046", "'index,U\\+XXXX,character'"),
        ("2,U+3046,\u3046,x", "'index,U\\+XXXX,character'"),
        ("x,U+3046,\u3046", "'index,U\\+XXXX,character'"),
        ("2,3046,\u3046", "'index,U\\+XXXX,character'"),
        ("2,U+,\u3046", "'index,U\\+XXXX,character'"),
        ("2,U+30G6,\u3046", "'index,U\\+XXXX,character'"),
        ("2,U+3048,\u3046", "the character of U\\+3048 \\('\u3048'\\)"),
        ("2,U+D800,\u3046", "Unicode code points"),
        ("1,U+3046,\u3046", "each label once \\(label 1 appears twice\\)"),
    ],
)
def test_bad_classmap_row_is_named(row, expected):
    with pytest.raises(
        IdxError, match=rf"c\.csv: line 4 is '{re.escape(row)}', expected {expected}"
    ):
        cls.parse_classmap(CSV + row + "\n", "c.csv")


def test_classmap_needs_its_header():
    with pytest.raises(
        IdxError, match=r"c\.csv: line 1 is '0,U\+3042,\u3042', expected the header"
    ):
        cls.parse_classmap(CSV.split("\n", 1)[1], "c.csv")
    with pytest.raises(IdxError, match=r"line 1 is '', expected the header"):
        cls.parse_classmap("", "c.csv")


def test_files_absolute_or_packaged(tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("0 120\n1 121\n")
    assert cls.load(ClassFile(str(mine))) == {0: "x", 1: "y"}
    shipped = ClassFile("emnist/emnist-digits-mapping.txt")
    assert shipped.resolve() == cls.DATA_DIR / "emnist" / "emnist-digits-mapping.txt"
    assert cls.load(shipped) == {i: str(i) for i in range(10)}
    table = cls.load(shipped)
    table[0] = "changed"  # a new dict each time: the cached table is not touched
    assert cls.load(shipped)[0] == "0"


def test_file_errors(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"0 48\n" * (cls.MAX_BYTES // 5 + 1))
    with pytest.raises(IdxError, match=r"big\.txt: \d+ bytes is too large for a class table"):
        cls.load(ClassFile(str(big)))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"index,codepoint,char\n0,U+00E9,\xe9\n")
    with pytest.raises(IdxError, match=r"latin\.csv: not UTF-8 text"):
        cls.load(ClassFile(str(latin), "classmap"))
    with pytest.raises(FileNotFoundError):
        cls.load(ClassFile(str(tmp_path / "missing.txt")))
    with pytest.raises(ValueError, match="format must be 'mapping' or 'classmap'"):
        cls.load(ClassFile(str(latin), "csv"))  # type: ignore[arg-type]


# -- a registered dataset's mapping file -------------------------------------------------------


def test_mapping_file_with_a_bad_line(tmp_path, registered):
    release = emnist_release(tmp_path / "release")
    bad = tmp_path / "emnist-letters-mapping.txt"
    good = (DATA_DIR / "emnist" / "emnist-letters-mapping.txt").read_text()
    bad.write_text(good.replace("7 71 103", "7 71 x103"))
    registered(replace(emnist_spec(release), classes=ClassFile(str(bad))))
    with pytest.raises(idxmnist.IdxError, match=r"mapping\.txt: line 7 is '7 71 x103', expected"):
        emnist.class_names("letters")
    cache = tmp_path / "cache"
    with pytest.raises(idxmnist.IdxError, match=r"line 7"):
        emnist.load_data("letters", source=release.root, cache_dir=cache)
    # no cache file: only the store, with the source's verified members
    assert {p for p in listing(cache) if "/" not in p and not p.endswith(".lock")} == {"emnist"}
