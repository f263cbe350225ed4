"""``idxmnist bench``'s measurements that are deterministic enough for a unit test.

Memory, not time: the peak RSS growth of a cold parse of the real files
(``bench.peak_memory``) must stay within the memory target (outputs +
compressed inputs). Speed targets are ratios judged by ``python -m
benchmarks``, never wall-clock limits here; the command itself runs in
``tests/contracts/test_doc_commands.py``.
"""

from __future__ import annotations

import sys

import pytest

from benchmarks.targets import MEMORY
from idxmnist.cli import bench


@pytest.mark.realdata
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_of_a_cold_parse(mnist_dir):
    peak, outputs, compressed = bench.peak_memory(mnist_dir)
    assert outputs == 60000 * 784 + 60000 + 10000 * 784 + 10000
    assert peak <= MEMORY * (outputs + compressed), (peak, outputs, compressed)
