"""A 200 or 206 answer's length headers, however a server writes them (``fuzz/content_range.py``).

Found by the fuzzer: ``Content-Length: ¹`` (a Latin-1 superscript, which
``str.isdigit`` takes and ``int()`` refuses) raised ``ValueError`` out of a
download. Found writing the harness: a ``Content-Range`` of more than 4300
digits did the same (``int()``'s limit), and ``bytes 100-299/200`` (a range
past the end of the file, invalid by RFC 9110) fitted a request for bytes
100-299. The downloads run against a real server on 127.0.0.1 that answers
with exactly the bytes given.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading

import pytest

from idxmnist.fetch import transfer
from idxmnist.fetch.partial import Meta, Partial
from idxmnist.fetch.transfer import Expect, MirrorError, _content_length, _misfit

BODY = b"0123456789" * 3


class RawServer:
    """A real HTTP server on 127.0.0.1 answering every request with the same bytes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(10)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    part = conn.recv(4096)
                    if not part:
                        break
                    request += part
                self.requests.append(request)
                conn.sendall(self.answer)

    def url(self, name: str = "train-labels-idx1-ubyte.gz") -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/{name}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in _serve
        except OSError:
            pass
        self._sock.close()
        self._thread.join(10)


def headers(block: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(block + b"\r\n"))


@pytest.mark.parametrize("length", ["\u00b9", "\u00b2", "\u00b3", "1" * 5000, "1" * 20])
def test_a_length_that_is_no_byte_count_is_no_length(length):
    assert _content_length(headers(f"Content-Length: {length}\r\n".encode("latin-1"))) is None


@pytest.mark.parametrize(
    ("length", "value"), [("30", 30), (" 0030 ", 30), ("0", 0), ("9" * 19, 10**19 - 1)]
)
def test_a_length_is_read_as_a_decimal_count(length, value):
    assert _content_length(headers(f"Content-Length: {length}\r\n".encode())) == value


def test_a_download_whose_length_is_a_superscript_reads_the_body(tmp_path):
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: \xb9\r\nConnection: close\r\n\r\n" + BODY
    with RawServer(answer) as server:
        part = Partial(tmp_path, "train-labels-idx1-ubyte.gz")
        result = transfer.fetch(server.url(), part, Expect(None, 1 << 20, "sha256"), 10)
    assert result.size == len(BODY) and part.path.read_bytes() == BODY


def test_a_resume_answered_with_a_5000_digit_range_starts_over_then_gives_up(tmp_path):
    start = "1" * 5000
    answer = (
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes "
        + start.encode()
        + b"-29/30\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
        + BODY[10:]
    )
    with RawServer(answer) as server:
        url = server.url()
        part = Partial(tmp_path, "train-labels-idx1-ubyte.gz")
        part.path.write_bytes(BODY[:10])
        part.save(Meta(url, '"v1"', None, 30, 10))
        with pytest.raises(MirrorError) as err:
            transfer.fetch(url, part, Expect(None, 1 << 20, "sha256"), 10)
    assert str(err.value) == "unusable partial answers (an unasked-for 206)"
    assert [r.split(b"\r\n")[0] for r in server.requests] == [
        b"GET /train-labels-idx1-ubyte.gz HTTP/1.1"
    ] * 2
    assert b"Range: bytes=10-" in server.requests[0] and b"Range" not in server.requests[1]
    assert not part.path.exists() and not part.record.exists()


def test_a_range_of_5000_digits_does_not_fit():
    value = f"bytes {'1' * 5000}-29/30"
    why = _misfit(headers(f"Content-Range: {value}\r\n".encode()), 10, 20, 30)
    assert why == f"Content-Range {value!r} counts past any file's length"


@pytest.mark.parametrize("last", [299, None])
def test_a_range_past_the_end_of_the_file_does_not_fit(last):
    h = headers(b"Content-Range: bytes 100-299/200\r\n")
    assert _misfit(h, 100, None, None, last) == (
        "Content-Range 'bytes 100-299/200' ends past the end of the file"
    )
    assert _misfit(headers(b"Content-Range: bytes 100-199/200\r\n"), 100, None, None, 199) == ""
