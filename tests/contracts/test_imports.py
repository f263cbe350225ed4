"""``import idxmnist`` stays cheap: it loads the package and its errors, nothing else.

Each other module is imported only when a call needs it (PEP 562 names, a
download, ``backend="numba"``, a progress bar); checked in fresh interpreters,
as the exact list of modules the import adds, never as a time (the time is
the benchmark target "import": ``python -m benchmarks``).
"""

from __future__ import annotations

import json
import subprocess
import sys

#: what ``import idxmnist`` adds to a process that has imported numpy: exactly these
OWN = {"idxmnist", "idxmnist.errors"}
#: what CPython 3.11 has loaded at start-up and 3.13 does not; idxmnist's own import
#: statements name them (``from __future__``, ``importlib`` for the PEP 562 names, ``warnings``)
STARTUP = {"__future__", "importlib", "importlib._bootstrap", "importlib._bootstrap_external"}
STARTUP |= {"warnings"}
#: what it may add besides in a bare interpreter: ``typing`` (numpy imports it itself)
TYPING = {"typing", "_typing", "collections.abc", "typing.io", "typing.re", "__future__"}
#: never at import (issue 21): the network stack, numba, numpy.typing, and the standard
#: library modules only some calls need
NEVER = (
    "urllib",
    "urllib.parse",
    "urllib.request",
    "http.client",
    "ipaddress",
    "ssl",
    "socket",
    "numba",
    "llvmlite",
    "numpy",
    "numpy.typing",
    "pathlib",
    "tempfile",
    "shutil",
    "zipfile",
    "threading",
    "dataclasses",
    "concurrent.futures",
    "filelock",
    "tqdm",
    "deflate",
    "json",
)


def added_by_import(first: str = "") -> set[str]:
    """The modules ``import idxmnist`` adds in a fresh interpreter, after ``first``."""
    code = (
        f"import sys, json; {first or 'pass'}; before = set(sys.modules); import idxmnist; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout))


def test_after_numpy_import_idxmnist_loads_exactly_the_package_and_its_errors():
    added = added_by_import("import numpy")
    # typing too where numpy did not load it first (NumPy 1.24 does not; 2.x does)
    assert OWN <= added <= OWN | STARTUP | TYPING, sorted(added - OWN)


def test_in_a_bare_interpreter_import_idxmnist_loads_only_those_and_typing():
    added = added_by_import()
    assert OWN <= added <= OWN | TYPING | STARTUP, sorted(added - OWN - TYPING - STARTUP)
    assert [m for m in NEVER if m in added] == []


def test_a_public_name_loads_its_module_on_first_use():
    code = (
        "import sys, idxmnist; had = 'idxmnist.idx.reader' in sys.modules; "
        "idxmnist.read_idx; print(had, 'idxmnist.idx.reader' in sys.modules, "
        "'idxmnist.fetch.download' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "True", "False"]
