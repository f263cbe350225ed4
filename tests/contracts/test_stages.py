"""The package is built in stages, each importing only its own or lower ones, with no cycle.

Read from the source (every ``import`` in every module, at module level and
inside functions; those under ``if TYPE_CHECKING:`` do not run and are left
out), not from ``sys.modules``, so an import that only some call makes
counts too. The one exception is a package's face: its ``__init__.py`` may
keep a public name from a higher stage working through a lazy module
``__getattr__`` (PEP 562).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import idxmnist

#: the package under test: the checkout's, or the installed wheel's when the suite runs
#: from the unpacked sdist (.ci/run)
PACKAGE = Path(idxmnist.__file__).resolve().parent

#: each stage, bottom to top, by module-name prefix
STAGES = (
    ("base", ("idxmnist.errors", "idxmnist.config", "idxmnist.files")),
    ("format", ("idxmnist.idx",)),
    ("model", ("idxmnist.datasets",)),
    ("store", ("idxmnist.store",)),
    ("fetch", ("idxmnist.fetch",)),
    (
        "load",
        (
            "idxmnist.load",
            "idxmnist.mnist",
            "idxmnist.fashion_mnist",
            "idxmnist.kmnist",
            "idxmnist.emnist",
            "idxmnist.qmnist",
            "idxmnist.k49",
        ),
    ),
    ("manage", ("idxmnist.manage",)),
    ("cli", ("idxmnist.cli", "idxmnist.__main__")),
)


def stage_of(module: str) -> int:
    if module == "idxmnist":
        return len(STAGES)  # the package's face: above everything it re-exports
    for i, (_, prefixes) in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    raise AssertionError(f"{module} is in no stage: add it to STAGES")


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: name -> (file, is a package's __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_init else parts)] = (path, is_init)
    return found


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


class Imports(ast.NodeVisitor):
    """Each import statement of one module: (target module, line, in a function, face)."""

    def __init__(self, module: str, is_init: bool, known: set[str]) -> None:
        self.module, self.is_init, self.known = module, is_init, known
        self.found: list[tuple[str, int, bool, bool]] = []
        self.functions: list[str] = []

    def _base(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.module.split(".")
        if not self.is_init:
            parts = parts[:-1]
        parts = parts[: len(parts) - node.level + 1]
        return ".".join(parts + ([node.module] if node.module else []))

    def _add(self, target: str, node: ast.stmt) -> None:
        if target.split(".")[0] != "idxmnist":
            return
        face = self.is_init and bool(self.functions) and self.functions[0] == "__getattr__"
        self.found.append((target, node.lineno, bool(self.functions), face))

    def visit_If(self, node: ast.If) -> None:
        if _type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._base(node)
        for alias in node.names:
            full = f"{base}.{alias.name}"
            self._add(full if full in self.known else base, node)


def import_edges() -> list[tuple[str, str, int, bool, bool]]:
    """(importer, imported, line, inside a function, in a package face's __getattr__)."""
    known = modules()
    edges = []
    for name, (path, is_init) in known.items():
        visitor = Imports(name, is_init, set(known))
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        for target, line, in_function, face in visitor.found:
            # importing a name from a package means its __init__ (or the submodule named)
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target != name:
                edges.append((name, target, line, in_function, face))
    return edges


def test_every_module_is_in_a_stage():
    names = modules()
    assert {"idxmnist.errors", "idxmnist.cli.main"} <= set(names), PACKAGE  # read the real one
    for name in names:
        stage_of(name)


def test_no_module_imports_a_higher_stage():
    wrong = [
        f"{a}:{line} imports {b} ({STAGES[stage_of(b)][0]} stage, above {STAGES[stage_of(a)][0]})"
        for a, b, line, _, face in import_edges()
        if not face and stage_of(b) > stage_of(a)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_at_all():
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for a, b, _, _, face in import_edges():
        if not face:
            graph[a].add(b)
    cycles = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert not cycles, "\n".join(cycles)


def test_every_import_inside_a_function_says_why():
    """Only where it saves start-up time (numba, the network stack, Pillow, a module
    only some calls need), said in a comment at the first import of the block."""
    silent = []
    for name, (path, _) in modules().items():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if func.name == "__getattr__" and path.name == "__init__.py":
                continue  # a package face: the comment is on the function
            previous: ast.stmt | None = None
            for stmt in func.body:
                is_import = isinstance(stmt, (ast.Import, ast.ImportFrom))
                if is_import and not isinstance(previous, (ast.Import, ast.ImportFrom)):
                    span = lines[stmt.lineno - 1 : (stmt.end_lineno or stmt.lineno)]
                    if not any("#" in line for line in span):
                        silent.append(f"{name}:{stmt.lineno}: {lines[stmt.lineno - 1].strip()}")
                previous = stmt
    assert not silent, "\n".join(silent)


@pytest.mark.parametrize("package", ["idx", "datasets", "store", "fetch", "load", "manage", "cli"])
def test_each_package_docstring_lists_its_modules(package):
    init = PACKAGE / package / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    for path in sorted((PACKAGE / package).glob("*.py")):
        if path.name != "__init__.py":
            assert f"``{path.stem}``" in doc, f"{package}/__init__.py does not list {path.stem}"
