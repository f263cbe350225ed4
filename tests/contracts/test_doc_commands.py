"""Every shell and Python command in README.md and docs/*.md, run as written.

The commands run in order, file by file, in one scratch directory that looks
like a new user's machine: ``HOME`` is empty (so ``~/.keras/datasets`` starts
empty), ``path/to/mnist`` holds the four upstream MNIST files, and the only
mirror is a real HTTP server on 127.0.0.1 serving them (so "the first call
downloads" really downloads). ``DIR`` in a command means ``path/to/mnist``.

What is checked: each command exits 0 without a traceback; each ``idxmnist``
command prints its result on stdout; a Python line ``print(...)  # TEXT``
prints exactly TEXT; ``pip install`` lines name extras that exist, and the
Development line is the one ``.ci/run`` runs. The only changes to a command are
fewer benchmark rounds (``--rounds 1``, also where a command gives none) and
seconds of fuzzing (``--seconds 2``), so the suite stays quick, and a benchmark
command written in two files runs once; the
mutation commands (an hour each) are not run, but the tool must list every
module they name.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ..conftest import QMNIST_LABEL_FILES
from ..support.httpserver import FaultServer

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CI = (ROOT / ".ci" / "run").read_text()
MNIST = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
COMMENT = re.compile(r"\s{2,}#\s.*$")  # a trailing "  # comment" on a command line


def shell_commands(text: str) -> list[str]:
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = COMMENT.sub("", line).strip()
            if command and not command.startswith("#"):
                out.append(command)
    return out


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def all_snippets() -> list[tuple[str, str, str]]:
    """``(file, "sh" or "python", text)`` in reading order."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        spans = [(m.start(), "sh", m.group(1)) for m in re.finditer(r"```sh\n(.*?)```", text, re.S)]
        spans += [
            (m.start(), "python", m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, re.S)
        ]
        for _, kind, body in sorted(spans):
            if kind == "sh":
                out += [(doc.name, "sh", c) for c in shell_commands(f"```sh\n{body}```")]
            else:
                out.append((doc.name, "python", body))
    return out


def extras_of(command: str) -> set[str]:
    return {e for group in re.findall(r"\.\[([a-z,-]+)\]", command) for e in group.split(",")}


def check_install_line(command: str) -> None:
    """``pip install`` and the venv + test line: extras exist; the test line is CI's."""
    known = set(PYPROJECT["project"]["optional-dependencies"])
    extras = extras_of(command)
    assert extras and extras <= known, (command, extras - known)
    if "pytest" in command:
        test = command.split("&&")[-1].strip()
        assert test.startswith("IDXMNIST_TEST_DATA=../shared/mnist ")
        assert test.removeprefix("IDXMNIST_TEST_DATA=../shared/mnist ") in CI
        assert "pip install --quiet -e '.[dev]'" in CI and "-e '.[dev]'" in command


def check_mutation_line(command: str, work: Path, env: dict[str, str]) -> None:
    """Mutation runs take an hour, so they are not run here: the tool's own listing
    must work and must know every module the command names."""
    listing = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "mutation.py"), "--list"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    if not (ROOT / "idxmnist").is_dir():
        # the unpacked sdist tested against the wheel (.ci/run) has no source to mutate:
        # the tool runs, and its modules are those of a checkout
        return
    stems = {
        Path(line.split(" <- ")[0]).stem for line in listing.stdout.splitlines() if " <- " in line
    }
    if command.startswith("cd .mutation/"):
        named = [command.removeprefix("cd .mutation/").split()[0]]
        assert " && mutmut show idxmnist." in command, command
    else:
        args = shlex.split(command)[2:]
        if "--recheck" in args:  # the test files it names must exist
            at = args.index("--recheck")
            args, files = args[:at], args[at + 1 :]
            assert files and all((ROOT / f).is_file() for f in files), command
        named = [a for a in args if not a.startswith("-")]
    assert set(named) <= stems, (command, stems)


