"""Describe a file for ``idxmnist info``: IDX headers and npz caches."""

from __future__ import annotations

import os

from .reader import inspect_idx


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n:,} B"


def describe_idx(path: str | os.PathLike[str]) -> str:
    info = inspect_idx(path)
    h = info.header
    return (
        f"{os.fspath(path)}: IDX {h.dtype.name} (type 0x{h.type_code:02X}) "
        f"shape {h.shape}, {info.compression}, {_mb(info.stored_size)} stored, "
        f"{_mb(info.raw_size)} raw"
    )


def describe_file(path: str | os.PathLike[str]) -> str:
    """One report for an IDX file (raw or compressed)."""
    return describe_idx(path)
