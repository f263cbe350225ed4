"""Performance budgets that are deterministic enough for a unit test.

Memory, not time: the peak RSS growth of a cold parse of the real files must
stay within 1.25x (outputs + compressed inputs) (target 4). Speed targets are
ratios checked by ``idxmnist bench``, never wall-clock limits here.
"""

from __future__ import annotations

import sys

import pytest

from idxmnist import bench


@pytest.mark.realdata
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_of_a_cold_parse(mnist_dir):
    peak, outputs, compressed = bench.peak_memory(mnist_dir)
    assert outputs == 60000 * 784 + 60000 + 10000 * 784 + 10000
    assert peak <= bench.TARGET_MEMORY * (outputs + compressed), (peak, outputs, compressed)


def test_auto_swap_backend_only_numba_once_warm(monkeypatch):
    from idxmnist.idx import decode

    monkeypatch.setattr(decode, "numba_available", lambda: True)
    monkeypatch.setattr(decode, "numba_warm", lambda: False)
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 4) == "numpy"
    monkeypatch.setattr(decode, "numba_warm", lambda: True)
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 4) == "numba"
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES - 1, 4) == "numpy"
    assert decode.resolve_backend("auto", decode.NUMBA_AUTO_MIN_BYTES, 1) == "numpy"


@pytest.mark.realdata
def test_bench_command_prints_the_table(mnist_dir, capsys):
    from idxmnist.cli import main

    code = main(["bench", "--source", str(mnist_dir), "--rounds", "1"])
    out = capsys.readouterr().out
    assert code in (0, 1)  # 1 = a ratio target missed on a noisy machine; not a crash
    assert "| keras-style" in out and "idxmnist load_data, cache hit" in out
    for n in range(1, 6):
        assert f" {n} " in out.split("targets:")[1]
