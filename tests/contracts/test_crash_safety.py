"""Subprocess tests: peak memory on lying files, SIGKILL mid-write, a full disk.

Peak memory is ``ru_maxrss`` of a fresh interpreter, measured after a warm-up
read so that imports and library state are already counted in the baseline.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import idxmnist

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]


def run_py(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


# --- bounded memory ---

MEASURE = """
import io, resource, sys
import idxmnist
from idxmnist.idx import compression
if sys.argv[2] == "stream":
    compression.libdeflate = lambda: None
def peak():
    # VmHWM is this process's own peak; ru_maxrss also counts the parent's RSS
    # at fork (Linux keeps the larger of the two), which would hide our growth
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
idxmnist.read_idx(sys.argv[3])  # warm-up: imports, zlib/lzma/bz2 state
base = peak()
source = sys.argv[1]
if sys.argv[4] == "pipe":
    source = io.BufferedReader(io.FileIO(source))
    source.seekable = lambda: False
try:
    arr = idxmnist.read_idx(source)
    outcome = f"ok {arr.nbytes}"
except idxmnist.IdxError as exc:
    outcome = "IdxError " + str(exc)
print(peak() - base, outcome)
"""


def measure(path: Path, read_path: str, warm: Path, how: str = "path") -> tuple[int, str]:
    out = run_py(MEASURE, str(path), read_path, str(warm), how)
    assert out.returncode == 0, out.stderr
    grown, outcome = out.stdout.strip().split(" ", 1)
    return int(grown), outcome


def _header(*dims: int) -> bytes:
    import struct

    return struct.pack(f">BBBB{len(dims)}I", 0, 0, 8, len(dims), *dims)


@pytest.fixture(scope="module")
def lying_files(tmp_path_factory):
    import bz2
    import gzip
    import lzma

    d = tmp_path_factory.mktemp("lying")
    warm = d / "warm.gz"
    idxmnist.write_idx(warm, np.zeros((4, 28, 28), np.uint8))
    files = {}
    for declared in (40, 33):  # 1 TiB (NumPy refuses) and 8 GiB (NumPy would map it)
        head = _header(1 << (declared - 20), 1 << 20) + bytes(100)
        for kind, data in {
            "raw": head,
            "gzip": gzip.compress(head),
            "xz": lzma.compress(head),
            "bz2": bz2.compress(head),
        }.items():
            files[kind, declared] = d / f"{kind}-{declared}"
            files[kind, declared].write_bytes(data)
    # 1 GiB of zeros behind a header declaring 10 bytes (about 1 MB of gzip)
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = bytes(4 * MiB)
    with open(d / "bomb.gz", "wb") as f:
        f.write(c.compress(_header(10)))
        for _ in range(256):
            f.write(c.compress(zero))
        f.write(c.flush())
    files["bomb"] = d / "bomb.gz"
    data = files["bomb"].read_bytes()
    files["bomb-isize-lies"] = d / "bomb-lies.gz"
    files["bomb-isize-lies"].write_bytes(data[:-4] + (18).to_bytes(4, "little"))
    return warm, files


@pytest.mark.parametrize("read_path", ["whole", "stream"])
def test_lying_headers_and_bombs_stay_small(lying_files, read_path):
    warm, files = lying_files
    for key, path in files.items():
        for how in ("path", "pipe"):
            grown, outcome = measure(path, read_path, warm, how)
            assert outcome.startswith("IdxError"), (key, how, outcome)
            # a few MiB of interpreter noise; the files declare 8 GiB to 1 TiB, the bomb 1 GiB
            assert grown < 32 * MiB, (key, how, grown, outcome)
            if how == "path" and key[0] == "raw":  # the file's size is checked first
                assert "but its IDX header declares" in outcome, (key, outcome)
                assert "the file is truncated" in outcome, (key, outcome)
            elif how == "path" and key not in ("bomb", "bomb-isize-lies"):
                assert f"byte {key[0]} file can possibly hold" in outcome, (key, outcome)
            elif key in ("bomb", "bomb-isize-lies"):  # stops one byte past the declared 10
                assert "holds more data than its IDX header declares" in outcome, (key, outcome)


def test_memory_bound_of_a_real_read(mnist_dir, tmp_path):
    """The README's bound: output + compressed file (whole) or output + ~2 chunks (stream)."""
    warm = tmp_path / "warm.gz"
    idxmnist.write_idx(warm, np.zeros((4, 28, 28), np.uint8))
    path = mnist_dir / "train-images-idx3-ubyte.gz"
    output = 60000 * 28 * 28 + 16
    compressed = path.stat().st_size
    slack = 4 * MiB  # allocator rounding, the BufferedReader, zlib's window
    grown, outcome = measure(path, "stream", warm)
    assert outcome == f"ok {output - 16}"
    assert output - MiB < grown < output + 2 * 256 * 1024 + slack, grown
    if idxmnist.idx.compression.libdeflate() is not None:
        grown, outcome = measure(path, "whole", warm)
        assert outcome == f"ok {output - 16}"
        assert output - MiB < grown < output + compressed + slack, grown


