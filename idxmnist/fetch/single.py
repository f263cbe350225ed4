"""One file from one base mirror: under its registry name, else its stem in another packing.

``<base URL><name>`` is fetched into its resumable ``.part`` and accepted when
its exact bytes match the registry (the *container* check) or, for a file
whose content hash is pinned, when its decompressed IDX bytes match (the
*content* check). Where the mirror has no file under the registry's name
(404), the same stem is asked for raw, ``.xz`` and ``.bz2`` (files with a
pinned content hash only).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ..datasets.spec import RemoteFile
from ..store.kept import names_for
from ..store.verify import container_mismatch, verdict
from . import partial, transfer
from .session import Session, from_zero_if_resumed, limit_of
from .transfer import Expect, MirrorError, Result

__all__ = ["fetch_one"]


def _judge(session: Session, part: partial.Partial, result: Result, remote: RemoteFile) -> Path:
    """Keep the downloaded ``part`` as ``remote``, or raise MirrorError saying what failed."""
    if container_mismatch(result.size, result.digest, remote) is None:
        return session.keep(part.path, remote, "container", "raw")
    if remote.content is None:
        if result.size != remote.size:
            raise MirrorError(f"got {result.size} bytes, expected {remote.size}", wrong_bytes=True)
        raise MirrorError(
            f"{remote.algorithm} mismatch (right size, wrong bytes)", wrong_bytes=True
        )
    found = verdict(part.path, remote)
    if found.how is None:
        raise MirrorError(found.reason, wrong_bytes=True)
    return session.keep(part.path, remote, found.how, found.kind)


def _variant(session: Session, url: str, variant: str, remote: RemoteFile) -> Path:
    part = partial.Partial(session.dest, variant)
    exact = variant == remote.name and remote.content is None
    expect = Expect(remote.size if exact else None, limit_of(remote), remote.algorithm)

    def check(result: Result, again: bool) -> Path:
        try:
            kept = _judge(session, part, result, remote)
        except MirrorError as exc:
            part.discard()
            if again:
                exc.reason += " (after a resume, and again from the start)"
            raise
        part.forget()
        return kept

    return from_zero_if_resumed(
        lambda: transfer.fetch(url, part, expect, session.seconds, desc=variant), check
    )


def fetch_one(session: Session, base: str, remote: RemoteFile) -> Path:
    """``remote`` from the base URL ``base``, kept; MirrorError if the mirror did not deliver it."""
    variants = names_for(remote) if remote.content is not None else [remote.name]
    first: MirrorError | None = None
    for variant in variants:
        try:
            return _variant(session, base + quote(variant), variant, remote)
        except MirrorError as exc:
            if not exc.not_found:
                raise
            first = first or exc
    assert first is not None
    if len(variants) > 1:
        first.reason += " (nor under " + ", ".join(variants[1:]) + ")"
    raise first
