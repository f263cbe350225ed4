"""Small synthetic EMNIST, QMNIST and Kuzushiji-49 releases, built the way the real ones are.

Each builder writes the real file names and layout: NIST's ``gzip.zip``
(``gzip/emnist-<split>-...-ubyte.gz`` members, some stored and some deflated,
plus the mapping file), QMNIST's ``.gz`` and ``.xz`` files with ``(N, 8)``
int32 label matrices, Kuzushiji's ``.npz`` files holding ``arr_0``. The
arrays are made here first, so they are the independent reference: EMNIST's
files get ``upright.transpose(0, 2, 1)`` (NumPy, in the test), and QMNIST's
label columns are also written out as a TSV that the tests parse with
``csv``, never with idxmnist.

``spec_for`` turns what was written into a registry entry with its own sizes
and checksums: registered at run time (``idxmnist.datasets.register``), it
points the real download path at these files.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import lzma
import mmap
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import idxmnist
from idxmnist import emnist, k49, qmnist
from idxmnist.datasets import catalog, registry
from idxmnist.datasets.classes import DATA_DIR
from idxmnist.datasets.spec import Archive, DatasetSpec, RemoteFile, Split

PARTS = ("train-images-idx3", "train-labels-idx1", "test-images-idx3", "test-labels-idx1")
QMNIST_FIELDS = (
    "digit",
    "hsf_series",
    "writer_id",
    "digit_index",
    "nist_class",
    "nist_index",
    "duplicate",
    "unused",
)


def idx_bytes(arr: np.ndarray, compress: str | None = None) -> bytes:
    buf = io.BytesIO()
    idxmnist.write_idx(buf, arr, compress=compress)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def is_mapped(a: np.ndarray) -> bool:
    """True if ``a``'s memory is a memory-mapped file (a cache hit)."""
    b: object = a
    while isinstance(b, np.ndarray):
        b = b.base
    if isinstance(b, memoryview):
        b = b.obj
    return isinstance(b, mmap.mmap)


@dataclass
class Release:
    """What a builder wrote: files by name (bytes), and the reference arrays."""

    root: Path
    files: dict[str, bytes]
    arrays: dict[str, np.ndarray]  # the keys a loader returns, as the test made them
    extra: dict[str, object] = field(default_factory=dict)


# -- EMNIST ----------------------------------------------------------------------------------


def emnist_member_names(split: str) -> list[str]:
    return [f"emnist-{split}-{part}-ubyte.gz" for part in PARTS]