# --- SIGKILL in the middle of build_npz ---

BUILD_LOOP = """
import sys
import idxmnist
src, out, compress = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
print("ready", flush=True)
while True:
    idxmnist.build_npz(src, out, compress=compress)
"""


@pytest.fixture(scope="module")
def raw_mnist(mnist_dir, tmp_path_factory):
    """The real MNIST as raw IDX files (fast to read, so the loop is mostly writing)."""
    src = tmp_path_factory.mktemp("raw-mnist")
    (x, y), (xt, yt) = idxmnist.load_idx_dataset(mnist_dir)
    for name, arr in {
        "train-images-idx3-ubyte": x,
        "train-labels-idx1-ubyte": y,
        "t10k-images-idx3-ubyte": xt,
        "t10k-labels-idx1-ubyte": yt,
    }.items():
        idxmnist.write_idx(src / name, arr)
    return src, {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}


def _assert_complete(out: Path, arrays) -> None:
    with np.load(out, allow_pickle=False) as z:
        assert sorted(z.files) == sorted(arrays)
        for key, arr in arrays.items():
            assert np.array_equal(z[key], arr), key


@pytest.mark.parametrize("compress", [False, True])
def test_sigkill_during_build_npz_never_leaves_a_partial_file(raw_mnist, tmp_path, compress):
    src, arrays = raw_mnist
    out = tmp_path / "mnist.npz"
    idxmnist.build_npz(src, out, compress=compress)  # the previous, valid file
    previous = out.read_bytes()
    rng = random.Random(1234)
    mid_write = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for attempt in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", BUILD_LOOP, str(src), str(out), "1" if compress else "0"],
            stdout=subprocess.PIPE,
            env=env,
        )
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the child never said it was ready"
        assert child.stdout.readline() == b"ready\n"
        if attempt % 2 == 0:  # kill at once when a temporary file is being written
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(".mnist.npz.*.part")):
                time.sleep(0.001)
                assert child.poll() is None and time.monotonic() < deadline
        else:  # or at a random moment
            time.sleep(rng.uniform(0.0, 1.0))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        leftovers = list(tmp_path.glob(".mnist.npz.*.part"))
        mid_write += bool(leftovers)
        # the previous file or a complete new one, never a partial one: the stored layout
        # is byte-for-byte reproducible; the compressed one differs only in zip timestamps
        if compress:
            assert out.stat().st_size == len(previous)
            with zipfile.ZipFile(out) as z:
                assert z.testzip() is None
        else:
            assert out.read_bytes() == previous
        _assert_complete(out, arrays)
        for tmp in leftovers:  # what sweep_stale would remove later
            tmp.unlink()
    assert mid_write >= 3  # the test did kill writers mid-write, at least the 3 deliberate ones


# --- a file-size limit (a full disk) ---

