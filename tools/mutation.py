#!/usr/bin/env python3
"""Mutation testing of the modules that guard data, one module at a time (mutmut).

    pip install -e '.[dev,mutation]'
    python tools/mutation.py --list           # the modules and the test files each one runs
    python tools/mutation.py npzfile atomic   # some modules (by file stem or path)
    python tools/mutation.py                  # every module but the CLI's (hours here)
    python tools/mutation.py --report download               # the last run's figures again
    python tools/mutation.py download --recheck tests/test_mutants_download.py
                                              # its survivors against new tests only
    python tools/mutation.py --stale          # equivalents that match no mutant any more
    python tools/mutation.py labels --keep-coverage   # the map as it is, though tests changed

Modules: every ``.py`` file of the package, found on disk, but the command line and
the presentation code (``PRESENTATION``: a file or folder of that name). A module with
no function mutmut mutates has no mutants and is skipped.

Tests: a module's mutants run against the test files that execute a line of one of its
functions, learnt from one coverage run of the whole suite (minus the ``realdata``
tests) with one context per test, plus its mirrored file ``tests/<stage>/test_<stem>.py``
or ``tests/test_<stem>.py`` where there is one. No table names them: a test that moves,
or a contract or CLI test that reaches the module in-process, is found by the next
coverage run. The map is kept in ``.mutation/coverage-map.json`` (git-ignored) and made
again when a file of the test folders or a file name of the package changes, or on
``--refresh-coverage`` (after an edit of the package that changes which code calls
which). Code reached only in a child process is not seen by it.

Runs: for each module a scratch copy of the checkout is made in ``.mutation/<stem>/``
with a ``[tool.mutmut]`` section that mutates only that module and runs only its test
files, minus the ``realdata`` tests: a mutant must be killed by a test that needs no
downloaded data. mutmut first runs those tests once to learn which test reaches which
function, then runs each mutant against the tests that reach it.

Equivalents: ``tools/equivalent.toml`` names, by its text (the function, the original
line, the mutated line), each change that no test can tell from the original; a
survivor whose change is listed there counts as equivalent, whatever its mutant number
or file. The summary gives, per module, killed / survived / equivalent and the kill rate
over the non-equivalent ones; ``docs/testing.md`` records the last figures. To look at a
survivor: ``cd .mutation/<stem> && mutmut show NAME``.

Not run in CI: it takes far too long for two cores.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"
PACKAGE = "idxmnist"
EQUIVALENT_FILE = ROOT / "tools" / "equivalent.toml"
COVERAGE_MAP = SCRATCH / "coverage-map.json"

#: files and folders of the package whose code shows things or reads the command line:
#: not mutated unless named
PRESENTATION = {"cli", "__main__", "info", "preview", "bench"}

#: files outside the package that the tests read
ALSO_COPY = ["README.md", "docs/", "benchmarks/", "conftest.py"]

#: mutmut's verdicts that mean a test run noticed the mutant: a failure, a run stopped
#: at its time budget (a hang), or a run that crashed (SIGSEGV, or SIGKILL one second
#: after the CPU limit: mutmut calls both "segfault")
CAUGHT = ("killed", "timeout", "segfault", "killed by recheck")


# -- the modules ----------------------------------------------------------------------------


def _files() -> list[str]:
    """The checkout's files (git's, ignored ones left out); in an unpacked sdist, which has
    no git, every file under the root but hidden ones and caches."""
    if (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]
    found = (p.relative_to(ROOT) for p in ROOT.rglob("*") if p.is_file())
    return sorted(
        f.as_posix()
        for f in found
        if not any(part.startswith(".") or part == "__pycache__" for part in f.parts)
    )


def package_modules(files: list[str]) -> list[str]:
    """Every module of the package, as a path from the checkout's root."""
    return sorted(f for f in files if f.startswith(f"{PACKAGE}/") and f.endswith(".py"))


def presentation(module: str) -> bool:
    return any(part in PRESENTATION for part in Path(module).with_suffix("").parts[1:])


def label(module: str, everything: list[str]) -> str:
    """The module's name on the command line and in ``.mutation/``: its stem, or its
    dotted path in the package where another module has the same stem."""
    stem = Path(module).stem
    if sum(Path(m).stem == stem for m in everything) == 1:
        return stem
    return ".".join(Path(module).with_suffix("").parts[1:])