def emnist_arrays(split: str, n_train: int, n_test: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Upright images (a bright bar in the top rows, so orientation shows) and labels."""
    lo, hi = registry.get(f"emnist_{split}").label_range
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 80, (n, 28, 28), dtype=np.uint8)
        x[:, 2:5, 4:24] = 255  # a horizontal bar near the top: upright means rows 2-4
        out[f"x_{part}"] = x
        y = rng.integers(lo, hi + 1, n, dtype=np.uint8)
        every = np.arange(lo, hi + 1, dtype=np.uint8)[:n]
        y[: len(every)] = every  # every class present, both ends of the range
        out[f"y_{part}"] = rng.permutation(y)
    return out


def emnist_release(
    root: Path,
    split: str = "letters",
    n_train: int = 40,
    n_test: int = 12,
    *,
    stored: tuple[str, ...] = ("train-labels-idx1", "test-images-idx3"),
    seed: int = 0,
    mapping: bytes | None = None,
) -> Release:
    """``root/gzip.zip`` holding the split's four members (transposed images) and its mapping.

    Members whose part is in ``stored`` are zip-stored, the others deflated.
    """
    upright = emnist_arrays(split, n_train, n_test, seed)
    arrays = [
        upright["x_train"].transpose(0, 2, 1),  # as NIST stores them
        upright["y_train"],
        upright["x_test"].transpose(0, 2, 1),
        upright["y_test"],
    ]
    members = {
        name: gz(idx_bytes(np.ascontiguousarray(arr)))
        for name, arr in zip(emnist_member_names(split), arrays, strict=True)
    }
    if mapping is None:
        mapping = (DATA_DIR / "emnist" / f"emnist-{split}-mapping.txt").read_bytes()
    root.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for (name, data), part in zip(members.items(), PARTS, strict=True):
            method = zipfile.ZIP_STORED if part in stored else zipfile.ZIP_DEFLATED
            z.writestr(zipfile.ZipInfo(f"gzip/{name}", (2017, 1, 1, 0, 0, 0)), data, method)
        z.writestr(f"gzip/emnist-{split}-mapping.txt", mapping, zipfile.ZIP_DEFLATED)
    archive = buf.getvalue()
    (root / "gzip.zip").write_bytes(archive)
    stored_arrays = {
        "x_train": arrays[0],
        "y_train": arrays[1],
        "x_test": arrays[2],
        "y_test": arrays[3],
    }
    return Release(
        root, {"gzip.zip": archive, **members}, upright, {"stored": stored_arrays, "split": split}
    )


def emnist_spec(release: Release, mirrors: tuple[str, ...] = ()) -> DatasetSpec:
    """The built-in entry of the release's split, with the release's own facts."""
    split = str(release.extra["split"])
    base = registry.get(f"emnist_{split}")
    archive = release.files["gzip.zip"]
    files = tuple(
        RemoteFile(name, len(release.files[name]), "sha256", sha256(release.files[name]))
        for name in emnist_member_names(split)
    )
    return dataclasses.replace(
        base,
        files=files,
        mirrors=mirrors,
        splits=(
            Split("train", len(release.arrays["x_train"])),
            Split("test", len(release.arrays["x_test"])),
        ),
        archive=Archive(
            RemoteFile("gzip.zip", len(archive), "sha256", sha256(archive)), "gzip/", md5(archive)
        ),
    )


def emnist_archive(
    root: Path,
    counts: dict[str, tuple[int, int]] | None = None,
    *,
    stored: tuple[str, ...] = ("train-labels-idx1", "test-images-idx3"),
) -> Release:
    """``root/gzip.zip`` laid out as NIST's: every split's four members under ``gzip/``
    (transposed images), then the six mapping files.

    ``counts`` gives each split's ``(train, test)`` image counts (default: a
    few of each). ``arrays[split]`` holds each split's upright reference;
    ``files`` each member's bytes by name, and the archive's.
    """
    counts = counts or {split: (30, 10) for split in catalog.EMNIST_SPLITS}
    files: dict[str, bytes] = {}
    upright: dict[str, dict[str, np.ndarray]] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for seed, (split, (n_train, n_test)) in enumerate(counts.items()):
            made = emnist_arrays(split, n_train, n_test, seed)
            upright[split] = made
            arrays = (
                made["x_train"].transpose(0, 2, 1),
                made["y_train"],
                made["x_test"].transpose(0, 2, 1),
                made["y_test"],
            )
            for name, arr, part in zip(emnist_member_names(split), arrays, PARTS, strict=True):
                data = gz(idx_bytes(np.ascontiguousarray(arr)))
                files[name] = data
                method = zipfile.ZIP_STORED if part in stored else zipfile.ZIP_DEFLATED
                z.writestr(zipfile.ZipInfo(f"gzip/{name}", (2017, 1, 1, 0, 0, 0)), data, method)
        for split in counts:
            mapping = (DATA_DIR / "emnist" / f"emnist-{split}-mapping.txt").read_bytes()
            z.writestr(f"gzip/emnist-{split}-mapping.txt", mapping, zipfile.ZIP_DEFLATED)
    root.mkdir(parents=True, exist_ok=True)
    files["gzip.zip"] = buf.getvalue()
    (root / "gzip.zip").write_bytes(files["gzip.zip"])
    return Release(root, files, {}, {"upright": upright, "counts": counts})


def emnist_specs(
    release: Release, mirrors: tuple[str, ...] = (), archive: RemoteFile | None = None
) -> list[DatasetSpec]:
    """The built-in entry of each split in :func:`emnist_archive`'s release, with its facts
    (``archive``: another pin for ``gzip.zip`` than the release's own)."""
    if archive is None:
        data = release.files["gzip.zip"]
        archive = RemoteFile("gzip.zip", len(data), "sha256", sha256(data))
    pin = Archive(archive, "gzip/")
    counts: dict[str, tuple[int, int]] = release.extra["counts"]  # type: ignore[assignment]
    return [
        dataclasses.replace(
            registry.get(f"emnist_{split}"),
            files=tuple(
                RemoteFile(name, len(release.files[name]), "sha256", sha256(release.files[name]))
                for name in emnist_member_names(split)
            ),
            mirrors=mirrors,
            splits=(Split("train", n_train), Split("test", n_test)),
            archive=pin,
        )
        for split, (n_train, n_test) in counts.items()
    ]


# -- QMNIST ----------------------------------------------------------------------------------

QMNIST_NAMES = (
    "qmnist-train-images-idx3-ubyte.gz",
    "qmnist-train-labels-idx2-int.gz",
    "qmnist-test-images-idx3-ubyte.gz",
    "qmnist-test-labels-idx2-int.gz",
)
NIST_NAMES = ("xnist-images-idx3-ubyte.xz", "xnist-labels-idx2-int.xz")


def qmnist_labels(n: int, rng: np.random.Generator, start: int = 0) -> np.ndarray:
    """``(n, 8)`` int32 rows as QMNIST's README describes its columns."""
    digit = rng.integers(0, 10, n)
    rows = np.stack(
        [
            digit,
            rng.choice([0, 1, 4], n),
            rng.integers(0, 2600, n),
            rng.integers(0, 150, n),
            digit + 30,
            np.arange(start, start + n),
            np.where(rng.random(n) < 0.1, rng.integers(0, 400000, n), 0),
            np.zeros(n, np.int64),
        ],
        axis=1,
    )
    return rows.astype(np.int32)


def write_tsv(path: Path, labels: np.ndarray) -> None:
    """The label matrix as text, one row per line, tab-separated: the test's reference."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(QMNIST_FIELDS)
        for row in labels.tolist():
            w.writerow(row)


def read_tsv(path: Path) -> dict[str, list[int]]:
    """The columns of a TSV written by :func:`write_tsv`, parsed with ``csv`` alone."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    head, body = rows[0], rows[1:]
    return {name: [int(r[i]) for r in body] for i, name in enumerate(head)}


def qmnist_release(root: Path, n_train: int = 30, n_test: int = 25, n_nist: int = 20) -> Release:
    """The four QMNIST .gz files, the two xnist .xz files, and a TSV of each label file."""
    rng = np.random.default_rng(7)
    made = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": qmnist_labels(n_train, rng),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": qmnist_labels(n_test, rng),
        "x_nist": rng.integers(0, 256, (n_nist, 28, 28), dtype=np.uint8),
        "y_nist": qmnist_labels(n_nist, rng),
    }
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, key in zip(QMNIST_NAMES, ("x_train", "y_train", "x_test", "y_test"), strict=True):
        files[name] = gz(idx_bytes(made[key]))
    for name, key in zip(NIST_NAMES, ("x_nist", "y_nist"), strict=True):
        files[name] = lzma.compress(idx_bytes(made[key]), format=lzma.FORMAT_XZ)
    for name, data in files.items():
        (root / name).write_bytes(data)
    tsv = root / "tsv"
    tsv.mkdir(exist_ok=True)
    for key in ("y_train", "y_test", "y_nist"):
        write_tsv(tsv / f"{key}.tsv", made[key])
    return Release(root, files, made, {"tsv": tsv})


