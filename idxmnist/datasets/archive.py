"""Datasets published as one archive (EMNIST's ``gzip.zip``): keep the members needed.

A split of such a dataset is four members of the archive. To make the cache
hold them, :func:`from_archive` downloads the archive through the same
resumable transfer as any file (``.gzip.zip.part``, continued with ``Range``
after an interruption), reads each member wanted straight out of it
(:class:`~idxmnist.idx.ziparchive.ZipArchive`: stored or deflated, its size
and CRC-32 checked) into a temporary file, verifies that against the
member's own pinned size and checksum, and keeps the ones that verify under
their names (``<cache dir>/emnist/emnist-letters-train-images-idx3-ubyte.gz``
...). The archive itself is removed once read: the cache keeps the verified
members of the splits fetched, not 536 MiB of zip.

The archive's own pin is checked too, and a mismatch is reported, but each
member stands on its own pin: a member that verifies is the right data
whatever archive it came in.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import IdxError
from .checksum import verdict
from .registry import Archive, RemoteFile
from .transfer import Failed

if TYPE_CHECKING:
    from ..idx.ziparchive import ZipArchive
    from .download import _Session

__all__ = ["from_archive", "keep_members", "member_name", "temporary"]

CHUNK = 1 << 20
#: how much larger than its pin an archive may be (another packing of the same members)
SLACK = 1 << 20


@contextmanager
def temporary(directory: Path) -> Iterator[tuple[BinaryIO, Path]]:
    """A hidden ``.XXXX.part`` in ``directory`` (swept like any leftover); removed on error."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def member_name(zf: ZipArchive, archive: Archive | None, remote: RemoteFile) -> str | None:
    """The member of ``zf`` that holds ``remote``: the registry's member name, else the
    one member whose file name is ``remote``'s (an archive packed another way)."""
    if archive is not None and archive.member(remote) in zf:
        return archive.member(remote)
    found = [n for n in zf.names() if n.rsplit("/", 1)[-1] == remote.name]
    return found[0] if len(found) == 1 else None


def keep_members(session: _Session, zf: ZipArchive, pinned: str = "") -> dict[str, str]:
    """Keep each file ``session`` wants that ``zf`` holds and that verifies.

    Returns why each wanted file did not verify, each reason starting with
    ``pinned`` (what is known against the archive itself); raises Failed if
    none did.
    """
    problems: dict[str, str] = {}
    kept = 0
    for remote in session.wanted():
        name = member_name(zf, session.archive, remote)
        if name is None:
            problems[remote.name] = f"holds no {remote.name}"
            continue
        try:
            with temporary(session.dest) as (out, tmp), zf.open(name) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
        except IdxError as exc:
            problems[remote.name] = str(exc)
            continue
        found = verdict(tmp, remote)
        if not found.ok or found.how is None:
            tmp.unlink(missing_ok=True)
            problems[remote.name] = f"{zf.where(name)}: {found.reason}"
            continue
        session.keep(tmp, remote, found.how, found.kind)
        kept += 1
    problems = {name: pinned + why for name, why in problems.items()}
    if not kept:
        raise Failed("; ".join(problems.values()) or pinned + "nothing wanted", wrong_bytes=True)
    return problems


def _whole_archive(session: _Session, url: str, name: str) -> dict[str, str]:
    """Download the whole archive at ``url`` and keep the wanted members that verify."""
    from ..idx.ziparchive import ZipArchive

    pin = session.pin_of(name)
    limit = (pin.size if pin is not None else 0) + SLACK
    for attempt in range(2):
        whole = session.fetch_whole(url, name, limit)
        try:
            try:
                zf = ZipArchive(whole.part.path, name=url)
            except IdxError as exc:
                raise Failed(whole.pinned + str(exc), wrong_bytes=True) from None
            return keep_members(session, zf, whole.pinned)
        except Failed:
            if whole.resumed and attempt == 0:
                continue  # the final check decides: once more, from the first byte
            raise
        finally:
            whole.part.discard()
    raise AssertionError("unreachable")


def from_archive(session: _Session, url: str, name: str) -> dict[str, str]:
    """Keep the members ``session`` wants from the archive at ``url`` (called ``name``).

    Returns why each wanted member did not verify (the others are kept);
    raises Failed when none did.
    """
    return _whole_archive(session, url, name)
