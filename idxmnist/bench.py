"""``idxmnist bench``: time idxmnist against the loaders people use today.

Imported only by the command line (``import idxmnist`` never loads it). Every
competitor is the real installed package (the ``bench`` extra) except the
keras-style reading, which is keras's own three lines written out. All times
are medians of ``--rounds`` runs taken round-robin in one process, so a noisy
machine slows every competitor alike; the targets are ratios of those medians,
never absolute times. The same functions back ``benchmarks/``.
"""

from __future__ import annotations

import gzip
import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .datasets.assemble import ROLES, find_idx_files, load_idx_dataset
from .datasets.loader import build_npz, load_data
from .idx import compression, decode

KEYS = tuple(ROLES)
#: upstream names, in keras's tuple order
FILES = tuple(f"{stem}-{kind}.gz" for stem, kind in ROLES.values())

TARGET_KERAS = 2.7  # cold parse at least this much faster than keras-style
TARGET_FLOOR = 1.15  # and within this factor of the raw-inflate floor
TARGET_CACHE = 50.0  # cache hit vs np.load of a compressed npz
TARGET_CACHE_PASS = 5.0  # the same, with one full pass over every array
TARGET_IMPORT_MS = 20.0  # import idxmnist minus import numpy
TARGET_MEMORY = 1.25  # peak RSS / (outputs + compressed inputs)
TARGET_NUMBA_SWAP = 1.5  # numba vs numpy byte swap, 64 MB int32/float32
TARGET_NUMBA_SCALE = 2.0  # to_float32(numba) vs x.astype("float32") / 255
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


def _each_gzip_file(parse: Callable) -> Callable[[Path], dict[str, np.ndarray]]:
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
            m = mnist_loader.MNIST(os.fspath(source), return_type="numpy", gz=True)
            x_train, y_train = m.load_training()
            x_test, y_test = m.load_testing()
            return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}

        return run
    raise ValueError(name)


def inflaters() -> dict[str, Callable[[bytes, int], object]]:
    """Every whole-buffer gzip inflater installed: name -> f(compressed, size)."""
    found: dict[str, Callable[[bytes, int], object]] = {
        "zlib": lambda b, n: zlib.decompress(b, 31, n)
    }
    for name in ("isal", "zlib-ng"):
        try:
            mod = compression.gzip_backend(name)
        except ImportError:
            continue
        found[name] = lambda b, n, mod=mod: mod.decompress(b, 31, n)
    lib = compression.libdeflate()
    if lib is not None:
        found["libdeflate"] = lambda b, n, lib=lib: lib.gzip_decompress(b, n)
    return found


def read_compressed(source: Path) -> list[tuple[bytes, int]]:
    """The four compressed files in memory, with their sizes from the gzip trailer."""
    blobs = [(source / name).read_bytes() for name in FILES]
    return [(b, int.from_bytes(b[-4:], "little")) for b in blobs]


