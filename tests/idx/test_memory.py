"""idx/memory.py: the buffers inflated into are advised for huge pages, whatever NumPy's hint.

Seen in the kernel's own record of the process's memory: ``/proc/self/smaps`` prints
``hg`` among a mapping's ``VmFlags`` once ``madvise(MADV_HUGEPAGE)`` was called on it.
The check runs in a child with NumPy's own hint turned off, so that only idxmnist's
advice can set the flag; a plain ``np.empty`` of the same size in the same child is
the control.
"""

from __future__ import annotations

import gzip
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from idxmnist.idx import compression, memory

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def vm_flags(addr: int) -> list[str]:
    """The kernel's ``VmFlags`` of the mapping that holds ``addr`` in this process."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= addr < hi
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    raise AssertionError(f"no mapping holds {addr:#x}")


CHILD = (
    "from pathlib import Path\n"
    + inspect.getsource(vm_flags)
    + """
import json, sys
import numpy as np
try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import _set_madvise_hugepage
_set_madvise_hugepage(False)
import idxmnist

def flags(a):
    return vm_flags(a.__array_interface__["data"][0] + a.nbytes // 2)

plain = np.empty(8 << 20, np.uint8)  # the control, before anything was advised
out = {"control": {"hg": "hg" in flags(plain), "nbytes": plain.nbytes}}
a = idxmnist.read_idx(sys.argv[1])
out["read"] = {"hg": "hg" in flags(a), "nbytes": a.nbytes}
print(json.dumps(out))
"""
)


def thp_or_skip() -> None:
    if sys.platform != "linux" or not THP.exists():
        pytest.skip("no transparent huge pages on this system (Linux only)")
    if "[never]" in THP.read_text():
        pytest.skip("transparent huge pages are turned off on this system")


def test_a_whole_buffer_inflate_is_advised_for_huge_pages_and_streaming_is_not(tmp_path):
    """A gzip file read whole by libdeflate: its 8 MiB output carries the advice, NumPy's
    own (turned off) does not. The same content streamed (xz, raw) is left alone: the
    advice measured slower there (``reader._allocate``)."""
    thp_or_skip()
    if not compression.inflates_into():
        pytest.skip("libdeflate cannot be called directly here (idxmnist[fast])")
    import lzma

    payload = np.random.default_rng(1).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes()
    idx = bytes([0, 0, 0x08, 1]) + len(payload).to_bytes(4, "big") + payload
    files = {
        "a.gz": gzip.compress(idx, compresslevel=1, mtime=0),
        "a.xz": lzma.compress(idx, preset=0),
        "a.idx": idx,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for name in files:  # one child each: freed memory, advised once, may be handed out again
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path / name)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NUMPY_MADVISE_HUGEPAGE": "0"},
        )
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert got == {
            "control": {"hg": False, "nbytes": 8 << 20},
            "read": {"hg": name == "a.gz", "nbytes": len(payload)},
        }, name


def test_advice_is_given_from_the_threshold_on_and_only_to_whole_pages():
    """Below HUGE_MIN nothing is advised; an unaligned range is cut to the pages wholly
    inside it (madvise refuses an unaligned start, and must not touch a neighbour's
    page). Checked with the kernel's flags as above, on anonymous memory from mmap."""
    thp_or_skip()
    import mmap

    size = 3 * memory.HUGE_MIN
    with mmap.mmap(-1, size) as m:
        import ctypes

        base = ctypes.addressof(ctypes.c_char.from_buffer(m))
        try:
            memory.advise_huge_pages(base + 100, memory.HUGE_MIN - 1)  # too small: nothing
            assert "hg" not in vm_flags(base + memory.HUGE_MIN // 2)
            memory.advise_huge_pages(base + 100, memory.HUGE_MIN + 5000)
            assert "hg" not in vm_flags(base)  # the partly covered first page is left alone
            assert "hg" in vm_flags(base + 4096)  # the first whole page is advised
            assert "hg" in vm_flags(base + memory.HUGE_MIN)  # through the last whole one
            last_whole = (base + 100 + memory.HUGE_MIN + 5000) // 4096 * 4096
            assert "hg" not in vm_flags(last_whole)  # the partly covered last page is not
        finally:
            del base
