"""The process libFuzzer runs in: ``python -m fuzz.target HARNESS [libFuzzer flags] [dirs]``.

Started by ``python -m fuzz`` (``fuzz/__main__.py``), one per harness run:
atheris instruments idxmnist and the standard-library parsers it hands
outside bytes to (so coverage guides the mutations through them too), the
address space is capped (``contract.limit_memory``), then libFuzzer takes
over the process until it stops.
"""

from __future__ import annotations

import ast
import importlib
import sys
from types import FunctionType

#: modules instrumented for coverage: idxmnist and the stdlib parsers it relies on
INSTRUMENTED = ("idxmnist", "zipfile", "tarfile", "gzip", "json", "http", "email")
#: imported inside the instrumentation, since some are otherwise imported only on first use
PRELOAD = (
    "idxmnist.idx.reader",
    "idxmnist.idx.transpose",
    "idxmnist.idx.ziparchive",
    "idxmnist.idx.zipdirectory",
    "idxmnist.store.npzfile",
    "idxmnist.store.unpack",
    "idxmnist.fetch.partial",
    "idxmnist.fetch.transfer",
    "zipfile",
    "tarfile",
    "gzip",
    "json",
    "http.client",
)


def _instrument_npy_parser(atheris: object) -> None:
    """NumPy's ``.npy`` header parser too (numpy is imported before, so function by function)."""
    from numpy.lib import format as npy

    instrument = atheris.instrument_func  # type: ignore[attr-defined]
    for value in vars(npy).values():
        if isinstance(value, FunctionType) and value.__module__ == npy.__name__:
            instrument(value)
    instrument(ast.literal_eval)


def main(argv: list[str]) -> None:
    import atheris  # only here: the harnesses themselves run without it

    name, flags = argv[1], argv[2:]
    with atheris.instrument_imports(include=list(INSTRUMENTED)):
        for module in PRELOAD:
            importlib.import_module(module)
        harness = importlib.import_module(f"fuzz.{name}")
    _instrument_npy_parser(atheris)

    from .contract import limit_memory

    limit_memory()
    atheris.Setup([argv[0], *flags], harness.TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
