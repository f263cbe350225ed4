"""One URL into one resumable ``.part`` file: HTTP(S) with ``Range``, or ``file://``.

:func:`fetch` streams the body into the :class:`~.partial.Partial`, hashing
it as it arrives, and returns its checksum; the caller decides whether the
bytes are the right ones and publishes or discards them. What it handles:

* resume: a ``.part`` left by an earlier attempt is continued from its
  verified length with ``Range: bytes=N-`` and ``If-Range`` (the ETag or
  Last-Modified date recorded with it), so a file that changed meanwhile
  comes back whole; a connection cut mid-body is resumed at once, up to
  :data:`MAX_RESUMES` times while each try makes progress;
* a server that ignores ``Range`` (``200`` and the whole body): the body is
  taken from its first byte, the old bytes dropped;
* a ``206`` whose ``Content-Range`` does not fit what was asked (another
  start, another total, a length that disagrees) or a ``416``: the ``.part``
  is dropped and the file asked for again, whole, once;
* refusals: an HTML page, a body longer than the file can be, a length that
  is not the one pinned;
* a *span*, ``[start, stop)`` of the file (:attr:`Expect.span`): asked for
  with ``Range: bytes=start-(stop-1)`` (and ``If-Range``, so that a file that
  changed since its other parts were read is not mixed in), accepted only as
  a ``206`` whose ``Content-Range`` is exactly that span of a file of the
  expected total length. Anything else (a ``200`` with the whole file, a
  misfit, a ``416``) is :class:`MirrorError` with ``no_range`` set and no body
  read: a caller that wanted a few members of a 536 MiB archive does not get
  the archive by accident. A span is resumed like a file.

The caller checks the final checksum; when it fails after a resume, it
discards the ``.part`` and fetches once more from the start
(:attr:`Result.resumed` says whether that applies).

What a server may do is bounded: the answer's headers arrive within
``IDXMNIST_TIMEOUT`` seconds of connecting, and the body brings at least
16 KiB in every span of that length (``pace.py``); redirects are followed
only to ``http`` and ``https``, never from ``https`` to anything else; a
body is never longer than the file can be. A URL with a user name and
password (``https://user:secret@host/...``) is fetched with HTTP Basic
authentication, the credentials sent to that URL's own origin only (a
redirect elsewhere drops them), and shown as ``user:***`` in every message,
progress bar and resume record (``errors.shown_url``).

``urllib``, ``http.client``, ``ssl`` and ``tqdm`` are imported only here (and
in ``pace.py``), when a download starts. One connection per request, not urllib3's pool: a ranged
EMNIST split makes about six requests, whose handshakes cost far less than
its 66 MiB, and one HTTP stack is one set of timeout, redirect and TLS rules
to get right.
"""

from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from ..errors import shown_url
from ..files import CHUNK, no_room, open_own
from ..idx.compression import looks_like_html
from ..store.verify import Tally
from .partial import Meta, Partial

if TYPE_CHECKING:
    import urllib.request
    from http.client import HTTPMessage

    from .pace import Pace

__all__ = ["MirrorError", "Expect", "Result", "fetch", "MAX_RESUMES"]

#: fsync the ``.part`` and record its verified length after this many new bytes
SYNC_EVERY = 1 << 20
#: immediate resumes after a cut connection, each needing progress
MAX_RESUMES = 3
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+([0-9]+)-([0-9]+)/([0-9]+|\*)\s*$", re.I)
#: a byte count of more digits than this is past any file (and past int()'s 4300 digits)
_COUNT_DIGITS = 19


