"""``python -m benchmarks --source DIR``: the run of record and the targets' verdict.

Prints the tables ``idxmnist bench`` prints (the README's performance table
is this output), then each target as PASS or FAIL; exits 1 if one is missed.
``--family`` runs the family's instead (EMNIST from ``gzip.zip``, QMNIST's
xz, every dataset's cache hit; targets 6-10), on full-size synthetic data it
builds from DIR's MNIST images into a temporary directory (a few minutes).
"""

from __future__ import annotations

import argparse
import os
import sys

from idxmnist import bench

from .targets import Verdict, judge, judge_family


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
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
