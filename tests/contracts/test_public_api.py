"""The public API: where it ends, and a docstring in keras's shape on every function of it."""

from __future__ import annotations

import inspect

import pytest

import idxmnist
import idxmnist.datasets

DATASET_MODULES = ("mnist", "fashion_mnist", "kmnist", "emnist", "qmnist", "k49")


def public_functions():
    for name in idxmnist.__all__:
        obj = getattr(idxmnist, name)
        if inspect.isfunction(obj):
            yield f"idxmnist.{name}", obj
    for module in DATASET_MODULES:
        mod = getattr(idxmnist, module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                yield f"idxmnist.{module}.{name}", obj
    for name in idxmnist.datasets.__all__:
        obj = getattr(idxmnist.datasets, name)
        if inspect.isfunction(obj):
            yield f"idxmnist.datasets.{name}", obj


@pytest.mark.parametrize("name,func", list(public_functions()), ids=lambda v: str(v)[:48])
def test_every_public_function_has_a_docstring_in_keras_shape(name, func):
    """Args (when it takes any), Returns, Raises (where something can go wrong), Example."""
    doc = inspect.getdoc(func) or ""
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    if params:
        assert "\nArgs:\n" in doc, f"{name}: no Args section"
        for p in params:
            assert f"{p.name}:" in doc, f"{name}: Args does not say what {p.name} is"
    assert "\nReturns:\n" in doc, f"{name}: no Returns section"
    assert "\nExample:\n" in doc or "\nExample::" in doc, f"{name}: no Example section"
    assert ">>>" in doc or "```python" in doc, f"{name}: the example shows no code"


@pytest.mark.parametrize(
    "name", ["load_data", "load_idx_dataset", "build_npz", "read_idx", "read_idx_header"]
)
def test_the_functions_that_read_data_say_what_they_raise(name):
    doc = inspect.getdoc(getattr(idxmnist, name)) or ""
    assert "\nRaises:\n" in doc and "IdxError" in doc, name


def test_public_names_resolve_and_are_listed():
    for name in idxmnist.__all__:
        assert getattr(idxmnist, name) is not None, name
    assert idxmnist.datasets.load_dataset is idxmnist.datasets.__getattr__("load_dataset")
    assert set(idxmnist.__all__) | {"datasets", "__version__"} <= set(dir(idxmnist))
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        idxmnist.nothing  # noqa: B018
