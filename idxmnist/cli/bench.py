"""``idxmnist bench``: time idxmnist against the loaders people use today.

:func:`measure` runs everything and returns a :class:`Report`; :func:`render`
turns it into the Markdown tables the README shows. Nothing here passes or
fails: the project's own targets and their verdict live in ``benchmarks/``
(``python -m benchmarks``), which calls these same functions.

Imported only by the command line and the benchmarks (``import idxmnist``
never loads it). Every competitor is the real installed package (the
``bench`` extra) except the keras-style reading, which is keras's own three
lines written out. All times are medians of ``rounds`` runs taken round-robin
in one process, so a noisy machine slows every competitor alike; compare
ratios of those medians, never absolute times.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import mmap
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType

import numpy as np

from ..datasets.layout import KEYS, as_dict
from ..datasets.registry import DATASETS
from ..errors import IdxError, describe
from ..idx import compression, decode
from ..mnist import build_npz, load_data, load_idx_dataset

__all__ = [
    "Report",
    "measure",
    "render",
    "keras_style",
    "peer",
    "inflaters",
    "read_compressed",
    "same_arrays",
    "medians",
    "on_one_cpu",
    "cache_states",
    "STATES",
    "import_cost_ms",
    "peak_memory",
    "peak_rss",
    "numba_times",
    "numba_jit_times",
    "machine",
    "check_source",
]

#: the cold parse held to one CPU: the serial path; and the libdeflate floor held to that CPU
ONE_CPU = "idxmnist load_idx_dataset, one CPU"
ONE_CPU_FLOOR = "inflate libdeflate, one CPU"
#: raw libdeflate on two threads: what this machine's second core gives, no idxmnist code
PARALLEL_RAW = "inflate libdeflate, two threads"
#: the cache states a hit is timed in, besides idxmnist's own cache ("hit"): what the
#: cache folder held before the one first call that built idxmnist's cache from it
STATES = {
    "hit: keras npz": "keras's compressed mnist.npz present (built from once, never modified)",
    "hit: foreign npz": "a foreign stored npz in keras's keys, as mnist.npz",
    "hit: npz deleted": "keras's compressed mnist.npz, deleted after the first call",
}

#: upstream names, in keras's tuple order
FILES = tuple(f.name for f in DATASETS["mnist"].files)
SWAP_BYTES = 64 << 20


# ---------------------------------------------------------------- competitors


def keras_style(source: Path) -> dict[str, np.ndarray]:
    """What keras/torchvision do with the .gz files: gzip.open().read() + frombuffer."""
    out = {}
    for key, name in zip(KEYS, FILES, strict=True):
        with gzip.open(source / name, "rb") as f:
            data = f.read()
        if key.startswith("x"):
            out[key] = np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
        else:
            out[key] = np.frombuffer(data, np.uint8, offset=8)
    return out


def _each_gzip_file(
    parse: Callable[[gzip.GzipFile], np.ndarray],
) -> Callable[[Path], dict[str, np.ndarray]]:
    """A loader that hands each of the four gzip files, opened, to ``parse``."""

    def run(source: Path) -> dict[str, np.ndarray]:
        out = {}
        for key, fname in zip(KEYS, FILES, strict=True):
            with gzip.open(source / fname, "rb") as f:
                out[key] = parse(f)
        return out

    return run


def peer(name: str) -> Callable[[Path], dict[str, np.ndarray]] | None:
    """A real third-party loader as ``source -> arrays``, or None if not installed.

    ``mnist`` and ``python-mnist`` both install a top-level ``mnist`` module;
    installed together, python-mnist's ``mnist/loader.py`` survives beside
    whichever ``__init__`` was written last, so each is reached where it lives.
    """
    if name == "idx2numpy":
        try:
            idx2numpy = importlib.import_module("idx2numpy")
        except ImportError:
            return None

        return _each_gzip_file(idx2numpy.convert_from_file)
    if name == "mnist":
        try:
            parse_idx = importlib.import_module("mnist").parse_idx  # offline: local files
        except (ImportError, AttributeError):
            return None

        return _each_gzip_file(parse_idx)
    if name == "python-mnist":
        try:
            mnist_loader = importlib.import_module("mnist.loader")
        except ImportError:
            return None

        def run(source: Path) -> dict[str, np.ndarray]:
            # it returns flat int64 rows; the conversion to keras's layout is part
            # of what its users pay, so it is timed too
            m = mnist_loader.MNIST(os.fspath(source), return_type="numpy", gz=True)
            (x, y), (xt, yt) = m.load_training(), m.load_testing()
            images = [np.asarray(a, np.uint8).reshape(-1, 28, 28) for a in (x, xt)]
            labels = [np.asarray(a, np.uint8) for a in (y, yt)]
            return as_dict(((images[0], labels[0]), (images[1], labels[1])))

        return run
    raise ValueError(name)


def inflaters() -> dict[str, Callable[[bytes, int], object]]:
    """Every whole-buffer gzip inflater installed: name -> f(compressed, size)."""
    found: dict[str, Callable[[bytes, int], object]] = {"zlib": partial(_zlib_like, zlib)}
    for name in ("isal", "zlib-ng"):
        try:
            found[name] = partial(_zlib_like, compression.gzip_backend(name))
        except ImportError:
            continue
    lib = compression.libdeflate()
    if lib is not None:
        found["libdeflate"] = lib.gzip_decompress
    return found


def _zlib_like(module: ModuleType, data: bytes, size: int) -> object:
    return module.decompress(data, 31, size)


def _inflate_all(
    inflater: Callable[[bytes, int], object], blobs: list[tuple[bytes, int]]
) -> list[object]:
    return [inflater(b, n) for b, n in blobs]


def _inflate_in_parallel(
    inflater: Callable[[bytes, int], object], blobs: list[tuple[bytes, int]]
) -> list[object]:
    """The largest file on this thread, the others one after another on a second one
    (as idxmnist shares them out): what the machine gives two threads of raw
    inflate, idxmnist's code left out."""
    ordered = sorted(blobs, key=lambda b: len(b[0]), reverse=True)
    rest: list[object] = []
    helper = threading.Thread(target=lambda: rest.extend(inflater(b, n) for b, n in ordered[1:]))
    helper.start()
    try:
        largest = inflater(*ordered[0])
    finally:
        helper.join()
    return [largest, *rest]