FSIZE = """
import resource, signal, sys
import numpy as np
import idxmnist
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if sys.argv[1] == "build_npz":
        idxmnist.build_npz(sys.argv[4], sys.argv[2], compress=sys.argv[5] == "1")
    else:
        array = np.arange(1 << 20, dtype=np.int32)
        idxmnist.write_idx(sys.argv[2], array, compress=sys.argv[5] or None)
except OSError as exc:
    print(type(exc).__name__, exc.errno, exc)
else:
    print("no error")
"""


@pytest.mark.parametrize(
    "what, compress",
    [("build_npz", "0"), ("build_npz", "1"), ("write_idx", ""), ("write_idx", "gzip")],
)
def test_file_size_limit_raises_a_clear_error_and_leaves_nothing(tmp_path, what, compress):
    import errno

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name, arr in {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (400, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 400, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 100, dtype=np.uint8),
    }.items():
        idxmnist.write_idx(src / name, arr)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / ("mnist.npz" if what == "build_npz" else "data.idx")
    result = run_py(FSIZE, what, str(out), str(100_000), str(src), compress)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"OSError {errno.EFBIG} "), line
    assert str(out) in line and "file-size limit" in line, line
    assert list(out_dir.iterdir()) == []  # no final file, no .part left behind


# --- the order of system calls: fsync before rename, the folder's fsync after ---
#
# A SIGKILL loses nothing the kernel has (the page cache keeps it), so what only a power
# cut would show is checked as the order of the calls instead: each file renamed into
# place was fsync'ed after its last write, and its folder fsync'ed after the rename.

DURABLE = """
import sys
import numpy as np
import idxmnist
what, here = sys.argv[1], sys.argv[2]
if what == "source":
    idxmnist.mnist.load_data(source=sys.argv[3], cache_dir=here)
elif what == "download":
    idxmnist.mnist.load_data(cache_dir=here)
else:
    labels = np.arange(200, dtype=np.uint8) % 10
    idxmnist.write_idx(here + "/labels-idx1-ubyte", labels)
    idxmnist.write_idx(here + "/labels-idx1-ubyte.gz", labels, compress="gzip")
    idxmnist.build_npz(sys.argv[3], here + "/mnist.npz")
"""

#: the cache a load_data call leaves: the store's four files, the npz and its stamp
CACHED = {"mnist.idxmnist.npz", ".mnist.idxmnist.npz.stamp"}


@pytest.fixture(scope="module")
def strace_ok():
    from ..support import syscalls

    why = syscalls.unavailable()
    if why is not None:
        pytest.skip(why)


@pytest.fixture(scope="module")
def durable_mirror(mnist_dir):
    """The upstream files, but t10k-labels only as an xz copy: kept by its content, through
    the store's own temporary (decompressed) rather than the download's ``.part``."""
    import gzip
    import lzma

    from ..support.helpers import MNIST_FILES

    files = {n: (mnist_dir / n).read_bytes() for n in MNIST_FILES}
    labels = files.pop("t10k-labels-idx1-ubyte.gz")
    files["t10k-labels-idx1-ubyte.xz"] = lzma.compress(gzip.decompress(labels))
    from ..support.httpserver import FaultServer

    with FaultServer(files) as server:
        yield server


