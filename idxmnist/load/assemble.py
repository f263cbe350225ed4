"""The assembler: a dataset's files -> checked arrays.

For any registry entry, :func:`find_sources` finds its files in a folder,
under their upstream names (``train-images-idx3-ubyte.gz``) or the dotted
variants (``train-images.idx3-ubyte``), raw or compressed (or, for a dataset
published as an archive, the members of that archive there: EMNIST's
``gzip.zip``, read straight from the zip), and :func:`read_arrays` reads
them (in parallel threads when the inflater releases the GIL) and checks
them against the entry: each split's published size, the label range, a
label matrix's columns, EMNIST's orientation, Kuzushiji-49's npz files.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from ..config import cpus
from ..datasets.labels import check_label_layout, check_labels
from ..datasets.layout import KEYS, pair_of
from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import IdxError, in_words, printable, warn
from ..files import not_regular
from ..idx import compression
from ..idx.decode import Backend, resolve_backend
from ..idx.reader import inspect_idx, read_idx, read_idx_from
from ..idx.ziparchive import ZipArchive
from ..store.kept import candidate_names
from ..store.npzfile import NpyMember, load_npz

__all__ = [
    "find_idx_files",
    "find_sources",
    "read_arrays",
    "check_arrays",
    "check_declared",
    "MemberRef",
    "Location",
]

#: besides the directory itself, where other tools keep the files (``gzip``:
#: EMNIST's archive extracted)
SUBDIRS = (".", "raw", "gzip", "MNIST/raw")


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A file inside an archive on disk: ``archive[member]``."""

    archive: Path
    member: str

    def __str__(self) -> str:
        return printable(f"{self.archive}[{self.member}]")


#: where one array of a dataset is: a file, or a member of an archive
Location = Path | MemberRef


