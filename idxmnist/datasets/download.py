"""Download a dataset's files: mirrors in order, verified, atomic, locked.

For each file the mirrors are tried in order; any failure moves on to the
next one: a connection error, a timeout, an HTTP error status, an HTML page,
a body of the wrong size, a checksum mismatch. The body is streamed, hashed
as it arrives, into a temporary file ``.NAME.XXXX.part`` in the destination
directory, and renamed to ``NAME`` only once its size and checksum match the
registry: the final name never holds a partial or unverified file, even if
the process is killed. A file lock in the destination directory makes
concurrent processes download each file once; the others wait and then find
the verified file.

The file name written is always the registry's, checked to be a plain name:
a server's redirect or ``Content-Disposition`` never chooses a path.

``urllib.request`` and ``tqdm`` are imported only when a download starts, so
``import idxmnist`` stays cheap.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..atomic import atomic_write, file_lock, sweep_stale
from ..errors import ChecksumError, DownloadError, warn
from . import checksum
from .registry import DatasetSpec, RemoteFile

if TYPE_CHECKING:
    import http.client

    from tqdm import tqdm

__all__ = [
    "fetch_dataset",
    "fetch_file",
    "mirrors_for",
    "timeout",
    "is_url",
    "plain_name",
    "LOCK_NAME",
]

ENV_MIRRORS = "IDXMNIST_MIRRORS"
ENV_TIMEOUT = "IDXMNIST_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
#: the lock file inside a download directory (hidden; never a dataset file name)
LOCK_NAME = ".idxmnist.lock"
CHUNK = 1 << 18
URL_SCHEMES = ("http://", "https://", "file://")


def is_url(value: object) -> bool:
    """True for an ``http://``, ``https://`` or ``file://`` URL string."""
    return isinstance(value, str) and value.lower().startswith(URL_SCHEMES)


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


def _base(url: str, where: str = "mirror") -> str:
    if not is_url(url):
        raise DownloadError(
            f"{where}: {url!r} is not a base URL to download from (http://, https:// or file://)"
        )
    return url if url.endswith("/") else url + "/"


def mirrors_for(spec: DatasetSpec) -> tuple[str, ...]:
    """Base URLs to try, in order: ``$IDXMNIST_MIRRORS`` (comma-separated), else the registry's."""
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


class _Failed(Exception):
    """One mirror failed for one file.

    ``dead``: the mirror itself is unreachable. ``wrong_bytes``: it served a
    body of the wrong size or checksum.
    """

    def __init__(self, reason: str, dead: bool = False, wrong_bytes: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.dead, self.wrong_bytes = reason, dead, wrong_bytes


def _looks_like_html(head: bytes) -> bool:
    head = head.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def _progress(total: int, desc: str) -> tqdm[NoReturn] | None:
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        leave=False,
        file=sys.stderr,
    )


