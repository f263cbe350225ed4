#!/usr/bin/env python3
"""Mutation testing of the modules that guard data, one module at a time (mutmut).

    pip install -e '.[dev,mutation]'
    python tools/mutation.py                  # every module in MODULES (about an hour here)
    python tools/mutation.py npzfile atomic   # some of them (a name matches the file stem)
    python tools/mutation.py --list           # the modules, their tests, known equivalents

For each module a scratch copy of the checkout is made in ``.mutation/<stem>/``
(git-ignored) with a ``[tool.mutmut]`` section that mutates only that module
and runs only its test files, minus the ``realdata`` tests: a mutant must be
killed by a test that needs no downloaded data. mutmut first runs those tests
once to learn which test reaches which function, then runs each mutant
against the tests that reach it. The summary gives, per module, killed /
survived / other, the survivors judged equivalent (``EQUIVALENT`` below) and
the kill rate over the rest; ``docs/testing.md`` records the last figures.
To look at a survivor: ``cd .mutation/<stem> && mutmut show NAME``.

Not run in CI: it takes far too long for two cores. To cover a new module,
add it to ``MODULES`` with the test files that exercise it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"

#: module -> the test files that exercise it (the only ones run against its mutants)
MODULES: dict[str, list[str]] = {
    "idxmnist/idx/format.py": [
        "tests/test_messages.py",
        "tests/test_bad_input.py",
        "tests/test_roundtrip.py",
        "tests/test_guards.py",
    ],
    "idxmnist/idx/reader.py": [
        "tests/test_messages.py",
        "tests/test_bad_input.py",
        "tests/test_roundtrip.py",
        "tests/test_backends.py",
        "tests/test_guards.py",
    ],
    "idxmnist/idx/compression.py": [
        "tests/test_messages.py",
        "tests/test_bad_input.py",
        "tests/test_roundtrip.py",
        "tests/test_backends.py",
        "tests/test_guards.py",
    ],
    "idxmnist/datasets/npzfile.py": [
        "tests/test_bad_input.py",
        "tests/test_load_data.py",
        "tests/test_guards.py",
    ],
    "idxmnist/datasets/assemble.py": [
        "tests/test_messages.py",
        "tests/test_bad_input.py",
        "tests/test_load_data.py",
        "tests/test_guards.py",
    ],
    "idxmnist/datasets/download.py": [
        "tests/test_download.py",
        "tests/test_guards.py",
        "tests/test_resume.py",
        "tests/test_offline.py",
        "tests/test_emnist.py",
        "tests/test_ranged.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/transfer.py": [
        "tests/test_download.py",
        "tests/test_resume.py",
        "tests/test_ranged.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/partial.py": [
        "tests/test_resume.py",
        "tests/test_download.py",
        "tests/test_ranged.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/content.py": [
        "tests/test_content.py",
        "tests/test_import_export.py",
        "tests/test_verify.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/checksum.py": [
        "tests/test_content.py",
        "tests/test_resume.py",
        "tests/test_guards.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/identify.py": [
        "tests/test_content.py",
        "tests/test_import_export.py",
        "tests/test_verify.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/atomic.py": [
        "tests/test_crash_safety.py",
        "tests/test_load_data.py",
        "tests/test_guards.py",
    ],
    "idxmnist/idx/ziparchive.py": [
        "tests/test_ziparchive.py",
        "tests/test_emnist.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/idx/zipdirectory.py": [
        "tests/test_ranged.py",
        "tests/test_ziparchive.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/ranged.py": [
        "tests/test_ranged.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/idx/transpose.py": [
        "tests/test_transpose.py",
        "tests/test_emnist.py",
    ],
    "idxmnist/emnist.py": [
        "tests/test_emnist.py",
    ],
    "idxmnist/datasets/archive.py": [
        "tests/test_emnist.py",
        "tests/test_ranged.py",
        "tests/test_ziparchive.py",
        "tests/test_mutants_sources.py",
    ],
    "idxmnist/datasets/classes.py": [
        "tests/test_classes.py",
        "tests/test_emnist.py",
        "tests/test_k49.py",
    ],
    "idxmnist/datasets/labels.py": [
        "tests/test_qmnist.py",
        "tests/test_registry.py",
    ],
}

#: mutant name -> why no test can tell it from the original (listed in docs/testing.md)
EQUIVALENT: dict[str, str] = {
    "idxmnist.atomic.x__umask__mutmut_3": "os.umask(1) for os.umask(0): the old mask is "
    "returned and restored either way",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_20": "ZipInfo's default "
    "date_time is the same (1980, 1, 1, 0, 0, 0)",
    "idxmnist.datasets.npzfile.xǁMemberǁ__init____mutmut_1": "fortran is always set from the "
    ".npy header before it is read",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_54": "NumPy reads order='f' as 'F'",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_56": "NumPy reads order='c' as 'C'",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_71": "reshape(-2): NumPy takes "
    "any negative size as 'the rest'",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_73": "cast('b') for cast('B'): "
    "the same bytes are written",
    "idxmnist.datasets.content.x_idx_digest__mutmut_11": "sniff(read(None)): sniff looks at "
    "the first 6 bytes at most, and the file is rewound",
    "idxmnist.datasets.content.x_idx_digest__mutmut_12": "sniff(read(7)): sniff looks at the "
    "first 6 bytes at most, and the file is rewound",
    "idxmnist.datasets.content.x_idx_digest__mutmut_68": "a 2-byte buffer for a 0- or 1-byte "
    "payload: each read is capped by the bytes left",
    "idxmnist.datasets.checksum.x_hash_file__mutmut_3": "usedforsecurity=None: hashlib reads it "
    "as a bool, so it is False",
    "idxmnist.datasets.checksum.x_verdict__mutmut_9": "sniff(read(None)): sniff looks at the "
    "first 6 bytes at most",
    "idxmnist.datasets.checksum.x_verdict__mutmut_10": "sniff(read(7)): sniff looks at the "
    "first 6 bytes at most",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_21": "get(size, None): None and [] "
    "are both falsy, and only tested for truth",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_23": "get(size): None and [] are "
    "both falsy, and only tested for truth",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_62": "_by_content.get(None) is None: "
    "its keys are hex digests",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_3": "encoding=None: json.dump writes "
    "ASCII only (ensure_ascii), the same bytes in any locale",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_6": "no encoding: json.dump writes "
    "ASCII only (ensure_ascii), the same bytes in any locale",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_10": "encoding='UTF-8': Python reads "
    "encoding names case-insensitively",
    "idxmnist.datasets.partial.x__load__mutmut_3": "encoding=None: a record is written ASCII "
    "only (ensure_ascii), read alike in any locale",
    "idxmnist.datasets.partial.x__load__mutmut_5": "encoding='UTF-8': Python reads encoding "
    "names case-insensitively",
    "idxmnist.datasets.partial.xǁPartialǁresume_point__mutmut_6": "size = -2 for -1 when there "
    "is no .part: only size <= 0 is asked",
    "idxmnist.datasets.download.x__whole_name__mutmut_6": "rsplit('/') for rsplit('/', 1): the "
    "last piece is the same",
    "idxmnist.datasets.download.x__whole_name__mutmut_10": "rsplit('/', 2) for rsplit('/', 1): "
    "the last piece is the same",
    "idxmnist.datasets.download.x__whole_name__mutmut_11": "[+1] for [-1]: a whole-file URL's "
    "path always has a '/', so rsplit('/', 1) has exactly two pieces",
    "idxmnist.datasets.download.xǁ_Sessionǁ_intended__mutmut_11": "rsplit('/') for "
    "rsplit('/', 1): the last piece is the same",
    "idxmnist.datasets.download.xǁ_Sessionǁ_intended__mutmut_20": "rsplit('/', 2) for "
    "rsplit('/', 1): the last piece is the same",
    "idxmnist.datasets.download.xǁ_Sessionǁ_unpack__mutmut_42": "pop(None): a problem left "
    "for a file kept is never read (get() returns the kept file first)",
    "idxmnist.datasets.download.xǁ_Sessionǁ_unpack__mutmut_45": "kept = 1: kept is only "
    "tested for zero",
    "idxmnist.datasets.download.xǁ_Sessionǁ_unpack__mutmut_46": "kept -= 1: kept is only "
    "tested for zero, and never comes back to it",
    "idxmnist.datasets.download.xǁ_Sessionǁ_unpack__mutmut_47": "kept += 2: kept is only "
    "tested for zero",
    "idxmnist.datasets.download.xǁ_Sessionǁ_unpack__mutmut_49": "problems['XXXX']: only the "
    "values of that entry are read, never its key",
    "idxmnist.datasets.download.xǁ_Sessionǁ_whole__mutmut_23": "range(3): after the second "
    "attempt the loop has returned or raised",
    "idxmnist.datasets.download.xǁ_Sessionǁ_whole__mutmut_39": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
    "idxmnist.datasets.download.xǁ_Sessionǁ_whole__mutmut_40": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
    "idxmnist.datasets.download.xǁ_Sessionǁ_whole__mutmut_41": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
}

#: files outside the package that the tests read
ALSO_COPY = ["README.md", "docs/", "benchmarks/", "conftest.py"]


def _files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def _prepare(module: str, tests: list[str]) -> Path:
    work = SCRATCH / Path(module).stem
    shutil.rmtree(work, ignore_errors=True)
    for name in _files():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, work / name)
    config = {
        "source_paths": ["idxmnist/"],
        "only_mutate": [module],
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args": ["--benchmark-disable", "-p", "no:cacheprovider"],
        "pytest_add_cli_args_test_selection": [
            *[t for t in tests if (work / t).is_file()],
            "-m",
            "not realdata",
        ],
    }
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    with open(work / "pyproject.toml", "a") as f:
        f.write("\n".join(lines) + "\n")
    return work


def _statuses(work: Path) -> dict[str, str]:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=work, capture_output=True, text=True
    ).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("idxmnist."):
            result[name] = status.strip()
    return result


def run(module: str, jobs: int) -> dict:
    work = _prepare(module, MODULES[module])
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    env.pop("CI", None)
    log = work / "mutmut.log"
    with open(log, "w") as f:
        subprocess.run(
            ["mutmut", "run", "--max-children", str(jobs)],
            cwd=work,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=env,
        )
    statuses = _statuses(work)
    if not statuses:
        sys.exit(f"{module}: mutmut reported no mutants; see {log}")
    killed = [n for n, s in statuses.items() if s in ("killed", "timeout")]
    equivalent = [n for n, s in statuses.items() if s != "killed" and n in EQUIVALENT]
    survived = [
        n for n, s in statuses.items() if s not in ("killed", "timeout") and n not in EQUIVALENT
    ]
    counted = len(killed) + len(survived)
    return {
        "module": module,
        "total": len(statuses),
        "killed": len(killed),
        "equivalent": equivalent,
        "survived": survived,
        "rate": len(killed) / counted if counted else 1.0,
        "statuses": {n: statuses[n] for n in survived},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module stems or paths (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants at once")
    parser.add_argument("--list", action="store_true", help="show the modules and exit")
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(module, "<-", " ".join(tests))
        for name, why in EQUIVALENT.items():
            print(f"equivalent: {name}: {why}")
        return 0
    chosen = [
        m for m in MODULES if not args.modules or any(a in (m, Path(m).stem) for a in args.modules)
    ]
    if not chosen:
        parser.error(f"no such module: {' '.join(args.modules)}")
    results = []
    for module in chosen:
        print(f"== {module}", flush=True)
        r = run(module, args.jobs)
        results.append(r)
        for name in r["survived"]:
            print(f"   survived: {name} ({r['statuses'][name]})")
        print(
            f"   {r['killed']} killed, {len(r['survived'])} survived, "
            f"{len(r['equivalent'])} equivalent, of {r['total']}: {r['rate']:.1%}",
            flush=True,
        )
    killed = sum(r["killed"] for r in results)
    counted = killed + sum(len(r["survived"]) for r in results)
    print("\n| module | mutants | killed | survived | equivalent | kill rate |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| `{r['module']}` | {r['total']} | {r['killed']} | {len(r['survived'])} "
            f"| {len(r['equivalent'])} | {r['rate']:.1%} |"
        )
    rate = killed / counted if counted else 1.0
    total = sum(r["total"] for r in results)
    equivalent = sum(len(r["equivalent"]) for r in results)
    print(f"| all | {total} | {killed} | {counted - killed} | {equivalent} | {rate:.1%} |")
    return 0 if rate >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
