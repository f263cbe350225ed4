"""What a dataset is, as data: the record types of the registry, and their checks.

A :class:`DatasetSpec` says which files make a dataset (:class:`RemoteFile`:
name, size, checksums), how they split (:class:`Split`), what the labels mean
(classes, label :class:`Column` s), where the files come from (mirrors, an
:class:`Archive`) and how to store them. Every entry is checked when it is
made (``DatasetSpec(...)`` or ``dataclasses.replace``): a spec that exists
can describe a dataset, and every name in it that becomes a path is a plain
file name. The built-in entries are in ``catalog``; ``registry`` adds yours.
``docs/datasets.md`` documents each field.

Each file is pinned twice where the facts are known: by its *container*
checksum (the exact bytes upstream publishes) and by its *content* checksum
(SHA-256 of the decompressed IDX bytes, header and payload). A copy that
matches either is the right data, however it was packed. A member of an
archive is pinned by its own size and SHA-256, so it verifies without the
rest of the archive.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ..idx.compression import strip_suffix
from .classes import ClassFile
from .classes import load as load_classes
from .layout import keys_of

__all__ = [
    "Algorithm",
    "FileFormat",
    "RemoteFile",
    "Split",
    "Column",
    "Archive",
    "ClassFile",
    "DatasetSpec",
    "TRAIN_TEST",
    "plain_name",
    "key_of",
]

Algorithm: TypeAlias = Literal["sha256", "md5"]
#: how a dataset's files hold its arrays: IDX files, or npz files of one array each
FileFormat: TypeAlias = Literal["idx", "npz"]
_HEX = {"sha256": 64, "md5": 32}
_HEXDIGITS = "0123456789abcdef"
_SPLIT_NAME = re.compile(r"[a-z][a-z0-9]*\Z")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One upstream file: its name, size in bytes and checksum.

    ``content`` is the SHA-256 of the decompressed IDX bytes (header and
    payload) and ``content_size`` their length, or None where they have not
    been computed from a verified copy: then only the exact container
    verifies.
    """

    name: str
    size: int
    algorithm: Algorithm
    digest: str
    content: str | None = None
    content_size: int | None = None

    @property
    def stem(self) -> str:
        """The name without its compression suffix: ``train-images-idx3-ubyte``."""
        return strip_suffix(self.name)


@dataclass(frozen=True, slots=True)
class Split:
    """One split of a dataset: its name, how many examples its files hold, which to use.

    ``name`` names the arrays (``x_<name>``, ``y_<name>``). ``count`` is the
    published number of examples in its files (checked on every load; None:
    any). ``rows`` is ``(start, stop)`` when only those rows of the files
    belong to the split (QMNIST's ``test10k``).
    """

    name: str
    count: int | None = None
    rows: tuple[int, int] | None = None

    @property
    def size(self) -> int | None:
        """Examples in the split: ``count``, or the length of ``rows``."""
        if self.rows is not None:
            return self.rows[1] - self.rows[0]
        return self.count


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a label matrix: its field name and allowed values ``lo..hi``.

    ``hi`` None means no upper bound. The first column is the class.
    """

    name: str
    lo: int = 0
    hi: int | None = None


@dataclass(frozen=True, slots=True)
class Archive:
    """A zip archive that holds a dataset's files as members (EMNIST's ``gzip.zip``).

    ``file`` pins the archive itself; the spec's ``files`` pin each member
    (``folder + name`` inside the archive), so one split can be checked
    without the rest. ``md5`` is the archive's other published checksum.
    """

    file: RemoteFile
    folder: str = ""
    md5: str | None = None

    def member(self, remote: RemoteFile) -> str:
        """The member name of ``remote`` inside the archive."""
        return self.folder + remote.name


TRAIN_TEST: tuple[Split, Split] = (Split("train"), Split("test"))


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A dataset: for each split an images file and a labels file, and what they hold.

    The fields, beyond the first six every entry has:

    * ``files``: per split in order, its images file then its labels file
      (``layout.KEYS`` order for train and test);
    * ``classes``: the name of each label, inline (labels counted from
      ``first_label``) or a :class:`ClassFile`;
    * ``splits``: name, published size and rows of each split;
    * ``columns``: for label matrices (QMNIST's ``(N, 8)`` int32), each
      column's field name and range, the class first; empty for plain
      ``(N,)`` uint8 labels;
    * ``transposed``: the images are stored transposed (EMNIST): loaders
      turn them upright unless asked not to;
    * ``container``: ``"idx"`` files (raw or compressed), or ``"npz"`` files
      holding one array ``arr_0`` each (Kuzushiji-49);
    * ``archive``: the zip the files come in, when they are not published
      one by one;
    * ``whole_files``: the files that hold the whole dataset at some mirror
      (keras's ``mnist.npz``), pinned, by the name a mirror URL ends with;
    * ``torchvision``: the class torchvision keeps the dataset under
      (``root/<name>/raw/``), None if it has none.
    """

    name: str
    npz_name: str  # default cache file name, relative to the cache directory
    subdir: str  # where its files are kept inside the cache directory
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...] | ClassFile
    splits: tuple[Split, ...] = TRAIN_TEST
    first_label: int = 0
    columns: tuple[Column, ...] = ()
    transposed: bool = False
    container: FileFormat = "idx"
    archive: Archive | None = None
    whole_files: tuple[RemoteFile, ...] = ()
    torchvision: str | None = None

    def __post_init__(self) -> None:
        if len(self.files) != 2 * len(self.splits):
            raise ValueError(
                f"{self.name}: expected {2 * len(self.splits)} files (images and labels "
                f"of {', '.join(s.name for s in self.splits)}), got {len(self.files)}"
            )
        _check_spec(self)

    @property
    def keys(self) -> tuple[str, ...]:
        """The array names, in ``files`` order: ``x_train, y_train, x_test, y_test``."""
        return keys_of(s.name for s in self.splits)

    @property
    def stems(self) -> dict[str, str]:
        """Each key's file name without compression suffix: where to look in a folder."""
        return {key: f.stem for key, f in zip(self.keys, self.files, strict=True)}

    @property
    def class_names(self) -> dict[int, str]:
        """``{label: name}`` for every label, in increasing order (a new dict)."""
        if isinstance(self.classes, ClassFile):
            return load_classes(self.classes)
        return {self.first_label + i: name for i, name in enumerate(self.classes)}

    @property
    def label_range(self) -> tuple[int, int]:
        """The smallest and largest valid label."""
        labels = self.class_names
        return min(labels), max(labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def remote_files(self) -> tuple[RemoteFile, ...]:
        """Each distinct file once (splits may share files), in ``files`` order."""
        return tuple(dict.fromkeys(self.files))

    def split(self, name: str) -> Split:
        """The split called ``name``; ValueError naming the splits there are."""
        for s in self.splits:
            if s.name == name:
                return s
        raise ValueError(
            f"{self.name} has no split {name!r}; its splits: "
            + ", ".join(s.name for s in self.splits)
        )


def plain_name(name: str) -> str:
    """``name`` if it is a plain file name (no directory part, not hidden); else ValueError."""
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.basename(name) != name
    ):
        raise ValueError(f"{name!r} is not a plain file name; refusing to use it as a path")
    return name


