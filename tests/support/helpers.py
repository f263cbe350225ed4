"""Helpers of many test files: the upstream names, the checkout, the CLI, a cache's listing.

Plain functions and constants, no fixtures (those are in the ``conftest.py``
files): the four upstream MNIST file names, a loopback mirror that refuses
every connection, ``python -m idxmnist`` run as a user runs it, a child
that cannot write past a file-size limit (a full disk), the files under a
directory, and small readers the tests use as their own reference.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

#: the checkout: tests/support/helpers.py is two levels below it
REPO = Path(__file__).resolve().parents[2]

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
#: the same files without ``.gz``: the raw IDX names (torchvision's, a decompressed copy)
MNIST_STEMS = [n.removesuffix(".gz") for n in MNIST_FILES]

_DEAD: socket.socket | None = None


def dead_mirror_url() -> str:
    """A loopback URL that refuses every connection, reliably, for the whole session.

    The port is bound (so nothing else can take it) but never listened on, so a
    connection is refused at once. A port that was merely closed could be reused.
    """
    global _DEAD
    if _DEAD is None:
        _DEAD = socket.socket()
        _DEAD.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{_DEAD.getsockname()[1]}/"


def close_dead_mirror() -> None:
    """Give back the port of :func:`dead_mirror_url` (at the end of the session)."""
    global _DEAD
    if _DEAD is not None:
        _DEAD.close()
        _DEAD = None


def run_cli(*args, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m idxmnist ARGS...`` as a user would: a real subprocess, text output."""
    return subprocess.run(
        [sys.executable, "-m", "idxmnist", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(root: Path) -> set[str]:
    """Every file and directory under ``root``, hidden ones too, as relative paths."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def child_env(**extra) -> dict:
    """This process's environment plus ``extra``, with the checkout on ``PYTHONPATH``."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


#: a child's first lines: a write past ``sys.argv[1]`` bytes fails with EFBIG, as on a full
#: disk (SIGXFSZ ignored, so the process is told, not killed); the limit is then dropped
#: from ``sys.argv``
FILE_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
_limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (_limit, _limit))
"""


def run_size_limited(code: str, limit: int, *args, **env) -> subprocess.CompletedProcess:
    """Run ``code`` (with ``args``) in a child that cannot write a file past ``limit`` bytes,
    in :func:`child_env` plus ``env``; its output as text."""
    return subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT + code, str(limit), *map(str, args)],
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=120,
    )


def run_cli_from_repo(*args, env=None):
    """:func:`run_cli` in :func:`child_env` (the checkout's idxmnist), plus ``env``."""
    return run_cli(*args, env=child_env(**(env or {})))


def run_cli_in_cache(*args, cache: Path, **env):
    """:func:`run_cli_from_repo` with ``cache`` as ``$IDXMNIST_HOME`` and no usable mirror."""
    return run_cli_from_repo(
        *args,
        env={"IDXMNIST_HOME": str(cache), "IDXMNIST_MIRRORS": "file:///nowhere/", **env},
    )


def flat(data):
    """``((x, y), (xt, yt))`` as ``[x, y, xt, yt]``."""
    return [a for pair in data for a in pair]


def caught(fn):
    """``(fn(), the warnings it gave)``, every warning recorded."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = fn()
    return result, record


def plain_read(path: Path, header: int) -> np.ndarray:
    """The obvious reading: gzip + frombuffer, as keras and torchvision do it."""
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=header)
