"""``import idxmnist`` stays cheap: no network stack, no Numba, no optional backend.

Each is imported only when a call needs it (a download, ``backend="numba"``,
a progress bar); checked in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys


def test_import_is_cheap():
    code = (
        "import sys, idxmnist; "
        "bad = [m for m in ('numba', 'llvmlite', 'urllib.request', 'http.client') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_import_does_not_load_the_network_stack():
    code = (
        "import sys, idxmnist; print([m for m in ('urllib.request', 'http.client', "
        "'filelock', 'tqdm', 'numba') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
