"""Every setting idxmnist reads from the environment, and its default, in one place.

=====================  ==========================================================
variable               meaning
=====================  ==========================================================
``IDXMNIST_HOME``      the cache directory (default ``$KERAS_HOME/datasets``, else
                       ``~/.keras/datasets``: where keras keeps its own files)
``KERAS_HOME``         keras's home; its ``datasets/`` is the cache directory
``IDXMNIST_SOURCE``    a folder, file or base URL to build from (``load_data``'s
                       ``source=``)
``IDXMNIST_MIRRORS``   comma-separated mirror URLs, replacing the registry's
``IDXMNIST_TIMEOUT``   T: an answer's headers within T s, then 16 KiB in every T s (default 10)
``IDXMNIST_OFFLINE``   ``1``: open no network connection at all
``SSL_CERT_FILE``,     the certificates https downloads trust (OpenSSL reads them)
``SSL_CERT_DIR``
=====================  ==========================================================

Nothing else in the package reads ``os.environ``. ``docs/cli.md`` documents
the variables for users.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ENV_HOME",
    "ENV_SOURCE",
    "ENV_MIRRORS",
    "ENV_TIMEOUT",
    "ENV_OFFLINE",
    "TLS_VARIABLES",
    "DEFAULT_TIMEOUT",
    "cache_dir",
    "cache_path",
    "source",
    "mirrors",
    "timeout",
    "offline",
    "tls_variables",
    "numba_cache_dir",
]

ENV_HOME = "IDXMNIST_HOME"
ENV_SOURCE = "IDXMNIST_SOURCE"
ENV_MIRRORS = "IDXMNIST_MIRRORS"
ENV_TIMEOUT = "IDXMNIST_TIMEOUT"
ENV_OFFLINE = "IDXMNIST_OFFLINE"
#: OpenSSL's own variables, honoured on every platform (Python's default context reads them)
TLS_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
DEFAULT_TIMEOUT = 10.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

PathLike = str | os.PathLike[str]


def cache_dir(given: PathLike | None = None) -> Path:
    """The cache directory.

    ``given`` if not None, else ``$IDXMNIST_HOME``, else ``$KERAS_HOME/datasets``,
    else ``~/.keras/datasets``: the directory keras keeps its own ``mnist.npz``
    in, so each reuses the other's file.
    """
    if given is not None:
        return Path(given).expanduser()
    if os.environ.get(ENV_HOME):
        return Path(os.environ[ENV_HOME]).expanduser()
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser() / "datasets"
    return Path.home() / ".keras" / "datasets"


def cache_path(path: PathLike, given_dir: PathLike | None = None) -> Path:
    """``path`` relative to the cache directory, as keras means it; absolute stays as is."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else cache_dir(given_dir) / p


def source() -> str | None:
    """``$IDXMNIST_SOURCE``, or None when it is unset or empty."""
    return os.environ.get(ENV_SOURCE) or None


def mirrors() -> list[str]:
    """The URLs in ``$IDXMNIST_MIRRORS`` (comma-separated), empty when unset."""
    return [u.strip() for u in os.environ.get(ENV_MIRRORS, "").split(",") if u.strip()]


def timeout() -> float:
    """``$IDXMNIST_TIMEOUT``, default 10: the time rules of a request (``fetch/pace.py``)."""
    value = os.environ.get(ENV_TIMEOUT, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{ENV_TIMEOUT}={value!r}: expected a positive number of seconds")
    return seconds


def offline(value: bool | None = None) -> bool:
    """``value`` if given, else ``$IDXMNIST_OFFLINE`` (``1``/``true``/``yes``/``on``)."""
    if value is not None:
        return bool(value)
    text = os.environ.get(ENV_OFFLINE, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{ENV_OFFLINE}={text!r}: expected 1 or 0 (true/false, yes/no, on/off)")


def numba_cache_dir() -> Path:
    """Where the Numba kernels' compiled code is kept: ``<cache dir>/.idxmnist/numba``.

    Under the cache directory, not beside the installed package, so that it
    goes with the data and never outlives ``pip uninstall`` in site-packages.
    """
    return cache_dir() / ".idxmnist" / "numba"


def tls_variables() -> dict[str, str]:
    """The TLS variables that are set (``SSL_CERT_FILE``, ``SSL_CERT_DIR``), with their values."""
    return {name: os.environ[name] for name in TLS_VARIABLES if os.environ.get(name)}
