"""The fuzzers' seed corpus, pinned: every seed through its harness, here, without atheris.

``fuzz/corpus/<harness>/`` holds small files of the real layouts and every
hostile input of issue 19's table that reaches a harness (docs/testing.md,
"Fuzzing"). Each seed must keep the contract the fuzzers check
(``fuzz/contract.py``): only idxmnist's own errors escape, within the
hang detector's time, with traced memory (NumPy's arrays included) under
the harnesses' address-space bound. ``.ci/run`` also runs the fuzzers
themselves from this corpus (``python -m fuzz ci``); this test needs none
of that to fail on a regression, and names the seed that regressed.
"""

from __future__ import annotations

import importlib
import time
import tracemalloc

import pytest

from fuzz import HARNESSES, make_corpus
from fuzz.contract import ADDRESS_SPACE, TIMEOUT

SEEDS = [(h.name, path) for h in HARNESSES.values() for path in sorted(h.corpus.iterdir())]
#: the rows of issue 19's table whose input is bytes a harness reads (7: a FIFO,
#: 9-11: URLs and servers, are not)
ROWS = {1, 2, 3, 4, 5, 6, 8}


@pytest.mark.parametrize(("harness", "path"), SEEDS, ids=[f"{h}/{p.name}" for h, p in SEEDS])
def test_seed_keeps_the_contract(harness, path):
    data = path.read_bytes()
    assert len(data) <= HARNESSES[harness].max_len  # libFuzzer would cut it
    module = importlib.import_module(f"fuzz.{harness}")
    tracemalloc.start()
    started = time.monotonic()
    try:
        module.TestOneInput(data)  # raises on any breach of the contract
    finally:
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < TIMEOUT, f"{elapsed:.1f} s"
    assert peak < ADDRESS_SPACE, f"{peak} bytes traced"


def test_corpus_is_what_make_corpus_writes(tmp_path):
    written = make_corpus.write(tmp_path)
    for harness in HARNESSES.values():
        committed = {
            p.name: p.read_bytes()
            for p in harness.corpus.iterdir()
            if not p.name.startswith(make_corpus.FOUND)
        }
        assert committed == written[harness.name], harness.name


def test_corpus_holds_the_tables_inputs_and_stays_small():
    names = [p.name for _, p in SEEDS]
    rows = {int(n.split("-")[1]) for n in names if n.startswith("attack-")}
    assert rows == ROWS
    for harness in ("idx_reader", "unpack", "npz", "zip_directory", "zip_member"):
        assert any(HARNESSES[harness].corpus.glob("attack-*")), harness
    assert sum(p.stat().st_size for _, p in SEEDS) < 1 << 20