def read_compressed(source: Path) -> list[tuple[bytes, int]]:
    """The four compressed files in memory, with their sizes from the gzip trailer."""
    blobs = [(source / name).read_bytes() for name in FILES]
    return [(b, int.from_bytes(b[-4:], "little")) for b in blobs]


def same_arrays(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> bool:
    """The same keys, and for each the same dtype, shape and values."""
    return got.keys() == want.keys() and all(
        isinstance(got[k], np.ndarray)
        and got[k].dtype == want[k].dtype
        and got[k].shape == want[k].shape
        and np.array_equal(got[k], want[k])
        for k in want
    )


# ---------------------------------------------------------------- timing


def medians(
    cases: dict[str, Callable[[], object]],
    rounds: int,
    spread: dict[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Median seconds of each case, after one warm-up, taken round-robin.

    Each round runs every case once, so a slow moment of the machine slows the
    cases of that round alike (a floor and the target it bounds run side by
    side); the order turns by one case each round, so no case always follows
    the same one. ``spread`` receives each case's (min, max).
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    names = list(cases)
    for i in range(rounds):
        turn = i % len(names) if names else 0
        for name in names[turn:] + names[:turn]:
            fn = cases[name]
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    if spread is not None:
        spread.update({name: (min(ts), max(ts)) for name, ts in times.items() if ts})
    return {name: statistics.median(ts) for name, ts in times.items()}


def on_one_cpu(fn: Callable[[], object]) -> Callable[[], object] | None:
    """``fn`` run with this thread (and the threads it starts) held to one CPU, as under
    ``taskset -c 0``; None where the affinity cannot be set (not Linux)."""
    getter = getattr(os, "sched_getaffinity", None)
    setter = getattr(os, "sched_setaffinity", None)
    if getter is None or setter is None:
        return None
    mask = getter(0)

    def run() -> object:
        setter(0, {min(mask)})
        try:
            return fn()
        finally:
            setter(0, mask)

    return run


def _python(code: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, **(env or {})}
    full = {k: v for k, v in full.items() if v != "" or k not in (env or {})}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, check=True
    )
    return done.stdout.strip()


def import_cost_ms(runs: int = 9) -> float:
    """Median over fresh interpreters of (import numpy; then time import idxmnist).

    Measured as installed: bytecode compiled once (into a private cache, even
    if PYTHONDONTWRITEBYTECODE is set here), not recompiled on every import.
    """
    code = (
        "import time, numpy; t = time.perf_counter(); import idxmnist; "
        "print(time.perf_counter() - t)"
    )
    root = os.fspath(Path(__file__).resolve().parents[2])  # the folder holding idxmnist/
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as pyc:
        env = {"PYTHONPYCACHEPREFIX": pyc, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPATH": path}
        _python(code, env)  # compiles and caches the bytecode
        return 1e3 * statistics.median(float(_python(code, env)) for _ in range(runs))


#: a child's peak RSS growth over one piece of work: {setup} runs first (imports paid),
#: then the high-water mark is reset (Linux >= 4.0) and {work} runs; it prints the growth,
#: then whatever {report} evaluates to (an iterable of integers)
PROBE_CODE = """
{setup}
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = status("VmRSS")
{work}
peak = status("VmHWM")
print(max(peak, before) - before, *({report}))
"""


def peak_rss(
    setup: str, work: str, report: str, args: list[str], env: dict[str, str] | None = None
) -> list[int]:
    """Run ``work`` in a fresh interpreter (Linux); its peak RSS growth, then ``report``.

    The process's peak RSS (VmHWM, reset just before ``work``) minus its RSS
    just before, imports already paid. Not ``ru_maxrss``: a child inherits its
    parent's across fork+exec.
    """
    code = PROBE_CODE.format(setup=setup, work=work, report=report)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env
    )
    return [int(v) for v in done.stdout.split()]


def peak_memory(source: Path) -> tuple[int, int, int]:
    """``(peak RSS growth, output bytes, compressed bytes)`` of one cold parse."""
    setup = (
        "import sys\n"
        "import idxmnist\n"
        "from idxmnist.datasets import registry\n"
        "from idxmnist.load.assemble import find_idx_files\n"
        "files = find_idx_files(sys.argv[1], registry.get('mnist').stems)\n"
        "compressed = sum(p.stat().st_size for p in files.values())"
    )
    work = "data = idxmnist.load_idx_dataset(sys.argv[1])"
    report = "sum(a.nbytes for pair in data for a in pair), compressed"
    peak, outputs, compressed = peak_rss(setup, work, report, [os.fspath(source)])
    return peak, outputs, compressed


JIT_CODE = """
import time, numpy as np
t0 = time.perf_counter()
from idxmnist.idx import _numba
a = np.arange({n}, dtype=np.int32)
t1 = time.perf_counter()
_numba.swap_inplace(a)
t2 = time.perf_counter()
_numba.swap_inplace(a)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def numba_jit_times() -> dict[str, float]:
    """Seconds: import of numba + kernels, first call with an empty JIT cache
    (compile), first call in a new process with the cache filled, steady call."""
    code = JIT_CODE.format(n=SWAP_BYTES // 4)
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        imp, compile_, _ = (float(v) for v in _python(code, env).split())
        _, cached, steady = (float(v) for v in _python(code, env).split())
    return {"import": imp, "compile": compile_, "cached_first": cached, "steady": steady}


# ---------------------------------------------------------------- the run


# ---------------------------------------------------------------- the run


@dataclass(slots=True)
class Report:
    """What :func:`measure` found: median seconds by case, and the rest of the run."""

    source: Path
    rounds: int
    machine: str
    raw_bytes: int  # bytes of the four output arrays
    parse: dict[str, float | None]  # cold parse, by loader (None: not installed)
    floor: str  # the fastest inflater installed: the parse's floor
    cache: dict[str, float]  # cache hit and its peers
    cache_plain: bool  # the cache hit gave plain, writable ndarrays
    import_ms: float  # import idxmnist minus import numpy
    peak: tuple[int, int, int]  # (peak RSS growth, output bytes, compressed bytes)
    numba: dict[str, float] = field(default_factory=dict)  # empty without numba
    jit: dict[str, float] = field(default_factory=dict)
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)  # (min, max) by case
    states_mapped: bool | None = None  # every cache state's hit was a memory map
    #: import idxmnist over import numpy, whole fresh processes of a wheel install, in ms:
    #: (median, min, max) of the pairs' wall-time differences, how many pairs, and the
    #: median difference of their CPU time; None if not measured
    import_pairs: tuple[float, float, float, int, float] | None = None

    @property
    def cold(self) -> float:
        return self.time("idxmnist load_idx_dataset (numpy)")

    @property
    def cold_one_cpu(self) -> float | None:
        return self.parse.get(ONE_CPU)

    @property
    def floor_one_cpu(self) -> float:
        """The floor the one-CPU parse is judged against: held to the same CPU if measured."""
        return self.parse.get(ONE_CPU_FLOOR) or self.floor_s

    @property
    def keras(self) -> float:
        return self.time("keras-style")

    @property
    def floor_s(self) -> float:
        return self.time(f"inflate {self.floor}")

    def time(self, name: str) -> float:
        t = self.parse[name]
        if t is None:
            raise KeyError(f"{name} was not measured")
        return t


def machine() -> str:
    """CPU, core count, Python, NumPy (and Numba) and OS of this machine, one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = [f"numpy {np.__version__}"]
    if decode.numba_available():
        libs.append(f"numba {importlib.import_module('numba').__version__}")
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{', '.join(libs)}, {platform.system()} {platform.release()}"
    )


def check_source(source: str | os.PathLike[str]) -> Path:
    """``source`` if it holds the four upstream MNIST ``.gz`` files; else FileNotFoundError."""
    path = Path(source)
    missing = [n for n in FILES if not (path / n).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{path}: missing {', '.join(missing)}; idxmnist bench needs the four "
            "upstream MNIST .gz files"
        )
    return path


def _mapped(a: np.ndarray) -> bool:
    """Whether ``a`` is a view of a memory-mapped file."""
    base: object = a
    while isinstance(base, (np.ndarray, memoryview)):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    return isinstance(base, mmap.mmap)


def _hit_in(folder: Path) -> list[np.ndarray]:
    (a, b), (c, d) = load_data(cache_dir=folder, offline=True)
    return [a, b, c, d]


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def cache_states(
    source: Path, root: Path, reference: dict[str, np.ndarray]
) -> dict[str, Callable[[], list[np.ndarray]]]:
    """A cache folder under ``root`` for each of :data:`STATES`, after its first call.

    Each folder holds what its state says; one ``load_data`` call (offline:
    from that file alone) builds idxmnist's cache from it. The hit of each
    is returned, checked to give the reference arrays. Raises IdxError if a
    first call changed the npz it read (keras's file is never written).
    """
    folders = {name: root / f"state{i}" for i, name in enumerate(STATES)}
    keras, foreign, deleted = folders.values()
    for folder in folders.values():
        folder.mkdir(parents=True)
    for folder in (keras, deleted):
        build_npz(source, folder / "mnist.npz", compress=True)
    with open(foreign / "mnist.npz", "wb") as f:  # stored, unaligned, not idxmnist's
        r = reference
        np.savez(
            f, x_train=r["x_train"], y_train=r["y_train"], x_test=r["x_test"], y_test=r["y_test"]
        )
    for folder in folders.values():
        npz = folder / "mnist.npz"
        before = _fingerprint(npz)
        load_data(cache_dir=folder, offline=True)
        if _fingerprint(npz) != before:
            raise IdxError(f"{npz}: the first call changed the npz it read")
    (deleted / "mnist.npz").unlink()
    hits: dict[str, Callable[[], list[np.ndarray]]] = {
        name: partial(_hit_in, folder) for name, folder in folders.items()
    }
    for name, fn in hits.items():
        if not same_arrays(dict(zip(KEYS, fn(), strict=True)), reference):
            raise IdxError(f"{folders[name]}: the {name} returned different arrays")
    return hits


def measure(
    source: str | os.PathLike[str], rounds: int = 7, log: Callable[[str], object] = print
) -> Report:
    """Time every loader on the four MNIST ``.gz`` files in ``source``.

    ``log`` receives a line as each stage starts. Raises :class:`IdxError` if
    idxmnist's arrays differ from the keras-style reading (a peer that
    differs is dropped from the table, with a line to ``log``).
    """
    source = check_source(source)
    rounds = max(1, rounds)
    log(f"bench: {describe(source)}, median of {rounds} rounds")
    reference = keras_style(source)
    ours = as_dict(load_idx_dataset(source))
    if not same_arrays(ours, reference):
        raise IdxError(f"{source}: idxmnist and gzip + frombuffer read different arrays")

    log("cold parse: four .gz files -> arrays")
    blobs = read_compressed(source)
    inflate = inflaters()
    cases: dict[str, Callable[[], object]] = {"keras-style": lambda: keras_style(source)}
    parse: dict[str, float | None] = {}
    for name in ("idx2numpy", "mnist", "python-mnist"):
        fn = peer(name)
        parse[name] = None
        if fn is None:
            continue
        start = time.perf_counter()
        arrays = fn(source)  # checked once; python-mnist (seconds a run) is timed here too
        elapsed = time.perf_counter() - start
        if not same_arrays(arrays, reference):
            log(f"{name} returned different arrays: left out")
        elif name == "python-mnist":
            parse[name] = elapsed
        else:
            cases[name] = partial(fn, source)
    for name, inflater in inflate.items():
        cases[f"inflate {name}"] = partial(_inflate_all, inflater, blobs)
    cases["idxmnist load_idx_dataset (numpy)"] = lambda: load_idx_dataset(source, backend="numpy")
    serial = on_one_cpu(lambda: load_idx_dataset(source, backend="numpy"))
    if serial is not None:
        cases[ONE_CPU] = serial
        if "libdeflate" in inflate:  # the floor under the same handicap: the same one CPU
            pinned = on_one_cpu(partial(_inflate_all, inflate["libdeflate"], blobs))
            assert pinned is not None
            cases[ONE_CPU_FLOOR] = pinned
    if "libdeflate" in inflate:
        cases[PARALLEL_RAW] = partial(_inflate_in_parallel, inflate["libdeflate"], blobs)
    if decode.numba_available():
        cases["idxmnist load_idx_dataset (numba)"] = lambda: load_idx_dataset(
            source, backend="numba"
        )
    spread: dict[str, tuple[float, float]] = {}
    parse.update(medians(cases, rounds, spread))
    floor = min(inflate, key=lambda n: parse[f"inflate {n}"] or float("inf"))

    log("cache hit: mnist.idxmnist.npz -> arrays")
    with tempfile.TemporaryDirectory() as tmp:
        stored = build_npz(source, Path(tmp, "mnist.npz"))
        small = build_npz(source, Path(tmp, "keras.npz"), compress=True)

        def np_load(path: Path) -> list[np.ndarray]:
            with np.load(path, allow_pickle=False) as z:
                return [z[k] for k in KEYS]

        def hit() -> list[np.ndarray]:
            (a, b), (c, d) = load_data(cache_dir=tmp)
            return [a, b, c, d]

        def full_pass(arrays: list[np.ndarray]) -> list[int]:
            return [int(a.max()) for a in arrays]

        load_data(cache_dir=tmp, source=source)  # idxmnist's own cache, made once
        got = hit()
        if not same_arrays(dict(zip(KEYS, got, strict=True)), reference):
            raise IdxError(f"{stored}: the cache hit returned different arrays")
        plain = all(type(a) is np.ndarray and a.flags.writeable for a in got)
        states = cache_states(source, Path(tmp, "states"), reference)
        mapped = all(_mapped(a) for fn in (hit, *states.values()) for a in fn())
        cache = medians(
            {
                "np.load compressed": lambda: np_load(small),
                "np.load stored": lambda: np_load(stored),
                "hit": hit,
                **states,
                "np.load compressed + pass": lambda: full_pass(np_load(small)),
                "hit + pass": lambda: full_pass(hit()),
            },
            rounds,
            spread,
        )

    log("import cost and peak memory, in fresh interpreters")
    report = Report(
        source=source,
        rounds=rounds,
        machine=machine(),
        raw_bytes=sum(a.nbytes for a in reference.values()),
        parse=parse,
        floor=floor,
        cache=cache,
        cache_plain=plain,
        import_ms=import_cost_ms(),
        peak=peak_memory(source),
        spread=spread,
        states_mapped=mapped,
    )
    if decode.numba_available():
        log("numba against numpy: 64 MB byte swaps, to_float32, JIT times")
        report.numba = numba_times(rounds)
        report.jit = numba_jit_times()
    return report


def numba_times(rounds: int) -> dict[str, float]:
    """Median seconds of 64 MB byte swaps and of uint8 -> float32 / 255, NumPy vs Numba."""
    from ..idx import _numba  # numba: loaded only when it is measured
    from ..idx.scaling import to_float32

    n = SWAP_BYTES // 4
    i4 = np.arange(n, dtype=np.int32)
    f4 = np.linspace(-1e6, 1e6, n, dtype=np.float32)
    x = np.random.default_rng(0).integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)
    want = (x.astype(np.float32) / np.float32(255)).view(np.uint32)
    for backend in ("numpy", "numba"):
        if not np.array_equal(to_float32(x, backend=backend).view(np.uint32), want):
            raise IdxError(f"to_float32(backend={backend!r}) differs from x.astype(float32) / 255")
    return medians(
        {
            "i4 numpy": lambda: i4.byteswap(inplace=True),
            "i4 numba": lambda: _numba.swap_inplace(i4),
            "f4 numpy": lambda: f4.byteswap(inplace=True),
            "f4 numba": lambda: _numba.swap_inplace(f4),
            "astype/255": lambda: x.astype("float32") / 255,
            "to_float32 numpy": lambda: to_float32(x, backend="numpy"),
            "to_float32 numba": lambda: to_float32(x, backend="numba"),
        },
        max(rounds, 5),
    )