def _open(url: str, seconds: float) -> http.client.HTTPResponse:
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url, headers={"User-Agent": "idxmnist", "Accept-Encoding": "identity"}
    )
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=seconds)
        return response
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _Failed(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _Failed(f"timed out after {seconds:g} s (connecting)", dead=True) from None
        if isinstance(reason, FileNotFoundError):
            raise _Failed("no such file") from None
        if isinstance(reason, socket.gaierror):
            raise _Failed(f"unknown host ({reason.strerror or reason})", dead=True) from None
        if isinstance(reason, OSError):
            raise _Failed(f"cannot connect ({reason.strerror or reason})", dead=True) from None
        raise _Failed(f"cannot open ({reason})", dead=True) from None
    except TimeoutError:
        raise _Failed(f"timed out after {seconds:g} s (waiting for the response)") from None
    except OSError as exc:
        raise _Failed(f"connection error ({exc.strerror or exc})") from None
    except ValueError as exc:  # e.g. a malformed URL or a bad redirect
        raise _Failed(f"bad URL ({exc})") from None


def _fetch_one(url: str, remote: RemoteFile, dest: Path, seconds: float) -> None:
    """Download ``url`` to ``dest`` if and only if it is exactly ``remote``; else _Failed."""
    import http.client

    size = remote.size
    with _open(url, seconds) as resp:
        ctype = (resp.headers.get("Content-Type") or "").lower()
        if "html" in ctype:
            raise _Failed("an HTML page, not data")
        length = (resp.headers.get("Content-Length") or "").strip()
        if length.isdigit() and int(length) != size:
            raise _Failed(f"got {int(length)} bytes, expected {size}", wrong_bytes=True)
        digest = hashlib.new(remote.algorithm, usedforsecurity=False)
        got = 0
        bar = _progress(size, remote.name)
        try:
            with atomic_write(dest) as f:
                while True:
                    try:
                        # at most one byte more than expected: enough to know it is too long
                        chunk = resp.read(min(CHUNK, size + 1 - got))
                    except TimeoutError:
                        raise _Failed(
                            f"timed out after {seconds:g} s (stalled after {got} of {size} bytes)"
                        ) from None
                    except http.client.IncompleteRead as exc:
                        got += len(exc.partial)
                        raise _Failed(f"connection closed after {got} of {size} bytes") from None
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Failed(
                            f"connection error after {got} of {size} bytes ({exc})"
                        ) from None
                    if not chunk:
                        break
                    if got == 0 and _looks_like_html(chunk):
                        raise _Failed("an HTML page, not data")
                    got += len(chunk)
                    if got > size:
                        raise _Failed(
                            f"got more than {size} bytes, expected {size}", wrong_bytes=True
                        )
                    digest.update(chunk)
                    f.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                if got < size:
                    if length.isdigit():
                        raise _Failed(f"connection closed after {got} of {size} bytes")
                    raise _Failed(f"got {got} bytes, expected {size}", wrong_bytes=True)
                if digest.hexdigest() != remote.digest:
                    raise _Failed(
                        f"{remote.algorithm} mismatch (right size, wrong bytes)", wrong_bytes=True
                    )
        finally:
            if bar is not None:
                bar.close()


def _offline_hint(spec_name: str, names: Sequence[str]) -> str:
    count = {2: "two", 4: "four"}.get(len(names), str(len(names)))
    what = f"the {count} {spec_name} files" if len(names) > 1 else f"{spec_name}'s archive"
    return (
        "To load from local files instead: load_data(source='DIR') or IDXMNIST_SOURCE=DIR "
        f"with {what} ({', '.join(names)}) in DIR; "
        f"or set {ENV_MIRRORS} to base URLs that serve them"
    )


def fetch_file(
    remote: RemoteFile,
    dest_dir: str | os.PathLike[str],
    mirrors: Sequence[str],
    *,
    seconds: float | None = None,
    dead: dict[str, str] | None = None,
    hint: str = "",
) -> Path:
    """Download ``remote`` into ``dest_dir`` from the first mirror that delivers it verified.

    ``dead`` maps mirrors already found unreachable (in this fetch) to why;
    they are skipped, and mirrors found unreachable now are added. Raises
    :class:`DownloadError` listing each mirror and why it failed; when every
    mirror tried answered with wrong bytes, the :class:`ChecksumError`
    subclass of it.
    """
    name = plain_name(remote.name)
    dest = Path(dest_dir) / name
    seconds = timeout() if seconds is None else seconds
    dead = {} if dead is None else dead
    failures = []
    wrong = tried = 0
    for base in mirrors:
        url = _base(base) + _quote(name)
        if base in dead:
            failures.append(f"  {url} -> skipped, unreachable earlier ({dead[base]})")
            continue
        tried += 1
        try:
            _fetch_one(url, remote, dest, seconds)
            return dest
        except _Failed as exc:
            failures.append(f"  {url} -> {exc.reason}")
            wrong += exc.wrong_bytes
            if exc.dead:
                dead[base] = exc.reason
    listing = "\n".join(failures) if failures else "  (no mirrors configured)"
    error = ChecksumError if tried and wrong == tried else DownloadError
    raise error(
        f"could not download {name} from any mirror; tried, in order:\n{listing}"
        + (f"\n{hint}" if hint else "")
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def fetch_dataset(
    spec: DatasetSpec,
    dest_dir: str | os.PathLike[str],
    mirrors: Sequence[str] | None = None,
) -> list[Path]:
    """Make ``dest_dir`` hold ``spec``'s files, verified; return the ones downloaded.

    Files already there and matching the registry are kept (no request). A
    file there that does not match is replaced by a fresh download, with a
    RuntimeWarning; if that download fails too, the bad file is removed and
    :class:`DownloadError` raised. Holds ``dest_dir/.idxmnist.lock``
    throughout, so concurrent callers download each file once. A dataset
    published as an archive gets the members it lacks from the archive,
    downloaded and verified (see :mod:`.archive`).
    """
    dest_dir = Path(dest_dir)
    urls = mirrors_for(spec) if mirrors is None else tuple(_base(u) for u in mirrors)
    names = [plain_name(r.name) for r in spec.remote_files]
    if spec.archive is not None:
        names = [plain_name(spec.archive.file.name)]
    hint = _offline_hint(spec.name, names)
    seconds = timeout()
    dead: dict[str, str] = {}
    downloaded = []
    dest_dir.mkdir(parents=True, exist_ok=True)
    archive = spec.archive
    with file_lock(dest_dir / LOCK_NAME):
        for remote in (*spec.remote_files, *([archive.file] if archive else [])):
            # under the lock nobody else writes here: any temporary file is a leftover
            sweep_stale(dest_dir / remote.name, older_than=0)
        wanted = []
        for remote in spec.remote_files:
            path = dest_dir / remote.name
            bad = False
            if path.is_file():
                reason = checksum.mismatch(path, remote)
                if reason is None:
                    continue
                warn(f"{path}: {reason}; downloading it again")
                bad = True
            if archive is not None:
                wanted.append(remote)  # taken from the archive below
                continue
            try:
                downloaded.append(
                    fetch_file(remote, dest_dir, urls, seconds=seconds, dead=dead, hint=hint)
                )
            except DownloadError:
                if bad:
                    path.unlink(missing_ok=True)
                raise
        if wanted:
            from .archive import fetch_members

            try:
                downloaded += fetch_members(
                    spec, wanted, dest_dir, urls, seconds=seconds, dead=dead, hint=hint
                )
            except DownloadError:
                for remote in wanted:
                    (dest_dir / remote.name).unlink(missing_ok=True)
                raise
    return downloaded
