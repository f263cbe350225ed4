"""Harness: a resumable download's record, ``.NAME.part.json`` (``fetch/partial.py``).

The first byte picks the ``.part`` beside the record (none, or one of
:data:`PART_SIZES` bytes); the rest is the record, as a killed process, a
full disk or another program may have left it. ``meta``, ``in_progress``
and ``resume_point`` read it. Beyond the contract (here nothing may be
raised at all: a bad record means "start over"): a record is used only if
it is for this URL, ``resume_point`` never offers more bytes than the
``.part`` holds nor a negative count, leaves the ``.part`` exactly that
long, and removes both files when it offers nothing.
"""

from __future__ import annotations

from idxmnist.fetch.partial import Partial

from .contract import fresh

#: the ``.part``'s length, by the input's first byte (modulo); None: no ``.part``
PART_SIZES = (None, 0, 1, 100, 1000, 4096)
URL = "http://mirror.invalid/train-labels-idx1-ubyte.gz"


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    folder = fresh("part")
    part = Partial(folder, "train-labels-idx1-ubyte.gz")
    size = PART_SIZES[data[0] % len(PART_SIZES)]
    if size is not None:
        part.path.write_bytes(bytes(size))
    part.record.write_bytes(data[1:])
    meta = part.meta()
    if meta is not None:
        assert isinstance(meta.url, str) and isinstance(meta.synced, int) and meta.synced >= 0
        assert meta.total is None or isinstance(meta.total, int)
        assert meta.validator is None or isinstance(meta.validator, str)
    busy = part.in_progress(URL)
    assert busy == (meta is not None and meta.url == URL and bool(size) and meta.synced > 0)
    offset, resumed = part.resume_point(URL)
    if resumed is None:
        assert offset == 0, offset
        assert not part.path.exists() and not part.record.exists(), "left after (0, None)"
    else:
        assert busy and resumed == meta, (resumed, meta)
        assert size is not None and 0 < offset <= size and offset <= resumed.synced
        assert resumed.total is None or offset < resumed.total
        assert part.path.stat().st_size == offset