def qmnist_specs(release: Release, mirrors: tuple[str, ...] = ()) -> list[DatasetSpec]:
    """The four QMNIST entries (test, test10k, test50k, nist) with the release's facts."""

    def remote(name: str) -> RemoteFile:
        data = release.files[name]
        return RemoteFile(name, len(data), "md5", md5(data))

    a = release.arrays
    n_train, n_test, n_nist = len(a["x_train"]), len(a["x_test"]), len(a["x_nist"])
    cut = n_test // 3
    rows = {"qmnist": None, "qmnist_test10k": (0, cut), "qmnist_test50k": (cut, n_test)}
    specs = [
        dataclasses.replace(
            registry.get(name),
            files=tuple(remote(n) for n in QMNIST_NAMES),
            mirrors=mirrors,
            splits=(Split("train", n_train), Split("test", n_test, r)),
        )
        for name, r in rows.items()
    ]
    specs.append(
        dataclasses.replace(
            registry.get("qmnist_nist"),
            files=tuple(remote(n) for n in NIST_NAMES),
            mirrors=mirrors,
            splits=(Split("nist", n_nist),),
        )
    )
    return specs


# -- Kuzushiji-49 ----------------------------------------------------------------------------

K49_NAMES = (
    "k49-train-imgs.npz",
    "k49-train-labels.npz",
    "k49-test-imgs.npz",
    "k49-test-labels.npz",
)


