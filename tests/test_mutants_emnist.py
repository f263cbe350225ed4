"""Tests written for the mutants of ``idx/transpose.py`` and ``emnist.py`` that the suite let live.

Each test checks what a user sees: where the helper thread is used and how
much scratch memory the turning takes, that an abandoned helper never keeps
the interpreter alive, that a decoder error drops the batches still queued,
the default split of ``load_data`` and ``class_names`` (against the published
balanced map, written out here), the cache file ``path`` names, ``offline``,
and the unknown-split message word for word. Images are checked against
NumPy's ``transpose(0, 2, 1)`` and the members' bytes inflated with ``gzip``.
"""

from __future__ import annotations

import gzip
import sys
import threading

import numpy as np
import pytest

import idxmnist
from idxmnist import emnist
from idxmnist.idx import transpose

from .family import emnist_member_names, emnist_release, emnist_spec, is_mapped, listing

# -- idx/transpose.py: InPlaceTransposer ----------------------------------------------------


def stored_images(count: int, h: int, w: int) -> np.ndarray:
    return np.arange(count * h * w, dtype=np.uint8).reshape(count, h, w)


def test_unknown_core_count_turns_inline(monkeypatch):
    """os.cpu_count() may return None ("undetermined"): taken as one core, so no helper
    thread and the inline batch, one scratch buffer of at most BATCH_BYTES."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: None)
    x = stored_images(100, 2, 2)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    with transpose.InPlaceTransposer(flat, (100, 2, 2), threaded=True) as t:
        assert t._thread is None and threading.active_count() == before
        assert t.per == transpose.BATCH_BYTES // 4  # the inline batch
        assert t._scratch.shape == (100, 2, 2)  # one batch, but no more images than there are
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(100, 2, 2), x.transpose(0, 2, 1))


@pytest.mark.parametrize("h, w", [(2, 3), (1, 1)])
def test_a_payload_of_one_batch_needs_no_helper(h, w, monkeypatch):
    """Two cores and threaded=True: a helper only when there is more than one batch;
    for a single batch it would only add a thread and a second scratch buffer."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * h * w)  # 3 images a batch
    for count, helper in ((3, False), (4, True)):
        x = stored_images(count, h, w)
        flat = x.reshape(-1).copy()
        before = threading.active_count()
        with transpose.InPlaceTransposer(flat, (count, h, w), threaded=True) as t:
            assert t.per == 3 and t._scratch.shape == (3, h, w)
            assert (t._thread is not None) is helper
            assert threading.active_count() == before + helper
            t.landed(flat.size)
        assert threading.active_count() == before
        assert np.array_equal(flat.reshape(count, w, h), x.transpose(0, 2, 1))


def test_no_helper_unless_threaded(monkeypatch):
    """threaded=False (a small payload) turns inline even with many batches and two cores."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "BATCH_BYTES", 3 * 6)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 6)
    x = stored_images(10, 2, 3)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    with transpose.InPlaceTransposer(flat, (10, 2, 3), threaded=False) as t:
        assert t._thread is None and threading.active_count() == before
        t.landed(flat.size)
    assert np.array_equal(flat.reshape(10, 3, 2), x.transpose(0, 2, 1))


@pytest.mark.parametrize("batch", [4, 3])
def test_images_larger_than_a_batch_turn_one_at_a_time(batch, monkeypatch):
    """An image of more bytes than a batch: a scratch buffer of one image (not two),
    and each image turned as soon as it has landed."""
    monkeypatch.setattr(transpose, "BATCH_BYTES", batch)  # a 2x2 uint8 image is 4 bytes
    x = stored_images(5, 2, 2)
    flat = x.reshape(-1).copy()
    with transpose.InPlaceTransposer(flat, (5, 2, 2), threaded=False) as t:
        assert t.per == 1 and t._scratch.shape == (1, 2, 2)  # memory: one image
        t.landed(4)
        assert t.done == 1
        assert np.array_equal(flat[:4].reshape(2, 2), x[0].T)  # turned already
        assert np.array_equal(flat[4:], x.reshape(-1)[4:])  # the rest not yet
        t.landed(4 * 5)
    assert np.array_equal(flat.reshape(5, 2, 2), x.transpose(0, 2, 1))


def test_the_helper_thread_never_keeps_the_interpreter_alive(monkeypatch):
    """The helper is a daemon thread: started in __init__, it must not keep the process
    from exiting if a transposer is never closed (used without ``with``)."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 4)
    flat = stored_images(10, 2, 2).reshape(-1).copy()
    before = set(threading.enumerate())
    with transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=True) as t:
        new = set(threading.enumerate()) - before
        assert len(new) == 1 and t._thread in new
        assert all(th.daemon for th in new)
        t.landed(flat.size)
    assert set(threading.enumerate()) == before


