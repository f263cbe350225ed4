"""Harness: a ``206 Partial Content`` answer's headers (``fetch/transfer.py``).

The bytes are the header block a server sends after its status line,
parsed by ``http.client`` as a download does (a block it refuses is
refused there, before idxmnist sees it). ``_content_length`` reads the
body's length and ``_misfit`` judges the ``Content-Range`` against several
requests: from byte 0, from 100, from where the answer says it starts;
open-ended or up to a last byte; of a file of known or unknown length.
Beyond the contract (nothing may be raised here: any answer is a verdict
string): a length is a count of bytes, and ``_misfit`` accepts exactly the
answers that are the range asked for, by the rule written out here
(RFC 9110's ``bytes first-last/complete``) as its own parser.
"""

from __future__ import annotations

import http.client
import io

from idxmnist.fetch.transfer import _content_length, _misfit

#: no byte count reaches this: 10**19 bytes is past any file, so such a range never fits
PAST_ANY_FILE = 10**19


def _number(text: str) -> int | None:
    """A run of ASCII digits as a number below :data:`PAST_ANY_FILE`, else None.

    Computed a thousand digits at a time: ``int()`` refuses more than 4300.
    """
    if not (text and text.isascii() and text.isdigit()):
        return None
    n = 0
    for i in range(0, len(text), 1000):
        chunk = text[i : i + 1000]
        n = n * 10 ** len(chunk) + int(chunk)
    return n if n < PAST_ANY_FILE else None


def _parse(value: str) -> tuple[int, int, int | None] | None:
    """``(first, last, complete or None)`` of ``bytes first-last/complete``; None if not that."""
    words = value.split(None, 1)
    if len(words) != 2 or words[0].lower() != "bytes" or len(words[1].split()) != 1:
        return None
    first, dash, rest = words[1].strip().partition("-")
    last, slash, whole = rest.partition("/")
    start, end = _number(first), _number(last)
    if not dash or not slash or start is None or end is None:
        return None
    if whole == "*":
        return start, end, None
    complete = _number(whole)
    return None if complete is None else (start, end, complete)


def _fits(value: str, offset: int, length: int | None, total: int | None, last: int | None) -> bool:
    parsed = _parse(value)
    if parsed is None:
        return False
    start, end, whole = parsed
    return (
        start == offset
        and start <= end
        and (whole is None or end < whole)  # RFC 9110 14.4: else the field is invalid
        and (end == last if last is not None else whole is None or end == whole - 1)
        and (length is None or length == end - start + 1)
        and (total is None or whole is None or whole == total)
    )


def TestOneInput(data: bytes) -> None:
    try:
        headers = http.client.parse_headers(io.BytesIO(data))
    except http.client.HTTPException:
        return  # refused by http.client: a download reports it as "not an HTTP answer"
    length = _content_length(headers)
    announced = (headers.get("Content-Length") or "").strip()
    assert length == _number(announced), (announced, length)
    value = headers.get("Content-Range") or ""
    parsed = _parse(value)
    offsets, lasts, totals = {0, 100}, {None, 199}, {None, 200}
    if parsed is not None:
        offsets.add(parsed[0])
        lasts.add(parsed[1])
        totals.add(parsed[2])
    for offset in offsets:
        for last in lasts:
            for total in totals:
                why = _misfit(headers, offset, length, total, last)
                assert isinstance(why, str) and "\n" not in why, why
                fits = _fits(value, offset, length, total, last)
                assert (why == "") == fits, (value, offset, length, total, last, why)
