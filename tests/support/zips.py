"""Zip archives for the ziparchive and zipdirectory tests, made with ``zipfile``.

``make`` writes members with fixed dates and methods; ``THREE`` is a small
archive laid out as NIST's ``gzip.zip`` (three EMNIST members); ``NOISE`` and
``SMALL_NOISE`` are bytes that do not compress.
"""

from __future__ import annotations

import io
import zipfile


def make(members: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, (data, method) in members.items():
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, method)
    return buf.getvalue()
