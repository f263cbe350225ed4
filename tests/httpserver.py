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
``evil``     a redirect to ``/ok/<name>`` with a Content-Disposition naming ``../../``

Every GET is counted per path in ``server.hits``; ``server.sent`` counts body
bytes written per path.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
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

    def ok(self, name, body):
        self._headers(len(body))
        self._write(body)

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
        self._headers(len(body))
        piece = self.server.slow_piece
        for start in range(0, len(body), piece):
            if self.server.stop.is_set():
                break
            try:
                self._write(body[start : start + piece])
            except OSError:  # the client went away
                break
            time.sleep(self.server.slow_pause)

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

    def evil(self, name, body):
        self.send_response(302)
        self.send_header("Location", f"/ok/{name}")
        self.send_header("Content-Disposition", 'attachment; filename="../../escaped.gz"')
        self.send_header("Content-Length", "0")
        self.end_headers()


MODES = {
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
}


class FaultServer(ThreadingHTTPServer):
    """Serve ``files`` (name -> bytes) on 127.0.0.1, an ephemeral port, in a thread."""

    daemon_threads = True

    def __init__(self, files: dict[str, bytes]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = dict(files)
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stall_seconds = 30.0
        self.slow_piece = 16 * 1024
        self.slow_pause = 0.05
        self.latency_seconds = 0.3
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def url(self, mode: str = "ok") -> str:
        """The base URL of the mirror that behaves as ``mode``."""
        return f"http://127.0.0.1:{self.server_address[1]}/{mode}/"

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
