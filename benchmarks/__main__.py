"""``python -m benchmarks --source DIR``: the run of record and the targets' verdict.

Prints the tables ``idxmnist bench`` prints (the README's performance table
is this output), then each target as PASS or FAIL; exits 1 if one is missed.
``--family`` runs the family's instead (EMNIST from ``gzip.zip``, QMNIST's
xz, every dataset's cache hit; targets 6-10), on full-size synthetic data it
builds from DIR's MNIST images into a temporary directory (a few minutes).

Every case allocates ordinary 4 KiB pages: NumPy's transparent-huge-page
hint is turned off for the run (see :func:`level_allocations`).
"""

from __future__ import annotations

import argparse
import os
import sys

from idxmnist.cli import bench
from idxmnist.idx import compression

from .targets import Verdict, judge, judge_family


def level_allocations() -> None:
    """Turn off NumPy's transparent-huge-page hint for this process.

    NumPy asks the kernel for huge pages (``madvise``) for arrays of 4 MiB and
    more; the floors' ``bytearray`` never does. On a VM whose memory is
    fragmented, the kernel then compacts memory synchronously: measured here,
    the same 640 MB parse spent 0.06 s to 2 s in the kernel from one run to
    the next, which swamps every ratio. With the hint off, every case (ours,
    the peers, the floors) gets the same 4 KiB pages and the kernel time is
    steady (about 0.45 s per 640 MB). Users keep NumPy's default.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # NumPy < 2: the same switch under its old name
        from numpy.core.multiarray import _set_madvise_hugepage  # type: ignore[no-redef]
    _set_madvise_hugepage(False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The run of record: every benchmark, then each target's verdict "
        "(exit 1 if one is missed).",
    )
    default = os.environ.get("IDXMNIST_SOURCE") or os.environ.get("IDXMNIST_TEST_DATA")
    p.add_argument(
        "--source",
        default=default,
        required=not default,
        metavar="DIR",
        help="the four upstream MNIST .gz files (default: $IDXMNIST_TEST_DATA)",
    )
    p.add_argument("--rounds", type=int, default=None, help="timed runs per case (default 21)")
    p.add_argument(
        "--family",
        action="store_true",
        help="the family's benchmarks and targets 6-10 (default rounds: 7)",
    )
    args = p.parse_args(argv)
    if args.family and compression.libdeflate() is None:  # before minutes of building data
        p.error("--family measures against the libdeflate floor: pip install 'idxmnist[fast]'")
    level_allocations()
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    verdicts: list[Verdict]
    if args.family:
        from . import family

        report_f = family.measure(args.source, args.rounds or 7, log=log)
        print(family.render(report_f))
        verdicts = judge_family(report_f)
    else:
        report = bench.measure(args.source, args.rounds or 21, log=log)
        print(bench.render(report))
        verdicts = judge(report)
    print("\n```text\ntargets:")
    for v in verdicts:
        print(f"  {v}")
    print("```")
    return 1 if any(v.ok is False for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
