"""The two exception families of idxmnist, and how it warns.

``IdxError`` is raised for bad *data*: a file that is malformed, truncated,
corrupt, or holds the wrong thing. ``DownloadError`` is raised when no mirror
could deliver a verified file. ``ChecksumError`` belongs to both: bytes that
do not match their pinned checksum. Every message names the file and says
what to do next.

Warnings (:func:`warn`) are attributed to the user's line that called into
idxmnist, not to the library frame that noticed the problem.

Names from outside (a file or folder name, an archive member's name, a URL,
what a server sends) can hold escape sequences, newlines or bidirectional
overrides. :func:`printable` is the one place they are made safe to show, and
:func:`shown_url` the one place a URL is made fit for a message (its password
hidden). The error families apply :func:`printable_lines` to their messages
and :func:`warn` to every warning, so nothing idxmnist says can drive a
terminal; a name that goes into a message of several lines is escaped with
:func:`printable` where it is put in, so that it stays on its own line.
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
    "printable",
    "printable_lines",
    "shown_url",
]


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` as it is safe to show on a terminal, on one line.

    Every character a terminal acts on, or that does not show, is escaped as
    Python's ``repr`` writes it (``\\n``, ``\\xNN``, ``\\uNNNN``,
    ``\\UNNNNNNNN``): control characters (the escape of an ANSI sequence, a
    newline, a carriage return, a backspace), format characters
    (bidirectional overrides) and separators other than the space. A byte of
    a file name that is not UTF-8 shows as ``\\xNN``, that byte. Everything
    else, letters of every script included, is kept: a plain name reads as
    it is.

    >>> print(printable("a\\x1b[31mred\\nrecognised"))
    a\\x1b[31mred\\nrecognised
    >>> printable("émnist-一.gz")
    'émnist-一.gz'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def printable_lines(text: str) -> str:
    """``text``, a message of one or more lines, each line :func:`printable`."""
    if text.isprintable():
        return text
    return "\n".join(printable(line) for line in text.split("\n"))


def shown_url(url: str) -> str:
    """``url`` as messages, progress bars and records show it: its credentials hidden.

    ``http://user:secret@host/x`` -> ``http://user:***@host/x``; a user name
    alone (which may be a token) -> ``http://***@host/x``. Then
    :func:`printable`. The one place a URL is made fit to show: every message
    naming a URL takes it from here.

    >>> shown_url("https://me:hunter2@mirror.example/mnist/")
    'https://me:***@mirror.example/mnist/'
    """
    scheme, sep, rest = url.partition("://")
    if sep:
        cut = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
        authority, path = rest[:cut], rest[cut:]
        if "@" in authority:
            userinfo, _, host = authority.rpartition("@")
            user, colon, _ = userinfo.partition(":")
            hidden = f"{user}:***" if colon else "***"
            url = f"{scheme}://{hidden}@{host}{path}"
    return printable(url)


class _Shown:
    """Mixed into the error families: the message is made :func:`printable_lines`."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (printable_lines(args[0]), *args[1:])
        super().__init__(*args)


class IdxError(_Shown, ValueError):
    """Malformed, truncated or corrupt input; the message names the file.

    A ``ValueError``, so code that already catches that keeps working.

    >>> try:  # doctest: +SKIP
    ...     (x, y), _ = idxmnist.load_idx_dataset("downloads/")
    ... except idxmnist.IdxError as exc:
    ...     print(exc)  # one line: the file, what is wrong, what to do
    """


class TruncatedError(IdxError):
    """The file ends before the data its header declares (often a cut-off download)."""


class DownloadError(_Shown, OSError):
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
    """Warn, attributed to the first frame outside idxmnist: the caller's own line.

    The message is made :func:`printable_lines` first.
    """
    message = printable_lines(message)
    level, frame = 2, sys._getframe(1)  # stacklevel 2: the frame that called warn()
    while frame.f_back is not None and _ours(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def describe(source: object) -> str:
    """A short human name for a path or file object, for error messages (:func:`printable`)."""
    if isinstance(source, (str, os.PathLike)):
        return printable(os.fsdecode(source))
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return printable(os.fsdecode(name))
    return f"<{type(source).__name__}>"


_WORDS = {1: "one", 2: "two", 4: "four"}  # the counts datasets have; others as digits


def in_words(count: int) -> str:
    """A count as messages write it: ``4`` -> ``four``; larger ones as digits."""
    return _WORDS.get(count, str(count))


def reason_of(exc: BaseException, name: str) -> str:
    """An error's message without the leading ``name: `` the format layer puts there."""
    text, name = str(exc), printable(name)  # as the message shows it
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text