def find_idx_files(source_dir: str | os.PathLike[str], stems: Mapping[str, str]) -> dict[str, Path]:
    """Map each key (``x_train`` ...) to the file that holds it in ``source_dir``.

    ``stems`` maps each key to its file name without compression suffix (a
    registry entry's ``stems``). Raises ``FileNotFoundError`` naming what is
    missing and what was looked for. A file under one of those names that is
    not a regular file (a FIFO, a device, a folder) is never opened: it is
    skipped, with a warning saying why, and named in the error if nothing
    stands in for it.
    """
    root = Path(source_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{printable(str(root))}: no such directory (expected the dataset's files)"
        )
    found: dict[str, Path] = {}
    skipped: dict[Path, str] = {}
    where = root  # the directory the error names: the one holding a partial set, if any
    for sub in SUBDIRS:
        base = root / sub
        found = {}
        for key in stems:
            for name in candidate_names(stems[key]):
                try:
                    why = not_regular(base / name)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                if why is None:
                    found[key] = base / name
                    break
                skipped[base / name] = why
        if len(found) == len(stems):
            for path, why in skipped.items():
                warn(f"{printable(str(path))}: {why}; skipped")
            return found
        if found:
            where = base
            break  # a partial set here: report what this directory lacks
    missing = [k for k in stems if k not in found]
    looked = "; ".join(
        f"{k}: {' or '.join(candidate_names(stems[k])[:2])} (.gz/.xz/.bz2 too)" for k in missing
    )
    passed = "".join(f" (skipped {printable(str(p))}: {why})" for p, why in skipped.items())
    raise FileNotFoundError(
        f"{printable(str(where))}: missing {'IDX ' if len(stems) == len(KEYS) else ''}files: "
        f"{looked}{passed}. Put the {in_words(len(stems))} upstream files there (as downloaded, "
        ".gz is fine)"
    )


def find_sources(source_dir: str | os.PathLike[str], spec: DatasetSpec) -> dict[str, Location]:
    """Where each of ``spec``'s arrays is in ``source_dir``: a file, or an archive's member.

    The files themselves are preferred (in the folder, ``raw/`` or ``gzip/``);
    for a dataset published as an archive (EMNIST), the archive in the
    folder is the fallback, its members read straight from it. Raises
    ``FileNotFoundError`` naming what is missing.
    """
    try:
        return dict(find_idx_files(source_dir, spec.stems))
    except FileNotFoundError as exc:
        if spec.archive is None:
            raise
        missing = exc
    root = Path(source_dir)
    passed = ""
    for sub in SUBDIRS:
        archive = root / sub / spec.archive.file.name
        try:
            why = not_regular(archive)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if why is None:
            return {
                key: MemberRef(archive, spec.archive.member(f))
                for key, f in zip(spec.keys, spec.files, strict=True)
            }
        passed += f" (skipped {printable(str(archive))}: {why})"
    raise FileNotFoundError(
        f"{missing}; or {spec.archive.file.name}, the archive that holds them{passed}"
    ) from None


# -- checks -------------------------------------------------------------------------------


#: what is known of an array before it is read: its shape and dtype (from its file's header)
Declared = tuple[tuple[int, ...], np.dtype]


def check_declared(
    declared: Mapping[str, Declared], names: Mapping[str, str], spec: DatasetSpec
) -> None:
    """Check that arrays of these shapes and dtypes can form ``spec``; raise IdxError if not.

    What needs no values: images ``(N, h, w)`` uint8, labels of the entry's
    layout, as many labels as images, each split's published size, images
    of one shape. Checked on the headers before anything is allocated (so a
    header declaring 400 million labels is refused at once), and again on
    the arrays read. ``declared`` holds the keys to check (a key of a file
    whose header is not read up front is left out).
    """
    shapes: dict[str, tuple[int, ...]] = {}
    for split in spec.splits:
        xr, yr = pair_of(split.name)
        if xr in declared:
            (xs, xd) = declared[xr]
            if xd != np.uint8 or len(xs) != 3:
                raise IdxError(f"{names[xr]}: expected 3-D uint8 images, got {xd} {xs}")
            shapes[xr] = xs[1:]
        if yr in declared:
            check_label_layout(declared[yr][1], declared[yr][0], spec, names[yr])
        if xr in declared and yr in declared:
            nx, ny = declared[xr][0][0], declared[yr][0][0]
            if nx != ny:
                raise IdxError(
                    f"{names[xr]} holds {nx} images but {names[yr]} holds {ny} "
                    "labels; the files do not belong together"
                )
        for key, what in ((xr, "images"), (yr, "labels")):
            if split.count is not None and key in declared and declared[key][0][0] != split.count:
                raise IdxError(
                    f"{names[key]}: holds {declared[key][0][0]} {what}; {spec.name}'s "
                    f"{split.name} split has {split.count}: the files are not {spec.name}'s "
                    "(another split?) or are cut short; fetch them again"
                )
    if len(set(shapes.values())) > 1:
        (xa, sa), *rest = shapes.items()
        xb, sb = next((x, s) for x, s in rest if s != sa)  # the first that disagrees
        raise IdxError(
            f"{names[xa]} holds {sa} images but {names[xb]} holds {sb}; they do not belong together"
        )


def check_arrays(
    arrays: Mapping[str, np.ndarray], names: Mapping[str, str], spec: DatasetSpec
) -> None:
    """Check that the arrays form the dataset ``spec`` describes; raise IdxError if not.

    ``names`` maps each key to the file (or npz member) it came from. Everything
    the entry says is checked: each split's published size, labels in its range
    or its label matrix's columns, images of one shape (:func:`check_declared`,
    then the labels' values).
    """
    check_declared({k: (a.shape, a.dtype) for k, a in arrays.items()}, names, spec)
    for split in spec.splits:
        _, yr = pair_of(split.name)
        check_labels(arrays[yr], spec, names[yr])


# -- reading --------------------------------------------------------------------------------


def _read_npz_array(path: Path, spec: DatasetSpec, key: str) -> np.ndarray:
    """The one array ``arr_0`` of a Kuzushiji-style npz, its declared shape checked first."""
    images = key.startswith("x_")
    count = spec.split(key[2:]).count

    def check(_: str, m: NpyMember) -> None:
        want = "(N, height, width) uint8 images" if images else "(N,) integer labels"
        ok = (
            (m.dtype == np.uint8 and len(m.shape) == 3)
            if images
            else (m.dtype.kind in "iu" and m.dtype.itemsize <= 8 and len(m.shape) == 1)
        )
        if not ok:
            raise IdxError(
                f"{path}: arr_0 is {m.dtype} {m.shape}, expected {want}; "
                f"the file is not {spec.name}'s: fetch it again"
            )
        if count is not None and m.shape[0] != count:
            raise IdxError(
                f"{path}: arr_0 declares {m.shape[0]} rows; {spec.name}'s {key[2:]} split "
                f"has {count}: the file is not {spec.name}'s or is damaged: fetch it again"
            )

    arr = load_npz(path, ("arr_0",), check=check)["arr_0"]
    if images:
        return np.ascontiguousarray(arr)
    lo, hi = spec.label_range
    low, high = (int(arr.min()), int(arr.max())) if arr.size else (lo, hi)
    if low < lo or high > hi:
        raise IdxError(
            f"{path}: holds label {low if low < lo else high}, outside {lo}..{hi}; "
            f"the file is not {spec.name}'s labels or is damaged"
        )
    return arr.astype(np.uint8)


def _read_member(ref: MemberRef, backend: Backend, transpose: bool) -> np.ndarray:
    with ZipArchive(ref.archive).open(ref.member) as f:
        return read_idx_from(f, f.name, f.size, backend=backend, transpose=transpose)


def _declared(spec: DatasetSpec, source: Location) -> Declared | None:
    """The shape and dtype an IDX file's header declares (checked against the file's size,
    as :func:`~idxmnist.read_idx` checks it); None for a Kuzushiji-style npz, whose
    reader checks its member's header itself."""
    if isinstance(source, MemberRef):
        with ZipArchive(source.archive).open(source.member) as f:
            header = inspect_idx(cast(BinaryIO, f), size=f.size).header  # unseekable
    elif spec.container == "npz":
        return None
    else:
        header = inspect_idx(source).header
    return header.shape, header.dtype


def _reader(
    spec: DatasetSpec, key: str, source: Location, upright: bool, backend: Backend
) -> Callable[[], np.ndarray]:
    transpose = upright and spec.transposed and key.startswith("x_")
    if isinstance(source, MemberRef):
        return lambda: _read_member(source, backend, transpose)
    if spec.container == "npz":
        return lambda: _read_npz_array(source, spec, key)
    return lambda: read_idx(source, backend=backend, transpose=transpose)


def _size(source: Location, remote: RemoteFile) -> int:
    """Bytes to read: the file's, or for an archive member its registered size."""
    return remote.size if isinstance(source, MemberRef) else source.stat().st_size


def _run_all(
    jobs: Mapping[str, Callable[[], np.ndarray]],
    sizes: Mapping[str, int],
    *,
    parallel: bool = True,
) -> dict[str, np.ndarray]:
    """Every job's array, by key; the jobs run on as many threads as there are CPUs.

    Whatever the threads' timing, the outcome is the serial one's: every job
    runs to its end (none is abandoned half-way), every thread is joined, and
    the first failure in ``jobs``' order is raised, with no array returned.
    """
    # largest first, so the biggest file starts at once and the small ones fill
    # the other core; libdeflate releases the GIL, the streaming path mostly
    # does not, so threads are used only with libdeflate. Plain threads, not
    # concurrent.futures: that import alone costs ~3 ms of ``import idxmnist``.
    roles = sorted(jobs, key=lambda r: sizes[r], reverse=True)
    workers = min(len(roles), cpus())
    if not parallel or workers < 2 or compression.libdeflate() is None:
        return {k: jobs[k]() for k in jobs}
    queue = iter(roles)
    lock = threading.Lock()
    results: dict[str, np.ndarray] = {}
    errors: dict[str, BaseException] = {}

    def run(role: str) -> None:
        try:
            results[role] = jobs[role]()
        except BaseException as exc:  # re-raised in the caller's thread
            errors[role] = exc

    def work() -> None:
        while True:
            with lock:
                role = next(queue, None)
            if role is None:
                return
            run(role)

    # the largest job is the caller's own: a new thread often starts on the
    # caller's core and waits there a while (measured: MNIST's training images
    # 10 ms slower on the new thread than on the caller's)
    largest = next(queue)
    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers - 1)]
    try:
        for t in threads:
            t.start()
        run(largest)
        work()
    finally:
        for t in threads:
            if t.ident is not None:
                t.join()
    for key in jobs:  # the first failure in the dataset's order, as the serial path raises
        if key in errors:
            raise errors[key]
    return {k: results[k] for k in jobs}


