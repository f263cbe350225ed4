"""What a packager and CI rely on: the lowest versions, the folders the suite reads, the sdist.

``.ci/run`` proves the rest by running: it builds the sdist and the wheel, runs
the unpacked sdist's tests against the wheel, and runs the suite on the
versions ``.ci/lowest.txt`` names. These tests keep those inputs true.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from ..conftest import QMNIST_LABEL_FILES

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CI = (ROOT / ".ci" / "run").read_text()
#: extras .ci/run installs whose versions do not change what the suite checks: the linters
#: and the type checker run once, at their newest, in the full run
NOT_CONSTRAINED = {"ruff", "mypy", "types-tqdm"}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lower_bounds() -> dict[str, str]:
    """``name -> lowest version`` of every requirement .ci/run installs with ``.[dev]``."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    (dev_self,) = [r for r in extras["dev"] if r.startswith("idxmnist[")]
    installed = dev_self.removeprefix("idxmnist[").removesuffix("]").split(",")
    requirements = [*PYPROJECT["project"]["dependencies"], *extras["dev"]]
    for extra in installed:
        requirements += extras[extra]
    bounds = {}
    for req in requirements:
        if req.startswith("idxmnist["):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(?:>=\s*([0-9][0-9.]*))?", req)
        assert m, f"pyproject.toml: {req!r} is not 'name' or 'name>=version'"
        name = normal(m.group(1))
        if name in NOT_CONSTRAINED:
            continue
        assert m.group(2), f"pyproject.toml: {req!r} declares no lower bound to test"
        bounds[name] = m.group(2)
    return bounds


def constraints() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)~=([0-9.]+)", line)
            assert m, f".ci/lowest.txt: {line!r} is not 'name~=version'"
            out[normal(m.group(1))] = m.group(2)
    return out


def test_lowest_txt_pins_every_lower_bound_to_its_release_series():
    """``numpy>=1.24`` in pyproject.toml is ``numpy~=1.24.0`` there: a bound raised or added
    without the constraint (or the other way round) fails here, not in a packager's build."""
    bounds, pinned = lower_bounds(), constraints()
    assert {"numpy", "filelock", "deflate", "pytest"} <= set(bounds)
    assert set(pinned) == set(bounds)
    for name, bound in bounds.items():
        parts = bound.split(".")
        assert pinned[name] == ".".join(parts + ["0"] * (3 - len(parts))), name
    assert "-c .ci/lowest.txt -e '.[dev]'" in CI


def test_the_fast_extra_needs_a_deflate_that_returns_a_writable_buffer():
    """deflate 0.7 returns ``bytes``, which the arrays cannot wrap writable (0.8: bytearray)."""
    assert lower_bounds()["deflate"] == "0.8"


def test_ci_checks_every_folder_and_file_of_real_data_the_suite_reads():
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    tests = [p.read_text() for p in files if p.name != Path(__file__).name]
    facts = {n for text in tests for n in re.findall(r'registry_facts / "([^"]+)"', text)}
    assert {"emnist-members.tsv", "mnist-test-label-review.tsv", "emnist-mapping"} <= facts
    for name in sorted(facts):
        assert name in CI, f".ci/run does not check registry-facts/{name}"
    for name in (*QMNIST_LABEL_FILES, "xnist-labels-idx2-int.xz"):
        assert name in CI, f".ci/run does not check qmnist/{name}"
    for variable in ("IDXMNIST_TEST_DATA", "IDXMNIST_REGISTRY_FACTS"):
        assert f"export {variable}=" in CI
    readme = (ROOT / "README.md").read_text()
    for name in ("`mnist/`", "`qmnist/`", "`registry-facts/`", "IDXMNIST_REGISTRY_FACTS"):
        assert name in readme.split("## Development")[1], name


def test_the_sdist_carries_what_the_tests_read():
    """MANIFEST.in: the suite, the benchmarks, the docs and the tools (the sdist's own test
    run in .ci/run is the proof; this keeps the reason visible)."""
    manifest = (ROOT / "MANIFEST.in").read_text().splitlines()
    for line in ("graft tests", "graft benchmarks", "graft docs", "graft tools", "graft .ci"):
        assert line in manifest, line
    assert any(line.split()[:1] == ["include"] and "conftest.py" in line for line in manifest)


def test_without_the_data_not_realdata_passes_with_ci_set(tmp_path):
    """A packager's build (conda-forge's sets CI) has the sdist but none of the three folders:
    ``-m "not realdata"`` must leave out every test that reads one (MNIST's files, QMNIST's
    labels, the registry facts), or those fail there instead of being left out."""
    (tmp_path / "mnist").mkdir()
    (tmp_path / "facts").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    env.update(
        CI="true",
        IDXMNIST_NO_SKIPS="1",
        IDXMNIST_TEST_DATA=str(tmp_path / "mnist"),  # empty, and no qmnist/ beside it
        IDXMNIST_REGISTRY_FACTS=str(tmp_path / "facts"),
    )
    files = [  # each reads the registry facts or QMNIST's labels in some tests, not in others
        "tests/test_k49.py",
        "tests/test_emnist.py",
        "tests/datasets/test_review.py",
        "tests/datasets/test_catalog.py",
        "tests/cli/test_preview_reviewed.py",
    ]
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not realdata"]
        + files,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = r.stdout.strip().splitlines()[-1]
    assert r.returncode == 0, r.stdout[-3000:]
    assert re.fullmatch(r"\d+ passed, \d+ deselected in .*", last), last
