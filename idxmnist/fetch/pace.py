"""The time rules of one HTTP request, enforced on its socket: no server can hold a download.

``IDXMNIST_TIMEOUT`` (``T`` seconds, default 10) bounds each request twice:

* **the answer**: connecting (the TCP connection and the TLS handshake of
  every redirect included), sending the request and receiving the whole
  header block of the final answer take at most ``T`` seconds in all. A
  server sending its headers a byte at a time is cut off at ``T``.
* **the body**: in every span of ``T`` seconds at least :data:`MIN_BYTES`
  (16 KiB) arrive, or the rest of the body if less is left. A body slower
  than that fails as *too slow* (a stalled one as *stalled*), however many
  bytes each read brings: a socket timeout alone restarts with every byte,
  so one byte every half second would never time out.

So a body of ``n`` bytes takes at most ``T * ceil(n / 16 KiB)`` seconds,
and a mirror that answers slower is left for the next one. The rules are
kept by the socket reader http.client reads through (:class:`Pace` sets
each read's timeout to what the rules leave), not by a timer thread; a TLS
read waits at most its timeout in all, so a server dribbling TLS records
gains nothing either.

:func:`handlers` gives the urllib handlers that open connections so; the
module is imported only when a download starts (it loads the network
stack).
"""

from __future__ import annotations

import http.client
import io
import socket
import time
import urllib.request
from typing import Any

__all__ = ["MIN_BYTES", "Pace", "SlowError", "handlers"]

#: the fewest bytes of a body that must arrive in every span of IDXMNIST_TIMEOUT seconds
MIN_BYTES = 16 << 10


class SlowError(TimeoutError):
    """A rule of :class:`Pace` was broken; the message says which, in words.

    ``stalled``: not a byte of the body came in the last span (else some did, too few).
    """

    def __init__(self, message: str, *, stalled: bool = False) -> None:
        super().__init__(message)
        self.stalled = stalled


class Pace:
    """The clock of one request: a deadline for the answer, then a minimum rate for its body."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds
        self._body = False
        self._left: int | None = None  # bytes of the body still to come, if announced
        self._since = 0.0  # when the current span of the body started
        self._got = 0  # bytes received in it

    def start_body(self, length: int | None) -> None:
        """The headers are in; from now on the body's rate counts (``length``: announced)."""
        self._body, self._left = True, length
        self._since, self._got = time.monotonic(), 0

    def timeout(self) -> float:
        """Seconds the next read may wait; :class:`SlowError` if none are left."""
        if not self._body:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise SlowError(
                    f"no answer within {self.seconds:g} s (its headers did not arrive in time)"
                )
            return left
        left = self._since + self.seconds - time.monotonic()
        if left <= 0:
            raise self._too_slow()
        return left

    def _too_slow(self) -> SlowError:
        if self._got == 0:
            return SlowError(f"timed out after {self.seconds:g} s (stalled)", stalled=True)
        return SlowError(
            f"too slow: {self._got} bytes in {self.seconds:g} s, fewer than the "
            f"{MIN_BYTES // 1024} KiB a mirror must send in that time"
        )

    def received(self, count: int) -> None:
        """``count`` more bytes arrived."""
        if not self._body:
            return
        self._got += count
        need = MIN_BYTES if self._left is None else min(MIN_BYTES, self._left)
        if self._got >= need:  # this span kept the rule: the next one starts now
            if self._left is not None:
                self._left = max(0, self._left - self._got)
            self._since, self._got = time.monotonic(), 0


class _PacedReader(io.RawIOBase):
    """The socket's bytes, each read waiting only as long as the :class:`Pace` allows."""

    def __init__(self, sock: Any, pace: Pace) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # keeps the socket open while it is read
        self._pace = pace

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(self._pace.timeout())
        try:
            got = self._raw.readinto(buffer)
        except TimeoutError:
            self._pace.timeout()  # raises SlowError, saying which rule
            raise
        got = got or 0
        self._pace.received(got)
        return int(got)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _PacedSocket:
    """A connected socket whose reader keeps the :class:`Pace`; everything else is the socket's."""

    def __init__(self, sock: Any, pace: Pace) -> None:
        self._sock, self._pace = sock, pace

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"a paced socket is read in binary only, not {mode!r}")
        return io.BufferedReader(_PacedReader(self._sock, self._pace))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _paced(base: type[http.client.HTTPConnection], pace: Pace) -> Any:
    """``base`` (HTTP or HTTPS), connecting and reading as ``pace`` allows."""

    class Paced(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = self._connect_paced  # an instance attribute there

        def _connect_paced(self, address: Any, timeout: Any, source: Any = None) -> socket.socket:
            sock = socket.create_connection(address, pace.timeout(), source)
            sock.settimeout(pace.timeout())  # the TLS handshake that follows gets what is left
            return sock

        def connect(self) -> None:
            super().connect()
            connected: Any = self.sock  # type: ignore[has-type]
            self.sock = _PacedSocket(connected, pace)

    return Paced


def handlers(pace: Pace, context: Any) -> list[urllib.request.BaseHandler]:
    """The urllib handlers for ``http`` and ``https`` (with the TLS ``context``) that keep
    ``pace`` on every connection they open, redirects included."""

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(_paced(http.client.HTTPConnection, pace), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(_paced(http.client.HTTPSConnection, pace), req, context=context)

    return [HTTP(), HTTPS(context=context)]
