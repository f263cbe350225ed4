"""Download a dataset's files: mirrors in order, each file verified, resumable, locked.

:func:`fetch_dataset` makes a dataset's folder hold its files, verified;
:func:`fetch_file` gets one. For each file the mirrors are tried in order,
each through the strategy its URL calls for (``single``: one file from a
base URL; ``whole``: a file that holds the whole dataset; ``archive``: the
archive the files are members of), and any failure moves on to the next
mirror: a connection or TLS error, a timeout, an HTTP error, an HTML page, a
body of the wrong size, a failed check. A mirror found dead is skipped for
the rest of the fetch. When none delivered, :class:`DownloadError` lists
what each did.

Offline (``IDXMNIST_OFFLINE=1`` or ``offline=True``) only ``file://`` mirrors
are used, and a missing file is an error at once, naming what is missing and
how to import it. The order, the rules and the self-healing are documented
in ``docs/sources.md``.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from .. import config
from ..datasets.layout import KEYS
from ..datasets.spec import Archive, DatasetSpec, RemoteFile
from ..errors import ChecksumError, DownloadError, in_words, printable, shown_url, warn
from ..files import file_lock, sweep
from ..idx.compression import Container
from ..store.kept import LOCK_NAME, find_verified, keep
from ..store.pins import Learnt
from . import archive, single, whole
from .session import whole_name
from .transfer import MirrorError

__all__ = [
    "Fetch",
    "Fetched",
    "fetch_dataset",
    "fetch_file",
    "adopt",
    "mirrors_for",
    "is_url",
    "is_whole",
    "offline_error",
    "URL_SCHEMES",
    "WHOLE_SUFFIXES",
]

URL_SCHEMES = ("http://", "https://", "file://")
#: URLs whose last segment ends so are one file holding the whole dataset
WHOLE_SUFFIXES = (".npz", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2")


def is_url(value: object) -> bool:
    """True for an ``http://``, ``https://`` or ``file://`` URL string."""
    return isinstance(value, str) and value.lower().startswith(URL_SCHEMES)


def is_whole(url: str) -> bool:
    """True for the URL of one file that holds a whole dataset (``.npz``, ``.zip``, ``.tar``...)."""
    return urlsplit(url).path.lower().endswith(WHOLE_SUFFIXES)


def _base(url: str, where: str = "mirror") -> str:
    """A mirror entry, normalised: a base URL ends in ``/``; a whole-dataset URL is kept."""
    if not is_url(url):
        raise DownloadError(
            f"{where}: '{shown_url(url)}' is not a URL to download from "
            "(http://, https:// or file://; a base URL, or the URL of one .npz, .zip or .tar file)"
        )
    if is_whole(url) or url.endswith("/"):
        return url
    return url + "/"


def mirrors_for(spec: DatasetSpec) -> tuple[str, ...]:
    """Mirrors to try, in order: ``$IDXMNIST_MIRRORS`` (comma-separated), else the registry's."""
    urls = config.mirrors()
    if urls:
        return tuple(_base(u, config.ENV_MIRRORS) for u in urls)
    return tuple(_base(u) for u in spec.mirrors)


def _content_pinned(spec: DatasetSpec, learnt: Learnt | None) -> bool:
    """True when every file's content is pinned (by the registry, or learnt in the store)."""
    return all(
        (r if learnt is None else learnt.of(r)).content is not None for r in spec.remote_files
    )


def _import_hint(spec: DatasetSpec, learnt: Learnt | None = None) -> str:
    """How to install the files from a copy at hand: only the copies that can verify.

    The upstream files verify everywhere (by their container); decompressed or
    re-packed ones, and a keras-layout npz, only where every file's content is
    pinned (MNIST's; or learnt in this cache from the upstream files), or for
    the npz, when it is the pinned whole-dataset file (keras's ``mnist.npz``).
    """
    content = spec.container == "idx" and _content_pinned(spec, learnt)
    layouts = []
    if spec.archive is not None:
        layouts.append(f"{spec.archive.file.name}, the archive that holds them")
    layouts.append("a folder of them")
    if spec.torchvision:  # torchvision keeps the upstream files in raw/ too
        layouts[-1] += f" (torchvision's {spec.torchvision}/raw/ too)"
    if spec.container == "idx" and spec.archive is None:
        layouts.append("a zip or tar of them")
        if spec.keys == KEYS and content:
            layouts.append("a keras-layout .npz")
        elif spec.keys == KEYS and spec.whole_files:
            layouts.append(", ".join(f"keras's {w.name}" for w in spec.whole_files))
    return (
        f"idxmnist import PATH installs {spec.name}'s files from a copy you have: "
        + (", ".join(layouts[:-1]) + ", or " if len(layouts) > 1 else "")
        + layouts[-1]
    )