class MirrorError(Exception):
    """One mirror failed to deliver one file.

    ``dead``: the mirror is unreachable (skip it for the rest of the fetch).
    ``wrong_bytes``: it served a body of the wrong size or checksum.
    ``not_found``: it answered that it has no such file (404, 410).
    ``resumable``: some bytes were kept in the ``.part`` and the server takes
    ``Range``; ``progressed``: this attempt added bytes to it. ``no_range``:
    a span was asked for and the answer was not that span (the server ignores
    ``Range``, or the file changed).
    """

    def __init__(
        self,
        reason: str,
        *,
        dead: bool = False,
        wrong_bytes: bool = False,
        not_found: bool = False,
        resumable: bool = False,
        progressed: bool = False,
        no_range: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dead, self.wrong_bytes, self.not_found = dead, wrong_bytes, not_found
        self.resumable, self.progressed, self.no_range = resumable, progressed, no_range


class _RestartError(Exception):
    """The server's partial answer does not fit: start the file over, once."""


@dataclass(frozen=True, slots=True)
class Expect:
    """What a body may be: ``size`` exactly (when only one length is right), at most ``limit``.

    ``algorithm`` is the container checksum computed while it streams.
    ``span``: only the bytes ``[start, stop)`` of a file of ``total`` bytes
    are wanted, by ``Range``; ``if_range``: the validator (ETag or
    Last-Modified) the file had when its other parts were read.
    """

    size: int | None
    limit: int
    algorithm: str
    span: tuple[int, int] | None = None
    total: int | None = None
    if_range: str | None = None

    def key(self, url: str) -> str:
        """What the ``.part``'s record names: the URL (as shown: no password), and the span."""
        shown = shown_url(url)
        return shown if self.span is None else f"{shown} bytes={self.span[0]}-{self.span[1] - 1}"


@dataclass(frozen=True, slots=True)
class Result:
    """A finished ``.part``: its ``algorithm`` checksum, its length, and whether
    any of its bytes came through a ``Range`` request."""

    digest: str
    size: int
    resumed: bool


def _progress(total: int | None, initial: int, desc: str) -> Any:
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm  # the progress bar: only on a terminal, only if installed
    except ImportError:
        return None
    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        leave=False,
        file=sys.stderr,
    )


