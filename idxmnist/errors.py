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
    """Malformed, truncated or corrupt input; the message names the file.

    A ``ValueError``, so code that already catches that keeps working.

    >>> try:  # doctest: +SKIP
    ...     (x, y), _ = idxmnist.load_idx_dataset("downloads/")
    ... except idxmnist.IdxError as exc:
    ...     print(exc)  # one line: the file, what is wrong, what to do
    """


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
