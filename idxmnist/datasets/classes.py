"""Class-name tables: what each label of a dataset stands for.

A registry entry names its classes inline (a tuple, labels counted from its
``first_label``) or points at a :class:`ClassFile`: one of the tables the
publishers ship, kept byte for byte as package data under
``idxmnist/datasets/data/``, or a file of the user's own. Two formats:

* ``"mapping"``, EMNIST's ``emnist-<split>-mapping.txt``: one line per label,
  ``label code [code ...]``, decimal Unicode code points; a label that stands
  for several characters (EMNIST letters: ``1 65 97``, ``A`` and ``a``) is
  named by all of them, ``"Aa"``.
* ``"classmap"``, Kuzushiji's ``*_classmap.csv``: the header
  ``index,codepoint,char`` and one row per label, ``0,U+3042,あ``.

Tables are read on first use (never at ``import idxmnist``) and kept. Labels
must be whole numbers forming one run without gaps (``0..46``, ``1..26``);
a bad line raises :class:`IdxError` naming the file and the line.

>>> parse_mapping("1 65 97\\r\\n2 66 98\\r\\n", "letters.txt")
{1: 'Aa', 2: 'Bb'}
>>> parse_classmap("index,codepoint,char\\n0,U+304A,\\u304a\\n", "map.csv")
{0: 'お'}
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias

from ..errors import IdxError

__all__ = ["ClassFile", "Format", "DATA_DIR", "load", "parse_mapping", "parse_classmap"]

Format: TypeAlias = Literal["mapping", "classmap"]
#: where the package data lives: the publishers' tables, unchanged
DATA_DIR = Path(__file__).resolve().parent / "data"
_HEADER = "index,codepoint,char"
#: a table larger than this is not a class table
MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ClassFile:
    """A class-name table in a file: ``path`` relative to the package data, or absolute.

    ``format`` is ``"mapping"`` (EMNIST's ``label code [code ...]`` lines) or
    ``"classmap"`` (Kuzushiji's ``index,codepoint,char`` CSV).
    """

    path: str
    format: Format = "mapping"

    def resolve(self) -> Path:
        """The file itself: ``path`` under the package data unless it is absolute."""
        p = Path(self.path).expanduser()
        return p if p.is_absolute() else DATA_DIR / p


def _bad(name: str, number: int, line: str, expected: str) -> IdxError:
    return IdxError(
        f"{name}: line {number} is {line!r}, expected {expected}; the class table is "
        "damaged: restore the file (idxmnist ships the publishers' tables unchanged)"
    )


def _check_run(table: dict[int, str], name: str) -> dict[int, str]:
    if not table:
        raise IdxError(f"{name}: holds no classes; expected one line per label")
    labels = sorted(table)
    if labels != list(range(labels[0], labels[0] + len(labels))):
        missing = sorted(set(range(labels[0], labels[-1] + 1)) - set(labels))
        raise IdxError(
            f"{name}: labels {labels[0]}..{labels[-1]} have gaps (no line for {missing[:5]}); "
            "a class table names every label of one run"
        )
    return dict(sorted(table.items()))


def _add(table: dict[int, str], label: int, text: str, name: str, number: int, line: str) -> None:
    if label in table:
        raise _bad(name, number, line, f"each label once (label {label} appears twice)")
    table[label] = text


def _char(code: int, name: str, number: int, line: str) -> str:
    if not 0 < code < 0x110000 or 0xD800 <= code < 0xE000:
        raise _bad(name, number, line, "Unicode code points (1 to 0x10FFFF, no surrogates)")
    return chr(code)


def parse_mapping(text: str, name: str) -> dict[int, str]:
    """``{label: name}`` from an EMNIST mapping file's text.

    Args:
        text: the file's content: ``label code [code ...]`` per line, CRLF or LF.
        name: the file, for error messages.

    Returns:
        The labels in increasing order, each named by its characters joined.

    Raises:
        IdxError: a line is not whole numbers, a label repeats, a code is not
            a character, or the labels have gaps.

    Example:

    >>> parse_mapping("0 48\\n1 49\\n", "digits.txt")
    {0: '0', 1: '1'}
    """
    table: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2 or not all(f.isdigit() and f.isascii() for f in fields):
            raise _bad(name, number, line, "'label code [code ...]' (whole numbers)")
        codes = [int(f) for f in fields[1:]]
        chars = "".join(_char(c, name, number, line) for c in codes)
        _add(table, int(fields[0]), chars, name, number, line)
    return _check_run(table, name)


def parse_classmap(text: str, name: str) -> dict[int, str]:
    """``{label: character}`` from a Kuzushiji ``*_classmap.csv`` file's text.

    Args:
        text: the file's content: the header ``index,codepoint,char``, then
            ``index,U+XXXX,character`` per line.
        name: the file, for error messages.

    Returns:
        The labels in increasing order, each named by its character.

    Raises:
        IdxError: the header is missing, a row is malformed, its code point
            and character disagree, a label repeats, or the labels have gaps.

    Example:

    >>> parse_classmap("index,codepoint,char\\n0,U+3042,\\u3042\\n", "k49.csv")
    {0: 'あ'}
    """
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != _HEADER:
        first = lines[0] if lines else ""
        raise _bad(name, 1, first, f"the header {_HEADER!r}")
    table: dict[int, str] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.strip().split(",")
        ok = (
            len(fields) == 3
            and fields[0].isdigit()
            and fields[0].isascii()
            and fields[1][:2] == "U+"
            and len(fields[1]) > 2
            and all(c in "0123456789abcdefABCDEF" for c in fields[1][2:])
        )
        if not ok:
            raise _bad(name, number, line, "'index,U+XXXX,character'")
        char = _char(int(fields[1][2:], 16), name, number, line)
        if fields[2] != char:
            raise _bad(name, number, line, f"the character of {fields[1]} ({char!r})")
        _add(table, int(fields[0]), char, name, number, line)
    return _check_run(table, name)


def _read(path: Path) -> str:
    size = os.stat(path).st_size
    if size > MAX_BYTES:
        raise IdxError(f"{path}: {size} bytes is too large for a class table")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IdxError(f"{path}: not UTF-8 text ({exc}); a class table is text") from None


@cache
def _load(path: str, fmt: Format) -> tuple[tuple[int, str], ...]:
    text = _read(Path(path))
    table = parse_classmap(text, path) if fmt == "classmap" else parse_mapping(text, path)
    return tuple(table.items())


def load(table: ClassFile) -> dict[int, str]:
    """``{label: name}`` from ``table``, read once per process.

    Raises :class:`IdxError` for a malformed table and ``OSError`` if it cannot
    be read.
    """
    if table.format not in ("mapping", "classmap"):
        raise ValueError(f"{table}: format must be 'mapping' or 'classmap'")
    return dict(_load(os.fspath(table.resolve()), table.format))
