"""The contract every harness asserts, and the bounds it runs under.

* **Only idxmnist's own errors escape.** Bad bytes may raise
  :class:`idxmnist.IdxError` (and its subclasses ``TruncatedError``,
  ``ChecksumError``) or :class:`idxmnist.DownloadError`; anything else
  leaving ``TestOneInput`` (a ``TypeError``, ``zlib.error``,
  ``RecursionError``, a ``MemoryError``...) is a finding. So is an
  assertion of a harness: a parser that accepts what it must refuse, or
  whose answers disagree between two ways of reading the same bytes.
* **Memory stays bounded.** The harness process may grow its address space
  by :data:`ADDRESS_SPACE` bytes past its start-up (``RLIMIT_AS``): an
  allocation past that raises ``MemoryError``, a finding unless idxmnist
  turns it into its own error. libFuzzer stops the run when the resident
  set passes :data:`RSS_LIMIT_MB` (``-rss_limit_mb``).
* **No hang.** libFuzzer stops the run when one input takes more than
  :data:`TIMEOUT` seconds (``-timeout``): a hang detector, not a speed
  test. Inputs are at most the harness's ``max_len`` bytes (``-max_len``).
"""

from __future__ import annotations

import atexit
import resource
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from idxmnist.errors import DownloadError, IdxError

__all__ = [
    "ALLOWED",
    "TIMEOUT",
    "RSS_LIMIT_MB",
    "ADDRESS_SPACE",
    "limit_memory",
    "ours",
    "scratch",
]

#: what bad bytes may raise; anything else escaping a harness is a finding
ALLOWED: tuple[type[BaseException], ...] = (IdxError, DownloadError)
#: seconds one input may take before libFuzzer calls it a hang
TIMEOUT = 10
#: resident memory of the harness process past which libFuzzer stops it
RSS_LIMIT_MB = 2048
#: bytes the address space may grow past the harness's start-up
ADDRESS_SPACE = 3 << 30

T = TypeVar("T")


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def limit_memory(extra: int = ADDRESS_SPACE) -> int:
    """Cap the address space at what it is now plus ``extra`` bytes; return the cap."""
    cap = _address_space() + extra
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap


def ours(fn: Callable[..., T], *args: object, **kwargs: object) -> T | BaseException:
    """``fn(*args, **kwargs)``, or the error it raised if it is one of idxmnist's own.

    Any other exception propagates: that is the finding.
    """
    try:
        return fn(*args, **kwargs)
    except ALLOWED as exc:
        # without its traceback: the frames it holds hold the reader's arrays (400 MB for
        # one seed), which would otherwise live on until the cycle collector ran (this
        # frame holds the error and the error this frame: a cycle)
        return exc.with_traceback(None)


_SCRATCH: list[Path] = []


def scratch() -> Path:
    """An empty directory for this process's files (removed at exit)."""
    if not _SCRATCH:
        path = Path(tempfile.mkdtemp(prefix="idxmnist-fuzz-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _SCRATCH.append(path)
    return _SCRATCH[0]


def fresh(name: str) -> Path:
    """A new empty directory ``name`` in :func:`scratch`, replacing any left from before."""
    path = scratch() / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path
