"""Transpose images while they are decoded: per chunk, into the output array.

EMNIST stores each image transposed. Turning the images upright after the
decode would be a second pass over hundreds of megabytes; instead the
decoder fills a small staging buffer of whole images (about 1 MiB, still in
cache) and :class:`TransposingLanding` writes it, transposed, into its place
in the output. For large payloads the transposing runs on a helper thread
while the decoder inflates the next chunk: both NumPy's copy and the
inflaters release the GIL, so on two cores the transpose costs next to
nothing (measured in ``benchmarks/``: the ``--family`` run). Small payloads
are transposed inline.

The buffers cycle through two queues (free, filled), so memory stays at
:data:`BUFFERS` staging buffers whatever the payload.

>>> x = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
>>> out = np.empty((2, 3, 2), np.uint8)
>>> with TransposingLanding(out, threaded=False) as land:
...     buf = land.buffer()
...     buf[:2] = x
...     land.submit(buf, 0, 2)
>>> bool((out == x.transpose(0, 2, 1)).all())
True
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["TransposingLanding", "STAGE_BYTES", "THREAD_MIN_BYTES", "BUFFERS"]

#: bytes of whole images per staging buffer
STAGE_BYTES = 1 << 20
#: payloads at least this large transpose on a helper thread
THREAD_MIN_BYTES = 8 << 20
#: staging buffers in flight
BUFFERS = 4


class TransposingLanding:
    """Writes staged images, each transposed, into ``out`` (shape ``(n, w, h)``).

    :meth:`buffer` hands out a staging buffer of shape ``(per, h, w)``;
    :meth:`submit` gives it back holding ``count`` images that belong at
    ``out[start:start + count]``. Leaving the ``with`` block waits for the
    last ones (or, after an error, drops them) and stops the helper thread.
    """

    def __init__(self, out: np.ndarray, *, threaded: bool) -> None:
        if out.ndim != 3:
            raise ValueError(f"expected (count, width, height) images, got shape {out.shape}")
        self.out = out
        n, w, h = out.shape
        item = max(1, w * h * out.dtype.itemsize)
        self.per = max(1, min(n, STAGE_BYTES // item))
        self._shape = (self.per, h, w)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if threaded and n > self.per:
            import queue

            self._free: Any = queue.SimpleQueue()
            self._work: Any = queue.SimpleQueue()
            for _ in range(BUFFERS):
                self._free.put(np.empty(self._shape, out.dtype))
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        else:
            self._only = np.empty(self._shape, out.dtype)

    def _land(self, buf: np.ndarray, start: int, count: int) -> None:
        np.copyto(self.out[start : start + count], buf[:count].transpose(0, 2, 1))

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            buf, start, count = item
            try:
                if self._error is None:
                    self._land(buf, start, count)
            except BaseException as exc:  # re-raised in the decoding thread
                self._error = exc
            self._free.put(buf)

    def buffer(self) -> np.ndarray:
        """A staging buffer of shape ``(per, h, w)``, waiting for one if all are in use."""
        if self._thread is None:
            return self._only
        self._raise()
        buf: np.ndarray = self._free.get()
        return buf

    def submit(self, buf: np.ndarray, start: int, count: int) -> None:
        """Land ``buf[:count]``, transposed, at ``out[start:start + count]``."""
        if self._thread is None:
            self._land(buf, start, count)
        else:
            self._work.put((buf, start, count))

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> TransposingLanding:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            if exc is not None:
                self._error = self._error or exc  # drop what is still queued
            self._work.put(None)
            self._thread.join()
            if exc is None:
                self._raise()
