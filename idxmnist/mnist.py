"""MNIST, keras style: ``from idxmnist import mnist; mnist.load_data()``."""

from __future__ import annotations

from .datasets import registry
from .datasets.loader import load_data

__all__ = ["load_data", "class_names"]


def class_names() -> tuple[str, ...]:
    """What each label stands for: the digits ``"0"`` to ``"9"``.

    >>> from idxmnist import mnist
    >>> mnist.class_names()[7]
    '7'
    """
    return tuple(registry.get("mnist").class_names.values())
