"""``python -m fuzz``: run the harnesses, on demand or as CI's short fixed run.

    python -m fuzz list
    python -m fuzz run HARNESS [HARNESS ...] [--seconds N]   # or ``all``; 600 s each by default
    python -m fuzz ci [--runs 2000] [--seed 1]               # every harness, corpus + fixed runs
    python -m fuzz replay HARNESS FILE [FILE ...]            # inputs again, without atheris
    python -m fuzz report                                    # the runs so far, per harness

``run`` keeps what it learns in ``.fuzz/HARNESS/`` (``--work``): ``corpus/``,
the inputs libFuzzer found new coverage with (the seed corpus in
``fuzz/corpus/`` is read, never written), ``findings/``, each input that
broke the contract (``crash-*``, ``timeout-*``, ``oom-*``), and ``log.txt``;
a line per run goes to ``.fuzz/runs.jsonl`` (executions, seconds, findings).
A finding is fixed in idxmnist, gets a regression test, and its input goes
into the seed corpus (``fuzz/make_corpus.py``). ``ci`` writes nothing
there: new inputs go to a temporary folder, and it fails on any finding.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

from . import HARNESSES, ROOT, Harness
from .contract import RSS_LIMIT_MB, TIMEOUT

_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"^#(\d+)\s+DONE", re.M)
#: libFuzzer's name for an input that took over -report_slow_units (10) seconds
_SLOW = "slow-unit-"


def _flags(harness: Harness, findings: Path | None, timeout: int = TIMEOUT) -> list[str]:
    flags = [
        f"-max_len={harness.max_len}",
        f"-timeout={timeout}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        "-print_final_stats=1",
    ]
    if findings is not None:
        flags.append(f"-artifact_prefix={findings}{os.sep}")
    if harness.dictionary is not None:
        flags.append(f"-dict={harness.dictionary}")
    return flags


def _launch(
    harness: Harness, flags: list[str], dirs: list[Path], log: Path, *, echo: bool = True
) -> tuple[int, float]:
    """Run libFuzzer on ``harness`` until it stops; its output to ``log`` (and the terminal)."""
    cmd = [sys.executable, "-m", "fuzz.target", harness.name, *flags, *map(str, dirs)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT.parent), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="idxmnist-fuzz-") as tmp:
        env["TMPDIR"] = tmp  # the harness's scratch files: removed whatever happens
        started = time.monotonic()
        with open(log, "w", encoding="utf-8", errors="replace") as out:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                if echo:
                    sys.stderr.write(line)
                out.write(line)
            code = proc.wait()
        return code, time.monotonic() - started


def _executions(log: Path) -> int | None:
    text = log.read_text(encoding="utf-8", errors="replace")
    found = _EXECUTED.findall(text) or _DONE.findall(text)
    return int(found[-1]) if found else None


def _names(given: list[str]) -> list[Harness]:
    if given == ["all"]:
        return list(HARNESSES.values())
    unknown = [n for n in given if n not in HARNESSES]
    if unknown:
        raise SystemExit(f"unknown harness {', '.join(unknown)}; known: {', '.join(HARNESSES)}")
    return [HARNESSES[n] for n in given]


def run(args: argparse.Namespace) -> int:
    work = Path(args.work)
    failed = 0
    for harness in _names(args.harness):
        home = work / harness.name
        corpus, findings = home / "corpus", home / "findings"
        corpus.mkdir(parents=True, exist_ok=True)
        findings.mkdir(exist_ok=True)
        before = set(findings.iterdir())
        flags = _flags(harness, findings, args.timeout) + [
            f"-max_total_time={args.seconds}",
            # slow inputs (the 400 MB bz2 seed, its mutations) get less of the time; not
            # in ci, where it would make the mutations depend on the machine's speed
            "-entropic_scale_per_exec_time=1",
        ]
        if args.seed is not None:
            flags.append(f"-seed={args.seed}")
        flags += args.libfuzzer
        code, seconds = _launch(harness, flags, [corpus, harness.corpus], home / "log.txt")
        new = sorted(p.name for p in set(findings.iterdir()) - before)
        slow = [n for n in new if n.startswith(_SLOW)]  # over 10 s: noted, not a breach
        record = {
            "harness": harness.name,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - seconds)),
            "seconds": round(seconds, 1),
            "executions": _executions(home / "log.txt"),
            "exit": code,
            "findings": [n for n in new if n not in slow],
            "slow": slow,
        }
        with open(work / "runs.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)
        failed += code != 0
    return 1 if failed else 0


def ci(args: argparse.Namespace) -> int:
    """Every harness over its seed corpus, then ``--runs`` mutations from ``--seed``."""
    failed = []
    total = time.monotonic()
    for harness in HARNESSES.values():
        with tempfile.TemporaryDirectory(prefix="idxmnist-fuzz-ci-") as tmp:
            fresh, findings = Path(tmp) / "corpus", Path(tmp) / "findings"
            fresh.mkdir()
            findings.mkdir()
            flags = _flags(harness, findings) + [f"-runs={args.runs}", f"-seed={args.seed}"]
            log = Path(tmp) / "log.txt"
            code, seconds = _launch(harness, flags, [fresh, harness.corpus], log, echo=False)
            executions = _executions(log)
            kept = sorted(p for p in findings.iterdir() if not p.name.startswith(_SLOW))
            if code != 0 or kept:
                failed.append(harness.name)
                sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-20000:])
                if args.keep:
                    Path(args.keep).mkdir(parents=True, exist_ok=True)
                    for path in kept:
                        shutil.copy(path, Path(args.keep) / f"{harness.name}-{path.name}")
            print(
                f"fuzz ci: {harness.name}: {executions} executions in {seconds:.1f} s, "
                f"exit {code}{', findings: ' + ' '.join(p.name for p in kept) if kept else ''}",
                flush=True,
            )
    print(f"fuzz ci: {len(HARNESSES)} harnesses in {time.monotonic() - total:.1f} s", flush=True)
    if failed:
        print(f"fuzz ci: FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def report(args: argparse.Namespace) -> int:
    """The runs in ``--work``'s ``runs.jsonl``, summed per harness, as a Markdown table."""
    totals: dict[str, list[float]] = {name: [0, 0.0, 0, 0] for name in HARNESSES}
    with open(Path(args.work) / "runs.jsonl", encoding="utf-8") as f:
        for line in f:
            run = json.loads(line)
            row = totals[run["harness"]]
            row[0] += 1
            row[1] += run["seconds"]
            row[2] += run["executions"] or 0
            row[3] += len(run["findings"])
    print("| harness | runs | time | executions | inputs kept (crash, timeout, oom) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (runs, seconds, executions, found) in totals.items():
        print(
            f"| `{name}` | {runs:.0f} | {seconds / 60:.0f} min | {executions:,.0f} | {found:.0f} |"
        )
    runs, seconds, executions, found = (sum(r[i] for r in totals.values()) for i in range(4))
    print(f"| **all** | {runs:.0f} | {seconds / 3600:.2f} h | {executions:,.0f} | {found:.0f} |")
    return 0


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Hang(f"over {TIMEOUT} s")


def replay(args: argparse.Namespace) -> int:
    """Each input through the harness in this process, without atheris; report each verdict."""
    import importlib

    from .contract import limit_memory

    (harness,) = _names([args.harness])
    module = importlib.import_module(f"fuzz.{harness.name}")
    limit_memory()
    signal.signal(signal.SIGALRM, _alarm)
    bad = 0
    for name in args.files:
        paths = sorted(Path(name).iterdir()) if Path(name).is_dir() else [Path(name)]
        for path in paths:
            started = time.monotonic()
            signal.alarm(TIMEOUT)
            try:
                module.TestOneInput(path.read_bytes())
            except BaseException:  # noqa: BLE001 (every escape is the finding being replayed)
                bad += 1
                print(f"{path}: FAILS", file=sys.stderr)
                traceback.print_exc()
            else:
                print(f"{path}: ok in {time.monotonic() - started:.2f} s", file=sys.stderr)
            finally:
                signal.alarm(0)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the harnesses and their seed corpora")
    p = sub.add_parser("run", help="fuzz harnesses on demand (new inputs kept in --work)")
    p.add_argument("harness", nargs="+", help="harness names, or all")
    p.add_argument("--seconds", type=int, default=600, help="per harness (default 600)")
    p.add_argument("--seed", type=int, default=None, help="libFuzzer's seed (default: random)")
    p.add_argument(
        "--timeout",
        type=int,
        default=TIMEOUT,
        help=f"seconds one input may take (default {TIMEOUT}; more under nice on a busy machine)",
    )
    p.add_argument("--work", default=".fuzz", help="where found inputs go (default .fuzz)")
    p.add_argument(
        "--libfuzzer",
        action="append",
        default=[],
        metavar="FLAG",
        help="one more libFuzzer flag (--libfuzzer=-use_value_profile=1), repeatable",
    )
    p = sub.add_parser("ci", help="each harness over its corpus plus a fixed number of runs")
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", default=None, help="copy any finding into this folder")
    p = sub.add_parser("report", help="the runs recorded in --work, per harness")
    p.add_argument("--work", default=".fuzz")
    p = sub.add_parser("replay", help="inputs through a harness again, without atheris")
    p.add_argument("harness")
    p.add_argument("files", nargs="+", help="input files, or folders of them")
    args = parser.parse_args(argv)
    if args.command == "list":
        for h in HARNESSES.values():
            files = sorted(h.corpus.iterdir()) if h.corpus.is_dir() else []
            size = sum(p.stat().st_size for p in files)
            print(f"{h.name}: {len(files)} seeds, {size} bytes, max_len {h.max_len}")
        return 0
    return {"run": run, "ci": ci, "replay": replay, "report": report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
