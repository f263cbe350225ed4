"""The two exception families of idxmnist, and how it warns.

``IdxError`` is raised for bad *data*: a file that is malformed, truncated,
corrupt, or holds the wrong thing. ``DownloadError`` is raised when no mirror
could deliver a verified file. ``ChecksumError`` belongs to both: bytes that
do not match their pinned checksum. Every message names the file and says
what to do next.

Warnings (:func:`warn`) are attributed to the user's line that called into
idxmnist, not to the library frame that noticed the problem.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "IdxError",
    "TruncatedError",
    "ChecksumError",
    "DownloadError",
    "warn",
    "describe",
    "reason_of",
    "in_words",
]


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


class DownloadError(OSError):
    """No mirror delivered a verified copy of a file."""


class ChecksumError(IdxError, DownloadError):
    """A file's size or checksum does not match the one pinned in the registry.

    Both an :class:`IdxError` (the bytes are wrong) and a :class:`DownloadError`
    (raised when every mirror served wrong bytes), so either ``except`` catches it.
    """


_PACKAGE = __name__.rpartition(".")[0]


def _ours(module: str) -> bool:
    # contextlib: its frames sit between ours when a ``with`` block of ours warns
    return module in (_PACKAGE, "contextlib") or module.startswith(_PACKAGE + ".")


def warn(message: str, category: type[Warning] = RuntimeWarning) -> None:
    """Warn, attributed to the first frame outside idxmnist: the caller's own line."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2: the frame that called warn()
    while frame.f_back is not None and _ours(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def describe(source: object) -> str:
    """A short human name for a path or file object, for error messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return os.fspath(name)
    return f"<{type(source).__name__}>"


_WORDS = {1: "one", 2: "two", 4: "four"}  # the counts datasets have; others as digits


def in_words(count: int) -> str:
    """A count as messages write it: ``4`` -> ``four``; larger ones as digits."""
    return _WORDS.get(count, str(count))


def reason_of(exc: BaseException, name: str) -> str:
    """An error's message without the leading ``name: `` the format layer puts there."""
    text = str(exc)
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text
