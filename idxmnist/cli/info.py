"""Describe a file for ``idxmnist info``: IDX files and npz caches.

``describe_file`` looks at the first bytes, not the name: a zip archive
(``PK\\x03\\x04``) is reported as an npz (or, holding other files than
``.npy`` members, as an archive of dataset files: EMNIST's ``gzip.zip``),
anything else as an IDX file. Label
arrays (1-D integer ``y_*`` npz members, 1-D uint8 IDX files) also get a
histogram: the count of each label. A label matrix (QMNIST's ``(N, 8)``
int32 files) gets its columns named, as the registry names them. MNIST's
test labels also get how many of them people judged wrong (the label review).

>>> print(describe_file("mnist.npz"))  # doctest: +SKIP
mnist.npz: npz, 4 members, 54,950,576 B; stored and aligned: load_data memory-maps it
  x_train  uint8  (60000, 28, 28)  stored, aligned (mmap)  47,040,000 B
  ...
"""

from __future__ import annotations

import os
import zipfile
from typing import BinaryIO

import numpy as np

from ..datasets import review
from ..datasets.registry import DATASETS
from ..datasets.spec import DatasetSpec
from ..errors import printable
from ..files import open_regular
from ..idx.reader import inspect_idx, read_idx
from ..idx.ziparchive import ZipArchive
from ..store.npzfile import NpyMember, corrupt_npz, npz_members, read_member

__all__ = [
    "describe_file",
    "describe_archive",
    "describe_idx",
    "describe_npz",
    "describe_columns",
    "label_histogram",
    "review_note",
    "label_matrix_spec",
]

ZIP_MAGIC = b"PK\x03\x04"
#: Label histograms are shown for at most this many distinct classes.
MAX_CLASSES = 100
#: IDX label files larger than this are not read for a histogram.
MAX_LABEL_BYTES = 1 << 26


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n:,} B"


