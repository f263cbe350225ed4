"""The documentation keeps its promises: README quickstart, help texts, docstrings, typing."""

from __future__ import annotations

import doctest
import inspect
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import idxmnist

from .conftest import run_cli as run
from .test_load_data import make_dataset

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMMANDS = ("build", "info", "fetch", "verify", "import", "export", "bench", "preview")


def public_callables():
    for name in idxmnist.__all__:
        obj = getattr(idxmnist, name)
        if inspect.ismodule(obj):
            yield f"{name}.load_data", obj.load_data
        else:
            yield name, obj


@pytest.mark.parametrize("name,obj", list(public_callables()), ids=lambda v: str(v)[:40])
def test_public_names_have_docstrings_and_type_hints(name, obj):
    assert inspect.getdoc(obj), f"{name} has no docstring"
    if inspect.isclass(obj) and issubclass(obj, Exception):
        if obj is idxmnist.IdxError:
            assert ">>>" in obj.__doc__
        return
    assert ">>>" in obj.__doc__, f"{name}'s docstring has no example"
    if inspect.isfunction(obj):
        sig = inspect.signature(obj)
        assert sig.return_annotation is not inspect.Signature.empty, name
        for p in sig.parameters.values():
            assert p.annotation is not inspect.Parameter.empty, f"{name}({p.name})"


def test_py_typed_ships():
    assert (ROOT / "idxmnist" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["idxmnist"]
    assert any(
        dep.startswith("pillow") for dep in config["project"]["optional-dependencies"]["preview"]
    )


@pytest.mark.parametrize("module", ["idxmnist.idx.format", "idxmnist.preview", "idxmnist.info"])
def test_doctests(module):
    __import__(module)
    result = doctest.testmod(sys.modules[module])
    assert result.failed == 0 and result.attempted > 0


def test_help_texts():
    top = run("--help")
    assert top.returncode == 0 and "examples:" in top.stdout and "exit codes: 0 ok" in top.stdout
    for command in COMMANDS:
        assert f"    {command} " in top.stdout
        r = run(command, "--help")
        assert r.returncode == 0, r.stderr
        assert "example:\n  idxmnist " + command in r.stdout
        assert "exit codes: 0 ok, 1 bad data" in r.stdout and "2 usage" in r.stdout


def test_readme_names_every_public_name_and_the_picture():
    for name in idxmnist.__all__:
        assert f"`{name}" in README or f"{name}.load_data" in README, name
    assert "](docs/preview.png)" in README
    png = ROOT / "docs" / "preview.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 100_000
    assert "idxmnist preview --source DIR --out docs/preview.png" in README
    assert "Attribution-Share Alike 3.0" in README and "Corinna Cortes" in README


def quickstart():
    start = README.index("## Quickstart")
    return README[start : README.index("\n## ", start + 1)]


def test_readme_quickstart_against_synthetic_data(tmp_path):
    """The quickstart's Python and its commands, as written, on a small fake MNIST."""
    arrays = make_dataset(tmp_path / "mnist", n_train=120, n_test=30)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {
        **os.environ,
        "PYTHONPATH": path,  # the checkout, also when it is not installed
        "HOME": str(tmp_path / "home"),
        "IDXMNIST_SOURCE": str(tmp_path / "mnist"),
        "COLUMNS": "80",
    }
    for var in ("IDXMNIST_HOME", "KERAS_HOME"):
        env.pop(var, None)
    code = re.findall(r"```python\n(.*?)```", quickstart(), re.S)
    assert code
    for block in code:
        block += "\nprint(x_train.shape, y_test.shape)\n"
        r = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "(120, 28, 28) (30,)"
    cache = tmp_path / "home" / ".keras" / "datasets" / "mnist.npz"
    assert cache.is_file()
    commands = [
        line.split("#")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", quickstart(), re.S)
        for line in block.splitlines()
        if line.startswith("idxmnist ")
    ]
    assert [c.split()[1] for c in commands] == ["preview", "preview", "info", "build"]
    for command in commands:
        argv = [
            a.replace("path/to/mnist", str(tmp_path / "mnist")).replace(
                "~/.keras/datasets", str(cache.parent)
            )
            for a in shlex.split(command)[1:]
        ]
        r = run(*argv, env=env, cwd=tmp_path)
        assert r.returncode == 0, (command, r.stderr)
        assert r.stdout.strip(), command
    assert (tmp_path / "grid.png").is_file() and (tmp_path / "mnist.npz").is_file()
    r = run("info", str(cache), env=env)
    assert "stored, aligned (mmap)" in r.stdout
    line = r.stdout.split("label counts")[1].splitlines()[0]
    counts = [int(tok.split(":")[1]) for tok in line.split()]
    assert counts == np.bincount(arrays["train-labels-idx1-ubyte"], minlength=10).tolist()


def test_the_sources_page_states_what_the_code_does():
    """docs/sources.md: each dataset's mirrors in the registry's order, torchvision's names."""
    from idxmnist.datasets import registry
    from idxmnist.datasets.export import torchvision_dir

    page = (ROOT / "docs" / "sources.md").read_text()
    for spec in registry.DATASETS.values():
        assert ", ".join(f"`{m}`" for m in spec.mirrors) in page, spec.name
        assert torchvision_dir(spec, "DIR").as_posix() == f"DIR/{spec.torchvision}/raw"
        assert f"`{spec.torchvision}`" in page
        for remote in spec.files:
            assert f"`{remote.stem}`" in page
        pinned = {r.content is not None for r in spec.files}
        assert len(pinned) == 1  # all four or none
    for var in ("IDXMNIST_OFFLINE", "IDXMNIST_MIRRORS", "SSL_CERT_FILE", "IDXMNIST_TIMEOUT"):
        assert f"`{var}`" in page
    assert "](docs/sources.md)" in README
