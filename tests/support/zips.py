"""Zip archives for the ziparchive and zipdirectory tests, made with ``zipfile``.

``make`` writes members with fixed dates and methods; ``THREE`` is a small
archive laid out as NIST's ``gzip.zip`` (three EMNIST members); ``NOISE`` and
``SMALL_NOISE`` are bytes that do not compress.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from .family import emnist_member_names


def make(members: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (data, method) in members.items():
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, method)
    return buf.getvalue()


#: 600,000 bytes that do not compress: more than two read chunks (256 KiB) of a member
NOISE = np.random.default_rng(7).integers(0, 256, 600_000, dtype=np.uint8).tobytes()
SMALL_NOISE = np.random.default_rng(8).integers(0, 256, 1000, dtype=np.uint8).tobytes()
MEMBER = "gzip/emnist-digits-test-labels-idx1-ubyte.gz"


def write_zip(tmp_path, data: bytes, name: str = "gzip.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(f, size: int) -> bytes:
    parts = []
    while part := f.read(size):
        parts.append(part)
    return b"".join(parts)


NAMES3 = [f"gzip/{n}" for n in emnist_member_names("digits")[:3]]
THREE = make(
    {
        NAMES3[0]: (SMALL_NOISE, zipfile.ZIP_DEFLATED),
        NAMES3[1]: (NOISE[:5000], zipfile.ZIP_STORED),
        NAMES3[2]: (SMALL_NOISE[::-1], zipfile.ZIP_DEFLATED),
    }
)
