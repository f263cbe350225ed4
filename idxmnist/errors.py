"""The two exception families of idxmnist.

``IdxError`` is raised for bad *data*: a file that is malformed, truncated,
corrupt, or holds the wrong thing. ``DownloadError`` is raised when no mirror
could deliver a verified file. Every message names the file and says what to
do next.
"""

from __future__ import annotations

import os

__all__ = ["IdxError", "TruncatedError", "ChecksumError", "DownloadError"]


class IdxError(ValueError):
    """Malformed, truncated or corrupt input; the message names the file."""


class TruncatedError(IdxError):
    """The file ends before the data its header declares (often a cut-off download)."""


class ChecksumError(IdxError):
    """A file's size or checksum does not match the registry."""


class DownloadError(OSError):
    """No mirror delivered a verified copy of a file."""


def describe(source: object) -> str:
    """A short human name for a path or file object, for error messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return os.fspath(name)
    return f"<{type(source).__name__}>"
