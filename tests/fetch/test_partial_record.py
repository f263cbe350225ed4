"""A ``.part.json`` resume record that is no record: start over, never crash, never read it whole.

Found writing ``fuzz/part_record.py`` (its fuzzer, 230,820 executions, did not
reach them: JSON's parser is C, so its depth gives no coverage): a record of
JSON nested deeper than Python's recursion limit raised ``RecursionError``
out of every download of that file, and a record of any size was read whole
into memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from idxmnist.fetch.partial import MAX_RECORD, Meta, Partial

URL = "http://mirror.invalid/train-labels-idx1-ubyte.gz"
REPO = Path(__file__).resolve().parents[2]


def partial_with(tmp_path: Path, record: bytes) -> Partial:
    part = Partial(tmp_path, "train-labels-idx1-ubyte.gz")
    part.path.write_bytes(bytes(1000))
    part.record.write_bytes(record)
    return part


@pytest.mark.parametrize("nested", [b"[" * 100_000, b'{"url": ' * 5000, b"[" * 2000 + b"]" * 2000])
def test_a_deeply_nested_record_means_start_over(nested, tmp_path):
    part = partial_with(tmp_path, nested)
    assert part.meta() is None and not part.in_progress(URL)
    assert part.resume_point(URL) == (0, None)
    assert not part.path.exists() and not part.record.exists()


def test_a_record_at_the_size_bound_is_read_and_one_byte_more_is_not(tmp_path):
    good = Meta(URL, '"v"', None, 4096, 500)
    part = partial_with(tmp_path, b"")
    part.save(good)
    text = part.record.read_bytes()
    part.record.write_bytes(text + b" " * (MAX_RECORD - len(text)))  # JSON allows the spaces
    assert part.meta() == good and part.resume_point(URL) == (500, good)
    part.record.write_bytes(text + b" " * (MAX_RECORD + 1 - len(text)))
    assert part.meta() is None


def test_a_huge_record_is_not_read_into_memory(tmp_path):
    # a sparse 4 GiB file under the record's name, read by a process whose address space
    # may grow by 256 MiB only: read whole, it would raise MemoryError there
    part = partial_with(tmp_path, b"")
    with open(part.record, "r+b") as f:
        f.truncate(4 << 30)
    code = textwrap.dedent(
        f"""
        import resource
        from idxmnist.fetch.partial import Partial
        with open("/proc/self/status") as f:
            size = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + (256 << 20),) * 2)
        part = Partial({str(tmp_path)!r}, "train-labels-idx1-ubyte.gz")
        print(part.resume_point({URL!r}))
        """
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(0, None)"
    assert not part.path.exists() and not part.record.exists()