def npz_bytes(arr: np.ndarray, compressed: bool = True, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, arr)
    return buf.getvalue()


def k49_release(
    root: Path, n_train: int = 35, n_test: int = 15, label_dtype: str = "uint8"
) -> Release:
    """Four npz files holding ``arr_0``, as the publishers ship them."""
    rng = np.random.default_rng(49)
    made = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 49, n_train).astype(label_dtype),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 49, n_test).astype(label_dtype),
    }
    made["y_train"][:2] = (0, 48)  # both ends of the range
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, key in zip(K49_NAMES, made, strict=True):
        files[name] = npz_bytes(made[key], compressed=key != "y_test")
        (root / name).write_bytes(files[name])
    return Release(root, files, made)


def k49_spec(release: Release, mirrors: tuple[str, ...] = ()) -> DatasetSpec:
    files = tuple(
        RemoteFile(n, len(release.files[n]), "md5", md5(release.files[n])) for n in K49_NAMES
    )
    a = release.arrays
    return dataclasses.replace(
        registry.get("k49"),
        files=files,
        mirrors=mirrors,
        splits=(Split("train", len(a["x_train"])), Split("test", len(a["x_test"]))),
    )


def central(data: bytes, member: str) -> int:
    """Offset of ``member``'s central directory header in a zip's bytes."""
    at = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == member.encode():
            return at
        at = data.index(b"PK\x01\x02", at + 4)


def patch(data: bytes, member: str, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field of ``member``'s central directory header (offset from its start)."""
    out = bytearray(data)
    struct.pack_into(fmt, out, central(data, member) + offset, value)
    return bytes(out)


def listing(root: Path) -> set[str]:
    """Every file and directory under ``root``, hidden ones too, as relative paths."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# -- the releases through the family's loaders -----------------------------------------------


def same_arrays(got, want: dict[str, np.ndarray]) -> bool:
    """``load_data``'s ``((x, y), (xt, yt))`` equals ``want``: each dtype and every value."""
    (x, y), (xt, yt) = got
    wanted = [want[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    pairs = zip((x, y, xt, yt), wanted, strict=True)
    return all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in pairs)


def loaders(releases):
    """name -> (load(cache, **kw), the reference arrays)."""
    upright = releases["emnist"].extra["upright"]
    q, k = releases["qmnist"].arrays, releases["k49"].arrays
    qmnist_ref = {**q, "y_train": q["y_train"][:, 0].astype(np.uint8)}
    qmnist_ref["y_test"] = q["y_test"][:, 0].astype(np.uint8)
    return {
        "emnist-digits": (
            lambda c, **kw: emnist.load_data("digits", cache_dir=c, **kw),
            upright["digits"],
        ),
        "qmnist": (lambda c, **kw: qmnist.load_data(cache_dir=c, **kw), qmnist_ref),
        "k49": (lambda c, **kw: k49.load_data(cache_dir=c, **kw), k),
    }
