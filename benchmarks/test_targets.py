"""The targets' verdict (``python -m benchmarks``) and the user's ``idxmnist bench``.

The verdict is judged on hand-made reports, so each target's threshold is
pinned. ``idxmnist bench`` itself runs for real in tests/test_doc_commands.py,
as the docs show it, and must exit 0 whatever it measured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import targets
from idxmnist.bench import Report


def report(scale: float = 1.0, **changes) -> Report:
    """A report that meets every target when ``scale`` is 1; slower idxmnist as it grows."""
    base = dict(
        source=Path("."),
        rounds=1,
        machine="test",
        raw_bytes=55_000_000,
        parse={
            "keras-style": 0.172,
            "inflate libdeflate": 0.060,
            "idxmnist load_idx_dataset (numpy)": 0.062 * scale,
        },
        floor="libdeflate",
        cache={
            "np.load compressed": 0.120,
            "np.load stored": 0.015,
            "hit": 0.002 * scale,
            "np.load compressed + pass": 0.123,
            "hit + pass": 0.02 * scale,
        },
        cache_plain=True,
        import_ms=8.0 * scale,
        peak=(int(65e6 * scale), 55_000_000, 11_600_000),
        numba={
            "i4 numpy": 4.2,
            "i4 numba": 1.9 * scale,
            "f4 numpy": 4.2,
            "f4 numba": 1.9 * scale,
            "astype/255": 30.0,
            "to_float32 numba": 10.0 * scale,
            "to_float32 numpy": 20.0,
        },
    )
    base.update(changes)
    return Report(**base)


def test_every_target_passes_on_a_good_report():
    verdicts = targets.judge(report())
    assert [v.name for v in verdicts] == [
        "1 cold parse",
        "2 cache hit",
        "3 import",
        "4 peak memory",
        "5 numba",
    ]
    assert all(v.ok is True for v in verdicts), [str(v) for v in verdicts]


def test_every_target_fails_when_idxmnist_is_three_times_slower():
    verdicts = targets.judge(report(scale=3.0))
    assert [v.ok for v in verdicts] == [False] * 5
    assert str(verdicts[0]).startswith("FAIL 1 cold parse: 0.92x faster than keras-style")


@pytest.mark.parametrize(
    "changes, failing",
    [
        ({"cache_plain": False}, "2 cache hit"),
        ({"import_ms": 20.5}, "3 import"),
        ({"peak": (int(1.26 * 66_600_000), 55_000_000, 11_600_000)}, "4 peak memory"),
    ],
)
def test_each_threshold(changes, failing):
    failed = [v.name for v in targets.judge(report(**changes)) if v.ok is False]
    assert failed == [failing]


def test_no_numba_is_not_a_failure():
    verdict = targets.judge(report(numba={}))[-1]
    assert verdict.ok is None and str(verdict).startswith("n/a  5 numba")


def test_floor_target_is_a_ratio_of_the_same_run():
    r = report()
    r.parse["idxmnist load_idx_dataset (numpy)"] = 0.060 * 1.16  # 1.16x the floor
    r.parse["keras-style"] = 1.0  # still far faster than keras-style
    assert targets.judge(r)[0].ok is False