def choose(names: list[str], everything: list[str]) -> list[str]:
    """The modules named (by path, stem or label), or by default all but the presentation."""
    if not names:
        return [m for m in everything if not presentation(m)]
    chosen = []
    for name in names:
        hits = [
            m
            for m in everything
            if name in (m, m.removeprefix(f"{PACKAGE}/"), Path(m).stem, label(m, everything))
        ]
        if len(hits) != 1:
            found = f"ambiguous: {', '.join(hits)}" if hits else "no such module"
            sys.exit(f"{name}: {found}")
        chosen += [m for m in hits if m not in chosen]
    return chosen


# -- the tests that reach a module ----------------------------------------------------------


def _pytest_config() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config.get("tool", {}).get("pytest", {}).get("ini_options", {})


def test_roots() -> list[str]:
    return [r.rstrip("/") for r in _pytest_config().get("testpaths", ["tests"])]


def tests_key(files: list[str]) -> str:
    """What the coverage map depends on: every file of the test folders and the root
    conftest.py (their contents), and the names of the package's modules."""
    roots = tuple(f"{r}/" for r in test_roots())
    digest = hashlib.sha256()
    for name in sorted(f for f in files if f.startswith(roots) or f == "conftest.py"):
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    digest.update("\n".join(package_modules(files)).encode())
    return digest.hexdigest()


def function_lines(source: str) -> set[int]:
    """The lines inside the functions and methods mutmut mutates (top-level functions and
    the methods of top-level classes): a test that runs none of them reaches no mutant,
    whatever it imports."""
    lines: set[int] = set()
    for node in ast.parse(source).body:
        defs = node.body if isinstance(node, ast.ClassDef) else [node]
        for f in defs:
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef):
                lines.update(range(f.body[0].lineno, (f.end_lineno or f.lineno) + 1))
    return lines


def build_coverage_map(files: list[str]) -> dict:
    """Run the whole suite (minus ``realdata``) once under coverage, one context per test,
    and keep which test files run a line of each module's functions."""
    import coverage

    out = SCRATCH / "coverage"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data_file = out / ".coverage"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--benchmark-disable", "-m", "not realdata"]
    command += [f"--cov={PACKAGE}", "--cov-context=test", "--cov-report=", *test_roots()]
    log = out / "pytest.log"
    print(f"coverage map: running the suite once (minus realdata); log in {log}", flush=True)
    with open(log, "w") as f:
        status = subprocess.run(
            command,
            cwd=ROOT,
            env={**_clean_env(), "COVERAGE_FILE": str(data_file)},
            stdout=f,
            stderr=subprocess.STDOUT,
        ).returncode
    if status not in (0, 1):
        sys.exit(
            f"the coverage run failed (pytest exit status {status}): see {log}; it needs "
            "pytest-cov (pip install -e '.[dev,mutation]')"
        )
    if status == 1:
        print(f"coverage map: some tests failed (see {log}); what they ran counts all the same")
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    reach: dict[str, list[str]] = {}
    for measured in data.measured_files():
        try:
            module = Path(measured).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            continue
        inside = function_lines((ROOT / module).read_text())
        tests = {
            context.split("::")[0]
            for lineno, contexts in (data.contexts_by_lineno(measured) or {}).items()
            if lineno in inside
            for context in contexts
            if "::" in context
        }
        reach[module] = sorted(tests)
    if not reach:
        sys.exit(f"the coverage run measured no file of {ROOT / PACKAGE}: is it the one imported?")
    made = {
        "key": tests_key(files),
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "pytest_exit_status": status,
        "reach": dict(sorted(reach.items())),
    }
    COVERAGE_MAP.write_text(json.dumps(made, indent=1) + "\n")
    return made


def coverage_map(files: list[str], *, refresh: bool, build: bool = True) -> tuple[dict, str]:
    """The map and how current it is ("current", "stale" or "missing"); made again when
    asked, or when it is not current and ``build`` is true."""
    cached = json.loads(COVERAGE_MAP.read_text()) if COVERAGE_MAP.exists() else None
    state = "missing" if cached is None else "stale"
    if cached is not None and cached.get("key") == tests_key(files):
        state = "current"
    if refresh or (build and state != "current"):
        return build_coverage_map(files), "current"
    return cached or {"reach": {}}, state


def mirrored(module: str, files: list[str]) -> list[str]:
    """``tests/<stage>/test_<stem>.py`` or ``tests/test_<stem>.py`` (in each test folder)."""
    name = f"test_{Path(module).stem}.py"
    found = []
    for f in files:
        path = Path(f)
        if path.name == name and any(
            root in (path.parent.as_posix(), path.parent.parent.as_posix()) for root in test_roots()
        ):
            found.append(f)
    return sorted(found)


