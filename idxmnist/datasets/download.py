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

``urllib.request``, ``filelock`` and ``tqdm`` are imported only when a
download or a lock is needed, so ``import idxmnist`` stays cheap.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..atomic import atomic_write, sweep_stale
from ..errors import DownloadError
from . import checksum, registry
from .cache import cache_dir
from .registry import DatasetSpec, RemoteFile

__all__ = [
    "fetch_dataset",
    "fetch_file",
    "mirrors_for",
    "timeout",
    "is_url",
    "plain_name",
    "file_lock",
    "cli_fetch",
    "cli_verify",
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


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``path`` (created if needed)."""
    from filelock import FileLock

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(os.fspath(path)):
        yield


class _Failed(Exception):
    """One mirror failed for one file. ``dead``: the mirror itself is unreachable."""

    def __init__(self, reason: str, dead: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.dead = reason, dead


def _looks_like_html(head: bytes) -> bool:
    head = head.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def _progress(total: int, desc: str):
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


def _open(url: str, seconds: float):
    import socket
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url, headers={"User-Agent": "idxmnist", "Accept-Encoding": "identity"}
    )
    try:
        return urllib.request.urlopen(request, timeout=seconds)
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
            raise _Failed(f"got {int(length)} bytes, expected {size}")
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
                        raise _Failed(f"got more than {size} bytes, expected {size}")
                    digest.update(chunk)
                    f.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                if got < size:
                    if length.isdigit():
                        raise _Failed(f"connection closed after {got} of {size} bytes")
                    raise _Failed(f"got {got} bytes, expected {size}")
                if digest.hexdigest() != remote.digest:
                    raise _Failed(f"{remote.algorithm} mismatch (right size, wrong bytes)")
        finally:
            if bar is not None:
                bar.close()


def _offline_hint(spec_name: str, names: Sequence[str]) -> str:
    return (
        "To load from local files instead: load_data(source='DIR') or IDXMNIST_SOURCE=DIR "
        f"with the four {spec_name} files ({', '.join(names)}) in DIR; "
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
    :class:`DownloadError` listing each mirror and why it failed.
    """
    name = plain_name(remote.name)
    dest = Path(dest_dir) / name
    seconds = timeout() if seconds is None else seconds
    dead = {} if dead is None else dead
    failures = []
    for base in mirrors:
        url = _base(base) + _quote(name)
        if base in dead:
            failures.append(f"  {url} -> skipped, unreachable earlier ({dead[base]})")
            continue
        try:
            _fetch_one(url, remote, dest, seconds)
            return dest
        except _Failed as exc:
            failures.append(f"  {url} -> {exc.reason}")
            if exc.dead:
                dead[base] = exc.reason
    tried = "\n".join(failures) if failures else "  (no mirrors configured)"
    raise DownloadError(
        f"could not download {name} from any mirror; tried, in order:\n{tried}"
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
    """Make ``dest_dir`` hold ``spec``'s four files, verified; return the ones downloaded.

    Files already there and matching the registry are kept (no request). A
    file there that does not match is replaced by a fresh download, with a
    RuntimeWarning; if that download fails too, the bad file is removed and
    :class:`DownloadError` raised. Holds ``dest_dir/.idxmnist.lock``
    throughout, so concurrent callers download each file once.
    """
    dest_dir = Path(dest_dir)
    urls = mirrors_for(spec) if mirrors is None else tuple(_base(u) for u in mirrors)
    names = [plain_name(r.name) for r in spec.files]
    hint = _offline_hint(spec.name, names)
    seconds = timeout()
    dead: dict[str, str] = {}
    downloaded = []
    dest_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(dest_dir / LOCK_NAME):
        for remote in spec.files:
            # under the lock nobody else writes here: any temporary file is a leftover
            sweep_stale(dest_dir / remote.name, older_than=0)
        for remote in spec.files:
            path = dest_dir / remote.name
            bad = False
            if path.is_file():
                reason = checksum.mismatch(path, remote)
                if reason is None:
                    continue
                warnings.warn(
                    f"{path}: {reason}; downloading it again", RuntimeWarning, stacklevel=2
                )
                bad = True
            try:
                downloaded.append(
                    fetch_file(remote, dest_dir, urls, seconds=seconds, dead=dead, hint=hint)
                )
            except DownloadError:
                if bad:
                    path.unlink(missing_ok=True)
                raise
    return downloaded


# -- command line ---------------------------------------------------------------------------


def cli_fetch(args: argparse.Namespace) -> int:
    """``idxmnist fetch [--dataset NAME] [--dir DIR]``: download, verify, print the directory."""
    spec = registry.get(args.dataset)
    dest = Path(args.dir) if args.dir else cache_dir() / plain_name(spec.subdir)
    downloaded = fetch_dataset(spec, dest)
    print(
        f"idxmnist: {spec.name}: {len(spec.files)} files verified in {dest} "
        f"({len(downloaded)} downloaded)",
        file=sys.stderr,
    )
    print(dest)
    return 0


def cli_verify(args: argparse.Namespace) -> int:
    """``idxmnist verify DIR [--dataset NAME]``: check the files present; 1 on any mismatch."""
    directory = Path(args.dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such directory")
    if args.dataset:
        spec = registry.get(args.dataset)
    else:
        spec = checksum.detect(directory, registry.DATASETS.values())
        if spec is None:
            by_dir = [s for s in registry.DATASETS.values() if s.subdir == directory.name]
            spec = by_dir[0] if by_dir else registry.get("mnist")
            print(f"idxmnist: no file matches a known dataset; checking as {spec.name}")
        else:
            print(f"idxmnist: {directory} holds {spec.name}")
    reports = checksum.verify_dir(directory, spec)
    for report in reports:
        print(report)
    present = [r for r in reports if r.status != "missing"]
    bad = [r for r in reports if r.status == "mismatch"]
    if not present:
        print(
            f"idxmnist: error: none of the {spec.name} files is in {directory}",
            file=sys.stderr,
        )
        return 1
    if bad:
        print(
            f"idxmnist: error: {len(bad)} of {len(present)} files do not match the registry: "
            "delete them and run idxmnist fetch",
            file=sys.stderr,
        )
        return 1
    return 0
