"""What a fetching strategy may use of the fetch it serves, and the steps they all share.

A fetch (``download.Fetch``) makes one dataset folder hold verified files.
It tries mirrors in order and hands each to a strategy: one file from a base
URL (``single``), a file that holds the whole dataset (``whole``), an
archive's members (``archive``, ``ranged``). A strategy sees the fetch only
through :class:`Session`, declared here, and shares three steps:

* :func:`fetch_whole`: one whole file into its resumable ``.part``, checked
  against its pin if it has one;
* :func:`from_zero_if_resumed`: when a body that came partly through a
  resume fails its check, the final hash decides against the resume: fetch
  it once more from the first byte;
* :func:`limit_of`: the most bytes any copy of a file can be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from ..datasets.spec import Archive, RemoteFile, plain_name
from ..idx.compression import Container
from ..store.pins import Learnt
from . import partial, transfer
from .transfer import Expect, MirrorError

__all__ = [
    "Session",
    "Whole",
    "Resumable",
    "fetch_whole",
    "from_zero_if_resumed",
    "limit_of",
    "whole_name",
]

T = TypeVar("T")


class Session(Protocol):
    """One fetch into a dataset's folder ``dest``, as the strategies see it.

    ``files``: the dataset's distinct files (with the content pins learnt in
    ``dest``); ``by_key``: the file each array key stands for (matched
    against a keras-layout npz's members), empty when they do not pair up;
    ``archive``: the archive the files are members of; ``learnt``: the
    content pins learnt in ``dest``.
    """

    @property
    def dest(self) -> Path: ...

    @property
    def seconds(self) -> float: ...

    @property
    def files(self) -> tuple[RemoteFile, ...]: ...

    @property
    def by_key(self) -> Mapping[str, RemoteFile]: ...

    @property
    def archive(self) -> Archive | None: ...

    @property
    def learnt(self) -> Learnt: ...

    def wanted(self) -> list[RemoteFile]:
        """The files this fetch is for, not got yet."""
        ...

    def keep(self, path: Path, remote: RemoteFile, how: str, kind: Container) -> Path:
        """Publish the verified file at ``path`` as ``remote``, under the name it is kept by."""
        ...

    def pin_of(self, name: str) -> RemoteFile | None:
        """The pinned whole-dataset file (or the archive) called ``name``, if any."""
        ...


class Resumable(Protocol):
    """A finished body: did any of its bytes come through a resume?"""

    @property
    def resumed(self) -> bool: ...


class Whole(NamedTuple):
    """A whole file downloaded into ``part``.

    ``pin_problem`` says how it differs from the pinned file of its name
    (``"not the pinned X (sha256 mismatch); "``), "" if it is that file or
    none is pinned; ``resumed``: a Range request brought some of its bytes.
    """

    part: partial.Partial
    pin_problem: str
    resumed: bool


def limit_of(remote: RemoteFile) -> int:
    """The most bytes a copy of ``remote`` can be: its container, or its content in any packing."""
    if remote.content_size is None:
        return remote.size
    # raw IDX, or compression that gained nothing (gzip's stored blocks, bz2 on noise)
    return max(remote.size, remote.content_size + remote.content_size // 64 + (1 << 16))


def whole_name(url: str) -> str:
    """The file name a whole-dataset URL ends with, if it is a plain one; else a neutral name."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    try:
        return plain_name(name)
    except ValueError:
        return "whole-dataset"


def fetch_whole(session: Session, url: str, name: str, limit: int) -> Whole:
    """Download the whole file at ``url`` into its (resumable) ``.part``, at most ``limit`` bytes
    (or its pinned size, if larger)."""
    pin = session.pin_of(name)
    algorithm = pin.algorithm if pin is not None else "sha256"
    expect = Expect(None, max(limit, pin.size if pin is not None else 0), algorithm)
    part = partial.Partial(session.dest, name)
    result = transfer.fetch(url, part, expect, session.seconds, desc=name)
    problem = ""
    if pin is not None and (result.size, result.digest) != (pin.size, pin.digest):
        problem = f"not the pinned {pin.name} ({pin.algorithm} mismatch); "
    return Whole(part, problem, result.resumed)


def _never(_: object) -> bool:
    return False


R = TypeVar("R", bound=Resumable)


def from_zero_if_resumed(
    fetch: Callable[[], R],
    check: Callable[[R, bool], T],
    failed: Callable[[T], bool] = _never,
) -> T:
    """``check(fetch(), again=False)``; once more from the first byte if that failed after a resume.

    A resume (``Range``) trusts the bytes kept from an earlier attempt; the
    final check decides. When ``check`` raises :class:`MirrorError`, or
    returns a result ``failed`` calls a failure, for a body that was
    resumed, the body is fetched again whole (``check`` has discarded its
    ``.part``) and checked with ``again=True``, whatever the outcome. A body
    that came whole in one piece is checked once.
    """
    body = fetch()
    try:
        result = check(body, False)
    except MirrorError:
        if not body.resumed:
            raise
    else:
        if not (body.resumed and failed(result)):
            return result
    return check(fetch(), True)