def selection(module: str, files: list[str], reach: dict) -> list[str]:
    return sorted(set(mirrored(module, files)) | set(reach["reach"].get(module, [])))


# -- the mutants and their changes ----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One mutant's change: where, the original line(s) and the mutated line(s), stripped."""

    function: str  # "name" or "Class.name"
    line: str
    mutant: str
    lineno: int


def _mutmut_section(module: str, tests: list[str]) -> dict:
    return {
        "source_paths": [f"{PACKAGE}/"],
        "only_mutate": [module],
        "also_copy": [p for p in ALSO_COPY if (ROOT / p).exists()],
        # Fork each mutant's run from a server that has run no test: mutmut's default
        # ("fork") forks from the process that ran the clean suite, where numba's
        # OpenMP threads are already running, and OpenMP kills a forked child that
        # uses them (SIGTERM: "fork() called from a process already using GNU
        # OpenMP"), which mutmut reports as "suspicious" whatever the mutant did.
        "process_isolation": "forkserver",
        "pytest_add_cli_args": ["--benchmark-disable", "-p", "no:cacheprovider"],
        "pytest_add_cli_args_test_selection": [*tests, "-m", "not realdata"],
    }


def _toml_section(config: dict) -> str:
    return "\n".join(["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()])


def _use_mutmut_config(where: Path) -> None:
    """Load mutmut's configuration from ``where``'s pyproject.toml, as ``mutmut run`` does
    (it reads its ``do_not_mutate_patterns`` while it makes the mutants)."""
    import mutmut.configuration

    here = os.getcwd()
    os.chdir(where)
    try:
        mutmut.configuration.reset_config()
        mutmut.configuration.config()
    finally:
        os.chdir(here)


def _use_default_mutmut_config() -> None:
    with tempfile.TemporaryDirectory() as where:
        section = _toml_section(_mutmut_section(f"{PACKAGE}/__init__.py", []))
        (Path(where) / "pyproject.toml").write_text(section + "\n")
        _use_mutmut_config(Path(where))


def changes(module: str, source: str) -> dict[str, Change]:
    """Every mutant mutmut makes of ``module`` (a path from the root), named as mutmut names
    it, with its change. This is mutmut's own code, as ``mutmut run`` calls it: the
    mutations of each function, numbered in order, each applied to a copy of the function
    and told apart from the original line by line."""
    import libcst as cst
    from mutmut.mutation.file_mutation import create_mutations, deep_replace
    from mutmut.mutation.trampoline_templates import mangle_function_name
    from mutmut.utils.format_utils import get_mutant_name

    tree, mutations, _, _ = create_mutations(module, source)
    owner: dict[cst.FunctionDef, str | None] = {}
    for statement in tree.body:
        if isinstance(statement, cst.FunctionDef):
            owner[statement] = None
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for method in statement.body.body:
                if isinstance(method, cst.FunctionDef):
                    owner[method] = statement.name.value
    def_lines: dict[tuple[str | None, str], int] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            def_lines.setdefault((None, node.name), node.lineno)
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    def_lines.setdefault((node.name, method.name), method.lineno)
    numbers: dict[cst.FunctionDef, int] = {}
    originals: dict[cst.FunctionDef, list[str]] = {}
    out: dict[str, Change] = {}
    for mutation in mutations:
        function = mutation.contained_by_top_level_function
        if not isinstance(function, cst.FunctionDef) or function not in owner:
            continue  # mutmut makes no mutant of these either
        cls, name = owner[function], function.name.value
        numbers[function] = numbers.get(function, 0) + 1
        mangled = mangle_function_name(name=name, class_name=cls)
        mutant_name = get_mutant_name(Path(module), f"{mangled}__mutmut_{numbers[function]}")
        before = originals.setdefault(function, tree.code_for_node(function).splitlines())
        mutated = deep_replace(function, mutation.original_node, mutation.mutated_node)
        after = tree.code_for_node(mutated).splitlines()
        removed: list[str] = []
        added: list[str] = []
        first = None
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "equal":
                first = i1 if first is None else first
                removed += [text.strip() for text in before[i1:i2]]
                added += [text.strip() for text in after[j1:j2]]
        # the rendered function starts with its comments and decorators: count from `def`
        at_def = next(i for i, t in enumerate(before) if t.lstrip().startswith(("def ", "async ")))
        lineno = def_lines.get((cls, name), 0) + (first or at_def) - at_def
        qualified = f"{cls}.{name}" if cls else name
        out[mutant_name] = Change(qualified, "\n".join(removed), "\n".join(added), lineno)
    return out


# -- the equivalent mutants ----------------------------------------------------------------


@dataclass(frozen=True)
class Equivalent:
    function: str
    line: str
    mutant: str
    why: str


class Equivalents:
    """The changes of ``tools/equivalent.toml``, looked up by their text."""

    def __init__(self, path: Path = EQUIVALENT_FILE) -> None:
        self.path = path
        raw = tomllib.loads(path.read_text()).get("equivalent", [])
        self.entries = [Equivalent(**entry) for entry in raw]
        self._by_text: dict[tuple[str, str], list[Equivalent]] = defaultdict(list)
        for entry in self.entries:
            self._by_text[entry.line, entry.mutant].append(entry)

    def match(self, change: Change) -> Equivalent | None:
        """The entry for this change: the same line, mutated the same way, in the same
        function, or in a function of the same name in another class (a class renamed or
        a method moved). The same change elsewhere is not enough: it may be equivalent in
        one function and not in another."""
        same = self._by_text.get((change.line, change.mutant), [])
        for entry in same:
            if entry.function == change.function:
                return entry
        bare = change.function.rsplit(".", 1)[-1]
        moved = [e for e in same if e.function.rsplit(".", 1)[-1] == bare]
        return moved[0] if len(moved) == 1 else None

    def elsewhere(self, change: Change) -> list[str]:
        """The functions where the same change is listed as equivalent."""
        return sorted({e.function for e in self._by_text.get((change.line, change.mutant), [])})


def _toml_string(text: str, wrap: bool = False) -> str:
    if wrap and len(text) > 90:
        pieces = textwrap.wrap(text, 92, break_long_words=False, break_on_hyphens=False)
        escaped = [json.dumps(p, ensure_ascii=False)[1:-1] for p in pieces]
        return '"""\n' + " \\\n".join(escaped) + '"""'
    if "\n" not in text and "'" not in text and text.isprintable():
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def toml_entry(change: Change, why: str) -> str:
    """An entry of ``tools/equivalent.toml`` for this change."""
    return "\n".join(
        [
            "[[equivalent]]",
            f"function = {_toml_string(change.function)}",
            f"line = {_toml_string(change.line)}",
            f"mutant = {_toml_string(change.mutant)}",
            f"why = {_toml_string(why, wrap=True)}",
        ]
    )


# -- runs ------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    env.pop("CI", None)
    return env


def _prepare(module: str, work: Path, tests: list[str], files: list[str]) -> None:
    shutil.rmtree(work, ignore_errors=True)
    for name in files:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, work / name)
    with open(work / "pyproject.toml", "a") as f:
        f.write(_toml_section(_mutmut_section(module, tests)) + "\n")
    (work / "selection.json").write_text(json.dumps({"module": module, "tests": tests}, indent=1))


def run(module: str, work: Path, tests: list[str], files: list[str], jobs: int) -> None:
    _prepare(module, work, tests, files)
    with open(work / "mutmut.log", "w") as f:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
            cwd=work,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
        )


