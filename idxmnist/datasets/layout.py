"""The keras dataset layout: two splits of images and labels, in one order.

``keras.datasets.*.load_data()`` returns ``(x_train, y_train), (x_test, y_test)``;
an npz cache holds the same four arrays under the same four names. This module
is the one place that spells the names out and converts between the two shapes.

>>> KEYS
('x_train', 'y_train', 'x_test', 'y_test')
>>> as_dict(as_tuple(dict.fromkeys(KEYS, 0)))
{'x_train': 0, 'y_train': 0, 'x_test': 0, 'y_test': 0}
>>> keys_of(["nist"])
('x_nist', 'y_nist')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeAlias

import numpy as np

__all__ = [
    "KEYS",
    "SPLITS",
    "PAIRS",
    "SplitName",
    "Arrays",
    "pair_of",
    "keys_of",
    "as_tuple",
    "as_dict",
]

SplitName: TypeAlias = Literal["train", "test"]
SPLITS: tuple[SplitName, SplitName] = ("train", "test")
#: ``(images key, labels key)`` of each split, in keras's order
PAIRS: tuple[tuple[str, str], tuple[str, str]] = (("x_train", "y_train"), ("x_test", "y_test"))
#: the four names, in keras's tuple order
KEYS: tuple[str, str, str, str] = (*PAIRS[0], *PAIRS[1])


def pair_of(split: str) -> tuple[str, str]:
    """``(images key, labels key)`` of a split by name: ``train`` -> ``(x_train, y_train)``."""
    return f"x_{split}", f"y_{split}"


def keys_of(splits: Iterable[str]) -> tuple[str, ...]:
    """The array names of the splits, images then labels of each, in order."""
    return tuple(key for split in splits for key in pair_of(split))


Arrays: TypeAlias = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def as_tuple(arrays: Mapping[str, Any]) -> Arrays:
    """``{"x_train": ..., ...}`` -> ``(x_train, y_train), (x_test, y_test)``."""
    (xa, ya), (xb, yb) = PAIRS
    return (arrays[xa], arrays[ya]), (arrays[xb], arrays[yb])


def as_dict(data: Arrays) -> dict[str, np.ndarray]:
    """``(x_train, y_train), (x_test, y_test)`` -> ``{"x_train": ..., ...}``."""
    (x_train, y_train), (x_test, y_test) = data
    return dict(zip(KEYS, (x_train, y_train, x_test, y_test), strict=True))
