"""Target "import": what ``import idxmnist`` costs a fresh process of a real install.

The package is installed as a user gets it, not editable: ``pip install
--target`` of a copy of this checkout (pip builds the wheel and installs it,
bytecode compiled), into a temporary folder put first on the children's
``PYTHONPATH``. Then whole processes are timed, wall clock from start to
exit, in pairs: ``python -c "import numpy"`` and ``python -c "import numpy,
idxmnist"``, run in the temporary folder (never the checkout, whose
``idxmnist/`` would be imported instead), the order swapped every pair,
so a slow moment of the machine falls on both sides alike. The cost is the
median of the pairs' differences (of wall time; their CPU time is reported
beside it).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what the copy of the checkout leaves out (virtual environments, caches, builds)
SKIP = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".mutation", ".fuzz*", ".*cache"
)
NUMPY = "import numpy"
BOTH = "import numpy, idxmnist"


def install(into: Path) -> Path:
    """Install this checkout, not editable, into ``into``/site; return that folder."""
    src, site = into / "src", into / "site"
    shutil.copytree(ROOT, src, ignore=SKIP)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
        + [str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    return site


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return env


def _timed(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds of a whole fresh process running ``code``, and its CPU seconds."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, code)
    return wall, usage.ru_utime + usage.ru_stime


def import_pairs(
    pairs: int = 21, log: Callable[[str], object] = print
) -> tuple[float, float, float, int, float]:
    """``(median, min, max)`` ms of (numpy + idxmnist) minus (numpy alone) over ``pairs``
    interleaved pairs of fresh processes of a non-editable install, ``pairs``, and the
    median difference of the processes' CPU time (user + system), which the load of
    other processes on the machine disturbs far less than their wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        site = install(Path(tmp))
        env = _env(site)
        where = subprocess.run(
            [sys.executable, "-c", "import idxmnist; print(idxmnist.__file__)"],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not Path(where).is_relative_to(site):
            raise RuntimeError(f"the children import {where}, not the install in {site}")
        log(f"import: {pairs} pairs of fresh processes, idxmnist from {where}")
        for code in (NUMPY, BOTH):  # warm the page cache
            _timed(code, env, Path(tmp))
        diffs, cpu = [], []
        for i in range(pairs):
            order = (NUMPY, BOTH) if i % 2 == 0 else (BOTH, NUMPY)
            t = {code: _timed(code, env, Path(tmp)) for code in order}
            diffs.append(1e3 * (t[BOTH][0] - t[NUMPY][0]))
            cpu.append(1e3 * (t[BOTH][1] - t[NUMPY][1]))
    return statistics.median(diffs), min(diffs), max(diffs), pairs, statistics.median(cpu)