def _what(spec: DatasetSpec) -> str:
    """``the four mnist files (a, b, c, d)``, or ``emnist_letters's archive (gzip.zip)``."""
    names = [r.name for r in spec.remote_files]
    count = in_words(len(names))
    what = f"the {count} {spec.name} files ({', '.join(names)})"
    if spec.archive is not None:
        what += f", or {spec.archive.file.name}, the archive that holds them,"
    return what


def _local_hint(spec: DatasetSpec) -> str:
    urls = "base URLs that serve them"
    if spec.archive is not None:
        urls = f"base URLs that serve {spec.archive.file.name}"
    return (
        f"To load from local files instead: load_data(source='DIR') or {config.ENV_SOURCE}=DIR "
        f"with {_what(spec)} in DIR; or set {config.ENV_MIRRORS} to {urls}; or "
        f"{_import_hint(spec)}"
    )


def offline_error(
    spec: DatasetSpec, where: Path, missing: Iterable[str], why: str, learnt: Learnt | None = None
) -> DownloadError:
    """The error for files that are needed while offline: what is missing, how to import it."""
    return DownloadError(
        f"offline ({why}): no network access, and {where} lacks {spec.name}'s "
        f"{', '.join(missing)}. {_import_hint(spec, learnt)}; "
        f"or load_data(source='DIR') with {_what(spec)} in DIR; or go online "
        f"(unset {config.ENV_OFFLINE})"
    )


class Fetch:
    """One fetch into ``dest``: the mirrors found dead, whole-dataset files fetched, files got.

    ``files`` are the dataset's distinct files, ``needed`` the names of those
    this fetch is for (all by default; the others are only matched), ``keys``
    the array each file holds (matched against a keras-layout npz's members),
    ``whole_files`` the pinned whole-dataset files and ``archive`` the
    archive its files are members of. It is the :class:`~.session.Session`
    the strategies receive.
    """

    def __init__(
        self,
        dest: Path,
        files: Sequence[RemoteFile],
        seconds: float,
        *,
        needed: Iterable[str] | None = None,
        keys: Sequence[str] = (),
        whole_files: Sequence[RemoteFile] = (),
        archive: Archive | None = None,
        learnt: Learnt | None = None,
    ) -> None:
        self.learnt = Learnt(dest) if learnt is None else learnt
        files = [self.learnt.of(r) for r in files]
        self.dest, self.files, self.seconds = dest, tuple(files), seconds
        self.needed = {r.name for r in self.files} if needed is None else set(needed)
        self.by_key = dict(zip(keys, files, strict=False)) if len(keys) == len(files) else {}
        self.whole_files, self.archive = tuple(whole_files), archive
        self.dead: dict[str, str] = {}
        self.wholes: dict[str, MirrorError | dict[str, str]] = {}
        self.got: dict[str, Path] = {}

    @classmethod
    def of(
        cls,
        dest: Path,
        spec: DatasetSpec,
        seconds: float,
        needed: Iterable[str] | None = None,
        learnt: Learnt | None = None,
    ) -> Fetch:
        """A fetch of ``needed`` (all by default) of ``spec``'s files."""
        files = spec.remote_files
        keys = spec.keys if len(files) == len(spec.files) else ()
        return cls(
            dest,
            files,
            seconds,
            needed=needed,
            keys=keys,
            whole_files=spec.whole_files,
            archive=spec.archive,
            learnt=learnt,
        )

    def keep(self, path: Path, remote: RemoteFile, how: str, kind: Container) -> Path:
        """Publish the verified file at ``path`` as ``remote`` (``store.kept.keep``: the
        upstream bytes under the registry's name, content as raw IDX bytes under the stem)."""
        final = keep(path, remote, how, kind, self.learnt)
        self.got[remote.name] = final
        return final

    def wanted(self) -> list[RemoteFile]:
        """The files this fetch is for, not got yet."""
        return [r for r in self.files if r.name in self.needed and r.name not in self.got]

    def pin_of(self, name: str) -> RemoteFile | None:
        """The pinned whole-dataset file called ``name``, if any; for a dataset kept in an
        archive, any ``.zip`` is that archive (a mirror may serve it under another name)."""
        found = next((w for w in self.whole_files if w.name == name), None)
        if found is None and self.archive is not None and name.lower().endswith(".zip"):
            return self.archive.file
        return found

    def _whole_url(self, base: str) -> str | None:
        """The URL of the one file to fetch from ``base``, if the files do not come one by one."""
        if is_whole(base):
            return base
        if self.archive is not None:
            return base + quote(self.archive.file.name)
        return None

    def from_whole(self, url: str) -> dict[str, str]:
        """Keep what the whole-dataset file (or the archive) at ``url`` holds; why not, each."""
        name = whole_name(url)
        if self.archive is not None and name.lower().endswith(".zip"):
            return archive.from_archive(self, url, name)
        return whole.from_whole(self, url, name)

    def get(self, remote: RemoteFile, mirrors: Sequence[str], hint: str) -> Path:
        """``remote`` from the first mirror that delivers it verified; DownloadError if none."""
        remote = next((r for r in self.files if r.name == remote.name), remote)
        failures = []
        wrong = tried = 0
        for base in mirrors:
            if remote.name in self.got:
                return self.got[remote.name]
            whole_url = self._whole_url(base)
            url = whole_url or base + quote(remote.name)
            if base in self.dead:
                failures.append(
                    f"  {shown_url(url)} -> skipped, unreachable earlier ({self.dead[base]})"
                )
                continue
            tried += 1
            try:
                if whole_url is not None:
                    if whole_url not in self.wholes:
                        try:
                            self.wholes[whole_url] = self.from_whole(whole_url)
                        except MirrorError as exc:
                            self.wholes[whole_url] = exc
                    outcome = self.wholes[whole_url]
                    if remote.name in self.got:
                        return self.got[remote.name]
                    if isinstance(outcome, MirrorError):
                        raise outcome
                    why = outcome.get(remote.name)
                    raise MirrorError(why or f"holds no {remote.stem}", wrong_bytes=why is not None)
                path = single.fetch_one(self, base, remote)
                self.got[remote.name] = path
                return path
            except MirrorError as exc:
                failures.append(f"  {shown_url(url)} -> {printable(exc.reason)}")
                wrong += exc.wrong_bytes
                if exc.dead:
                    self.dead[base] = exc.reason
        if remote.name in self.got:
            return self.got[remote.name]
        listing = "\n".join(failures) if failures else "  (no mirrors configured)"
        error = ChecksumError if tried and wrong == tried else DownloadError
        raise error(
            f"could not download {remote.name} from any mirror; tried, in order:\n{listing}"
            + (f"\n{hint}" if hint else "")
        )


