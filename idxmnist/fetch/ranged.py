"""One split of an archive dataset by HTTP ranges: its directory, then only its members.

EMNIST's ``gzip.zip`` is 536 MiB; a split needs four of its members (the
digits split, 66 MiB). Where the server takes ``Range``,
:func:`fetch_members` transfers those and little else:

1. the archive's last :data:`TAIL` bytes (of the pinned size), which hold
   the end of central directory record (and the ZIP64 ones, if any) and
   usually the whole central directory; more, from where the directory
   starts, only if they do not (``idx.zipdirectory``);
2. for each member wanted, the bytes from its local header to the next
   member's: its header, its data, any data descriptor, into
   ``.<member name>.span.part`` (resumable like any download);
3. the member read out of that file (stored or deflated, size and CRC-32
   checked, ``idx.ziparchive.MemberReader``), verified against its own
   pinned size and checksum, and kept.

Every request after the first carries the archive's validator in
``If-Range``, so a file that changed in between comes back whole, which is
refused unread, never mixed in. A server that ignores ``Range`` (``200``), a
``Content-Range`` that does not fit, a directory that cannot be read: each is
:class:`NoRangeError`, and the caller falls back to the whole archive. A member
that fails its check is reported, and the caller fetches it from the whole
archive too.
"""

from __future__ import annotations

import functools

from ..datasets.spec import RemoteFile
from ..errors import IdxError, shown_url
from ..idx.zipdirectory import Directory, NeedMoreError, end_record
from . import partial, transfer
from .members import keep_member, member_name
from .session import Session
from .transfer import Expect, MirrorError

__all__ = ["NoRangeError", "fetch_members", "read_directory", "TAIL", "MAX_DIRECTORY"]

#: bytes asked for from the archive's end first: its end records and, for
#: EMNIST's 30 entries (about 3.5 KB), the whole central directory
TAIL = 1 << 13
#: a central directory larger than this is not read by ranges (the whole archive is)
MAX_DIRECTORY = 64 << 20


class NoRangeError(Exception):
    """The archive cannot be read by ranges here, and why: fetch it whole."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read(
    session: Session, url: str, span: tuple[int, int], total: int, validator: str | None
) -> tuple[bytes, str | None]:
    """The bytes ``span`` of the archive at ``url``, and the archive's validator."""
    start, stop = span
    part = partial.Partial(session.dest, f"archive-end.{start}-{stop}")
    expect = Expect(None, stop - start, "sha256", span=span, total=total, if_range=validator)
    try:
        transfer.fetch(url, part, expect, session.seconds, desc="the archive's directory")
    except MirrorError as exc:
        if exc.no_range:
            raise NoRangeError(exc.reason) from None
        raise
    try:
        meta = part.meta()
        return part.path.read_bytes(), (meta.validator if meta is not None else None)
    finally:
        part.discard()


def read_directory(session: Session, url: str, size: int) -> tuple[Directory, str | None]:
    """The central directory of the ``size``-byte archive at ``url``, read by ranges,
    and the archive's validator (``If-Range`` for the members)."""
    start = max(0, size - TAIL)
    tail, validator = _read(session, url, (start, size), size, None)
    try:
        try:
            end = end_record(tail, start, size, shown_url(url))
        except NeedMoreError as more:
            head, _ = _read(session, url, (more.start, start), size, validator)
            tail, start = head + tail, more.start
            end = end_record(tail, start, size, shown_url(url))
        if end.start < start:
            if size - end.start > MAX_DIRECTORY:
                raise NoRangeError(f"its central directory is {end.size} bytes")
            head, _ = _read(session, url, (end.start, start), size, validator)
            tail, start = head + tail, end.start
        return Directory(tail[end.start - start :], end, shown_url(url)), validator
    except IdxError as exc:
        raise NoRangeError(str(exc)) from None


def fetch_members(session: Session, url: str, pin: RemoteFile) -> tuple[dict[str, str], set[str]]:
    """Keep each member ``session`` wants from the archive at ``url``, fetched by ranges.

    ``pin`` is the archive's registry entry (its size tells where its end
    is). Returns why each member that did not verify failed, and the names
    of those the archive's directory does not list at all. Raises
    :class:`NoRangeError` to fall back to the whole archive, and :class:`MirrorError`
    when the mirror failed (a dead host, a connection cut: a ``.span.part``
    kept is resumed by the next call).
    """
    directory, validator = read_directory(session, url, pin.size)
    problems: dict[str, str] = {}
    absent: set[str] = set()
    for remote in session.wanted():
        name = member_name(directory, session.archive, remote)
        if name is None:
            problems[remote.name] = f"holds no {remote.name}"
            absent.add(remote.name)
            continue
        try:
            span = directory.span(name)
        except IdxError as exc:
            problems[remote.name] = str(exc)
            continue
        part = partial.Partial(session.dest, f"{remote.name}.span")
        expect = Expect(
            None, span[1] - span[0], "sha256", span=span, total=pin.size, if_range=validator
        )
        try:
            transfer.fetch(url, part, expect, session.seconds, desc=remote.name)
        except MirrorError as exc:
            if exc.no_range:
                raise NoRangeError(f"{directory.where(name)}: {exc.reason}") from None
            raise
        try:
            opener = functools.partial(directory.open, name, part.path)
            problem = keep_member(session, remote, directory.where(name), opener)
        finally:
            part.discard()
        if problem is not None:
            problems[remote.name] = problem
    return problems, absent
