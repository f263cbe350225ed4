"""The family's benchmarks: EMNIST from ``gzip.zip``, QMNIST's xz, every cache hit.

``python -m benchmarks --family`` runs :func:`measure` at full size and prints
:func:`render`'s tables and the family targets' verdict; the pytest
benchmarks in ``test_bench_family.py`` reuse the builders here (at full
size when benchmarking, small under ``--benchmark-disable``).

Nothing here is committed data: each run builds, into a temporary
directory, synthetic releases with the real file and member names and the
real sizes, their images tiled from the real MNIST images in
``$IDXMNIST_TEST_DATA`` so that they compress like real handwriting:

* EMNIST byclass: ``gzip.zip`` holding ``gzip/emnist-byclass-*`` members,
  697,932 + 116,323 images stored transposed, each member a gzip file
  (zlib level 6) deflated again by the zip (as NIST's archive is: its size
  is what deflating ``.gz`` members adds, 0.03%);
* QMNIST's nist set: ``xnist-*.xz``, 402,953 images and ``(N, 8)`` labels
  (xz preset 1: preset 6 would take minutes to build; decoding speed
  barely depends on it);
* for the cache hits, each dataset's arrays at its real size, as the cache
  (stored, aligned npz) and as ``np.savez_compressed`` writes them.

Every timing is a median of rounds taken round-robin within one process, and
each target a ratio of two of them (or a memory ratio), never a wall-clock
limit.
"""

from __future__ import annotations

import dataclasses
import gzip
import lzma
import os
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from idxmnist import emnist, k49, qmnist, read_idx
from idxmnist.cli.bench import machine, medians, peak_rss
from idxmnist.datasets import registry, spec
from idxmnist.datasets.layout import pair_of
from idxmnist.idx import compression
from idxmnist.idx.format import encode_header
from idxmnist.load.assemble import find_sources, read_arrays
from idxmnist.load.loader import cache_file, cached_name
from idxmnist.store.npzfile import write_npz
from idxmnist.store.stamp import binding, write_stamp

#: the sizes the benchmarks use when they only check that they run
SMALL = {"byclass": (3000, 500), "nist": 2000}
#: the cache hits' sizes in a small run, a fraction of the real ones
SMALL_SCALE = 0.02
FULL = {"byclass": (697932, 116323), "nist": 402953}
MEMBERS = (
    "gzip/emnist-byclass-train-images-idx3-ubyte.gz",
    "gzip/emnist-byclass-train-labels-idx1-ubyte.gz",
    "gzip/emnist-byclass-test-images-idx3-ubyte.gz",
    "gzip/emnist-byclass-test-labels-idx1-ubyte.gz",
)
NIST_FILES = ("xnist-images-idx3-ubyte.xz", "xnist-labels-idx2-int.xz")
BLOCK = 8192  # images generated per step when writing a file


# -- synthetic data, tiled from MNIST ------------------------------------------------------


