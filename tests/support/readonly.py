"""Run a small load in a child process whose cache directory is read-only, as a mount is."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the checkout


CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path
    import idxmnist
    from idxmnist.datasets import registry
    from tests.support.synthetic import pinned_spec
    # the synthetic files' own pins, as the parent registered them
    registry.register(pinned_spec(registry.get("mnist"), Path(sys.argv[2])), replace=True)
    source = sys.argv[2] if sys.argv[3] == "source" else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (xt, yt) = idxmnist.load_data(source=source, cache_dir=sys.argv[1])
    print(json.dumps({"sums": [int(a.sum()) for a in (x, y, xt, yt)],
                      "writable": x.flags.writeable,
                      "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}))
    """
)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def run_on_readonly(directory: Path, *args: str, bind: bool) -> dict:
    """Run CHILD with ``directory`` read-only, as a read-only mount is (even for root).

    ``bind``: the directory keeps its files (a read-only bind mount of itself);
    else an empty read-only tmpfs is mounted over it.
    """
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", CHILD, str(directory), *args]
    if _unshare_works():
        mount = (
            'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1"'
            if bind
            else 'mount -t tmpfs -o ro,size=1m tmpfs "$1"'
        )
        cmd = [
            "unshare",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f'{mount} && shift && exec "$@"',
        ]
        cmd += ["sh", str(directory), sys.executable, "-c", CHILD, str(directory), *args]
    elif os.geteuid() != 0:
        directory.chmod(0o555)  # permissions work for everyone but root
    else:
        pytest.skip("as root, only a read-only mount makes a directory read-only: no unshare here")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    finally:
        directory.chmod(0o755)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
