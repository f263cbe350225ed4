"""A real HTTP server on 127.0.0.1 for the download tests, with fault modes.

URLs are ``http://127.0.0.1:PORT/<mode>/<name>``: the first path segment picks
how the server misbehaves, so one server is several mirrors. Modes:

``ok``       serve the file
``404``      404 Not Found
``500``      500 Internal Server Error
``html``     200 with an HTML page (an expired-domain parking page)
``htmlgz``   200, a correct Content-Length, ``application/octet-stream``, HTML bytes
``half``     the right Content-Length, half the body, then the connection is closed
``stall``    headers and the first bytes, then nothing for ``stall_seconds``
``wrong``    200 with bytes of the right length and the wrong content
``slow``     the file, in small pieces with pauses (for killing a client mid-download)
``latency``  the file, after a pause of ``latency_seconds`` (to make clients overlap)
``nolength`` the file with no Content-Length: the body ends when the connection closes
``long``     the right Content-Length, then 1000 bytes more than it says
``longnolength`` no Content-Length, the file and 1000 bytes more
``garbage``  not HTTP at all: a line another protocol's server would send
``evil``     a redirect to ``/ok/<name>`` with a Content-Disposition naming ``../../``
``redirect`` a redirect to ``server.redirect_base + <name>`` (another server, say)
``ftp``      a redirect to ``ftp://127.0.0.1:<server.ftp_port>/<name>``
``auth``     as ``ok``, for a request with HTTP Basic credentials ``server.user`` and
             ``server.password``; 401 (with ``WWW-Authenticate``) for any other
``slowheaders`` the status line and headers one byte every ``server.dribble_pause`` s
``trickle``  the headers at once, then the body one byte every ``server.dribble_pause`` s

``ok``, ``slow`` and ``latency`` speak HTTP ranges as a real server does:
``Accept-Ranges: bytes``, an ``ETag`` (from the body's sha256) and a
``Last-Modified`` date per file, ``Range: bytes=N-`` (or ``N-M``) answered
with ``206`` and ``Content-Range``, ``If-Range`` honoured (a validator that
no longer matches gets the whole new body), ``416`` past the end. How they
misbehave is set on the server, since a resume must come back to the same URL:

``server.range_mode``  ``"honor"`` (default); ``"ignore"``: 200 and the whole
                       body whatever was asked; ``"misfit"``: 206 with a
                       Content-Range that starts 7 bytes later than asked;
                       ``"ignore-if-range"``: ranges served even when If-Range
                       no longer matches
``server.cut[name] = N``  the next response for ``name`` stops after N body
                       bytes and closes the connection (one-shot)
``server.cut_at[name] = (status, first, N)``  the same, for the next response
                       with that status (200 or 206) whose body starts at byte
                       ``first`` of the file: one span of an archive, say
``server.mangle = OFFSET``  every 206 answer that covers byte OFFSET of a file
                       has that byte flipped (a proxy that damages partial
                       answers; whole answers are untouched)
``server.down_after_cut``  after a cut, the next request for that file gets
                       503 (so the client gives up and a later call resumes)
``server.etags = False``  send no ETag (If-Range then carries Last-Modified)
``server.put(name, body)``  replace a file: new ETag, later Last-Modified

Every GET is counted per path in ``server.hits`` and recorded with its
request headers and the body bytes written in answer in ``server.requests``;
``server.sent`` counts body bytes written per path; ``server.connections``
counts accepted TCP connections.
"""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>This domain has expired</title></head>"
    b"<body><p>Buy this domain!</p></body></html>\n"
)


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def do_GET(self):  # noqa: N802 - the http.server API
        srv = self.server
        with srv.lock:
            srv.hits[self.path] += 1
            self._record = {"path": self.path, "headers": dict(self.headers.items()), "sent": 0}
            srv.requests.append(self._record)
        parts = self.path.split("/")
        if len(parts) != 3 or parts[1] not in MODES:
            self.send_error(404)
            return
        mode, name = parts[1], parts[2]
        body = srv.files.get(name)
        if body is None:
            self.send_error(404)
            return
        MODES[mode](self, name, body)

    # -- the modes ---------------------------------------------------------------

    def _headers(self, length: int, ctype: str = "application/octet-stream", extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        with self.server.lock:
            self.server.sent[self.path] += len(data)
            self._record["sent"] += len(data)

    def _validators(self, name):
        srv = self.server
        out = [("Accept-Ranges", "bytes"), ("Last-Modified", srv.modified[name])]
        if srv.etags:
            out.append(("ETag", f'"{hashlib.sha256(srv.files[name]).hexdigest()[:16]}"'))
        return out

    def _range(self, name, body):
        """``(start, stop)`` of the body to send, or None for all of it; may answer 416."""
        srv = self.server
        asked = self.headers.get("Range")
        if not asked or srv.range_mode == "ignore":
            return None
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", asked.strip())
        if m is None:
            return None
        if_range = self.headers.get("If-Range")
        if if_range and srv.range_mode != "ignore-if-range":
            current = dict(self._validators(name))
            if if_range not in (current.get("ETag"), current["Last-Modified"]):
                return None  # the file changed: the whole new body
        start = int(m[1])
        stop = int(m[2]) + 1 if m[2] else len(body)
        if start >= len(body):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        return start, min(stop, len(body))

    def _send(self, name, body, pieces=None):
        """Send ``body`` (or the part a Range asks for), honouring a pending cut."""
        srv = self.server
        span = self._range(name, body)
        if span is False:
            return
        extra = self._validators(name)
        if span is None:
            start, stop = 0, len(body)
            self._headers(len(body), extra=extra)
        else:
            start, stop = span
            shown = start + 7 if srv.range_mode == "misfit" else start
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(stop - start))
            self.send_header("Content-Range", f"bytes {shown}-{stop - 1}/{len(body)}")
            for key, value in extra:
                self.send_header(key, value)
            self.end_headers()
        with srv.lock:
            cut = srv.cut.pop(name, None)
            status = 200 if span is None else 206
            if cut is None and srv.cut_at.get(name, (0, -1, 0))[:2] == (status, start):
                cut = srv.cut_at.pop(name)[2]
        if span is not None and srv.mangle is not None and start <= srv.mangle < stop:
            damaged = bytearray(body[start:stop])
            damaged[srv.mangle - start] ^= 0xFF
            body = bytes(start) + bytes(damaged)
        end = stop if cut is None else min(stop, start + cut)
        step = pieces or (end - start) or 1
        for at in range(start, end, step):
            if srv.stop.is_set():
                break
            try:
                self._write(body[at : min(at + step, end)])
            except OSError:  # the client went away
                break
            if pieces:
                time.sleep(srv.slow_pause)
        if cut is not None:
            self.close_connection = True
            if srv.down_after_cut:
                with srv.lock:
                    srv.down.add(name)

    def ok(self, name, body):
        with self.server.lock:
            down = name in self.server.down
            self.server.down.discard(name)
        if down:
            self.send_error(503)
            return
        self._send(name, body)

    def not_found(self, name, body):
        self.send_error(404)

    def server_error(self, name, body):
        self.send_error(500)

    def html(self, name, body):
        self._headers(len(HTML), "text/html; charset=utf-8")
        self._write(HTML)

    def html_as_data(self, name, body):
        page = (HTML * (len(body) // len(HTML) + 1))[: len(body)]
        self._headers(len(page))
        self._write(page)

    def half(self, name, body):
        self._headers(len(body))
        self._write(body[: len(body) // 2])
        self.close_connection = True

    def stall(self, name, body):
        self._headers(len(body))
        self._write(body[: min(len(body) // 2, 1000)])
        self.server.stop.wait(self.server.stall_seconds)
        self.close_connection = True

    def wrong(self, name, body):
        self._headers(len(body))
        self._write(bytes(b ^ 0xFF for b in body[:64]) + body[64:])

    def slow(self, name, body):
        self._send(name, body, pieces=self.server.slow_piece)

    def latency(self, name, body):
        time.sleep(self.server.latency_seconds)
        self.ok(name, body)

    def no_length(self, name, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self._write(body)
        self.close_connection = True

    def long(self, name, body):
        self._headers(len(body))
        self._write(body + bytes(1000))
        self.close_connection = True

    def long_no_length(self, name, body):
        self.no_length(name, body + bytes(1000))

    def garbage(self, name, body):
        self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def evil(self, name, body):
        self.send_response(302)
        self.send_header("Location", f"/ok/{name}")
        self.send_header("Content-Disposition", 'attachment; filename="../../escaped.gz"')
        self.send_header("Content-Length", "0")
        self.end_headers()


def _ftp(self, name, body):
    self.send_response(302)
    self.send_header("Location", f"ftp://127.0.0.1:{self.server.ftp_port}/{name}")
    self.send_header("Content-Length", "0")
    self.end_headers()


def _auth(self, name, body):
    srv = self.server
    token = base64.b64encode(f"{srv.user}:{srv.password}".encode()).decode()
    if self.headers.get("Authorization") != f"Basic {token}":
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="mirror"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return
    _Handler.ok(self, name, body)


def _dribble(self, data: bytes) -> None:
    """``data`` one byte at a time, ``dribble_pause`` apart, until done or the client leaves."""
    for at in range(len(data)):
        if self.server.stop.wait(self.server.dribble_pause):
            return
        try:
            self.wfile.write(data[at : at + 1])
            self.wfile.flush()
        except OSError:  # the client gave up
            return
        with self.server.lock:
            self._record["sent"] += 1
    self.close_connection = True


def _slow_headers(self, name, body):
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    self.close_connection = True
    _dribble(self, head + body)


def _trickle(self, name, body):
    self._headers(len(body))
    _dribble(self, body)


def _redirect(self, name, body):
    self.send_response(302)
    self.send_header("Location", self.server.redirect_base + name)
    self.send_header("Content-Length", "0")
    self.end_headers()


MODES = {
    "redirect": _redirect,
    "ftp": _ftp,
    "auth": _auth,
    "slowheaders": _slow_headers,
    "trickle": _trickle,
    "ok": _Handler.ok,
    "404": _Handler.not_found,
    "500": _Handler.server_error,
    "html": _Handler.html,
    "htmlgz": _Handler.html_as_data,
    "half": _Handler.half,
    "stall": _Handler.stall,
    "wrong": _Handler.wrong,
    "slow": _Handler.slow,
    "latency": _Handler.latency,
    "nolength": _Handler.no_length,
    "long": _Handler.long,
    "longnolength": _Handler.long_no_length,
    "evil": _Handler.evil,
    "garbage": _Handler.garbage,
}


class FaultServer(ThreadingHTTPServer):
    """Serve ``files`` (name -> bytes) on 127.0.0.1, an ephemeral port, in a thread.

    With ``tls=(certfile, keyfile)`` it serves HTTPS with that certificate.
    """

    daemon_threads = True

    def __init__(self, files: dict[str, bytes], tls: tuple[str, str] | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.redirect_base = ""
        self.ftp_port = 21
        self.user, self.password = "reader", "s3cret:pass@word"
        self.files = dict(files)
        self.modified = dict.fromkeys(self.files, formatdate(1_700_000_000, usegmt=True))
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.requests: list[dict] = []
        self.connections = 0
        self.range_mode = "honor"
        self.cut: dict[str, int] = {}
        self.cut_at: dict[str, tuple[int, int, int]] = {}
        self.mangle: int | None = None
        self.down_after_cut = False
        self.down: set[str] = set()
        self.etags = True
        self._version = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stall_seconds = 30.0
        self.slow_piece = 16 * 1024
        self.slow_pause = 0.05
        self.dribble_pause = 0.5
        self.latency_seconds = 0.3
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def process_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def put(self, name: str, body: bytes) -> None:
        """Replace (or add) a file: it gets a new ETag and a later Last-Modified date."""
        with self.lock:
            self.files[name] = body
            self._version += 1
            self.modified[name] = formatdate(1_700_000_000 + 86400 * self._version, usegmt=True)

    def headers_of(self, name: str, mode: str = "ok") -> list[dict[str, str]]:
        """The request headers of each GET of ``/<mode>/<name>``, in order."""
        with self.lock:
            return [r["headers"] for r in self.requests if r["path"] == f"/{mode}/{name}"]

    def sent_per_request(self, name: str, mode: str = "ok") -> list[int]:
        """Body bytes written in answer to each GET of ``/<mode>/<name>``, in order."""
        with self.lock:
            return [r["sent"] for r in self.requests if r["path"] == f"/{mode}/{name}"]

    def url(self, mode: str = "ok") -> str:
        """The base URL of the mirror that behaves as ``mode``."""
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/{mode}/"

    def gets(self, mode: str | None = None) -> dict[str, int]:
        """Requests seen, ``{path: count}``, optionally only those under ``/<mode>/``."""
        with self.lock:
            return {p: n for p, n in self.hits.items() if mode is None or p.startswith(f"/{mode}/")}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.shutdown()
        self.server_close()
