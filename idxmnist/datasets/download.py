"""Download a dataset's files: mirrors in order, verified, resumable, locked.

A mirror is a base URL (ending in ``/``; each file is fetched under the
registry's name beneath it) or the URL of one file that holds the whole
dataset (a keras-layout ``.npz``, or a ``.zip``/``.tar``/``.tar.gz``/... of
the IDX files). For each file the mirrors are tried in order, and any failure
moves on to the next: a connection or TLS error, a timeout, an HTTP error, an
HTML page, a body of the wrong size, a failed check.

A body is accepted when its exact bytes match the registry (the *container*
check) or, for a file whose content hash is pinned, when its decompressed
IDX bytes match (the *content* check): gzip of any level, xz, bz2 or raw.
Where a base mirror has no file under the registry's name (404), the same
stem is asked for raw, ``.xz`` and ``.bz2`` (files with a pinned content
hash only). A whole-dataset file is fetched once per call and every member
that verifies is kept. Files are kept under the registry's name when the
container verified, else under their stem and real container's suffix.

A dataset published as one archive (EMNIST's ``gzip.zip``; the spec's
``archive``) gets the members it lacks out of that archive, fetched from
``<base URL><archive name>`` (or a mirror entry that is the archive's URL):
see ``archive.py``. Each member is verified against its own pinned size and
checksum and kept; the archive itself is not.

Bodies stream into ``.NAME.part`` in the destination directory (see
``partial.py``): renamed to the final name only once verified, so the final
name never holds a partial or unverified file, even if the process is
killed; kept between attempts when the server takes ``Range``, so an
interrupted download resumes (``transfer.py``). A file lock in the
destination directory makes concurrent processes download each file once.

The file names written are always the registry's (checked to be plain
names), never a server's redirect or ``Content-Disposition``.

With ``IDXMNIST_OFFLINE=1`` (or ``offline=True``) nothing is fetched over
the network (``file://`` mirrors still work): a missing file is an error at
once, naming what is missing and how to import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from ..atomic import file_lock, publish
from ..errors import ChecksumError, DownloadError, IdxError, warn
from . import partial
from .checksum import verdict
from .layout import KEYS
from .registry import Archive, DatasetSpec, RemoteFile
from .store import LOCK_NAME, find_verified, kept_name, names_for
from .transfer import Expect, Failed, Result

__all__ = [
    "Session",
    "fetch_dataset",
    "fetch_file",
    "Fetched",
    "mirrors_for",
    "timeout",
    "offline_mode",
    "is_url",
    "is_whole",
    "plain_name",
    "offline_error",
    "LOCK_NAME",
    "ENV_OFFLINE",
]

ENV_MIRRORS = "IDXMNIST_MIRRORS"
ENV_TIMEOUT = "IDXMNIST_TIMEOUT"
ENV_OFFLINE = "IDXMNIST_OFFLINE"
DEFAULT_TIMEOUT = 10.0
#: the lock file inside a download directory (hidden; never a dataset file name)
URL_SCHEMES = ("http://", "https://", "file://")
#: URLs whose last segment ends so are one file holding the whole dataset
WHOLE_SUFFIXES = (".npz", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def is_url(value: object) -> bool:
    """True for an ``http://``, ``https://`` or ``file://`` URL string."""
    return isinstance(value, str) and value.lower().startswith(URL_SCHEMES)


def is_whole(url: str) -> bool:
    """True for the URL of one file that holds a whole dataset (``.npz``, ``.zip``, ``.tar``...)."""
    return urlsplit(url).path.lower().endswith(WHOLE_SUFFIXES)


