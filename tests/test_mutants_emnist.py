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

import numpy as np
import pytest

import idxmnist
from idxmnist import emnist

from .support.family import emnist_member_names, emnist_release, emnist_spec, is_mapped, listing

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
