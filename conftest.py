"""The project's pytest rules, for tests/ and benchmarks/ alike.

* Every test that uses real files from outside the repository (the fixtures
  ``mnist_dir``, ``qmnist_dir`` and ``registry_facts``, directly or through
  another fixture) is marked ``realdata`` automatically, so ``-m "not realdata"``
  selects exactly the tests that need no data: what a packager can run from
  the sdist alone, with ``CI`` set or not.
* With ``IDXMNIST_NO_SKIPS=1`` (set by ``.ci/run``, where every optional
  backend and the data are installed) a skipped test is a failure: a run
  that skipped something has not tested it.
* The header names the idxmnist under test: the checkout's, or the installed
  wheel's when ``.ci/run`` runs the unpacked sdist's tests against it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NO_SKIPS = "IDXMNIST_NO_SKIPS"
#: the fixtures that hand out real files from outside the repository (tests/conftest.py)
REAL_DATA = ("mnist_dir", "qmnist_dir", "registry_facts")


def _no_skips() -> bool:
    return os.environ.get(NO_SKIPS, "").strip().lower() not in ("", "0", "false", "no", "off")


def pytest_report_header(config):
    import idxmnist

    return f"idxmnist {idxmnist.__version__} from {Path(idxmnist.__file__).parent}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if set(REAL_DATA) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.realdata)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _no_skips() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but {NO_SKIPS}=1 requires every test to run: {reason}"


def pytest_collectreport(report):
    if _no_skips() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"a whole module was skipped, but {NO_SKIPS}=1 forbids it"