def test_a_decoder_error_drops_the_batches_still_queued(monkeypatch):
    """ "After an error: stops it, dropping what is queued": ten batches are queued, then
    the decoder fails; the helper turns none of them (it gets the GIL only once the
    error is recorded, when the caller blocks in join)."""
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 4)  # one 2x2 image a batch
    x = stored_images(10, 2, 2)
    flat = x.reshape(-1).copy()
    before = threading.active_count()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)  # no forced GIL handoff: the helper waits for join
    try:
        with (
            pytest.raises(KeyError, match="the decoder failed"),
            transpose.InPlaceTransposer(flat, (10, 2, 2), threaded=True) as t,
        ):
            assert t._thread is not None
            for n in range(1, 11):
                t.landed(4 * n)  # ten batches queued
            assert t.done == 10
            raise KeyError("the decoder failed")
    finally:
        sys.setswitchinterval(interval)
    assert threading.active_count() == before
    assert np.array_equal(flat.reshape(10, 2, 2), x)  # none turned: all dropped


# -- emnist.py -------------------------------------------------------------------------------

SPLITS_MESSAGE = "the splits: byclass, bymerge, balanced, letters, digits, mnist"

#: EMNIST balanced's 47 classes, as its published mapping file lists them
BALANCED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"


def test_unknown_split_message_word_for_word():
    for call in (emnist.load_data, emnist.class_names):
        with pytest.raises(ValueError) as info:
            call("letter")
        assert str(info.value) == f"unknown EMNIST split 'letter'; {SPLITS_MESSAGE}"


def test_class_names_default_to_balanced():
    names = emnist.class_names()
    assert names == dict(enumerate(BALANCED))
    assert len(names) == 47 and names[36] == "a" and names[46] == "t"


def reference(release, split: str) -> dict[str, np.ndarray]:
    """The split's arrays from the members' own bytes: gzip, NumPy, and a NumPy transpose."""
    out = {}
    for key, name in zip(
        ("x_train", "y_train", "x_test", "y_test"), emnist_member_names(split), strict=True
    ):
        raw = gzip.decompress(release.files[name])
        if key.startswith("x_"):
            n = int.from_bytes(raw[4:8], "big")
            out[key] = np.frombuffer(raw, np.uint8, offset=16).reshape(n, 28, 28)
            out[key] = out[key].transpose(0, 2, 1)  # stored column-major: upright
        else:
            out[key] = np.frombuffer(raw, np.uint8, offset=8)
    return out


def equal(got, want: dict[str, np.ndarray]) -> bool:
    (x, y), (xt, yt) = got
    keys = ("x_train", "y_train", "x_test", "y_test")
    pairs = zip((x, y, xt, yt), (want[k] for k in keys), strict=True)
    return all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)


def test_load_data_defaults_to_balanced(tmp_path, registered):
    release = emnist_release(tmp_path / "release", split="balanced", n_train=50, n_test=10)
    registered(emnist_spec(release))
    cache = tmp_path / "cache"
    got = emnist.load_data(source=release.root, cache_dir=cache)
    assert equal(got, reference(release, "balanced"))
    assert got[0][0][:, 2:5, 4:24].min() == 255  # the bar at the top: upright
    assert got[0][1].max() == 46  # balanced's last label
    assert {p for p in listing(cache) if not p.startswith(".")} == {"emnist-balanced.npz"}


def test_path_names_the_cache_file(tmp_path, registered):
    release = emnist_release(tmp_path / "release")
    registered(emnist_spec(release))
    cache = tmp_path / "cache"
    want = reference(release, "letters")
    got = emnist.load_data("letters", "mine.npz", source=release.root, cache_dir=cache)
    assert equal(got, want)
    assert {p for p in listing(cache) if not p.startswith(".")} == {"mine.npz"}
    hit = emnist.load_data("letters", "mine.npz", cache_dir=cache)  # no source: the cache
    assert equal(hit, want) and is_mapped(hit[0][0])
    stored = {k: v.transpose(0, 2, 1) if k.startswith("x_") else v for k, v in want.items()}
    got = emnist.load_data(
        "letters", "mine-stored.npz", upright=False, source=release.root, cache_dir=cache
    )
    assert equal(got, stored)
    assert {p for p in listing(cache) if not p.startswith(".")} == {"mine.npz", "mine-stored.npz"}


def test_offline_true_never_goes_to_a_mirror(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(idxmnist.DownloadError) as info:
        emnist.load_data("letters", cache_dir=cache, offline=True)
    names = ", ".join(emnist_member_names("letters"))
    assert str(info.value).startswith(
        f"offline (offline=True): no network access, and {cache / 'emnist'} lacks "
        f"emnist_letters's {names}. "
    )