def fetch_file(
    remote: RemoteFile,
    dest_dir: str | os.PathLike[str],
    mirrors: Sequence[str],
    *,
    spec: DatasetSpec | None = None,
    seconds: float | None = None,
    hint: str = "",
) -> Path:
    """Download ``remote`` into ``dest_dir`` from the first mirror that delivers it verified.

    Returns where it was kept. ``spec``, the dataset it belongs to, lets a
    whole-dataset mirror stand in (its other verified members are kept too)
    and gets an archive dataset's member out of its archive.
    Raises :class:`DownloadError` listing each mirror and why it failed; when
    every mirror tried answered with wrong bytes, the :class:`ChecksumError`
    subclass of it. Call it holding the directory's lock (``fetch_dataset``
    does).
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    seconds = config.timeout() if seconds is None else seconds
    if spec is not None:
        fetch = Fetch.of(dest, spec, seconds, needed=[remote.name])
    else:
        fetch = Fetch(dest, (remote,), seconds)
    return fetch.get(remote, tuple(_base(u) for u in mirrors), hint)


class Fetched(NamedTuple):
    """``files``: each key's verified file; ``downloaded``: those fetched by this call."""

    files: dict[str, Path]
    downloaded: list[Path]


def fetch_dataset(
    spec: DatasetSpec,
    dest_dir: str | os.PathLike[str],
    mirrors: Sequence[str] | None = None,
    *,
    offline: bool | None = None,
    read_only: bool = False,
    only: Collection[str] | None = None,
) -> Fetched:
    """Make ``dest_dir`` hold ``spec``'s files, verified; say where each one is.

    Files already there that verify (by container, or by content: the
    registry's pin or one learnt there) are kept, with no request; a
    container seen for the first time teaches the store its content pin. A
    file there that does not verify is replaced by a fresh download, with a
    RuntimeWarning; if none can be had, it is left as it was (it may be
    another tool's) and :class:`DownloadError` raised. A dataset published as
    an archive gets the members it lacks out of the archive. Offline
    (``offline``, else ``$IDXMNIST_OFFLINE``), only ``file://`` mirrors are
    used, and a file missing without one is a :class:`DownloadError` at
    once, saying how to import it. Holds ``dest_dir/.idxmnist.lock``
    throughout, so concurrent callers download each file once.
    ``read_only``: the folder cannot be written (a read-only cache): no lock,
    nothing learnt or fetched; the files must all be there. ``only``: the
    names of the files wanted (QMNIST's label files without its images); the
    result then has the keys of those alone.
    """
    dest = Path(dest_dir)
    urls = mirrors_for(spec) if mirrors is None else tuple(_base(u) for u in mirrors)
    remotes = tuple(r for r in spec.remote_files if only is None or r.name in only)
    is_offline = config.offline(offline)
    if is_offline:
        urls = tuple(u for u in urls if u.lower().startswith("file:"))
    if read_only:
        return _read_only(spec, dest)
    seconds = config.timeout()
    dest.mkdir(parents=True, exist_ok=True)
    with file_lock(dest / LOCK_NAME):
        sweep(dest, older_than=0)  # under the folder's lock no temporary there is in use
        learnt = Learnt(dest)
        have: dict[str, Path] = {}
        bad: dict[str, list[tuple[Path, str]]] = {}
        for remote in remotes:
            path, bad[remote.name] = find_verified(dest, remote, learnt)
            if path is not None:
                have[remote.name] = path
                if path.name == remote.name:
                    learnt.learn(remote, path)  # the first time: its content pin
        missing = [r for r in remotes if r.name not in have]
        if missing and is_offline and not urls:
            for remote in missing:
                for path, reason in bad[remote.name]:
                    warn(f"{path}: {reason}; not used")
            why = "offline=True" if offline else f"{config.ENV_OFFLINE}=1"
            raise offline_error(spec, dest, [r.name for r in missing], why, learnt)
        fetch = Fetch.of(dest, spec, seconds, needed=[r.name for r in missing], learnt=learnt)
        hint = _local_hint(spec)
        for remote in missing:
            for path, reason in bad[remote.name]:
                warn(f"{path}: {reason}; downloading it again")
            got = fetch.get(remote, urls, hint)
            have[remote.name] = got
    files = {
        key: have[r.name] for key, r in zip(spec.keys, spec.files, strict=True) if r in remotes
    }
    downloaded = [fetch.got[r.name] for r in remotes if r.name in fetch.got]
    return Fetched(files, downloaded)


