"""A mirror that is one file holding the whole dataset: keep every member that verifies.

keras's ``mnist.npz`` (four arrays), or a ``.zip``/``.tar``/``.tar.gz``/...
of the IDX files. It is fetched once per call into its resumable ``.part``,
unpacked member by member (``store/unpack.py``), and each member that stands
for a wanted file (by its npz key, or its file name in any of the usual
spellings) and verifies is kept under that file's name. The file itself is
not kept.

A member verifies by its own container or content pin; a member of the
pinned whole-dataset file itself (keras's ``mnist.npz``, whose SHA-256 the
registry holds) is vouched for by that pin, so its content is the file's
even where the registry pins no content: it is kept, and its content pin
learnt (``store/pins.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..datasets.layout import KEYS
from ..datasets.spec import RemoteFile
from ..errors import IdxError
from ..idx.compression import DEFLATE_MAX_RATIO
from ..store import unpack
from ..store.kept import candidate_names
from ..store.verify import verdict
from .session import Session, Whole, fetch_whole, from_zero_if_resumed, limit_of
from .transfer import MirrorError

__all__ = ["from_whole"]


def _intended(session: Session, member: str, wanted: Sequence[RemoteFile]) -> RemoteFile | None:
    """The registry file an archive member stands for, by its key or its file name."""
    if member in KEYS:  # an npz array
        target = session.by_key.get(member)
        return target if target in wanted else None
    base = member.replace("\\", "/").rsplit("/", 1)[-1]
    for remote in wanted:
        if base in candidate_names(remote.stem) or base == remote.name:
            return remote
    return None


def _unpack(
    session: Session, path: Path, name: str, pin_problem: str, pinned: bool
) -> dict[str, str]:
    """Keep every member of the whole-dataset file at ``path`` that verifies.

    Returns why each wanted file it holds did not verify; raises MirrorError
    if none did. ``pinned``: it is the pinned whole-dataset file, which vouches
    for its members.
    """
    wanted = session.wanted()
    limit = max(limit_of(r) for r in session.files)
    total = sum(limit_of(r) for r in session.files)
    pin = session.pin_of(name) if pinned else None
    if pin is not None:  # its exact bytes are known: its members are as large as they say
        limit = max(limit, DEFLATE_MAX_RATIO * pin.size)
        total = max(total, limit)
    problems: dict[str, str] = {}
    kept = 0
    try:
        for member in unpack.members(path, session.dest, limit=limit, total=total):
            target = _intended(session, member.name, wanted)
            if target is None:
                continue
            if member.path is None:
                problems[target.name] = f"{member.name}: {member.problem}"
                continue
            found = verdict(member.path, target)
            if found.how is None and pinned:
                target = session.learnt.learn(target, member.path)  # vouched by the whole pin
                found = verdict(member.path, target)
            if found.how is None:
                problems[target.name] = f"{member.name}: {found.reason}"
                continue
            session.keep(member.path, target, found.how, found.kind)
            wanted = [r for r in wanted if r.name != target.name]
            problems.pop(target.name, None)
            kept += 1
    except IdxError as exc:  # named as the file it is, not its temporary copy
        problems[""] = str(exc).replace(os.fspath(path), name)
    if not kept:
        what = "; ".join(problems.values()) or "it holds none of the files"
        raise MirrorError(f"{pin_problem}{what}", wrong_bytes=bool(problems))
    return problems


def from_whole(session: Session, url: str, name: str) -> dict[str, str]:
    """Keep the wanted files the whole-dataset file at ``url`` (called ``name``) holds.

    Returns why each wanted file it holds did not verify; raises MirrorError
    when none did, or the mirror failed.
    """
    limit = sum(limit_of(r) for r in session.files) + (1 << 20)

    def check(whole: Whole, again: bool) -> dict[str, str]:
        try:
            pinned = not whole.pin_problem and session.pin_of(name) is not None
            return _unpack(session, whole.part.path, name, whole.pin_problem, pinned)
        finally:
            whole.part.discard()

    return from_zero_if_resumed(lambda: fetch_whole(session, url, name, limit), check)