def label_histogram(labels: np.ndarray) -> str | None:
    """``"0:5923 1:6742 ..."``, the count of each label; None if not label-like.

    >>> label_histogram(np.array([0, 2, 2], dtype=np.uint8))
    '0:1 1:0 2:2'
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.size == 0:
        return None
    if int(labels.min()) < 0 or int(labels.max()) >= MAX_CLASSES:
        return None
    return " ".join(f"{c}:{n}" for c, n in enumerate(np.bincount(labels)))


def review_note(labels: np.ndarray) -> str | None:
    """For MNIST's test labels, how many of them people judged wrong; None for other labels.

    MNIST's test labels are told by the label review itself: 10,000 labels
    holding each reviewed row's given label at its index.
    """
    if labels.ndim != 1 or len(labels) != review.TEST_SIZE or labels.dtype.kind not in "iu":
        return None
    table = review.load_review()
    if not (labels[table["index"]] == table["given"]).all():
        return None
    errors = int(table["label_error"].sum())
    return (
        f"label review  {errors} judged wrong of {len(table)} reviewed "
        "(idxmnist preview --dataset mnist --reviewed)"
    )


def label_matrix_spec(path: str | os.PathLike[str], shape: tuple[int, ...]) -> DatasetSpec | None:
    """The registry entry whose label matrix this file is: by name, else by shape.

    A file named like a registered label-matrix file (QMNIST's
    ``*-labels-idx2-int``) with as many columns; else any such entry with as
    many columns. None if the shape is not ``(N, columns)``.
    """
    if len(shape) != 2:
        return None
    name = os.path.basename(os.fspath(path))
    candidates = [s for s in DATASETS.values() if len(s.columns) == shape[1]]
    for spec in candidates:
        if any(name.startswith(f.stem) for f in spec.files[1::2]):
            return spec
    return candidates[0] if candidates else None


def describe_columns(labels: np.ndarray, spec: DatasetSpec) -> list[str]:
    """One line per column of a label matrix: its field name and the values it holds."""
    lines = []
    width = max(len(c.name) for c in spec.columns)
    for i, column in enumerate(spec.columns):
        values = labels[:, i]
        held = f"{int(values.min())}..{int(values.max())}" if values.size else "(empty)"
        lines.append(f"  column {i}  {column.name:<{width}}  {held}")
    return lines


def describe_idx(path: str | os.PathLike[str]) -> str:
    """One IDX file: type, shape, compression, sizes; label counts for labels.

    A label matrix (QMNIST's ``(N, 8)`` int32) gets its columns named, with
    the range of values each holds, and the count of each class.
    """
    info = inspect_idx(path)
    h = info.header
    text = (
        f"{printable(os.fspath(path))}: IDX {h.dtype.name} (type 0x{h.type_code:02X}) "
        f"shape {h.shape}, {info.compression}, {_mb(info.stored_size)} stored, "
        f"{_mb(info.raw_size)} raw"
    )
    if h.ndim == 1 and h.dtype == np.uint8 and h.payload_size <= MAX_LABEL_BYTES:
        labels = read_idx(path)
        hist = label_histogram(labels)
        if hist is not None:
            text += f"\n  label counts  {hist}"
        note = review_note(labels)
        if note is not None:
            text += f"\n  {note}"
    spec = label_matrix_spec(path, h.shape) if h.dtype == np.int32 else None
    if spec is not None and h.payload_size <= MAX_LABEL_BYTES:
        labels = read_idx(path)
        text += f"\n  {spec.name} extended labels, {h.shape[1]} columns:"
        text += "".join(f"\n{line}" for line in describe_columns(labels, spec))
        hist = label_histogram(labels[:, 0])
        if hist is not None:
            text += f"\n  label counts  {hist}"
    return text


def _layout(m: NpyMember) -> str:
    if m.stored:
        return "stored, aligned (mmap)" if m.aligned else "stored, unaligned"
    if m.info.compress_type == zipfile.ZIP_DEFLATED:
        return "deflate-compressed"
    return f"compressed (zip method {m.info.compress_type})"


def _read_labels(f: BinaryIO, z: zipfile.ZipFile | None, m: NpyMember, name: str) -> np.ndarray:
    """A 1-D member: straight from the file if stored, else inflated from the zip ``z``."""
    if m.data_offset is not None or z is None:
        f.seek(m.data_offset or 0)
        return np.fromfile(f, dtype=m.dtype, count=m.shape[0])
    return read_member(z, m, name)


def describe_npz(path: str | os.PathLike[str]) -> str:
    """An npz: each member's dtype, shape and layout; label counts for ``y_*``.

    Never unpickles: headers are parsed by idxmnist, arrays read by it too.
    """
    name = os.fspath(path)
    with open_regular(path) as f:
        members = npz_members(f, name)
        size = os.fstat(f.fileno()).st_size
        fast = bool(members) and all(m.aligned for m in members.values())
        if fast:
            summary = "stored and aligned: load_data memory-maps it"
        elif all(m.stored for m in members.values()):
            summary = "stored, not aligned: load_data maps it, the arrays unaligned"
        else:
            summary = (
                "compressed: load_data decompresses it (idxmnist build writes the fast layout)"
            )
        lines = [f"{printable(name)}: npz, {len(members)} members, {_mb(size)}; {summary}"]
        keys = {k: printable(k) for k in members}  # the archive's names, one line each
        kw = max((len(k) for k in keys.values()), default=0)
        shapes = {k: str(m.shape) for k, m in members.items()}
        sw = max((len(s) for s in shapes.values()), default=0)
        dw = max((len(m.dtype.name) for m in members.values()), default=0)
        layouts = {k: _layout(m) for k, m in members.items()}
        lw = max((len(s) for s in layouts.values()), default=0)
        z: zipfile.ZipFile | None = None
        try:
            for key, m in members.items():
                nbytes = int(np.prod(m.shape, dtype=np.int64)) * m.dtype.itemsize
                stored = "" if m.stored else f" ({m.info.compress_size:,} B compressed)"
                lines.append(
                    f"  {keys[key]:<{kw}}  {m.dtype.name:<{dw}}  {shapes[key]:<{sw}}  "
                    f"{layouts[key]:<{lw}}  {nbytes:,} B{stored}"
                )
                if key.startswith("y_") and len(m.shape) == 1 and m.dtype.kind in "iu":
                    if m.data_offset is None and z is None:
                        z = zipfile.ZipFile(f)
                    labels = _read_labels(f, z, m, name)
                    hist = label_histogram(labels)
                    if hist is not None:
                        lines.append(f"  {'':<{kw}}  label counts  {hist}")
                    note = review_note(labels)
                    if note is not None:
                        lines.append(f"  {'':<{kw}}  {note}")
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise corrupt_npz(name, f"could not read its arrays ({exc})") from None
        finally:
            if z is not None:
                z.close()
    return "\n".join(lines)


def describe_file(path: str | os.PathLike[str]) -> str:
    """A report on one file: an npz cache or an IDX file (raw or compressed).

    Raises :class:`IdxError` for bad data and ``OSError`` if it cannot be read.

    >>> write_idx("y.idx", np.array([0, 2, 2], dtype=np.uint8))  # doctest: +SKIP
    >>> print(describe_file("y.idx"))  # doctest: +SKIP
    y.idx: IDX uint8 (type 0x08) shape (3,), raw, 11 B stored, 11 B raw
      label counts  0:1 1:0 2:2
    """
    with open_regular(path) as f:
        lead = f.read(4)
    if lead == ZIP_MAGIC:
        names = ZipArchive(path).names()
        if names and not all(n.endswith(".npy") for n in names):
            return describe_archive(path)
        return describe_npz(path)
    return describe_idx(path)


def describe_archive(path: str | os.PathLike[str]) -> str:
    """A zip of dataset files (EMNIST's ``gzip.zip``): each member, and the entry that pins it.

    Sizes come from the zip's directory; a member the registry pins is shown
    with its dataset and whether its size is the pinned one (``idxmnist
    verify`` checks checksums).
    """
    archive = ZipArchive(path)
    pinned = {
        spec.archive.member(f): (spec.name, f.size)
        for spec in DATASETS.values()
        if spec.archive is not None
        for f in spec.files
    }
    names = archive.names()
    shown = {n: printable(n) for n in names}  # the archive's names, one line each
    lines = [
        f"{printable(os.fspath(path))}: zip archive, {len(names)} members, {_mb(archive.size)}"
    ]
    width = max(len(n) for n in shown.values())
    for name in names:
        entry = archive.entry(name)
        method = "deflated" if entry.method == 8 else "stored"
        line = f"  {shown[name]:<{width}}  {method:<8}  {_mb(entry.file_size)}"
        if name in pinned:
            dataset, size = pinned[name]
            same = "its pinned size" if size == entry.file_size else f"pinned at {size:,} B"
            line += f"  {dataset}, {same}"
        lines.append(line)
    return "\n".join(lines)
