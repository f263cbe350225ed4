"""The cut-and-resume setting shared by the resume tests: which file is cut, and where."""

from __future__ import annotations

from .httpserver import FaultServer
from .synth import NAMES

BIG = NAMES[0]  # the training images: the one file worth cutting
N = 3000


def flipped(body: bytes, at: int = 100) -> bytes:
    """``body`` with one bit changed at ``at``: another version of the file."""
    return body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]


def ranges(server: FaultServer, name: str = BIG) -> list[str | None]:
    return [h.get("Range") for h in server.headers_of(name)]
