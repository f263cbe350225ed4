"""Every ``.npy`` header the store reads goes through its one locked parser.

CPython 3.11's ``ast`` can fail at random when several threads parse at once
(``SystemError: AST constructor recursion depth mismatch``,
python/cpython#106905), and NumPy parses a ``.npy`` header with
``ast.literal_eval``. A K49 load once failed so in a full run of the suite.
So: no parse outside ``npzfile._HEADER_LOCK`` (checked directly, on every
path that reads an npz), and deflated members read from 8 threads at once,
thousands of times, never fail and always give the arrays written.
"""

from __future__ import annotations

import ast
import io
import threading
import zipfile

import numpy as np

from idxmnist.cli.info import describe_npz
from idxmnist.datasets.layout import KEYS
from idxmnist.store import npzfile, unpack
from idxmnist.store.npzfile import load_npz


def arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20, dtype=np.uint8),
        "x_test": np.asfortranarray(rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)),
        "y_test": rng.integers(0, 10, 7).astype(">i4"),  # big-endian, wider
    }


def test_no_npy_header_is_parsed_outside_the_lock(tmp_path, monkeypatch):
    want = arrays()
    compressed, stored = tmp_path / "c.npz", tmp_path / "s.npz"
    np.savez_compressed(compressed, **want)
    np.savez(stored, **want)
    calls: list[bool] = []
    real = ast.literal_eval

    def literal_eval(node):  # what NumPy's header parser calls
        calls.append(npzfile._HEADER_LOCK.locked())
        return real(node)

    monkeypatch.setattr(ast, "literal_eval", literal_eval)
    for path in (compressed, stored):
        got = load_npz(path, KEYS)
        assert all(np.array_equal(got[k], want[k]) and got[k].dtype == want[k].dtype for k in KEYS)
    npy_want = {k: v for k, v in want.items() if k != "x_test"}  # unpack takes C order only
    with zipfile.ZipFile(tmp_path / "c-only.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for key, arr in npy_want.items():
            buf = io.BytesIO()
            np.save(buf, arr)
            z.writestr(f"{key}.npy", buf.getvalue())
        z.writestr("x_test.npy", _npy(np.ascontiguousarray(want["x_test"])))
    work = tmp_path / "work"
    work.mkdir()
    names = [m.name for m in unpack.members(tmp_path / "c-only.npz", work, limit=1 << 20)]
    assert names == list(KEYS)
    assert "label counts" in describe_npz(compressed)
    assert len(calls) >= 4 * 5 and all(calls), calls  # every parse held the lock


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_deflated_members_read_from_8_threads_never_fail(tmp_path):
    files = []
    for seed in range(4):
        want = arrays(seed)
        path = tmp_path / f"{seed}.npz"
        np.savez_compressed(path, **want)
        files.append((path, want))
    k49 = tmp_path / "k49.npz"  # one array, as Kuzushiji-49's files
    k49_want = (np.arange(5000) % 251).astype(np.uint8).reshape(50, 10, 10)
    np.savez_compressed(k49, k49_want)
    rounds, failures, done = 400, [], []
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait()
        count = 0
        for i in range(rounds):
            path, want = files[(worker + i) % len(files)]
            try:
                got = load_npz(path, KEYS)
                one = load_npz(k49, ("arr_0",))["arr_0"]
                ok = all(np.array_equal(got[k], want[k]) for k in KEYS)
                ok = ok and np.array_equal(one, k49_want)
            except BaseException as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(f"{worker}/{i}: {type(exc).__name__}: {exc}")
                continue
            if not ok:
                failures.append(f"{worker}/{i}: wrong arrays")
            count += 1
        done.append(count)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures[:5]
    assert sorted(done) == [rounds] * 8  # 3,200 rounds, 5 deflated members each