#: the schemes a redirect may lead to
REDIRECT_SCHEMES = ("http", "https")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def credentials(url: str) -> tuple[str, str | None]:
    """``url`` without the ``user:password@`` it may hold, and the HTTP Basic
    ``Authorization`` value they make (None when it holds none)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = f"{unquote(user)}:{unquote(password)}".encode()
    plain = urlunsplit(parts._replace(netloc=host))
    return plain, "Basic " + base64.b64encode(token).decode("ascii")


def _opener(pace: Pace) -> urllib.request.OpenerDirector:
    import urllib.request  # the network stack and ssl: loaded when a download starts

    from . import pace as paced
    from . import tls

    class Redirects(urllib.request.HTTPRedirectHandler):
        """Follow redirects to http and https only (urllib also follows ``ftp://``), never
        from https to anything else; credentials go to their URL's own origin only."""

        def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
            target = headers.get("Location") or headers.get("URI")
            if target is not None:
                new = urljoin(req.full_url, target)
                scheme = urlsplit(new).scheme.lower()
                refused = ""
                if scheme not in REDIRECT_SCHEMES:
                    refused = f"refused a redirect to {shown_url(new)}: only http and https are"
                    refused += " followed"
                elif _origin(req.full_url)[0] == "https" and scheme != "https":
                    refused = f"refused a redirect from https to {shown_url(new)} (no downgrade)"
                if refused:
                    fp.close()
                    raise MirrorError(refused)
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

        def redirect_request(
            self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> urllib.request.Request | None:
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None and _origin(newurl) != _origin(req.full_url):
                new.remove_header("Authorization")  # the credentials are that origin's
            return new

    return urllib.request.build_opener(*paced.handlers(pace, tls.context()), Redirects())


def _open(url: str, headers: dict[str, str], pace: Pace) -> Any:
    import http.client  # the network stack and ssl: loaded when a download starts
    import socket
    import ssl
    import urllib.error
    import urllib.request

    from . import tls
    from .pace import SlowError

    seconds = pace.seconds
    plain, authorization = credentials(url)
    host = urlsplit(plain).hostname or shown_url(url)
    request = urllib.request.Request(plain, headers=headers)
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        return _opener(pace).open(request, timeout=seconds)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416:
            raise _RestartError("HTTP 416 (the range asked for is past the end)") from None
        if exc.code == 401:
            given = "were refused" if authorization else "are needed: put them in the URL"
            why = f"HTTP 401 (a user name and password {given}, https://USER:PASSWORD@host/...)"
            raise MirrorError(why) from None
        raise MirrorError(f"HTTP {exc.code}", not_found=exc.code in (404, 410)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            detail = reason.verify_message or str(reason)
            raise MirrorError(tls.certificate_failure(host, detail), dead=True) from None
        if isinstance(reason, ssl.SSLError):
            raise MirrorError(f"TLS error with {host} ({reason})", dead=True) from None
        if isinstance(reason, SlowError):
            raise MirrorError(f"{reason} (connecting)", dead=True) from None
        if isinstance(reason, TimeoutError):
            raise MirrorError(f"timed out after {seconds:g} s (connecting)", dead=True) from None
        if isinstance(reason, FileNotFoundError):
            raise MirrorError("no such file", not_found=True) from None
        if isinstance(reason, socket.gaierror):
            raise MirrorError(f"unknown host ({reason.strerror or reason})", dead=True) from None
        if isinstance(reason, OSError):
            raise MirrorError(f"cannot connect ({reason.strerror or reason})", dead=True) from None
        raise MirrorError(f"cannot open ({reason})", dead=True) from None
    except ssl.SSLCertVerificationError as exc:
        detail = exc.verify_message or str(exc)
        raise MirrorError(tls.certificate_failure(host, detail), dead=True) from None
    except SlowError as exc:
        raise MirrorError(str(exc)) from None
    except TimeoutError:
        raise MirrorError(f"timed out after {seconds:g} s (waiting for the response)") from None
    except http.client.HTTPException as exc:  # a status line or headers that are not HTTP
        raise MirrorError(f"not an HTTP answer from {host} ({exc!r})", dead=True) from None
    except OSError as exc:
        raise MirrorError(f"connection error ({exc.strerror or exc})") from None
    except ValueError as exc:  # e.g. a malformed URL or a bad redirect
        raise MirrorError(f"bad URL ({exc})") from None


def _count(text: str) -> int | None:
    """A byte count as HTTP writes it (ASCII digits); None for anything else, or one past any file.

    ``str.isdigit`` is not enough: it takes ``"\u00b2"`` (a superscript two, a
    Latin-1 header byte), which ``int()`` refuses, and ``int()`` refuses more
    than 4300 digits.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= _COUNT_DIGITS else None


def _content_length(headers: HTTPMessage) -> int | None:
    """The body's length an answer announces (``Content-Length``), None if it gives none."""
    return _count((headers.get("Content-Length") or "").strip())


def _misfit(
    headers: HTTPMessage,
    offset: int,
    length: int | None,
    total: int | None,
    last: int | None = None,
) -> str:
    """Why a 206 answer to ``Range: bytes=offset-`` (``-last``) does not fit; "" if it does."""
    value = headers.get("Content-Range") or ""
    m = _CONTENT_RANGE.match(value)
    if m is None:
        return f"a 206 answer with Content-Range {value!r}"
    start, end = _count(m[1]), _count(m[2])
    whole = None if m[3] == "*" else _count(m[3])
    if start is None or end is None or (whole is None and m[3] != "*"):
        return f"Content-Range {value!r} counts past any file's length"
    if start != offset:
        return f"asked for bytes from {offset}, got Content-Range {value!r}"
    if last is not None and end != last:
        return f"asked for bytes {offset}-{last}, got Content-Range {value!r}"
    if whole is not None and end >= whole:  # RFC 9110 14.4: such a field is invalid
        return f"Content-Range {value!r} ends past the end of the file"
    if end < start or (last is None and whole is not None and end != whole - 1):
        return f"Content-Range {value!r} does not run to the end of the file"
    if length is not None and length != end - start + 1:
        return f"Content-Range {value!r} disagrees with Content-Length {length}"
    if total is not None and whole is not None and whole != total:
        return f"Content-Range {value!r}: the file is {whole} bytes, expected {total}"
    return ""


def _rehash(path: os.PathLike[str], upto: int, tally: Tally) -> None:
    with open_own(path, "r") as f:
        left = upto
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise OSError(f"{path}: shorter than its verified length")
            tally.update(chunk)
            left -= len(chunk)


def _attempt(
    url: str, part: Partial, expect: Expect, seconds: float, desc: str
) -> tuple[Result, bool]:
    """One request; returns ``(result, used a 206)``. Raises MirrorError or _RestartError."""
    import http.client  # the network stack: loaded when a download starts

    from .pace import Pace, SlowError

    key = expect.key(url)
    offset, meta = part.resume_point(key)
    headers = {"User-Agent": "idxmnist", "Accept-Encoding": "identity"}
    if expect.span is not None:
        first, stop = expect.span
        headers["Range"] = f"bytes={first + offset}-{stop - 1}"
        validator = (meta.validator if meta is not None else None) or expect.if_range
        if validator:
            headers["If-Range"] = validator
    elif offset and meta is not None:
        headers["Range"] = f"bytes={offset}-"
        if meta.validator:
            headers["If-Range"] = meta.validator
    pace = Pace(seconds)
    resp = _open(url, headers, pace)
    with resp:
        status = getattr(resp, "status", None) or 200
        h = resp.headers
        if "html" in (h.get("Content-Type") or "").lower():
            part.discard()
            raise MirrorError("an HTML page, not data")
        length = _content_length(h)
        pace.start_body(length)
        ranged = status == 206
        if expect.span is not None:
            first, stop = expect.span
            why = (
                _misfit(h, first + offset, length, expect.total, stop - 1)
                if ranged
                else f"HTTP {status} with the whole file to a Range request (no Range "
                "support, or the file changed since its other parts were read)"
            )
            if why:
                part.discard()
                raise MirrorError(why, no_range=True)  # the body is left unread
            length = stop - first - offset
        elif ranged:
            expected_total = expect.size
            if expected_total is None and meta is not None:
                expected_total = meta.total
            why = _misfit(h, offset, length, expected_total) if offset else "an unasked-for 206"
            if why:
                raise _RestartError(why)
        else:
            offset = 0  # a whole body: the server ignored Range, or the file changed
        total = None if length is None else offset + length
        if total is not None and expect.span is None:
            if expect.size is not None and total != expect.size:
                part.discard()
                raise MirrorError(f"got {total} bytes, expected {expect.size}", wrong_bytes=True)
            if total > expect.limit:
                part.discard()
                raise MirrorError(
                    f"got {total} bytes, more than a copy of this file can be", wrong_bytes=True
                )
        accepts = ranged or (h.get("Accept-Ranges") or "").strip().lower() == "bytes"
        record = Meta(key, h.get("ETag"), h.get("Last-Modified"), total, offset)
        if accepts:
            part.save(record)
        else:
            part.forget()
        tally = Tally(expect.algorithm)
        if offset:
            _rehash(part.path, offset, tally)
        limit = expect.limit if total is None else total
        got = offset
        synced = offset
        bar = _progress(expect.size or total, offset, desc)

        def cut(reason: str) -> MirrorError:
            """Keep the bytes so far for a resume when the server takes ranges."""
            f.flush()
            if accepts and got > 0:
                os.fsync(f.fileno())
                part.save(Meta(key, record.etag, record.last_modified, total, got))
                return MirrorError(reason, resumable=True, progressed=got > offset)
            return MirrorError(reason)

        try:
            with open_own(part.path, "a" if offset else "w") as f:
                while True:
                    try:
                        # at most one byte more than allowed: enough to know it is too long
                        chunk = resp.read(min(CHUNK, limit + 1 - got))
                    except TimeoutError as exc:
                        of = f"{got} of {total if total is not None else '?'} bytes"
                        if isinstance(exc, SlowError) and not exc.stalled:
                            slow = cut(f"{exc} (after {of})")
                            slow.progressed = False  # kept for a later call, not retried now
                            raise slow from None
                        raise cut(f"timed out after {seconds:g} s (stalled after {of})") from None
                    except http.client.IncompleteRead as exc:
                        f.write(exc.partial)
                        tally.update(exc.partial)
                        got += len(exc.partial)
                        raise cut(
                            f"connection closed after {got} of "
                            f"{total if total is not None else '?'} bytes"
                        ) from None
                    except (OSError, http.client.HTTPException) as exc:
                        raise cut(f"connection error after {got} bytes ({exc})") from None
                    if not chunk:
                        break
                    if got == 0 and looks_like_html(chunk):
                        raise MirrorError("an HTML page, not data")
                    got += len(chunk)
                    if got > limit:
                        if expect.size is not None:
                            why = f"got more than {expect.size} bytes, expected {expect.size}"
                        elif total is not None:
                            why = f"got more bytes than the {total} the server announced"
                        else:
                            why = f"got more than {limit} bytes, more than a copy can be"
                        raise MirrorError(why, wrong_bytes=True)
                    tally.update(chunk)
                    f.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                    if accepts and got - synced >= SYNC_EVERY:
                        f.flush()
                        os.fsync(f.fileno())
                        synced = got
                        part.save(Meta(key, record.etag, record.last_modified, total, got))
                if total is not None and got < total:
                    raise cut(f"connection closed after {got} of {total} bytes")
                f.flush()
                os.fsync(f.fileno())
        except MirrorError as exc:
            if not exc.resumable:
                part.discard()
            raise
        except BaseException:
            part.discard()
            raise
        finally:
            if bar is not None:
                bar.close()
    if expect.size is not None and got != expect.size:
        part.discard()
        raise MirrorError(f"got {got} bytes, expected {expect.size}", wrong_bytes=True)
    # a span always comes by Range: it counts as resumed only if it continued a .part
    return Result(tally.digest, got, False), ranged and (expect.span is None or offset > 0)


def fetch(url: str, part: Partial, expect: Expect, seconds: float, desc: str = "") -> Result:
    """Download ``url`` into ``part``, resuming where an earlier attempt stopped.

    Returns the finished file's checksum; raises :class:`MirrorError`. The
    ``.part`` is left for the caller to publish or discard; on failure it is
    kept only if it can be resumed. No room to write it (a full disk, a quota,
    a file-size limit) is not the mirror's failure: an ``OSError`` naming the
    ``.part`` (``files.no_room``), which is removed.
    """
    resumes = restarts = 0
    while True:
        try:
            result, ranged = _attempt(url, part, expect, seconds, desc or shown_url(url))
        except _RestartError as exc:
            part.discard()
            if expect.span is not None:
                raise MirrorError(str(exc), no_range=True) from None
            restarts += 1
            if restarts > 1:
                raise MirrorError(f"unusable partial answers ({exc})") from None
            continue
        except MirrorError as exc:
            if exc.resumable and exc.progressed and resumes < MAX_RESUMES:
                resumes += 1
                continue
            raise
        except OSError as exc:  # the disk's, not the mirror's: no other mirror is tried
            full = no_room(exc, part.path, f"the partial download of {shown_url(url)} was removed")
            if full is None:
                raise
            part.discard()
            raise full from exc
        return Result(result.digest, result.size, ranged)
