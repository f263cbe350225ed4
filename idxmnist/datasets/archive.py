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

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import IdxError
from ..idx.compression import sniff
from .checksum import verdict
from .partial import temporary
from .registry import Archive, RemoteFile
from .transfer import Failed

if TYPE_CHECKING:
    from ..idx.ziparchive import MemberReader, ZipArchive
    from .download import Session

__all__ = ["from_archive", "keep_members", "keep_member", "member_name"]

CHUNK = 1 << 20
#: how much larger than its pin an archive may be (another packing of the same members)
SLACK = 1 << 20


class Members(Protocol):
    """What lists an archive's members: a :class:`ZipArchive`, a remote ``Directory``."""

    def names(self) -> list[str]: ...

    def __contains__(self, name: object) -> bool: ...


def member_name(members: Members, archive: Archive | None, remote: RemoteFile) -> str | None:
    """The member that holds ``remote``: the registry's member name, else the one
    member whose file name is ``remote``'s (an archive packed another way)."""
    if archive is not None and archive.member(remote) in members:
        return archive.member(remote)
    found = [n for n in members.names() if n.rsplit("/", 1)[-1] == remote.name]
    return found[0] if len(found) == 1 else None


def keep_member(
    session: Session, remote: RemoteFile, where: str, open_member: Callable[[], MemberReader]
) -> str:
    """Copy the member ``open_member`` reads into a temporary file, verify it as
    ``remote`` and keep it; return "" if it was kept, else why not."""
    digest = hashlib.new(remote.algorithm, usedforsecurity=False)
    size, lead = 0, b""
    try:
        with temporary(session.dest) as (out, tmp), open_member() as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)  # the container check, while the bytes pass
                lead = lead or chunk[:6]
                size += len(chunk)
                out.write(chunk)
    except IdxError as exc:
        return str(exc)
    if size == remote.size and digest.hexdigest() == remote.digest:
        session.keep(tmp, remote, "container", sniff(lead))
        return ""
    found = verdict(tmp, remote)  # not its exact bytes: the content check decides
    if found.how is None:
        tmp.unlink(missing_ok=True)
        return f"{where}: {found.reason}"
    session.keep(tmp, remote, found.how, found.kind)
    return ""


def keep_members(session: Session, zf: ZipArchive) -> dict[str, str]:
    """Keep each file ``session`` wants that the archive ``zf`` holds and that
    verifies; return why each of the others did not."""
    problems: dict[str, str] = {}
    for remote in session.wanted():
        name = member_name(zf, session.archive, remote)
        if name is None:
            problems[remote.name] = f"holds no {remote.name}"
            continue
        problem = keep_member(session, remote, zf.where(name), functools.partial(zf.open, name))
        if problem:
            problems[remote.name] = problem
    return problems


def _whole_archive(session: Session, url: str, name: str) -> dict[str, str]:
    """Download the whole archive at ``url`` and keep the wanted members that verify.

    Every reason starts with what is known against the archive's own pin.
    """
    from ..idx.ziparchive import ZipArchive

    pin = session.pin_of(name)
    limit = (pin.size if pin is not None else 0) + SLACK
    for attempt in range(2):
        whole = session.fetch_whole(url, name, limit)
        try:
            try:
                problems = keep_members(session, ZipArchive(whole.part.path, name=url))
            except IdxError as exc:
                problems = dict.fromkeys((r.name for r in session.wanted()), str(exc))
            if problems and whole.resumed and attempt == 0:
                continue  # the final check decides: once more, from the first byte
            return {n: whole.pinned + why for n, why in problems.items()}
        finally:
            whole.part.discard()
    raise AssertionError("unreachable")


def _local_archive(session: Session, url: str) -> dict[str, str]:
    """Keep the wanted members of the archive at a ``file://`` URL, read in place."""
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    from ..idx.ziparchive import ZipArchive

    path = Path(url2pathname(unquote(urlsplit(url).path)))
    if not path.is_file():
        raise Failed("no such file", not_found=True)
    try:
        return keep_members(session, ZipArchive(path, name=url))
    except IdxError as exc:
        raise Failed(str(exc), wrong_bytes=True) from None


def _ranged(session: Session, url: str, name: str) -> tuple[dict[str, str], set[str], str]:
    """The members by ranges: why each that did not verify failed, those the
    archive's directory does not list, and, if ranges could not be used at
    all, why (else "")."""
    from . import partial, ranged

    pin = session.pin_of(name)
    if pin is None:
        return {}, set(), "the archive's size is not pinned"
    if partial.Partial(session.dest, name).in_progress(url):
        return {}, set(), "a download of the whole archive is under way"
    try:
        return (*ranged.fetch_members(session, url, pin), "")
    except ranged.Unranged as exc:
        return {}, set(), exc.reason


def from_archive(session: Session, url: str, name: str) -> dict[str, str]:
    """Keep the members ``session`` wants from the archive at ``url`` (called ``name``).

    Returns why each wanted member that was not kept did not verify. Raises
    Failed when the mirror itself failed (unreachable, cut off...): members
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
            n: f"{url}: {first[n]} (its central directory lists no such member)" for n in absent
        }
    problems = _whole_archive(session, url, name)
    for member, why in problems.items():
        if member in first:
            problems[member] = f"by ranges: {first[member]}; then the whole archive: {why}"
        elif unranged:
            problems[member] = f"{why} (not by ranges: {unranged})"
    return problems
