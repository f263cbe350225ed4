"""Datasets published as one archive (EMNIST's ``gzip.zip``): keep the members needed.

A split of such a dataset is four members of the archive. To make the cache
hold them, :func:`from_archive` gets each member wanted, verifies it
against the member's own pinned size and checksum, and keeps the ones that
verify under their names (``<cache dir>/emnist/emnist-digits-train-images-
idx3-ubyte.gz`` ...); the archive itself is never kept. In order:

1. **By ranges** (``ranged.py``), where the server takes ``Range``: the
   archive's central directory from its tail, then only the wanted members'
   bytes. A second split later fetches only its own members.
2. **The whole archive**, when the server does not take ranges, its
   directory cannot be read that way, or a member fetched by ranges failed
   its check (for those members only): downloaded through the same
   resumable transfer as any file (``.gzip.zip.part``, continued with
   ``Range`` after an interruption, and continued rather than started over
   by ranges on the next call), its members read straight out of it
   (:class:`~idxmnist.idx.ziparchive.ZipArchive`), then removed. The
   archive's own pin is checked too, and a mismatch reported; but each
   member stands on its own pin: a member that verifies is the right data
   whatever archive it came in.

A ``file://`` archive is read in place, member by member.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import IdxError, shown_url
from ..idx.ziparchive import ZipArchive
from . import partial, ranged
from .members import keep_members
from .session import Session, Whole, fetch_whole, from_zero_if_resumed
from .transfer import MirrorError

__all__ = ["from_archive"]

#: how much larger than its pin an archive may be (another packing of the same members)
SLACK = 1 << 20


def _whole_archive(session: Session, url: str, name: str) -> dict[str, str]:
    """Download the whole archive at ``url`` and keep the wanted members that verify.

    Every reason starts with what is known against the archive's own pin.
    """
    pin = session.pin_of(name)
    limit = (pin.size if pin is not None else 0) + SLACK

    def check(whole: Whole, again: bool) -> dict[str, str]:
        try:
            try:
                problems = keep_members(session, ZipArchive(whole.part.path, name=shown_url(url)))
            except IdxError as exc:
                problems = dict.fromkeys((r.name for r in session.wanted()), str(exc))
            return {n: whole.pin_problem + why for n, why in problems.items()}
        finally:
            whole.part.discard()

    return from_zero_if_resumed(lambda: fetch_whole(session, url, name, limit), check, bool)


def _local_archive(session: Session, url: str) -> dict[str, str]:
    """Keep the wanted members of the archive at a ``file://`` URL, read in place."""
    from urllib.request import url2pathname  # urllib.request: the network stack, loaded late

    path = Path(url2pathname(unquote(urlsplit(url).path)))
    if not path.is_file():
        raise MirrorError("no such file", not_found=True)
    try:
        return keep_members(session, ZipArchive(path, name=shown_url(url)))
    except IdxError as exc:
        raise MirrorError(str(exc), wrong_bytes=True) from None


def _ranged(session: Session, url: str, name: str) -> tuple[dict[str, str], set[str], str]:
    """The members by ranges: why each that did not verify failed, those the
    archive's directory does not list, and, if ranges could not be used at
    all, why (else "")."""
    pin = session.pin_of(name)
    if pin is None:
        return {}, set(), "the archive's size is not pinned"
    if partial.Partial(session.dest, name).in_progress(url):
        return {}, set(), "a download of the whole archive is under way"
    try:
        return (*ranged.fetch_members(session, url, pin), "")
    except ranged.NoRangeError as exc:
        return {}, set(), exc.reason


def from_archive(session: Session, url: str, name: str) -> dict[str, str]:
    """Keep the members ``session`` wants from the archive at ``url`` (called ``name``).

    Returns why each wanted member that was not kept did not verify. Raises
    MirrorError when the mirror itself failed (unreachable, cut off...): members
    kept by then stay kept.
    """
    if url.lower().startswith("file:"):
        return _local_archive(session, url)
    first, absent, unranged = _ranged(session, url, name)
    if not session.wanted():
        return {}
    if {r.name for r in session.wanted()} <= absent:
        # the directory of the pinned archive lists none of them: neither would the whole
        return {
            n: f"{shown_url(url)}: {first[n]} (its central directory lists no such member)"
            for n in absent
        }
    problems = _whole_archive(session, url, name)
    for member, why in problems.items():
        if member in first:
            problems[member] = f"by ranges: {first[member]}; then the whole archive: {why}"
        elif unranged:
            problems[member] = f"{why} (not by ranges: {unranged})"
    return problems