def same_arrays(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> bool:
    """Equal values, allowing a peer's own shape and dtype (python-mnist: int64, flat)."""
    return all(
        np.asarray(got[k]).size == want[k].size
        and np.array_equal(np.asarray(got[k]).reshape(want[k].shape), want[k])
        for k in KEYS
    )


# ---------------------------------------------------------------- timing


def medians(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each case, after one warm-up, taken round-robin."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    for _ in range(rounds):
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def once(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


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
    root = os.fspath(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as pyc:
        env = {"PYTHONPYCACHEPREFIX": pyc, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPATH": path}
        _python(code, env)  # compiles and caches the bytecode
        return 1e3 * statistics.median(float(_python(code, env)) for _ in range(runs))


PEAK_CODE = """
import sys
import idxmnist
from idxmnist.datasets.assemble import find_idx_files
files = find_idx_files(sys.argv[1])
compressed = sum(p.stat().st_size for p in files.values())
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = status("VmRSS")
data = idxmnist.load_idx_dataset(sys.argv[1])
peak = status("VmHWM")
outputs = sum(a.nbytes for pair in data for a in pair)
print(max(peak, before) - before, outputs, compressed)
"""


def peak_memory(source: Path) -> tuple[int, int, int]:
    """``(peak RSS growth, output bytes, compressed bytes)`` of one cold parse.

    In a fresh interpreter (Linux): the process's peak RSS (VmHWM, reset just
    before) minus its RSS just before ``load_idx_dataset``, imports already
    paid. Not ``ru_maxrss``: a child inherits its parent's across fork+exec.
    """
    done = subprocess.run(
        [sys.executable, "-c", PEAK_CODE, os.fspath(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, outputs, compressed = (int(v) for v in done.stdout.split())
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


class Table:
    def __init__(self, raw_bytes: int, keras_s: float | None, floor_s: float | None):
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.raw_bytes, self.keras_s, self.floor_s = raw_bytes, keras_s, floor_s

    def add(self, name: str, seconds: float | None, note: str = "") -> None:
        if seconds is None:
            self.rows.append((name, note or "not installed", "", "", ""))
            return

        def ratio(base: float | None) -> str:
            return f"{base / seconds:.2f}x" if base else ""

        mbps = self.raw_bytes / seconds / 1e6
        label = f"{name} ({note})" if note else name
        self.rows.append(
            (
                label,
                f"{1e3 * seconds:.2f}",
                f"{mbps:,.0f}",
                ratio(self.keras_s),
                ratio(self.floor_s),
            )
        )

    def render(self) -> str:
        head = ("loader", "median ms", "MB/s", "speed vs keras-style", "speed vs floor")
        lines = [
            "| " + " | ".join(head) + " |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def machine() -> str:
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


def _source(args) -> Path:
    value = args.source or os.environ.get("IDXMNIST_SOURCE") or os.environ.get("IDXMNIST_TEST_DATA")
    if not value:
        raise FileNotFoundError(
            "idxmnist bench needs the four upstream MNIST .gz files: pass --source DIR"
        )
    source = Path(value)
    missing = [n for n in FILES if not (source / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{source}: missing {', '.join(missing)} (the upstream .gz files)")
    find_idx_files(source)
    return source


def run(source: Path, rounds: int, out=print) -> bool:
    """Print the comparison and the targets; True when every target is met."""
    rounds = max(1, rounds)
    out(f"idxmnist bench: {source}, median of {rounds} rounds")
    out(f"machine: {machine()}\n")
    reference = keras_style(source)
    raw_bytes = sum(a.nbytes for a in reference.values())
    results: list[tuple[str, bool | None, str]] = []

    def target(name: str, ok: bool | None, detail: str) -> None:
        results.append((name, ok, detail))

    # ---- cold parse: four .gz files from disk -> four arrays
    blobs = read_compressed(source)
    inflate = inflaters()
    parse: dict[str, Callable[[], object]] = {"keras-style": lambda: keras_style(source)}
    for name in ("idx2numpy", "mnist"):
        fn = peer(name)
        if fn is not None:
            parse[name] = lambda fn=fn: fn(source)
    for name, fn in inflate.items():
        parse[f"inflate:{name}"] = lambda fn=fn: [fn(b, n) for b, n in blobs]
    parse["idxmnist cold (numpy)"] = lambda: load_idx_dataset(source, backend="numpy")
    if decode.numba_available():
        parse["idxmnist cold (numba)"] = lambda: load_idx_dataset(source, backend="numba")
    for name in ("idx2numpy", "mnist"):  # correctness of every peer, once
        if name in parse and not same_arrays(peer(name)(source), reference):
            raise AssertionError(f"{name} returned different arrays")
    (x, y), (xt, yt) = load_idx_dataset(source)
    ours = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}
    if not same_arrays(ours, reference):
        raise AssertionError("idxmnist returned different arrays")
    t = medians(parse, rounds)
    slow = peer("python-mnist")
    slow_s = None
    if slow is not None:  # one round: it takes seconds
        slow_s = once(lambda: slow(source))
    floor_name = min(inflate, key=lambda n: t[f"inflate:{n}"])
    floor = t[f"inflate:{floor_name}"]
    keras = t["keras-style"]
    table = Table(raw_bytes, keras, floor)
    table.add("keras-style gzip.open().read() + frombuffer", keras)
    table.add("idx2numpy", t.get("idx2numpy"))
    table.add("mnist (parse_idx on local files)", t.get("mnist"))
    table.add("python-mnist", slow_s, "one round" if slow_s else "")
    for name in inflate:
        tag = ", the floor" if name == floor_name else ""
        table.add(f"raw inflate {name}, in memory, serial{tag}", t[f"inflate:{name}"])
    cold = t["idxmnist cold (numpy)"]
    table.add("**idxmnist load_idx_dataset (numpy)**", cold)
    table.add("idxmnist load_idx_dataset (numba)", t.get("idxmnist cold (numba)"))

    # ---- cache hit: mnist.npz present
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

        got = hit()
        plain = all(type(a) is np.ndarray and a.flags.writeable for a in got)
        if not same_arrays(dict(zip(KEYS, got, strict=True)), reference):
            raise AssertionError("the cache hit returned different arrays")
        cache = medians(
            {
                "np.load compressed": lambda: np_load(small),
                "np.load stored": lambda: np_load(stored),
                "hit": hit,
                "np.load compressed + pass": lambda: full_pass(np_load(small)),
                "hit + pass": lambda: full_pass(hit()),
            },
            rounds,
        )
    table.add("np.load, compressed npz (what keras does)", cache["np.load compressed"])
    table.add("np.load, stored npz", cache["np.load stored"])
    table.add("**idxmnist load_data, cache hit**", cache["hit"])
    table.add("np.load compressed + .max() of each", cache["np.load compressed + pass"])
    table.add("**idxmnist cache hit + .max() of each**", cache["hit + pass"])
    out(table.render())
    out(
        f"\nfloor = {floor_name} (fastest inflater installed); MB/s of raw output "
        f"({raw_bytes / 1e6:.1f} MB); ratios are speed-ups (higher is faster)\n"
    )

    r_keras, r_floor = keras / cold, cold / floor
    target(
        "1 cold parse",
        r_keras >= TARGET_KERAS and r_floor <= TARGET_FLOOR,
        f"{r_keras:.2f}x faster than keras-style (need >= {TARGET_KERAS}x); "
        f"{r_floor:.2f}x the {floor_name} floor (need <= {TARGET_FLOOR}x; "
        f"stretch <= 1.0x {'met' if r_floor <= 1.0 else 'not met'})",
    )
    r_hit = cache["np.load compressed"] / cache["hit"]
    r_pass = cache["np.load compressed + pass"] / cache["hit + pass"]
    target(
        "2 cache hit",
        r_hit >= TARGET_CACHE and r_pass >= TARGET_CACHE_PASS and plain,
        f"{r_hit:.0f}x faster than np.load of the compressed npz (need >= {TARGET_CACHE:.0f}x); "
        f"with a full pass {r_pass:.1f}x (need >= {TARGET_CACHE_PASS:.0f}x); "
        f"writable plain ndarrays: {plain}",
    )
    imp = import_cost_ms()
    target(
        "3 import",
        imp <= TARGET_IMPORT_MS,
        f"import idxmnist costs {imp:.1f} ms more than import numpy "
        f"(need <= {TARGET_IMPORT_MS:.0f} ms)",
    )
    peak, outputs, compressed = peak_memory(source)
    r_mem = peak / (outputs + compressed)
    target(
        "4 peak memory",
        r_mem <= TARGET_MEMORY,
        f"peak RSS growth {peak / 1e6:.1f} MB = {r_mem:.2f}x (outputs {outputs / 1e6:.1f} MB "
        f"+ compressed {compressed / 1e6:.1f} MB; need <= {TARGET_MEMORY}x)",
    )
    if decode.numba_available():
        numba_table, ok, detail = numba_section(rounds)
        out(numba_table + "\n")
        target("5 numba", ok, detail)
    else:
        target("5 numba", None, "numba is not installed (pip install 'idxmnist[numba]')")

    out("targets:")
    for name, ok, detail in results:
        status = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        out(f"  {status} {name}: {detail}")
    return all(ok is not False for _, ok, _ in results)


def numba_section(rounds: int) -> tuple[str, bool, str]:
    """The Numba decoder against NumPy: 64 MB swaps and the fused uint8 -> float32."""
    from .idx import _numba
    from .idx.scaling import to_float32

    n = SWAP_BYTES // 4
    i4 = np.arange(n, dtype=np.int32)
    f4 = np.linspace(-1e6, 1e6, n, dtype=np.float32)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(60000, 28, 28), dtype=np.uint8)
    want = x.astype(np.float32) / np.float32(255)
    for backend in ("numpy", "numba"):
        if not np.array_equal(to_float32(x, backend=backend).view(np.uint32), want.view(np.uint32)):
            raise AssertionError(f"to_float32({backend}) differs from x.astype(float32) / 255")
    t = medians(
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
    jit = numba_jit_times()
    r_i4 = t["i4 numpy"] / t["i4 numba"]
    r_f4 = t["f4 numpy"] / t["f4 numba"]
    r_scale = t["astype/255"] / t["to_float32 numba"]
    rows = [
        "| numba vs numpy (steady state) | numpy ms | numba ms | speed-up |",
        "| --- | ---: | ---: | ---: |",
        f"| byte swap 64 MB int32 | {1e3 * t['i4 numpy']:.2f} | {1e3 * t['i4 numba']:.2f} "
        f"| {r_i4:.2f}x |",
        f"| byte swap 64 MB float32 | {1e3 * t['f4 numpy']:.2f} | {1e3 * t['f4 numba']:.2f} "
        f"| {r_f4:.2f}x |",
        f"| uint8 -> float32 / 255, 47 MB: `x.astype('float32') / 255` vs to_float32 "
        f"| {1e3 * t['astype/255']:.2f} | {1e3 * t['to_float32 numba']:.2f} | {r_scale:.2f}x |",
        f"| to_float32 numpy path (one allocation, in-place divide) "
        f"| {1e3 * t['to_float32 numpy']:.2f} | | "
        f"{t['astype/255'] / t['to_float32 numpy']:.2f}x |",
        "",
        f"numba JIT, separately: import numba + kernels {1e3 * jit['import']:.0f} ms; "
        f"first call with an empty cache (compile) {1e3 * jit['compile']:.0f} ms; "
        f"first call in a new process with the cache filled {1e3 * jit['cached_first']:.0f} ms; "
        f"then {1e3 * jit['steady']:.1f} ms per 64 MB swap",
    ]
    ok = r_i4 >= TARGET_NUMBA_SWAP and r_f4 >= TARGET_NUMBA_SWAP and r_scale >= TARGET_NUMBA_SCALE
    detail = (
        f"byte swap {r_i4:.2f}x (int32), {r_f4:.2f}x (float32) numpy's "
        f"(need >= {TARGET_NUMBA_SWAP}x); to_float32 {r_scale:.2f}x astype/255 "
        f"(need >= {TARGET_NUMBA_SCALE:.0f}x); compile {1e3 * jit['compile']:.0f} ms once"
    )
    return "\n".join(rows), ok, detail


def cli_bench(args) -> int:
    """``idxmnist bench``: 0 when every target is met, 1 when one is not."""
    source = _source(args)
    return 0 if run(source, args.rounds) else 1