def _statuses(work: Path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
    ).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith(f"{PACKAGE}."):
            result[name] = status.strip()
    return result


def summarise(module: str, work: Path, equivalents: Equivalents) -> dict | None:
    """The figures of the last run of ``module`` (in ``work``), its survivors matched
    against ``tools/equivalent.toml`` by their change; None if mutmut has no verdicts."""
    statuses = _statuses(work)
    if not statuses:
        return None
    rechecked = work / "rechecked.json"
    if rechecked.exists():
        for name, verdict in json.loads(rechecked.read_text()).items():
            if verdict == "killed" and statuses.get(name) not in CAUGHT:
                statuses[name] = "killed by recheck"
    # the changes of the copy that was mutated, made as that run made them
    _use_mutmut_config(work)
    made = changes(module, (work / module).read_text())
    if unknown := sorted(set(statuses) - set(made)):
        print(f"   warning: {len(unknown)} mutants unlike any mutmut makes of the file now, e.g.")
        print(f"   {unknown[0]}: is the installed mutmut the one that ran?")
    killed, equivalent, survived = [], [], []
    for name, status in statuses.items():
        if status in CAUGHT:
            killed.append(name)
        elif name in made and equivalents.match(made[name]):
            equivalent.append(name)
        else:
            survived.append(name)
    return _figures(module, statuses, killed, equivalent, survived, made)


