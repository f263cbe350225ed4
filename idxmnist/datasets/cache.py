"""Where cached datasets live: the keras datasets directory, unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "cache_path"]


def cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory.

    ``cache_dir`` if given, else ``$IDXMNIST_HOME``, else ``$KERAS_HOME/datasets``,
    else ``~/.keras/datasets``: the directory keras keeps its own ``mnist.npz``
    in, so each reuses the other's file.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("IDXMNIST_HOME"):
        return Path(os.environ["IDXMNIST_HOME"]).expanduser()
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser() / "datasets"
    return Path.home() / ".keras" / "datasets"


def cache_path(
    path: str | os.PathLike[str], cache_dir_: str | os.PathLike[str] | None = None
) -> Path:
    """``path`` relative to the cache directory, as keras means it; absolute stays as is."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else cache_dir(cache_dir_) / p