@pytest.mark.parametrize("what", ["source", "download", "write"])
def test_each_file_is_fsynced_before_its_rename_and_its_folder_after(
    what, strace_ok, mnist_dir, raw_mnist, durable_mirror, tmp_path
):
    """Under strace, for load_data from a source folder, a download into the store (from a
    mirror serving three upstream files and an xz copy), write_idx and build_npz: every
    rename into the cache (or the output folder) is of a file fsync'ed after its last write,
    and is followed by an fsync of the folder before anything else is renamed."""
    from ..support import syscalls
    from ..support.helpers import MNIST_FILES, MNIST_STEMS, child_env

    here = tmp_path.resolve() / "out"
    here.mkdir()
    extra = {"IDXMNIST_MIRRORS": durable_mirror.url()} if what == "download" else {}
    source = {"source": str(mnist_dir), "write": str(raw_mnist[0])}.get(what, "")
    log = tmp_path / "strace.log"
    env = child_env(PYTHONDONTWRITEBYTECODE="1", **extra)
    ran = syscalls.trace(
        [sys.executable, "-c", DURABLE, what, str(here), source], log, env=env, cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    calls = syscalls.parse(log.read_text(encoding="latin-1"), tmp_path)
    folders = [here, here / "mnist"]
    faults, checked = syscalls.durability_faults(calls, folders)
    assert faults == [], "\n".join(faults)
    renamed = {
        os.path.relpath(c.paths[1], here)
        for c in calls
        if c.name in syscalls.RENAMES and c.result == 0
    }
    if what == "write":
        expected = {"labels-idx1-ubyte", "labels-idx1-ubyte.gz", "mnist.npz"}
    elif what == "source":
        expected = CACHED | {f"mnist/{n}" for n in MNIST_FILES}
    else:
        expected = CACHED | {f"mnist/{n}" for n in MNIST_FILES[:3]} | {f"mnist/{MNIST_STEMS[3]}"}
    assert renamed >= expected  # the parser did see every file published
    assert checked >= len(expected)


def test_the_trace_reader_reads_each_form_strace_writes(tmp_path):
    """The reader itself, on lines as strace 6 writes them: a rename by each of the three
    calls (relative to a descriptor, to AT_FDCWD, to the working directory), escaped quotes,
    backslashes and octal bytes in names, a call split by another process's, a truncated
    string (refused, never read as a shorter path)."""
    from ..support import syscalls

    log = "\n".join(
        [
            r'7 write(3</d/.a b.part>, "x\"y", 3) = 3',
            r"7 fsync(3</d/.a b.part>) = 0",
            r'7 renameat(4</d>, ".a b.part", 4</d>, "a b") = 0',
            r"7 fsync(4</d>) = 0",
            r'7 renameat2(AT_FDCWD</w>, "c\\\"d", AT_FDCWD</w>, "/d/f\377", RENAME_NOREPLACE'
            " <unfinished ...>",
            r'8 write(1<pipe:[12]>, "hi, there", 9) = 9',
            r"7 <... renameat2 resumed>) = 0",
            r'7 rename("../d/g", "h") = -1 ENOENT (No such file or directory)',
            r'7 rename("/d/.i.part", "/d/i") = 0',
            r"7 fdatasync(4</d>) = 0",
        ]
    )
    calls = syscalls.parse(log, "/w")
    odd = os.fsdecode(b"/d/f\xff")  # the byte \377, not UTF-8: as os.fsdecode gives it
    assert [(c.pid, c.name, c.paths, c.result) for c in calls] == [
        (7, "write", ("/d/.a b.part",), 3),
        (7, "fsync", ("/d/.a b.part",), 0),
        (7, "renameat", ("/d/.a b.part", "/d/a b"), 0),
        (7, "fsync", ("/d",), 0),
        (8, "write", ("pipe:[12]",), 9),
        (7, "renameat2", ('/w/c\\"d', odd), 0),
        (7, "rename", ("/d/g", "/w/h"), -1),
        (7, "rename", ("/d/.i.part", "/d/i"), 0),
        (7, "fdatasync", ("/d",), 0),
    ]
    faults, checked = syscalls.durability_faults(calls, [Path("/d")])
    assert checked == 3  # the failed rename is not one, nor anything into /w
    assert faults == [
        f'{odd}: renamed from /w/c\\"d without an fsync of it after its last write',
        f"{odd}: its folder /d was not fsync'ed after the rename (before the next one)",
        "/d/i: renamed from /d/.i.part without an fsync of it after its last write",
    ]
    with pytest.raises(syscalls.TraceError, match="cut at strace's limit"):
        syscalls.parse('7 rename("/d/.j.part", "/d/very-long"...) = 0', "/w")
