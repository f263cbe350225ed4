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


# -- the messages word for word, and the bounds where they are -------------------------------

RESTORE = (
    "the class table is damaged: restore the file (idxmnist ships the publishers' tables unchanged)"
)


def refusal(parse, text: str, name: str) -> str:
    with pytest.raises(IdxError) as info:
        parse(text, name)
    return str(info.value)


def test_a_bad_mapping_line_message_word_for_word():
    assert refusal(cls.parse_mapping, "0 48\n\n7\n", "m.txt") == (
        f"m.txt: line 3 is '7', expected 'label code [code ...]' (whole numbers); {RESTORE}"
    )
    assert refusal(cls.parse_mapping, "0 48\n1 55296\n", "m.txt") == (
        "m.txt: line 2 is '1 55296', expected Unicode code points (1 to 0x10FFFF, "
        f"no surrogates); {RESTORE}"
    )
    assert refusal(cls.parse_mapping, "0 48\n0 49\n", "m.txt") == (
        f"m.txt: line 2 is '0 49', expected each label once (label 0 appears twice); {RESTORE}"
    )


def test_a_bad_classmap_row_message_word_for_word():
    assert refusal(cls.parse_classmap, CSV + "2,U+3048,\u3046\n", "c.csv") == (
        f"c.csv: line 4 is '2,U+3048,\u3046', expected the character of U+3048 ('\u3048'); "
        f"{RESTORE}"
    )
    assert refusal(cls.parse_classmap, "index,char\n0,U+3042,\u3042\n", "c.csv") == (
        f"c.csv: line 1 is 'index,char', expected the header 'index,codepoint,char'; {RESTORE}"
    )
    assert refusal(cls.parse_classmap, CSV + "1,U+3046,\u3046\n", "c.csv") == (
        "c.csv: line 4 is '1,U+3046,\u3046', expected each label once (label 1 appears "
        f"twice); {RESTORE}"
    )
    assert refusal(cls.parse_classmap, CSV + "2,U+DFFF,x\n", "c.csv") == (
        "c.csv: line 4 is '2,U+DFFF,x', expected Unicode code points (1 to 0x10FFFF, "
        f"no surrogates); {RESTORE}"
    )
    assert refusal(cls.parse_classmap, CSV + "2,u+3046,\u3046\n", "c.csv") == (
        f"c.csv: line 4 is '2,u+3046,\u3046', expected 'index,U+XXXX,character'; {RESTORE}"
    )


def test_the_gaps_and_emptiness_messages_word_for_word():
    assert refusal(cls.parse_mapping, "3 48\n4 49\n6 51\n", "m.txt") == (
        "m.txt: labels 3..6 have gaps (no line for [5]); a class table names every label of one run"
    )
    # no more than the first five missing labels are named
    assert refusal(cls.parse_mapping, "1 48\n9 57\n2 49\n", "m.txt") == (
        "m.txt: labels 1..9 have gaps (no line for [3, 4, 5, 6, 7]); a class table names "
        "every label of one run"
    )
    assert refusal(cls.parse_classmap, "index,codepoint,char\n\n", "c.csv") == (
        "c.csv: holds no classes; expected one line per label"
    )


def test_labels_may_start_anywhere_and_come_in_any_order():
    assert cls.parse_mapping("6 66\n5 65\n7 67\n", "m.txt") == {5: "A", 6: "B", 7: "C"}
    assert cls.parse_mapping("5 65 66 67\n", "m.txt") == {5: "ABC"}  # every code of a line
    csv = "index,codepoint,char\n11,U+3044,\u3044\n10,U+3042,\u3042\n"
    assert list(cls.parse_classmap(csv, "c.csv").items()) == [(10, "\u3042"), (11, "\u3044")]


def test_code_points_pass_up_to_each_bound_and_not_past_it():
    ok = {1: "\x01", 0xD7FF: "\ud7ff", 0xE000: "\ue000", 0x10FFFF: "\U0010ffff"}
    for code, char in ok.items():
        assert cls.parse_mapping(f"0 {code}\n", "m.txt") == {0: char}
    for code in (0, 0xD800, 0xDFFF, 0x110000):
        assert "expected Unicode code points" in refusal(cls.parse_mapping, f"0 {code}\n", "m")


def test_classmap_rows_lowercase_hex_short_codes_blank_and_padded_lines():
    text = "  index,codepoint,char  \n0,U+304a,\u304a\n\n  1,U+41,A \r\n2,U+5,\x05\n"
    assert cls.parse_classmap(text, "c.csv") == {0: "\u304a", 1: "A", 2: "\x05"}
    assert "expected 'index,U+XXXX" in refusal(cls.parse_classmap, CSV + "\u00b2,U+41,A\n", "c")


def test_a_table_of_exactly_the_size_limit_is_read(tmp_path):
    exact = tmp_path / "exact.txt"
    exact.write_bytes(b"0 48\n" + b"\n" * (cls.MAX_BYTES - 5))
    assert exact.stat().st_size == cls.MAX_BYTES
    assert cls.load(ClassFile(str(exact))) == {0: "0"}
    over = tmp_path / "over.txt"
    over.write_bytes(b"0 48\n" + b"\n" * (cls.MAX_BYTES - 4))
    with pytest.raises(IdxError) as info:
        cls.load(ClassFile(str(over)))
    assert str(info.value) == f"{over}: {cls.MAX_BYTES + 1} bytes is too large for a class table"


def test_a_table_that_is_not_utf8_is_refused_word_for_word(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"0 233\n\xe9\n")
    with pytest.raises(IdxError) as info:
        cls.load(ClassFile(str(latin)))
    assert str(info.value).startswith(f"{latin}: not UTF-8 text ('utf-8' codec can't decode")
    assert str(info.value).endswith("; a class table is text")


def test_a_classfile_under_the_home_folder_and_the_default_format(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "mine.txt").write_text("0 120\n1 121\n")
    table = ClassFile("~/mine.txt")
    assert table.format == "mapping"
    assert table.resolve() == tmp_path / "mine.txt"
    assert cls.load(table) == {0: "x", 1: "y"}
    csv = tmp_path / "mine.csv"
    csv.write_text(CSV)
    assert cls.load(ClassFile("~/mine.csv", "classmap")) == {0: "\u3042", 1: "\u3044"}


def test_a_gap_right_after_the_first_label_is_named():
    assert refusal(cls.parse_mapping, "0 48\n3 51\n", "m.txt").startswith(
        "m.txt: labels 0..3 have gaps (no line for [1, 2]);"
    )


@pytest.mark.parametrize("code", ["U+G046", "U+30X6", "U+304X", "U+X"])
def test_a_code_point_with_a_character_that_is_not_hex_is_refused(code):
    row = f"2,{code},\u3046"
    assert refusal(cls.parse_classmap, CSV + row + "\n", "c.csv") == (
        f"c.csv: line 4 is '{row}', expected 'index,U+XXXX,character'; {RESTORE}"
    )


def test_only_a_byte_order_mark_may_come_before_the_header():
    assert "expected the header" in refusal(cls.parse_classmap, "X" + CSV, "c.csv")
    assert "expected the header" in refusal(cls.parse_classmap, "\ufeffX" + CSV, "c.csv")


def test_a_table_is_read_as_utf8_whatever_the_locale(tmp_path):
    import locale

    path = tmp_path / "k49_classmap.csv"
    path.write_bytes(CSV.encode("utf-8"))
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # an ASCII locale: its default would refuse the text
    try:
        assert cls.load(ClassFile(str(path), "classmap")) == {0: "\u3042", 1: "\u3044"}
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
