"""Tests aimed at mutation-testing survivors in ``idxmnist/datasets/download.py``
(``python tools/mutation.py download``).

Each test pins behaviour a user sees (an exact message, a retry, a timeout, a
progress bar's label, what is left in the directory) that a surviving mutant
changed. Expected values come from ``hashlib``, ``gzip`` and ``numpy``, never
from the code under test; the mirrors are the loopback server of
``tests/httpserver.py``.
"""

from __future__ import annotations

import pytest

from idxmnist.datasets import download

# -- fetch_dataset: its folder, its settings -------------------------------------------------


def test_a_timeout_must_be_a_positive_finite_number_of_seconds(monkeypatch):
    for value, seconds in [("0.5", 0.5), ("1", 1.0), (" 30 ", 30.0), ("", 10.0)]:
        monkeypatch.setenv("IDXMNIST_TIMEOUT", value)
        assert download.timeout() == seconds, value
    for value in ["0", "-1", "inf", "nan", "soon"]:
        monkeypatch.setenv("IDXMNIST_TIMEOUT", value)
        with pytest.raises(ValueError) as info:
            download.timeout()
        assert (
            str(info.value) == f"IDXMNIST_TIMEOUT={value!r}: expected a positive number of seconds"
        )
