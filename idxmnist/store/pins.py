"""Content pins learnt in the store: a file's IDX content, from its verified container.

The registry pins every file's container (its exact upstream bytes) and, where
the facts were at hand, its content (the SHA-256 and length of the
decompressed IDX bytes). For a file pinned by container only, the first time
its container verifies in a dataset's folder, its content is computed and
recorded there, in ``<folder>/.idxmnist-pins.json``. From then on a copy of
the same data packed another way (decompressed, re-gzipped, inside an npz)
verifies on this machine by content, as MNIST's pinned files do everywhere.

A learnt pin is keyed by the container's own pin (algorithm, digest and
size), so it applies to that exact upstream file only, whatever registry
entry names it; a pin the registry ships always wins. The record is only as
trustworthy as the folder it is kept in (``files.writable_by_others`` is
warned about). It is rewritten atomically; a record that cannot be read is
ignored (and the pins learnt again), one that cannot be written (a read-only
cache) is simply not kept.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from ..datasets.spec import RemoteFile
from ..errors import IdxError
from ..files import atomic_write, open_regular
from ..idx.digest import idx_digest

__all__ = ["RECORD_NAME", "Learnt"]

#: the record of a dataset folder's learnt pins (hidden: idxmnist's own file)
RECORD_NAME = ".idxmnist-pins.json"
_FORMAT = "idxmnist-pins/1"
_MAX_RECORD = 1 << 20
_HEX = set("0123456789abcdef")


def _key(remote: RemoteFile) -> str:
    return f"{remote.algorithm}:{remote.digest}:{remote.size}"


def _valid(entry: object) -> tuple[str, int] | None:
    if not isinstance(entry, dict):
        return None
    content, size = entry.get("content"), entry.get("content_size")
    if not (isinstance(content, str) and len(content) == 64 and set(content) <= _HEX):
        return None
    if not (isinstance(size, int) and not isinstance(size, bool) and size > 0):
        return None
    return content, size


class Learnt:
    """The pins learnt in ``folder`` (read once, when made)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.record = self.folder / RECORD_NAME
        self._pins = self._read()

    def _read(self) -> dict[str, tuple[str, int]]:
        try:
            with open_regular(self.record) as f:
                raw = json.loads(f.read(_MAX_RECORD).decode("utf-8"))
        except (OSError, ValueError, IdxError):
            return {}
        if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
            return {}
        entries = raw.get("pins")
        if not isinstance(entries, dict):
            return {}
        found = {}
        for key, entry in entries.items():
            pin = _valid(entry)
            if isinstance(key, str) and pin is not None:
                found[key] = pin
        return found

    def of(self, remote: RemoteFile) -> RemoteFile:
        """``remote`` with its content pin: the registry's, else one learnt here, else none."""
        if remote.content is not None:
            return remote
        pin = self._pins.get(_key(remote))
        if pin is None:
            return remote
        return dataclasses.replace(remote, content=pin[0], content_size=pin[1])

    def learn(self, remote: RemoteFile, path: str | os.PathLike[str]) -> RemoteFile:
        """Record the content of ``path``, a verified copy of ``remote``'s exact upstream
        bytes, when the registry pins none; return ``remote`` with its content pin.

        A file that is not IDX data (Kuzushiji-49's npz files) has no content to learn.
        """
        known = self.of(remote)
        if known.content is not None:
            return known
        try:
            found = idx_digest(path)
        except IdxError:
            return remote
        if found.sha256 is None:  # pragma: no cover - no sizes were asked for
            return remote
        self._pins = {**self._read(), **self._pins, _key(remote): (found.sha256, found.size)}
        entries = {k: {"content": c, "content_size": n} for k, (c, n) in self._pins.items()}
        text = json.dumps({"format": _FORMAT, "pins": entries}, indent=1, sort_keys=True)
        try:
            with atomic_write(self.record) as f:
                f.write(text.encode("utf-8"))
        except OSError:
            pass  # a read-only folder: learnt for this process only
        return self.of(remote)