def _figures(module, statuses, killed, equivalent, survived, made) -> dict:
    counted = len(killed) + len(survived)
    return {
        "module": module,
        "total": len(statuses),
        "killed": len(killed),
        "equivalent": equivalent,
        "survived": survived,
        "rate": len(killed) / counted if counted else 1.0,
        "rechecked": sum(statuses[n] == "killed by recheck" for n in killed),
        "statuses": {n: statuses[n] for n in survived},
        "changes": {n: made[n] for n in survived if n in made},
    }


def unreached(module: str) -> dict:
    """A module that no test reaches: every mutant counts as a survivor, none is run."""
    _use_default_mutmut_config()
    made = changes(module, (ROOT / module).read_text())
    statuses = {name: "not run: no test reaches the module" for name in made}
    return _figures(module, statuses, [], [], list(made), made)


#: a pytest plugin for recheck(): which functions of the mutated module each test reaches
#: (mutmut's trampolines report every call when MUTANT_UNDER_TEST is "stats")
_REACH_PLUGIN = """
import json, os
import pytest
import mutmut.mutation.trampoline as trampoline

_hits = set()
trampoline.record_trampoline_hit = lambda name, caller=None: _hits.add(name)
_reach = {}

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _hits.clear()
    yield
    _reach[item.nodeid] = sorted(_hits)

def pytest_sessionfinish(session):
    with open(os.environ["RECHECK_REACH"], "w") as f:
        json.dump(_reach, f)
"""


def recheck(module: str, work: Path, tests: list[str], equivalents: Equivalents) -> dict | None:
    """Run each survivor of the last run of ``module`` against ``tests`` (new test files).

    mutmut throws away every verdict of a module when its test selection changes,
    and a named re-run of a survivor runs every test that reaches its function
    (a minute or more for ``download.py``). This runs, in the scratch copy's
    ``mutants/`` tree, only the tests of the given files that reach the mutated
    function (learnt from one run under mutmut's ``stats`` switch), with mutmut's
    own switch ``MUTANT_UNDER_TEST`` choosing the mutant: a failing run (pytest's
    exit status 1) kills it. The verdicts go to ``.mutation/<stem>/rechecked.json``;
    :func:`summarise` counts them as killed ("killed by recheck").
    """
    tree = work / "mutants"
    for t in tests:
        (tree / t).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / t, tree / t)
    (tree / "_recheck_reach.py").write_text(_REACH_PLUGIN)
    base = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    # a mutant that makes a test hang fails it after a minute (pytest-timeout): killed, as
    # mutmut counts its own timeouts
    base += ["--benchmark-disable", "-m", "not realdata", "--timeout", "60"]

    def status(mutant: str, selected: list[str], *more: str, **env: str) -> int:
        env = {**_clean_env(), "MUTANT_UNDER_TEST": mutant, **env}
        command = [*base, *more, *selected]
        return subprocess.run(command, cwd=tree, env=env, capture_output=True).returncode

    # the tests must pass on the original, and must reach the module's mutated copy
    if status("", tests) != 0:
        sys.exit(f"{module}: {' '.join(tests)} fail without a mutant; fix them first")
    if status("fail", tests) != 1:
        sys.exit(f"{module}: {' '.join(tests)} never call into {module}'s mutated copy")
    reach_file = work / "reach.json"
    status("stats", tests, "-p", "_recheck_reach", RECHECK_REACH=str(reach_file))
    reach: dict[str, list[str]] = json.loads(reach_file.read_text())
    path = work / "rechecked.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    last = summarise(module, work, equivalents)
    if last is None:
        sys.exit(f"{module}: no verdicts of a last run to recheck; see {work / 'mutmut.log'}")
    for name in last["survived"]:
        if done.get(name) == "killed":
            continue
        function = name.rsplit("__mutmut_", 1)[0]
        selected = [test for test, hits in reach.items() if function in hits]
        killed = bool(selected) and status(name, selected) == 1
        done[name] = "killed" if killed else "survived"
        print(f"   {name}: {done[name]} ({len(selected)} tests reach it)", flush=True)
        path.write_text(json.dumps(done, indent=1, sort_keys=True))
    return summarise(module, work, equivalents)


def stale(everything: list[str], equivalents: Equivalents) -> list[Equivalent]:
    """The entries of ``tools/equivalent.toml`` that match no mutant of today's code."""
    _use_default_mutmut_config()
    used: set[Equivalent] = set()
    for module in everything:
        for change in changes(module, (ROOT / module).read_text()).values():
            entry = equivalents.match(change)
            if entry is not None:
                used.add(entry)
    return [e for e in equivalents.entries if e not in used]