def mnist_images(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training and test images: the tiles."""
    train = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    test = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    return train, test


def tiled(tiles: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Images ``start:stop`` of the endless repetition of ``tiles``."""
    idx = np.arange(start, stop) % len(tiles)
    return tiles[idx]


def labels_for(n: int, lo: int, hi: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(lo, hi + 1, n, dtype=np.uint8)


def _chunks(tiles: np.ndarray, n: int, transpose: bool) -> Iterator[bytes]:
    for start in range(0, n, BLOCK):
        block = tiled(tiles, start, min(n, start + BLOCK))
        if transpose:
            block = np.ascontiguousarray(block.transpose(0, 2, 1))
        yield block.tobytes()


def _gzip_file(path: Path, header: bytes, chunks: Iterator[bytes]) -> None:
    """A gzip file as Python's gzip module writes it (zlib level 6), streamed."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as f,
    ):
        f.write(header)
        for chunk in chunks:
            f.write(chunk)


@dataclass
class Byclass:
    """The synthetic byclass release: where it is and the reference arrays (as stored)."""

    root: Path
    n_train: int
    n_test: int
    tiles: tuple[np.ndarray, np.ndarray]
    labels: tuple[np.ndarray, np.ndarray]
    compressed: dict[str, int] = field(default_factory=dict)  # member -> bytes in the zip

    def upright(self, part: str) -> np.ndarray:
        tiles = self.tiles[0 if part == "train" else 1]
        return tiled(tiles, 0, self.n_train if part == "train" else self.n_test)

    @property
    def archive(self) -> Path:
        return self.root / "gzip.zip"

    def spec(self) -> spec.DatasetSpec:
        """The byclass entry, its sizes those of this release (the real ones at full size)."""
        base = registry.get("emnist_byclass")
        if (self.n_train, self.n_test) == FULL["byclass"]:
            return base
        splits = (spec.Split("train", self.n_train), spec.Split("test", self.n_test))
        return dataclasses.replace(base, splits=splits)


def build_byclass(mnist_dir: Path, root: Path, n_train: int, n_test: int) -> Byclass:
    """``root/gzip.zip`` with byclass's four members (images transposed, as NIST's)."""
    root.mkdir(parents=True, exist_ok=True)
    tiles = mnist_images(mnist_dir)
    labels = (labels_for(n_train, 0, 61, 1), labels_for(n_test, 0, 61, 2))
    parts = [
        (encode_header(np.dtype(np.uint8), (n_train, 28, 28)), _chunks(tiles[0], n_train, True)),
        (encode_header(np.dtype(np.uint8), (n_train,)), iter([labels[0].tobytes()])),
        (encode_header(np.dtype(np.uint8), (n_test, 28, 28)), _chunks(tiles[1], n_test, True)),
        (encode_header(np.dtype(np.uint8), (n_test,)), iter([labels[1].tobytes()])),
    ]
    out = Byclass(root, n_train, n_test, tiles, labels)
    with zipfile.ZipFile(out.archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for member, (header, chunks) in zip(MEMBERS, parts, strict=True):
            gz = root / "member.gz"
            _gzip_file(gz, header, chunks)
            with open(gz, "rb") as src, z.open(member, "w", force_zip64=True) as dst:
                while block := src.read(1 << 22):
                    dst.write(block)
            gz.unlink()
        out.compressed = {i.filename: i.compress_size for i in z.infolist()}
    return out


def read_members(release: Byclass) -> list[tuple[bytes, int, int]]:
    """Each member's zip-level bytes, in memory: ``(bytes, gz size, raw size)``."""
    out = []
    with zipfile.ZipFile(release.archive) as z:
        for member in MEMBERS:
            info = z.getinfo(member)
            with open(release.archive, "rb") as f:
                f.seek(info.header_offset)
                head = f.read(30)
                start = info.header_offset + 30 + int.from_bytes(head[26:28], "little")
                start += int.from_bytes(head[28:30], "little")
                f.seek(start)
                data = f.read(info.compress_size)
            with z.open(member) as m:
                m.seek(info.file_size - 4)
                raw = int.from_bytes(m.read(4), "little")
            out.append((data, info.file_size, raw))
    return out


def libdeflate_floor(blobs: list[tuple[bytes, int, int]]) -> Callable[[], object] | None:
    """Inflate every member in memory, both layers (zip, then gzip), serially."""
    lib = compression.libdeflate()
    if lib is None:
        return None

    def run() -> list[object]:
        return [lib.gzip_decompress(lib.deflate_decompress(d, n), raw) for d, n, raw in blobs]

    return run


def parse(release: Byclass, upright: bool) -> dict[str, np.ndarray]:
    """The cold parse measured: the split's arrays from the local gzip.zip."""
    spec = release.spec()
    return read_arrays(spec, find_sources(release.root, spec), upright=upright)


def check_byclass(arrays: dict[str, np.ndarray], release: Byclass, upright: bool) -> None:
    for part in ("train", "test"):
        x, y = (arrays[k] for k in pair_of(part))
        want = release.upright(part)
        assert np.array_equal(x, want if upright else want.transpose(0, 2, 1)), part
        assert np.array_equal(y, release.labels[0 if part == "train" else 1]), part


@dataclass
class Nist:
    root: Path
    n: int
    images: np.ndarray
    labels: np.ndarray

    def spec(self) -> spec.DatasetSpec:
        base = registry.get("qmnist_nist")
        if self.n == FULL["nist"]:
            return base
        return dataclasses.replace(base, splits=(spec.Split("nist", self.n),))


def nist_labels(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    digit = rng.integers(0, 10, n)
    cols = [digit, rng.choice([0, 1, 4], n), rng.integers(0, 2600, n), rng.integers(0, 150, n)]
    cols += [digit + 30, np.arange(n), np.zeros(n, np.int64), np.zeros(n, np.int64)]
    return np.stack(cols, axis=1).astype(np.int32)


def build_nist(mnist_dir: Path, root: Path, n: int) -> Nist:
    root.mkdir(parents=True, exist_ok=True)
    tiles = np.concatenate(mnist_images(mnist_dir))
    labels = nist_labels(n)
    with lzma.open(root / NIST_FILES[0], "wb", format=lzma.FORMAT_XZ, preset=1) as f:
        f.write(encode_header(np.dtype(np.uint8), (n, 28, 28)))
        for chunk in _chunks(tiles, n, False):
            f.write(chunk)
    with lzma.open(root / NIST_FILES[1], "wb", format=lzma.FORMAT_XZ, preset=1) as f:
        f.write(encode_header(np.dtype(np.int32), labels.shape))
        f.write(labels.astype(">i4").tobytes())
    return Nist(root, n, tiled(tiles, 0, n), labels)


def lzma_floor(release: Nist) -> Callable[[], object]:
    """Python's own lzma, the whole files already in memory."""
    blobs = [(release.root / name).read_bytes() for name in NIST_FILES]
    return lambda: [lzma.decompress(b) for b in blobs]


def parse_nist(release: Nist) -> dict[str, np.ndarray]:
    spec = release.spec()
    return read_arrays(spec, find_sources(release.root, spec))


# -- cache hits: every dataset ---------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One cache hit measured: the loader's call on a cache directory holding its file."""

    label: str
    cached: str  # the registry entry whose arrays the cache file holds
    loads: str  # the registry entry the loader checks them against
    load: Callable[[Path], object]


HITS: tuple[Hit, ...] = (
    *(
        Hit(
            f"emnist {s}",
            f"emnist_{s}",
            f"emnist_{s}",
            lambda d, s=s: emnist.load_data(s, cache_dir=d),
        )
        for s in emnist.SPLITS
    ),
    Hit(
        "emnist byclass, as stored",
        "emnist_byclass",
        "emnist_byclass",
        lambda d: emnist.load_data("byclass", upright=False, cache_dir=d),
    ),
    Hit("qmnist", "qmnist", "qmnist", lambda d: qmnist.load_data(cache_dir=d)),
    Hit(
        "qmnist test10k, extended",
        "qmnist",
        "qmnist_test10k",
        lambda d: qmnist.load_data(test="test10k", extended=True, cache_dir=d),
    ),
    Hit("qmnist nist", "qmnist_nist", "qmnist_nist", lambda d: qmnist.load_nist(cache_dir=d)),
    Hit("k49", "k49", "k49", lambda d: k49.load_data(cache_dir=d)),
)


def scaled_specs(scale: float) -> list[spec.DatasetSpec]:
    """The entries the cache hits use, their split sizes (and rows) times ``scale``.

    Registered (``registry.register(..., replace=True)``) for a quick run on
    small data; at scale 1 they are the built-in entries unchanged.
    """
    out = []
    for name in dict.fromkeys(h.loads for h in HITS):
        spec = registry.get(name)
        splits = tuple(
            dataclasses.replace(
                s,
                count=None if s.count is None else max(1, int(s.count * scale)),
                rows=None if s.rows is None else (int(s.rows[0] * scale), int(s.rows[1] * scale)),
            )
            for s in spec.splits
        )
        out.append(dataclasses.replace(spec, splits=splits))
    return out


@contextmanager
def scaled(scale: float) -> Iterator[None]:
    """Register :func:`scaled_specs` for the duration (the built-in entries given back after)."""
    specs = scaled_specs(scale)
    saved = [registry.get(spec.name) for spec in specs]
    try:
        for spec in specs:
            registry.register(spec, replace=True)
        yield
    finally:
        for spec in saved:
            registry.register(spec, replace=True)


def arrays_of(spec: spec.DatasetSpec, tiles: np.ndarray) -> dict[str, np.ndarray]:
    """Valid arrays of ``spec``'s sizes: tiled images, labels in range."""
    lo, hi = spec.label_range
    out = {}
    for i, split in enumerate(spec.splits):
        n = split.count or 1000
        xk, yk = pair_of(split.name)
        out[xk] = tiled(tiles, 0, n)
        out[yk] = nist_labels(n) if spec.columns else labels_for(n, lo, hi, i)
    return out


def build_caches(mnist_dir: Path, root: Path) -> dict[str, tuple[Path, Path]]:
    """Per measured hit: (a cache dir holding its cache file, the same arrays compressed).

    Built for the registry's entries as they are now (see :func:`scaled_specs`).
    """
    tiles = np.concatenate(mnist_images(mnist_dir))
    out = {}
    for hit in HITS:
        spec = registry.get(hit.cached)
        d = root / hit.label.replace(" ", "-").replace(",", "")
        d.mkdir(parents=True, exist_ok=True)
        arrays = arrays_of(spec, tiles)
        upright = "as stored" not in hit.label
        # idxmnist's own cache, stamped as load_data stamps it: so a hit is a hit
        target = write_npz(cache_file(d / cached_name(spec, upright)), arrays)
        write_stamp(target, binding(spec, upright))
        np.savez_compressed(d / "compressed.npz", **arrays)
        out[hit.label] = (d, d / "compressed.npz")
    return out


def expected_lengths(hit: Hit) -> list[int]:
    """The lengths of the arrays the hit's loader returns, from its registry entry."""
    spec = registry.get(hit.loads)
    return sorted(n for s in spec.splits for n in (s.size, s.size))


def np_load(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return [z[k] for k in z.files]


# -- peak memory --------------------------------------------------------------------------


def peak_memory(release: Byclass) -> tuple[int, int, int]:
    """``(peak RSS growth, output bytes, largest compressed member)`` of one upright parse."""
    largest = max(release.compressed.values())
    root = os.fspath(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    setup = (
        "import sys, pathlib\n"
        "from benchmarks.family import Byclass, parse\n"
        "root, n_train, n_test = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n"
        "release = Byclass(root, n_train, n_test, (None, None), (None, None))"
    )
    work = "arrays = parse(release, upright=True)"
    report = "sum(a.nbytes for a in arrays.values()), int(sys.argv[4])"
    args = [os.fspath(release.root), str(release.n_train), str(release.n_test), str(largest)]
    peak, outputs, largest = peak_rss(setup, work, report, args, env)
    return peak, outputs, largest


# -- the run ------------------------------------------------------------------------------


@dataclass
class FamilyReport:
    machine: str
    rounds: int
    sizes: dict[str, object]
    byclass: dict[str, float]  # median seconds: floor, upright, as stored
    raw_bytes: int
    peak: tuple[int, int, int]
    nist: dict[str, float]  # median seconds: lzma floor, load_nist cold
    nist_bytes: int
    hits: dict[str, tuple[float, float]]  # dataset -> (hit, np.load compressed), seconds
    build_seconds: float = 0.0


def measure(
    mnist_dir: str | os.PathLike[str],
    rounds: int = 7,
    *,
    small: bool = False,
    log: Callable[[str], object] = print,
) -> FamilyReport:
    """Build the synthetic family in a temporary directory and time it."""
    mnist = Path(mnist_dir)
    sizes = SMALL if small else FULL
    n_train, n_test = sizes["byclass"]
    with (
        tempfile.TemporaryDirectory(prefix="idxmnist-family-") as tmp,
        scaled(SMALL_SCALE if small else 1.0),
    ):
        # each part is built just before it is measured, so that its timings
        # are not taken in a process (and a page cache) churned by the others
        t0 = time.perf_counter()
        log(f"building byclass ({n_train:,} + {n_test:,} images) in {tmp}")
        byclass = build_byclass(mnist, Path(tmp) / "emnist", n_train, n_test)
        built = time.perf_counter() - t0

        log("EMNIST byclass cold parse from gzip.zip: floor, upright, as stored")
        for upright in (True, False):
            check_byclass(parse(byclass, upright), byclass, upright)
        blobs = read_members(byclass)
        raw = sum(raw for _, _, raw in blobs)
        floor = libdeflate_floor(blobs)
        if floor is None:
            raise RuntimeError("the libdeflate floor needs the deflate package (idxmnist[fast])")
        cases = {
            "libdeflate floor": floor,
            "upright": lambda: parse(byclass, True),
            "as stored": lambda: parse(byclass, False),
        }
        times = medians(cases, rounds)
        del blobs, cases, floor

        log("peak memory of an upright parse, in a fresh interpreter")
        peak = peak_memory(byclass)

        t0 = time.perf_counter()
        log(f"building xnist ({sizes['nist']:,} images)")
        nist = build_nist(mnist, Path(tmp) / "qmnist", int(sizes["nist"]))
        built += time.perf_counter() - t0
        log("load_nist: xz decode against Python's lzma")
        got = parse_nist(nist)
        assert np.array_equal(got["x_nist"], nist.images)
        assert np.array_equal(got["y_nist"], nist.labels)
        nist_bytes = sum(a.nbytes for a in got.values())
        del got
        nist_times = medians(
            {"lzma floor": lzma_floor(nist), "load_nist cold": lambda: parse_nist(nist)},
            max(3, rounds // 3),
        )

        t0 = time.perf_counter()
        log("building every dataset's cache and compressed npz")
        caches = build_caches(mnist, Path(tmp) / "caches")
        built += time.perf_counter() - t0
        log("cache hits, every dataset, against np.load of a compressed npz")
        hits = {}
        for hit in HITS:
            d, compressed = caches[hit.label]
            hit.load(d)
            fast = statistics.median(_time(hit.load, d) for _ in range(max(rounds, 21)))
            slow = statistics.median(_time(np_load, compressed) for _ in range(3))
            hits[hit.label] = (fast, slow)
    return FamilyReport(
        machine=machine(),
        rounds=rounds,
        sizes={"byclass": (n_train, n_test), "nist": sizes["nist"], "small": small},
        byclass=times,
        raw_bytes=raw,
        peak=peak,
        nist=nist_times,
        nist_bytes=nist_bytes,
        hits=hits,
        build_seconds=built,
    )


def _time(fn: Callable[[Path], object], arg: Path) -> float:
    t = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t


def render(r: FamilyReport) -> str:
    """The report as Markdown tables, for docs/performance.md."""
    n_train, n_test = r.sizes["byclass"]  # type: ignore[misc]
    b = r.byclass
    floor = b["libdeflate floor"]
    lines = [
        f"machine: {r.machine}; median of {r.rounds} rounds; synthetic data built in "
        f"{r.build_seconds:.0f} s",
        "",
        f"EMNIST byclass from a local gzip.zip ({n_train:,} + {n_test:,} images, "
        f"{r.raw_bytes / 1e6:,.0f} MB out):",
        "",
        "| case | median ms | MB/s | vs floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, label in (
        ("libdeflate floor", "libdeflate, both layers, members in memory, serial (the floor)"),
        ("upright", "**emnist byclass, upright** (transposed while decoding)"),
        ("as stored", "emnist byclass, `upright=False`"),
    ):
        s = b[name]
        lines.append(
            f"| {label} | {1e3 * s:.0f} | {r.raw_bytes / s / 1e6:,.0f} | {s / floor:.2f}x |"
        )
    peak, outputs, largest = r.peak
    lines += [
        "",
        f"- upright: {b['upright'] / floor:.2f}x the libdeflate floor, "
        f"{b['upright'] / b['as stored']:.2f}x `upright=False`",
        f"- peak RSS growth of an upright parse: {peak / 1e6:,.0f} MB = "
        f"{peak / (outputs + largest):.2f}x (outputs {outputs / 1e6:,.0f} MB + largest "
        f"compressed member {largest / 1e6:,.0f} MB)",
        "",
        f"QMNIST nist from xz ({r.sizes['nist']:,} images, {r.nist_bytes / 1e6:,.0f} MB out):",
        "",
        "| case | median ms | vs floor |",
        "| --- | ---: | ---: |",
    ]
    lf = r.nist["lzma floor"]
    for name, label in (
        ("lzma floor", "Python's `lzma.decompress`, both files in memory (the floor)"),
        ("load_nist cold", "**qmnist nist, cold** (files to checked arrays)"),
    ):
        lines.append(f"| {label} | {1e3 * r.nist[name]:.0f} | {r.nist[name] / lf:.2f}x |")
    lines += [
        "",
        "Cache hit (the loader's own call) against `np.load` of the same arrays saved "
        "with `np.savez_compressed`:",
        "",
        "| dataset | cache hit ms | np.load compressed ms | speed-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (hit, slow) in r.hits.items():
        lines.append(f"| {label} | {1e3 * hit:.2f} | {1e3 * slow:,.0f} | {slow / hit:,.0f}x |")
    return "\n".join(lines)