def key_of(name: str) -> str:
    """The registry key of ``name``: ``Fashion-MNIST`` -> ``fashion_mnist``."""
    return name.replace("-", "_").lower()


def _check_spec(spec: DatasetSpec) -> None:
    """Refuse an entry that cannot describe a dataset (called for built-in ones too).

    Every name that becomes a path (the registry key, the cache file, the
    folder, each file, the archive, torchvision's class folder) must be a
    plain file name, so no caller needs to check again.
    """
    where = f"dataset {spec.name!r}"
    names = [s.name for s in spec.splits]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"{where}: splits must be named, each once: {names}")
    for s in spec.splits:
        if not _SPLIT_NAME.match(s.name):
            raise ValueError(f"{where}: split name {s.name!r} is not a lowercase word")
        if s.count is not None and s.count < 0:
            raise ValueError(f"{where}: split {s.name!r} has a negative count")
        if s.rows is not None:
            start, stop = s.rows
            if not 0 <= start <= stop or (s.count is not None and stop > s.count):
                raise ValueError(f"{where}: split {s.name!r} rows {s.rows} do not fit")
    for f in spec.files:
        if not isinstance(f, RemoteFile):
            raise TypeError(f"{where}: files must be RemoteFile entries, got {f!r}")
        if f.algorithm not in _HEX:
            raise ValueError(f"{where}: {f.name}: algorithm must be sha256 or md5")
        if len(f.digest) != _HEX[f.algorithm] or f.digest.strip(_HEXDIGITS):
            raise ValueError(f"{where}: {f.name}: {f.algorithm} must be lowercase hex")
        if f.size < 0:
            raise ValueError(f"{where}: {f.name}: negative size")
        if f.content is not None and (len(f.content) != 64 or f.content.strip(_HEXDIGITS)):
            raise ValueError(f"{where}: {f.name}: content must be a lowercase hex sha256")
    paths = [key_of(spec.name), spec.npz_name, spec.subdir, *(f.name for f in spec.files)]
    if spec.archive is not None:
        paths.append(spec.archive.file.name)
    if spec.torchvision is not None:
        paths.append(spec.torchvision)
    for name in paths:
        plain_name(name)
    if spec.container not in ("idx", "npz"):
        raise ValueError(f"{where}: container must be 'idx' or 'npz'")
    if spec.columns:
        if spec.container != "idx":
            raise ValueError(f"{where}: label columns need IDX label files")
        if len({c.name for c in spec.columns}) != len(spec.columns):
            raise ValueError(f"{where}: column names repeat")
    if isinstance(spec.classes, tuple) and not all(isinstance(c, str) for c in spec.classes):
        raise TypeError(f"{where}: classes must be names (str) or a ClassFile")