# -- the command -----------------------------------------------------------------------------


def _show_survivor(r: dict, name: str, equivalents: Equivalents, entries: bool) -> None:
    print(f"   survived: {name} ({r['statuses'][name]})")
    change = r["changes"].get(name)
    if change is None:
        return
    print(f"      {r['module']}:{change.lineno} in {change.function}")
    for sign, text in (("-", change.line), ("+", change.mutant)):
        for part in text.split("\n"):
            print(f"      {sign} {part}")
    if others := equivalents.elsewhere(change):
        print(f"      (listed as equivalent in {', '.join(others)}: add an entry if it holds here)")
    if entries:
        print(textwrap.indent(toml_entry(change, "TODO: why no test can tell it"), "      "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module stems or paths (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants at once")
    parser.add_argument(
        "--list", action="store_true", help="show each module and its test files, and exit"
    )
    parser.add_argument(
        "--refresh-coverage",
        action="store_true",
        help="make the coverage map again (which tests reach which module) before anything",
    )
    parser.add_argument(
        "--keep-coverage",
        action="store_true",
        help="use the coverage map as it is, even if the tests changed since it was made "
        "(a module's mirrored test file is run all the same); made only if there is none",
    )
    parser.add_argument(
        "--recheck",
        nargs="+",
        metavar="TEST_FILE",
        help="run the last run's survivors against these test files only (see recheck())",
    )
    parser.add_argument(
        "--report", action="store_true", help="summarise the last runs again, without running"
    )
    parser.add_argument(
        "--entries",
        action="store_true",
        help="print each survivor as an entry for tools/equivalent.toml (to fill in)",
    )
    parser.add_argument(
        "--stale",
        action="store_true",
        help="list the entries of tools/equivalent.toml that match no mutant, and exit",
    )
    args = parser.parse_args(argv)
    files = _files()
    everything = package_modules(files)
    equivalents = Equivalents()
    if args.stale:
        gone = stale(everything, equivalents)
        for entry in gone:
            print(f"stale: {entry.function}: {entry.line!r} -> {entry.mutant!r}")
        print(f"{len(gone)} of {len(equivalents.entries)} entries match no mutant")
        return 1 if gone else 0
    chosen = choose(args.modules, everything)
    if args.list:
        reach, state = coverage_map(files, refresh=args.refresh_coverage, build=False)
        if state != "current":
            why = "none made yet" if state == "missing" else "the tests changed since it was made"
            print(f"(coverage map {state}: {why}; a run or --refresh-coverage makes it)")
        none = "(no test reaches it)" if state == "current" else "(no mirrored test file)"
        for module in chosen:
            print(module, "<-", " ".join(selection(module, files, reach)) or none)
        return 0
    reach: dict = {}
    if not args.report and not args.recheck:
        reach, _ = coverage_map(files, refresh=args.refresh_coverage, build=not args.keep_coverage)
        if not reach["reach"]:
            reach, _ = coverage_map(files, refresh=True)
    results = []
    for module in chosen:
        work = SCRATCH / label(module, everything)
        if (args.report or args.recheck) and not (work / "selection.json").exists():
            if args.modules:
                sys.exit(f"{module}: no run to report on in {work}")
            continue
        print(f"== {module}", flush=True)
        if args.recheck:
            r = recheck(module, work, args.recheck, equivalents)
        elif args.report:
            r = summarise(module, work, equivalents)
        else:
            _use_default_mutmut_config()
            if not changes(module, (ROOT / module).read_text()):
                print("   no mutants (no function mutmut mutates)")
                continue
            tests = selection(module, files, reach)
            if not tests:
                print("   no test reaches it: its mutants count as survivors")
                r = unreached(module)
            else:
                print(f"   tests: {' '.join(tests)}", flush=True)
                run(module, work, tests, files, args.jobs)
                r = summarise(module, work, equivalents)
        if r is None:
            print(f"   mutmut has no verdicts (yet?): see {work / 'mutmut.log'}")
            continue
        results.append(r)
        for name in r["survived"]:
            _show_survivor(r, name, equivalents, args.entries)
        print(
            f"   {r['killed']} killed ({r['rechecked']} of them by --recheck), "
            f"{len(r['survived'])} survived, "
            f"{len(r['equivalent'])} equivalent, of {r['total']}: {r['rate']:.1%}",
            flush=True,
        )
    if not results:
        print("no module to report on")
        return 0
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