def render(report: Report) -> str:
    """The report as Markdown: the loaders table, the Numba table, the one-line figures."""
    keras, floor, raw = report.keras, report.floor_s, report.raw_bytes
    head = "| loader | median ms | min ms | max ms | MB/s | speed vs keras-style | speed vs floor |"
    rows = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def row(label: str, seconds: float | None, note: str = "", key: str | None = None) -> None:
        if seconds is None:
            rows.append(f"| {label} | not installed | | | | | |")
            return
        label = f"{label} ({note})" if note else label
        low, high = report.spread.get(key or "", (None, None))
        lo = f"{1e3 * low:.2f}" if low is not None else ""
        hi = f"{1e3 * high:.2f}" if high is not None else ""
        rows.append(
            f"| {label} | {1e3 * seconds:.2f} | {lo} | {hi} | {raw / seconds / 1e6:,.0f} "
            f"| {keras / seconds:.2f}x | {floor / seconds:.2f}x |"
        )

    p = report.parse
    row("keras-style gzip.open().read() + frombuffer", p["keras-style"], key="keras-style")
    row("idx2numpy", p["idx2numpy"], key="idx2numpy")
    row("mnist (parse_idx on local files)", p["mnist"], key="mnist")
    row("python-mnist", p["python-mnist"], "one round")
    for name in inflaters():
        tag = ", the floor" if name == report.floor else ""
        key = f"inflate {name}"
        row(f"raw inflate {name}, in memory, serial{tag}", p.get(key), key=key)
    for key, label in (
        ("idxmnist load_idx_dataset (numpy)", "**idxmnist cold parse (numpy), files in parallel**"),
        ("idxmnist load_idx_dataset (numba)", "idxmnist cold parse (numba), files in parallel"),
        (PARALLEL_RAW, "raw inflate libdeflate, in memory, the others on a second thread"),
        (ONE_CPU_FLOOR, "raw inflate libdeflate, serial, held to one CPU (its floor)"),
        (ONE_CPU, "idxmnist cold parse held to one CPU (the serial path)"),
    ):
        if key in p:
            row(label, p[key], key=key)
    c = report.cache
    keras_npz = "np.load compressed"
    row("np.load, compressed npz (what keras does)", c[keras_npz], key=keras_npz)
    row("np.load, stored npz", c["np.load stored"], key="np.load stored")
    row("**idxmnist load_data, cache hit**", c["hit"], key="hit")
    for key, what in STATES.items():
        if key in c:
            row(f"idxmnist load_data, cache hit after: {what}", c[key], key=key)
    row(
        "np.load compressed + .max() of each",
        c["np.load compressed + pass"],
        key="np.load compressed + pass",
    )
    row("**idxmnist cache hit + .max() of each**", c["hit + pass"], key="hit + pass")
    peak, outputs, compressed = report.peak
    lines = [
        f"machine: {report.machine}; median of {report.rounds} rounds",
        "",
        *rows,
        "",
        f"floor = {report.floor} (fastest inflater installed); MB/s of raw output "
        f"({raw / 1e6:.1f} MB); the speed columns are speed-ups (higher is faster)",
        "",
        f"- cold parse: {keras / report.cold:.2f}x faster than keras-style, "
        f"{report.cold / floor:.2f}x the {report.floor} floor"
        + (
            f"; held to one CPU {report.cold_one_cpu / report.floor_one_cpu:.2f}x the floor "
            "held to the same CPU"
            if report.cold_one_cpu is not None
            else ""
        ),
        f"- cache hit: {c['np.load compressed'] / c['hit']:.0f}x faster than np.load of the "
        f"compressed npz; with a full pass {c['np.load compressed + pass'] / c['hit + pass']:.1f}x"
        f"; plain writable ndarrays: {report.cache_plain}",
        f"- import idxmnist: {report.import_ms:.1f} ms more than import numpy (in one process)"
        + (
            f"; whole fresh processes of a wheel install: {report.import_pairs[0]:.1f} ms "
            f"(min {report.import_pairs[1]:.1f}, max {report.import_pairs[2]:.1f}, median of "
            f"{report.import_pairs[3]} interleaved pairs; CPU time "
            f"{report.import_pairs[4]:.1f} ms)"
            if report.import_pairs is not None
            else ""
        ),
        f"- peak RSS growth of a cold parse: {peak / 1e6:.1f} MB = "
        f"{peak / (outputs + compressed):.2f}x (outputs {outputs / 1e6:.1f} MB + compressed "
        f"inputs {compressed / 1e6:.1f} MB)",
    ]
    n, j = report.numba, report.jit
    if n:
        lines += [
            "",
            "| numba vs numpy (steady state) | numpy ms | numba ms | speed-up |",
            "| --- | ---: | ---: | ---: |",
        ]
        for label, a, b in (
            ("byte swap 64 MB int32", "i4 numpy", "i4 numba"),
            ("byte swap 64 MB float32", "f4 numpy", "f4 numba"),
            (
                "uint8 -> float32 / 255, 47 MB: `x.astype('float32') / 255` vs to_float32",
                "astype/255",
                "to_float32 numba",
            ),
        ):
            lines.append(f"| {label} | {1e3 * n[a]:.2f} | {1e3 * n[b]:.2f} | {n[a] / n[b]:.2f}x |")
        lines += [
            f"| to_float32 numpy path (one allocation, in-place divide) "
            f"| {1e3 * n['to_float32 numpy']:.2f} | | "
            f"{n['astype/255'] / n['to_float32 numpy']:.2f}x |",
            "",
            f"numba JIT, separately: import numba + kernels {1e3 * j['import']:.0f} ms; "
            f"first call with an empty cache (compile) {1e3 * j['compile']:.0f} ms; "
            f"first call in a new process with the cache filled {1e3 * j['cached_first']:.0f} ms;"
            f" then {1e3 * j['steady']:.1f} ms per 64 MB swap",
        ]
    return "\n".join(lines)
