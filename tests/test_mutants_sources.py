"""Tests aimed at mutation-testing survivors in the download, zip/EMNIST and
content-verification modules (``python tools/mutation.py download content ...``).

Each test pins behaviour a user sees (an exact message, both sides of a bound,
what the loopback server counts, what is left in the cache) that a surviving
mutant changed. Expected values come from ``hashlib``, ``gzip``, ``struct`` and
``zipfile``, never from the code under test.
"""

from __future__ import annotations

import dataclasses

from idxmnist.datasets import download

from .support.pinned import pinned_spec

# -- download.py: fetch_file, mirrors_for --------------------------------------------------


def test_mirrors_for_without_the_environment_is_the_registry_s_list(monkeypatch):
    monkeypatch.delenv("IDXMNIST_MIRRORS", raising=False)
    spec = dataclasses.replace(
        pinned_spec(), mirrors=("https://a.example/mnist", "https://b.example/x/synth.npz")
    )
    assert download.mirrors_for(spec) == (
        "https://a.example/mnist/",
        "https://b.example/x/synth.npz",
    )