def timeout() -> float:
    """Seconds to wait to connect and for each read: ``$IDXMNIST_TIMEOUT``, default 10."""
    value = os.environ.get(ENV_TIMEOUT, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{ENV_TIMEOUT}={value!r}: expected a positive number of seconds")
    return seconds


def offline_mode(value: bool | None = None) -> bool:
    """``value`` if given, else ``$IDXMNIST_OFFLINE`` (``1``/``true``/``yes``/``on``)."""
    if value is not None:
        return bool(value)
    text = os.environ.get(ENV_OFFLINE, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{ENV_OFFLINE}={text!r}: expected 1 or 0 (true/false, yes/no, on/off)")


def _base(url: str, where: str = "mirror") -> str:
    """A mirror entry, normalised: a base URL ends in ``/``; a whole-dataset URL is kept."""
    if not is_url(url):
        raise DownloadError(
            f"{where}: {url!r} is not a URL to download from (http://, https:// or file://; "
            "a base URL, or the URL of one .npz, .zip or .tar file)"
        )
    if is_whole(url) or url.endswith("/"):
        return url
    return url + "/"


def mirrors_for(spec: DatasetSpec) -> tuple[str, ...]:
    """Mirrors to try, in order: ``$IDXMNIST_MIRRORS`` (comma-separated), else the registry's."""
    env = os.environ.get(ENV_MIRRORS, "")
    urls = [u.strip() for u in env.split(",") if u.strip()]
    if urls:
        return tuple(_base(u, ENV_MIRRORS) for u in urls)
    return tuple(_base(u) for u in spec.mirrors)


def plain_name(name: str) -> str:
    """``name`` if it is a plain file name (no directory part, not hidden); else ValueError."""
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.basename(name) != name
    ):
        raise ValueError(f"{name!r} is not a plain file name; refusing to use it as a path")
    return name


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


_COUNT = {1: "one", 2: "two", 4: "four"}


def _import_hint(spec: DatasetSpec) -> str:
    layouts = []
    if spec.archive is not None:
        layouts.append(f"{spec.archive.file.name}, the archive that holds them")
    layouts.append("a folder of them")
    if spec.torchvision:
        layouts[-1] += f" (torchvision's {spec.torchvision}/raw/ too)"
    if spec.container == "idx" and spec.archive is None:
        layouts.append("a zip or tar of them")
        if spec.keys == KEYS:
            layouts.append("a keras-layout .npz")
    return (
        f"idxmnist import PATH installs {spec.name}'s files from a copy you have: "
        + (", ".join(layouts[:-1]) + ", or " if len(layouts) > 1 else "")
        + layouts[-1]
    )


def _what(spec: DatasetSpec) -> str:
    """``the four mnist files (a, b, c, d)``, or ``emnist_letters's archive (gzip.zip)``."""
    names = [r.name for r in spec.remote_files]
    count = _COUNT.get(len(names), str(len(names)))
    what = f"the {count} {spec.name} files ({', '.join(names)})"
    if spec.archive is not None:
        what += f", or {spec.archive.file.name}, the archive that holds them,"
    return what


def _local_hint(spec: DatasetSpec) -> str:
    urls = "base URLs that serve them"
    if spec.archive is not None:
        urls = f"base URLs that serve {spec.archive.file.name}"
    return (
        "To load from local files instead: load_data(source='DIR') or IDXMNIST_SOURCE=DIR "
        f"with {_what(spec)} in DIR; or set {ENV_MIRRORS} to {urls}; or {_import_hint(spec)}"
    )


def offline_error(
    spec: DatasetSpec, where: Path, missing: Iterable[str], why: str
) -> DownloadError:
    """The error for files that are needed while offline: what is missing, how to import it."""
    return DownloadError(
        f"offline ({why}): no network access, and {where} lacks {spec.name}'s "
        f"{', '.join(missing)}. {_import_hint(spec)}; "
        f"or load_data(source='DIR') with {_what(spec)} in DIR; or go online "
        f"(unset {ENV_OFFLINE})"
    )


def _limit(remote: RemoteFile) -> int:
    """The most bytes a copy of ``remote`` can be: its container, or its content in any packing."""
    if remote.content_size is None:
        return remote.size
    # raw IDX, or compression that gained nothing (gzip's stored blocks, bz2 on noise)
    return max(remote.size, remote.content_size + remote.content_size // 64 + (1 << 16))


def _whole_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    try:
        return plain_name(name)
    except ValueError:
        return "whole-dataset"


class Whole(NamedTuple):
    """A whole file downloaded into ``part``: ``pinned`` says if it is not the pinned
    one (``"not the pinned X (sha256 mismatch); "``), ``resumed`` if a Range was used."""

    part: partial.Partial
    pinned: str
    resumed: bool


class Session:
    """One fetch into ``dest``: the mirrors found dead, whole-dataset files fetched, files got.

    ``files`` are the dataset's distinct files, ``keys`` the array each one
    holds (matched against a keras-layout npz's members), ``whole_files`` the
    pinned whole-dataset files and ``archive`` the archive its files are
    members of.
    """

    def __init__(
        self,
        dest: Path,
        files: Sequence[RemoteFile],
        seconds: float,
        *,
        keys: Sequence[str] = (),
        whole_files: Sequence[RemoteFile] = (),
        archive: Archive | None = None,
    ) -> None:
        self.dest, self.files, self.seconds = dest, tuple(files), seconds
        #: the names of the files this fetch is for (the others are only matched)
        self.needed = {r.name for r in self.files}
        self.by_key = dict(zip(keys, files, strict=False)) if len(keys) == len(files) else {}
        self.whole_files, self.archive = tuple(whole_files), archive
        self.dead: dict[str, str] = {}
        self.wholes: dict[str, Failed | dict[str, str]] = {}
        self.got: dict[str, Path] = {}

    @classmethod
    def of(cls, dest: Path, spec: DatasetSpec, seconds: float) -> Session:
        """A session for all of ``spec``'s files."""
        files = spec.remote_files
        keys = spec.keys if len(files) == len(spec.files) else ()
        return cls(
            dest,
            files,
            seconds,
            keys=keys,
            whole_files=spec.whole_files,
            archive=spec.archive,
        )

    def keep(self, path: Path, remote: RemoteFile, how: str, kind: str) -> Path:
        """Publish the verified file at ``path`` as ``remote``: its registry name, or its
        stem and its container's suffix when it verified by content."""
        final = self.dest / plain_name(kept_name(remote, how, kind))
        publish(path, final)
        self.got[remote.name] = final
        return final

    def wanted(self) -> list[RemoteFile]:
        """The files this fetch is for, not got yet."""
        return [r for r in self.files if r.name in self.needed and r.name not in self.got]

    # -- one file from one base mirror ---------------------------------------------------

    def _judge(self, path: Path, result: Result, variant: str, remote: RemoteFile) -> str:
        """The name to keep the downloaded file under, or raise Failed saying which check failed."""
        exact = variant == remote.name and result.size == remote.size
        if exact and result.digest == remote.digest:
            return remote.name
        if remote.content is None:
            if result.size != remote.size:
                raise Failed(f"got {result.size} bytes, expected {remote.size}", wrong_bytes=True)
            raise Failed(f"{remote.algorithm} mismatch (right size, wrong bytes)", wrong_bytes=True)
        found = verdict(path, remote)
        if found.ok:
            return kept_name(remote, found.how, found.kind)
        raise Failed(found.reason, wrong_bytes=True)

    def _variant(self, url: str, variant: str, remote: RemoteFile) -> Path:
        from . import transfer

        part = partial.Partial(self.dest, variant)
        exact = variant == remote.name and remote.content is None
        expect = Expect(remote.size if exact else None, _limit(remote), remote.algorithm)
        for attempt in range(2):
            result = transfer.fetch(url, part, expect, self.seconds, desc=variant)
            try:
                name = self._judge(part.path, result, variant, remote)
            except Failed as exc:
                part.discard()
                if result.resumed and attempt == 0:
                    continue  # the final hash decides: once more, from the first byte
                if attempt:
                    exc.reason += " (after a resume, and again from the start)"
                raise
            target = self.dest / plain_name(name)
            publish(part.path, target)
            part.forget()
            return target
        raise AssertionError("unreachable")

    def _file(self, base: str, remote: RemoteFile) -> Path:
        variants = names_for(remote) if remote.content is not None else [remote.name]
        first: Failed | None = None
        for variant in variants:
            try:
                return self._variant(base + _quote(variant), variant, remote)
            except Failed as exc:
                if not exc.not_found:
                    raise
                first = first or exc
        assert first is not None
        if len(variants) > 1:
            first.reason += " (nor under " + ", ".join(variants[1:]) + ")"
        raise first

    # -- a whole-dataset file, or the archive the files are members of ---------------------

    def _intended(self, member: str, wanted: Sequence[RemoteFile]) -> RemoteFile | None:
        """The registry file an archive member stands for, by its key or its file name."""
        from .assemble import candidate_names

        if member in KEYS:  # an npz array
            target = self.by_key.get(member)
            return target if target in wanted else None
        base = member.replace("\\", "/").rsplit("/", 1)[-1]
        for remote in wanted:
            names = candidate_names(remote.stem)
            if base in names or base == remote.name:
                return remote
        return None

    def _unpack(self, path: Path, pinned: str) -> dict[str, str]:
        """Keep every member of the whole-dataset file at ``path`` that verifies.

        Returns why each wanted file it holds did not verify; raises Failed if
        none did.
        """
        from . import unpack

        wanted = self.wanted()
        limit = max(_limit(r) for r in self.files)
        problems: dict[str, str] = {}
        kept = 0
        try:
            for member in unpack.members(path, self.dest, limit=limit):
                target = self._intended(member.name, wanted)
                if target is None:
                    continue
                if member.path is None:
                    problems[target.name] = f"{member.name}: {member.problem}"
                    continue
                found = verdict(member.path, target)
                if not found.ok:
                    problems[target.name] = f"{member.name}: {found.reason}"
                    continue
                assert found.how is not None
                self.keep(member.path, target, found.how, found.kind)
                wanted.remove(target)
                problems.pop(target.name, None)
                kept += 1
        except IdxError as exc:
            problems[""] = str(exc)
        if not kept:
            what = "; ".join(problems.values()) or "it holds none of the files"
            raise Failed(f"{pinned}{what}", wrong_bytes=bool(problems))
        return problems

    def pin_of(self, name: str) -> RemoteFile | None:
        """The pinned whole-dataset file called ``name``, if any; for a dataset kept in an
        archive, any ``.zip`` is that archive (a mirror may serve it under another name)."""
        found = next((w for w in self.whole_files if w.name == name), None)
        if found is None and self.archive is not None and name.lower().endswith(".zip"):
            return self.archive.file
        return found

    def fetch_whole(self, url: str, name: str, limit: int) -> Whole:
        """Download the whole file at ``url`` into its (resumable) ``.part``."""
        from . import transfer

        pin = self.pin_of(name)
        algorithm = pin.algorithm if pin is not None else "sha256"
        expect = Expect(None, max(limit, pin.size if pin is not None else 0), algorithm)
        part = partial.Partial(self.dest, name)
        result = transfer.fetch(url, part, expect, self.seconds, desc=name)
        pinned = ""
        if pin is not None and (result.size, result.digest) != (pin.size, pin.digest):
            pinned = f"not the pinned {pin.name} ({pin.algorithm} mismatch); "
        return Whole(part, pinned, result.resumed)

    def _whole(self, url: str) -> dict[str, str]:
        name = _whole_name(url)
        if self.archive is not None and name.lower().endswith(".zip"):
            from .archive import from_archive

            return from_archive(self, url, name)
        limit = sum(_limit(r) for r in self.files) + (1 << 20)
        for attempt in range(2):
            whole = self.fetch_whole(url, name, limit)
            try:
                return self._unpack(whole.part.path, whole.pinned)
            except Failed:
                if whole.resumed and attempt == 0:
                    continue  # the final check decides: once more, from the first byte
                raise
            finally:
                whole.part.discard()
        raise AssertionError("unreachable")

    def _whole_url(self, base: str) -> str | None:
        """The URL of the one file to fetch from ``base``, if the files do not come one by one."""
        if is_whole(base):
            return base
        if self.archive is not None:
            return base + _quote(self.archive.file.name)
        return None

    # -- one file, every mirror --------------------------------------------------------------

    def get(self, remote: RemoteFile, mirrors: Sequence[str], hint: str) -> Path:
        """``remote`` from the first mirror that delivers it verified; DownloadError if none."""
        failures = []
        wrong = tried = 0
        for base in mirrors:
            if remote.name in self.got:
                return self.got[remote.name]
            whole = self._whole_url(base)
            url = whole or base + _quote(remote.name)
            if base in self.dead:
                failures.append(f"  {url} -> skipped, unreachable earlier ({self.dead[base]})")
                continue
            tried += 1
            try:
                if whole is not None:
                    if whole not in self.wholes:
                        try:
                            self.wholes[whole] = self._whole(whole)
                        except Failed as exc:
                            self.wholes[whole] = exc
                    outcome = self.wholes[whole]
                    if remote.name in self.got:
                        return self.got[remote.name]
                    if isinstance(outcome, Failed):
                        raise outcome
                    why = outcome.get(remote.name)
                    raise Failed(why or f"holds no {remote.stem}", wrong_bytes=why is not None)
                path = self._file(base, remote)
                self.got[remote.name] = path
                return path
            except Failed as exc:
                failures.append(f"  {url} -> {exc.reason}")
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
    plain_name(remote.name)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    seconds = timeout() if seconds is None else seconds
    if spec is not None:
        session = Session.of(dest, spec, seconds)
        session.needed = {remote.name}
    else:
        session = Session(dest, (remote,), seconds)
    return session.get(remote, tuple(_base(u) for u in mirrors), hint)


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
) -> Fetched:
    """Make ``dest_dir`` hold ``spec``'s files, verified; say where each one is.

    Files already there that verify (by container or content) are kept, with
    no request. A file there that does not is replaced by a fresh download,
    with a RuntimeWarning; if that download fails too, the bad file is
    removed and :class:`DownloadError` raised. A dataset published as an
    archive gets the members it lacks out of the archive (``archive.py``).
    Offline (``offline``, else ``$IDXMNIST_OFFLINE``), only ``file://``
    mirrors are used, and a file missing without one is a
    :class:`DownloadError` at once, saying how to import it. Holds
    ``dest_dir/.idxmnist.lock`` throughout, so concurrent callers download
    each file once.
    """
    dest = Path(dest_dir)
    urls = mirrors_for(spec) if mirrors is None else tuple(_base(u) for u in mirrors)
    remotes = spec.remote_files
    for remote in remotes:
        plain_name(remote.name)
    if spec.archive is not None:
        plain_name(spec.archive.file.name)
    is_offline = offline_mode(offline)
    if is_offline:
        urls = tuple(u for u in urls if u.lower().startswith("file:"))
    seconds = timeout()
    dest.mkdir(parents=True, exist_ok=True)
    with file_lock(dest / LOCK_NAME):
        partial.sweep(dest)
        have: dict[str, Path] = {}
        bad: dict[str, list[tuple[Path, str]]] = {}
        for remote in remotes:
            path, bad[remote.name] = find_verified(dest, remote)
            if path is not None:
                have[remote.name] = path
        missing = [r for r in remotes if r.name not in have]
        if missing and is_offline and not urls:
            why = "offline=True" if offline else f"{ENV_OFFLINE}=1"
            raise offline_error(spec, dest, [r.name for r in missing], why)
        session = Session.of(dest, spec, seconds)
        session.needed = {r.name for r in missing}
        hint = _local_hint(spec)
        for remote in missing:
            for path, reason in bad[remote.name]:
                warn(f"{path}: {reason}; downloading it again")
            try:
                got = session.get(remote, urls, hint)
            except DownloadError:
                for path, _ in bad[remote.name]:
                    path.unlink(missing_ok=True)
                raise
            for path, _ in bad[remote.name]:
                if path != got:
                    path.unlink(missing_ok=True)  # replaced by the verified copy
            have[remote.name] = got
    files = {key: have[r.name] for key, r in zip(spec.keys, spec.files, strict=True)}
    downloaded = [session.got[r.name] for r in remotes if r.name in session.got]
    return Fetched(files, downloaded)
