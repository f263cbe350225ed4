"""idx/format.py: the IDX header, parsed from exactly its own bytes.

(The format's messages through ``read_idx`` are pinned in
``tests/contracts/test_messages.py`` and ``tests/contracts/test_bad_input.py``.)
"""

from __future__ import annotations

import struct

import pytest

import idxmnist


def test_parse_magic_and_parse_dims_read_only_their_own_bytes():
    """Both take a buffer that may run on (parse_header passes slices of a longer lead)."""
    from idxmnist.idx.format import parse_dims, parse_magic

    with pytest.raises(idxmnist.IdxError) as info:
        parse_magic(b"\x01\x00\x08\x03\xff\xff", "f")
    assert str(info.value) == (
        "f: not an IDX file: first bytes are 01 00 08 03, expected 00 00 <type> <ndim>"
    )
    assert parse_magic(b"\x00\x00\x08\x02\xff", "f") == (0x08, 2)
    h = parse_dims(0x08, 2, struct.pack(">II", 3, 5) + b"\xff\xff\xff", "f")
    assert h.shape == (3, 5) and h.total_size == 4 + 8 + 15