def expected_prints(code: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\s*print\(.*\)\s+#\s*(.+)$", code, re.M)]


@pytest.fixture(scope="module")
def machine(mnist_dir, qmnist_dir, tmp_path_factory):
    """A new user's machine: empty HOME, the files in path/to/mnist, one local mirror (which
    also serves QMNIST's two label files, for ``mnist.load_data(extended=True)``)."""
    work = tmp_path_factory.mktemp("user")
    (work / "home").mkdir()
    (work / "docs").mkdir()  # where the preview command writes its picture
    data = work / "path" / "to" / "mnist"
    data.mkdir(parents=True)
    for name in MNIST:
        (data / name).symlink_to((mnist_dir / name).resolve())
    served = {n: (mnist_dir / n).read_bytes() for n in MNIST}
    served |= {n: (qmnist_dir / n).read_bytes() for n in QMNIST_LABEL_FILES}
    with FaultServer(served) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IDXMNIST_", "KERAS_"))}
        env.update(
            HOME=str(work / "home"),
            IDXMNIST_MIRRORS=server.url(),
            IDXMNIST_TEST_DATA=str(mnist_dir),  # what the benchmarks read
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            COLUMNS="80",
        )
        yield work, env, server


#: a documented command that needs an extra beyond ``[test]``: (pattern, module, extra)
NEEDS = [(re.compile(r"^idxmnist preview .*--out "), "PIL", "preview")]


def missing_extra(command: str) -> str | None:
    """The extra ``command`` needs that is not installed here, or None."""
    for pattern, module, extra in NEEDS:
        if pattern.search(command) and importlib.util.find_spec(module) is None:
            return extra
    return None


#: a benchmark command already run, as run: the same command in another file is not run twice
BENCH_RUNS: dict[str, subprocess.CompletedProcess[str]] = {}


def run_shell(command: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = re.sub(r"\bDIR\b", "path/to/mnist", command)
    command = re.sub(r"--rounds \d+", "--rounds 1", command)
    if command.startswith("python -m fuzz run"):  # documented as an hour per harness
        command = re.sub(r"--seconds \d+", "--seconds 2", command)
    if command.startswith("idxmnist bench") and "--rounds" not in command:
        command += " --rounds 1"
    if command.startswith(("idxmnist bench", "python -m benchmarks")):
        if command not in BENCH_RUNS:
            BENCH_RUNS[command] = _run(command, work, env)
        return BENCH_RUNS[command]
    if command.startswith("pytest benchmarks --benchmark-only"):
        # each benchmark once: this checks the command works, not the timings
        command += " -q -p no:cacheprovider --benchmark-min-rounds=1 --benchmark-max-time=0"
        command += " --benchmark-warmup=off"
        command = command.replace("pytest ", f"{shlex.quote(sys.executable)} -m pytest ", 1)
        command = f"cd {shlex.quote(str(ROOT))} && {command}"
    return _run(command, work, env)


def _run(command: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.realdata
def test_every_documented_command_runs_as_written(machine):
    work, env, server = machine
    snippets = all_snippets()
    assert {f for f, _, _ in snippets} >= {"README.md", "sources.md", "performance.md"}
    ran, not_run = [], []
    for doc, kind, text in snippets:
        where = f"{doc}: {text.strip()[:120]}"
        if kind == "python":
            r = subprocess.run(
                [sys.executable, "-c", text], cwd=work, env=env, capture_output=True, text=True
            )
            assert r.returncode == 0, (where, r.stderr)
            expected = expected_prints(text)
            if expected:
                assert r.stdout.splitlines() == expected, (where, r.stdout)
        elif text.startswith(("pip install", "python3.11 -m venv")):
            check_install_line(text)
        elif text.startswith(("python tools/mutation.py", "cd .mutation/")):
            check_mutation_line(text, work, env)
        elif "python -m pytest" in text:  # the suite itself: CI runs exactly this
            assert text == "IDXMNIST_TEST_DATA=../shared/mnist python -m pytest --benchmark-disable"
            assert "python -m pytest --benchmark-disable" in CI
        elif extra := missing_extra(text):
            # without its extra it must say which one to install, and nothing else
            r = run_shell(text, work, env)
            assert r.returncode == 1 and f"pip install 'idxmnist[{extra}]'" in r.stderr, (where, r)
            assert "Traceback" not in r.stderr and not r.stdout, (where, r)
            not_run.append(f"{where} (needs idxmnist[{extra}])")
        else:
            r = run_shell(text, work, env)
            if text.startswith("python -m benchmarks"):
                # documented: exit 1 when a target is missed, which one round on a
                # busy machine may well do; the verdict itself must be there
                assert r.returncode in (0, 1), (where, r.stderr[-2000:])
                verdict = r.stdout.split("targets:")[1]
                for n in range(1, 6):
                    assert re.search(rf"^  (PASS|FAIL|n/a ) {n} ", verdict, re.M), verdict
                if "--family" not in text:  # issue 21's targets, by name
                    for name in ("parallel cold parse", "cache states", "import", "spread"):
                        assert re.search(rf"^  (PASS|FAIL|n/a ) {name}: ", verdict, re.M), verdict
            else:
                assert r.returncode == 0, (where, r.stdout[-2000:], r.stderr[-2000:])
            assert "Traceback" not in r.stderr, (where, r.stderr)
            if text.startswith("idxmnist "):
                assert r.stdout.strip(), where  # every command prints its result
            if text.startswith("idxmnist bench"):  # the user's table, no verdict
                assert "| keras-style gzip.open().read() + frombuffer |" in r.stdout
                assert "| **idxmnist load_data, cache hit** |" in r.stdout
                assert not re.search(r"PASS|FAIL|targets", r.stdout), r.stdout
                assert r.stderr.startswith("idxmnist: bench:"), r.stderr
            if "print(x.shape, y[:10])" in text:
                assert r.stdout.strip() == "(60000, 28, 28) [5 0 4 1 9 2 1 3 1 4]", where
        ran.append(where)
    # the quickstart downloaded for real, from the one mirror, once per file
    assert server.gets() == {f"/ok/{name}": 1 for name in (*MNIST, *QMNIST_LABEL_FILES)}
    datasets = work / "home" / ".keras" / "datasets"
    assert (datasets / "mnist.idxmnist.npz").is_file()  # idxmnist's own cache, stamped
    assert not (datasets / "mnist.npz").exists()  # never written: keras checks that name
    assert len(ran) == len(snippets)
    if not_run:  # visible, and a failure where every extra must be installed (IDXMNIST_NO_SKIPS)
        pytest.skip("ran, but could only check that they name the extra: " + "; ".join(not_run))