def read_arrays(
    spec: DatasetSpec,
    sources: Mapping[str, Location],
    *,
    upright: bool = True,
    backend: Backend = "auto",
) -> dict[str, np.ndarray]:
    """Read ``spec``'s arrays from ``sources`` (:func:`find_sources`) and check them.

    ``upright``: EMNIST-style transposed images are turned upright while they
    are decoded (False: as stored). Every array of every split is returned
    whole (a split's ``rows`` are applied by the loader). Raises
    :class:`IdxError` naming the file (and member) that is wrong.
    """
    resolve_backend(backend, 0, 1)  # a bad name is refused before any file is opened
    names = {k: str(sources[k]) for k in spec.keys}
    declared = {k: d for k in spec.keys if (d := _declared(spec, sources[k])) is not None}
    check_declared(declared, names, spec)  # before anything is allocated
    jobs = {k: _reader(spec, k, sources[k], upright, backend) for k in spec.keys}
    sizes = {k: _size(sources[k], f) for k, f in zip(spec.keys, spec.files, strict=True)}
    # members of an archive stream (never libdeflate's whole-buffer path), and
    # images turned upright keep the second core for their transpose: one at a time
    serial = upright and spec.transposed or any(isinstance(s, MemberRef) for s in sources.values())
    arrays = _run_all(jobs, sizes, parallel=not serial)
    check_arrays(arrays, names, spec)
    return arrays