def _read_only(spec: DatasetSpec, dest: Path) -> Fetched:
    learnt = Learnt(dest)
    have = {r.name: find_verified(dest, r, learnt)[0] for r in spec.remote_files}
    missing = [name for name, path in have.items() if path is None]
    if missing:
        raise DownloadError(
            f"{dest} cannot be written (a read-only cache) and lacks {spec.name}'s "
            f"{', '.join(missing)}: nothing can be fetched into it. Point {config.ENV_HOME} "
            "(or cache_dir=) at a folder you can write, or import the files there"
        )
    files = {key: have[r.name] for key, r in zip(spec.keys, spec.files, strict=True)}
    return Fetched({k: p for k, p in files.items() if p is not None}, [])


def adopt(spec: DatasetSpec, dest_dir: str | os.PathLike[str], url: str) -> dict[str, str]:
    """Keep in ``dest_dir`` the verified files it lacks that the one local file at ``url``
    holds (a keras-layout npz, a zip or a tar of the dataset, its archive).

    Returns why each file still lacking was not taken from it (empty when none
    lacks). What is kept is verified exactly as a download is: the members of
    the pinned whole-dataset file (keras's ``mnist.npz``) by that pin, every
    other file by its own container or content pin. The file itself is only
    read, never changed.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    with file_lock(dest / LOCK_NAME):
        learnt = Learnt(dest)
        lacking = [r for r in spec.remote_files if find_verified(dest, r, learnt)[0] is None]
        if not lacking:
            return {}
        fetch = Fetch.of(
            dest, spec, config.timeout(), needed=[r.name for r in lacking], learnt=learnt
        )
        try:
            problems = fetch.from_whole(url)
        except MirrorError as exc:
            problems = {"": exc.reason}
    return {
        r.name: problems.get(r.name) or problems.get("") or f"holds no {r.stem}"
        for r in lacking
        if r.name not in fetch.got
    }
