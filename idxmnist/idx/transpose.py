"""Transpose images while they are decoded: chunk by chunk, in place, in the output array.

EMNIST stores each image transposed. Turning the images upright after the
decode would be a second pass over hundreds of megabytes. Instead the
decoder lands the bytes in the output array exactly as it does for any IDX
file, and :class:`InPlaceTransposer` turns each batch of whole images upright
in place as soon as it has landed: copied to a small scratch buffer, then
written back transposed. For large payloads this runs on a helper thread, a
batch (2 MiB) behind the decoder, so on two cores the transpose overlaps the
inflate and costs next to nothing (NumPy's copies and the inflaters both
release the GIL; measured in ``benchmarks/``: ``python -m benchmarks
--family``). Small payloads, or one core, transpose inline, 256 KiB at a time
while it is still in cache: about 0.6 ns a byte, some 30% of a zlib-ng inflate.
Either way the output holds every image upright when the decoder returns, and
memory grows by one scratch buffer per thread, never larger than the output.

>>> x = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
>>> flat = x.reshape(-1).copy()
>>> with InPlaceTransposer(flat, (2, 2, 3), threaded=False) as t:
...     t.landed(flat.size)
>>> bool((flat.reshape(2, 3, 2) == x.transpose(0, 2, 1)).all())
True
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["InPlaceTransposer", "BATCH_BYTES", "THREAD_BATCH_BYTES", "THREAD_MIN_BYTES"]

#: bytes of whole images transposed at a time: inline, while they are in cache;
#: on the helper thread, more at once (each batch costs the decoder a GIL handoff)
BATCH_BYTES = 1 << 18
THREAD_BATCH_BYTES = 1 << 21
#: payloads at least this large transpose on a helper thread (with two cores or more)
THREAD_MIN_BYTES = 8 << 20


class InPlaceTransposer:
    """Turns the images of ``flat`` (``count * h * w`` items) into ``(count, w, h)``, in place.

    The decoder calls :meth:`landed` with how many items of ``flat`` hold
    their final bytes so far; every whole image among them is transposed
    (inline, or queued for the helper thread). Leaving the ``with`` block
    waits for the helper (after an error: stops it, dropping what is queued).
    """

    def __init__(self, flat: np.ndarray, shape: tuple[int, int, int], *, threaded: bool) -> None:
        count, h, w = shape
        self.stored = flat.reshape(count, h, w)
        self.upright = flat.reshape(count, w, h)
        self.item = max(1, h * w)
        threaded = threaded and (os.cpu_count() or 1) > 1
        batch = THREAD_BATCH_BYTES if threaded else BATCH_BYTES
        self.per = max(1, batch // (self.item * flat.dtype.itemsize))
        self.done = 0  # images handed over so far
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        # never more images than there are: the scratch is at most the size of the output,
        # which the reader allocated only after checking the header against the source
        # (a header declaring no images of 2**31 x 28 pixels allocates nothing here)
        self._scratch = np.empty((min(self.per, count), h, w), flat.dtype)
        if threaded and count > self.per:
            import queue

            self._work: Any = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _turn(self, start: int, stop: int, scratch: np.ndarray) -> None:
        for s in range(start, stop, self.per):
            e = min(stop, s + self.per)
            tmp = scratch[: e - s]
            np.copyto(tmp, self.stored[s:e])
            np.copyto(self.upright[s:e], tmp.transpose(0, 2, 1))

    def _run(self) -> None:
        scratch = np.empty_like(self._scratch)
        while True:
            job = self._work.get()
            if job is None:
                return
            if self._error is None:
                try:
                    self._turn(job[0], job[1], scratch)
                except BaseException as exc:  # re-raised in the decoding thread
                    self._error = exc

    def landed(self, items: int) -> None:
        """``flat[:items]`` holds its final bytes: turn the whole images among them."""
        ready = items // self.item
        if ready == self.done or (ready - self.done < self.per and ready < len(self.stored)):
            return  # wait for a whole batch (or the end)
        if self._thread is None:
            self._turn(self.done, ready, self._scratch)
        else:
            if self._error is not None:
                raise self._error
            self._work.put((self.done, ready))
        self.done = ready

    def __enter__(self) -> InPlaceTransposer:
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
        if exc is None and self._error is not None:
            raise self._error
