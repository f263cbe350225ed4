"""``python -m benchmarks --source DIR``: the run of record and the targets' verdict.

Prints the tables ``idxmnist bench`` prints (the README's performance table
is this output), then each target as PASS or FAIL; exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import os
import sys

from idxmnist import bench

from .targets import judge


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
    p.add_argument("--rounds", type=int, default=21, help="timed runs per case (default 21)")
    args = p.parse_args(argv)
    report = bench.measure(args.source, args.rounds, log=lambda m: print(m, file=sys.stderr))
    print(bench.render(report))
    verdicts = judge(report)
    print("\n```text\ntargets:")
    for v in verdicts:
        print(f"  {v}")
    print("```")
    return 1 if any(v.ok is False for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
