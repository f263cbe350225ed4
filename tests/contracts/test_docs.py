"""The documentation keeps its promises: help texts, docstrings, typing, links.

Every command in README.md and docs/ is run by tests/contracts/test_doc_commands.py.
"""

from __future__ import annotations

import doctest
import inspect
import re
import sys
import tomllib
from pathlib import Path

import pytest

import idxmnist

from ..support.helpers import run_cli as run

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
COMMANDS = ("build", "info", "fetch", "verify", "import", "export", "bench", "preview")


def public_callables():
    for name in idxmnist.__all__:
        obj = getattr(idxmnist, name)
        if inspect.ismodule(obj):
            yield f"{name}.load_data", obj.load_data
        else:
            yield name, obj


@pytest.mark.parametrize(
    "name,obj", list(public_callables()), ids=[name for name, _ in public_callables()]
)
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
    assert (Path(idxmnist.__file__).parent / "py.typed").is_file()  # in the installed package
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["idxmnist"]
    assert any(
        dep.startswith("pillow") for dep in config["project"]["optional-dependencies"]["preview"]
    )


@pytest.mark.parametrize(
    "module",
    [
        "idxmnist.idx.format",
        "idxmnist.datasets.layout",
        "idxmnist.cli.preview",
        "idxmnist.cli.info",
        "idxmnist.mnist",
        "idxmnist.fashion_mnist",
        "idxmnist.kmnist",
    ],
)
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


def test_docs_name_every_public_name_and_the_picture():
    api = (ROOT / "docs" / "api.md").read_text()
    for name in idxmnist.__all__:
        assert f"`{name}" in api or f"{name}.load_data" in api, name
    assert "`docs/preview.png`" in README
    png = ROOT / "docs" / "preview.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 100_000
    assert (
        "idxmnist preview --source DIR --out docs/preview.png"
        in (ROOT / "docs" / "cli.md").read_text()
    )
    assert "Attribution-Share Alike 3.0" in README and "Corinna Cortes" in README


def test_readme_is_short_and_names_its_docs_as_files_that_exist():
    """On a package index page a relative link or picture breaks, and there is no public
    home to link to yet: the README names ``docs/...`` as files (they ship in the sdist)."""
    assert len(README.splitlines()) <= 200
    first_screen = "\n".join(README.splitlines()[:40])
    assert "mnist.load_data()" in first_screen and "pip install" in first_screen
    targets = re.findall(r"\]\(([^)]*)\)", README) + re.findall(r"<img[^>]*src=", README)
    assert all(t.startswith(("http://", "https://")) for t in targets), targets
    named = set(re.findall(r"`(docs/[^`\s]+)`", README))
    assert {"docs/sources.md", "docs/cli.md", "docs/datasets.md", "docs/preview.png"} <= named
    for name in sorted(named):
        assert list(ROOT.glob(name)) and all(p.is_file() for p in ROOT.glob(name)), name


def pinned_on_the_page(page: str, name: str) -> set[str]:
    """The files docs/sources.md says have their content pinned, for the dataset ``name``."""
    table = page.split("Content hashes the registry pins today:")[1].split("\n\n")[1]
    for row in table.splitlines()[2:]:
        datasets, files = row.strip("|").split(" | ", 1)
        if f"`{name}`" in re.findall(r"`[^`]+`", datasets):
            if files.startswith("all"):
                return {r.name for r in idxmnist.datasets.get(name).files}
            return set(re.findall(r"`([^`]+)`", files.split(", from")[0]))
    raise AssertionError(f"docs/sources.md: no content-pin row for {name}")


def test_the_sources_page_states_what_the_code_does():
    """docs/sources.md: each dataset's mirrors in the registry's order, torchvision's names."""
    from idxmnist.datasets import registry
    from idxmnist.manage.export import torchvision_dir

    page = (ROOT / "docs" / "sources.md").read_text()
    for spec in registry.DATASETS.values():
        assert ", ".join(f"`{m}`" for m in spec.mirrors) in page, spec.name
        if spec.torchvision is None:
            with pytest.raises(ValueError, match="torchvision has no class for it"):
                torchvision_dir(spec, "DIR")
            assert "torchvision has no Kuzushiji-49 class" in page
            continue
        assert torchvision_dir(spec, "DIR").as_posix() == f"DIR/{spec.torchvision}/raw"
        assert f"`{spec.torchvision}`" in page
        stems = {r.stem for r in spec.files}
        if spec.archive is not None:
            split = spec.name.removeprefix("emnist_")
            stems = {s.replace(f"-{split}-", "-<split>-") for s in stems}
        for stem in stems:
            assert f"`{stem}`" in page, stem
        # the content pins the page's table lists, as the registry has them
        assert pinned_on_the_page(page, spec.name) == {r.name for r in spec.files if r.content}
    for var in ("IDXMNIST_OFFLINE", "IDXMNIST_MIRRORS", "SSL_CERT_FILE", "IDXMNIST_TIMEOUT"):
        assert f"`{var}`" in page
    assert "`docs/sources.md`" in README
