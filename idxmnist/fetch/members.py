"""Members of a dataset's archive: which one holds a file, and keeping it once it verifies.

Shared by the two ways a member arrives: read out of the whole archive
(``archive.py``) or fetched by its byte range (``ranged.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..datasets.spec import Archive, RemoteFile
from ..errors import IdxError
from ..files import temporary
from ..idx.compression import sniff
from ..idx.ziparchive import Listing, MemberReader, ZipArchive
from ..store.verify import copy_tallied, verdict
from .session import Session, limit_of

__all__ = ["member_name", "keep_member", "keep_members"]


def member_name(members: Listing, archive: Archive | None, remote: RemoteFile) -> str | None:
    """The member that holds ``remote``: the registry's member name, else the one
    member whose file name is ``remote``'s (an archive packed another way)."""
    if archive is not None and archive.member(remote) in members:
        return archive.member(remote)
    found = [n for n in members.names() if n.rsplit("/", 1)[-1] == remote.name]
    return found[0] if len(found) == 1 else None


def keep_member(
    session: Session, remote: RemoteFile, where: str, open_member: Callable[[], MemberReader]
) -> str | None:
    """Copy the member ``open_member`` reads into a temporary file, verify it as
    ``remote`` and keep it. Returns None when it was kept, else why it was not.

    A member declaring more than any copy of ``remote`` can be is not read: the
    reader never yields more than its entry declares, so nothing is inflated
    past ``limit_of(remote)``.
    """
    most = limit_of(remote)
    try:
        with open_member() as src:
            if src.size > most:
                return (
                    f"{where}: declares {src.size} bytes, more than any copy of "
                    f"{remote.name} can be ({most}); not read"
                )
            with temporary(session.dest) as (out, tmp):
                tally = copy_tallied(src, out, remote.algorithm)  # the container check, in passing
    except IdxError as exc:
        return str(exc)
    if tally.mismatch(remote) is None:
        session.keep(tmp, remote, "container", sniff(tally.lead))
        return None
    found = verdict(tmp, remote)  # not its exact bytes: the content check decides
    if found.how is None:
        tmp.unlink(missing_ok=True)
        return f"{where}: {found.reason}"
    session.keep(tmp, remote, found.how, found.kind)
    return None


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
        if problem is not None:
            problems[remote.name] = problem
    return problems
