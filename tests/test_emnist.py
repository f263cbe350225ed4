"""EMNIST: six splits upright by default, read straight from gzip.zip, verified.

The class names are checked against the official mapping files
(``registry-facts/``; the registry's entries against the published facts are
in ``tests/datasets/test_catalog.py``). Loading is checked on small
synthetic releases with the real layout (``tests/support/family.py``): a
real zip with stored and deflated members holding gzip IDX files whose
images are stored transposed, against the test's own arrays and a NumPy
transpose; through ``source=DIR`` in each layout NIST's archive is found in,
and through a download from a local HTTP server under a spec registered at
run time. Also ``load_data``'s defaults (the balanced split), ``path``,
``offline``, and the unknown-split message word for word.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import zipfile
from dataclasses import replace

import numpy as np
import pytest

import idxmnist
from idxmnist import cli, emnist
from idxmnist.datasets import ClassFile, registry
from idxmnist.datasets.spec import RemoteFile, Split

from .support.family import (
    emnist_member_names,
    emnist_release,
    emnist_spec,
    gz,
    is_mapped,
    listing,
    patch,
    sha256,
)
from .support.httpserver import FaultServer

# -- class names: the official mapping, the default split --------------------------------------


@pytest.mark.parametrize("split", emnist.SPLITS)
def test_class_names_are_the_official_mapping(split, registry_facts):
    published = registry_facts / "emnist-mapping" / f"emnist-{split}-mapping.txt"
    shipped = registry.get(f"emnist_{split}").classes
    assert isinstance(shipped, ClassFile)
    assert shipped.resolve().read_bytes() == published.read_bytes()  # byte for byte
    want = {}
    for line in published.read_text().splitlines():  # the format, parsed here
        label, *codes = (int(v) for v in line.split())
        want[label] = "".join(chr(c) for c in codes)
    assert emnist.class_names(split) == want


def test_letters_labels_start_at_1_and_the_one_line_fix():
    names = emnist.class_names("letters")
    assert list(names) == list(range(1, 27)) and 0 not in names
    assert names[1] == "Aa" and names[26] == "Zz"
    y = np.array([1, 2, 26], dtype=np.uint8)
    shifted = y - 1  # the line the docs give
    assert shifted.tolist() == [0, 1, 25] and shifted.dtype == np.uint8
    assert [names[int(v) + 1] for v in shifted] == ["Aa", "Bb", "Zz"]


def test_class_names_of_other_splits():
    assert emnist.class_names("digits") == {i: str(i) for i in range(10)}
    byclass = emnist.class_names("byclass")
    assert byclass[10] == "A" and byclass[36] == "a" and len(byclass) == 62
    with pytest.raises(ValueError, match="unknown EMNIST split 'letter'"):
        emnist.class_names("letter")
    with pytest.raises(ValueError, match="unknown EMNIST split"):
        emnist.load_data("Letters")


SPLITS_MESSAGE = "the splits: byclass, bymerge, balanced, letters, digits, mnist"


def test_unknown_split_message_word_for_word():
    for call in (emnist.load_data, emnist.class_names):
        with pytest.raises(ValueError) as info:
            call("letter")
        assert str(info.value) == f"unknown EMNIST split 'letter'; {SPLITS_MESSAGE}"


#: EMNIST balanced's 47 classes, as its published mapping file lists them
BALANCED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"


def test_class_names_default_to_balanced():
    names = emnist.class_names()
    assert names == dict(enumerate(BALANCED))
    assert len(names) == 47 and names[36] == "a" and names[46] == "t"


# -- loading a synthetic release ---------------------------------------------------------------


def same(got, want) -> bool:
    """Exactly the reference: keys, dtypes, shapes and every value."""
    (x, y), (xt, yt) = got
    keys = ("x_train", "y_train", "x_test", "y_test")
    pairs = zip((x, y, xt, yt), (want[k] for k in keys), strict=True)
    return all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)


def arrange(release, layout: str, dest) -> None:
    """Put the release in ``dest`` the way users have it."""
    names = emnist_member_names(str(release.extra["split"]))
    if layout == "zip":
        dest.mkdir()
        shutil.copy(release.root / "gzip.zip", dest)
    elif layout == "zip-in-raw":  # torchvision's EMNIST/raw/ keeps the zip
        (dest / "raw").mkdir(parents=True)
        shutil.copy(release.root / "gzip.zip", dest / "raw")
    elif layout == "gzip-folder":  # the archive extracted: gzip/
        (dest / "gzip").mkdir(parents=True)
        for n in names:
            (dest / "gzip" / n).write_bytes(release.files[n])
    elif layout == "members":
        dest.mkdir()
        for n in names:
            (dest / n).write_bytes(release.files[n])
    else:
        raise AssertionError(layout)


@pytest.mark.parametrize("layout", ["zip", "zip-in-raw", "gzip-folder", "members"])
def test_source_dir_gives_the_reference_in_both_orientations(layout, tmp_path, registered):
    release = emnist_release(tmp_path / "release")
    registered(emnist_spec(release))
    arrange(release, layout, tmp_path / "src")
    cache = tmp_path / "cache"
    upright = emnist.load_data("letters", source=tmp_path / "src", cache_dir=cache)
    assert same(upright, release.arrays)
    assert upright[0][0][0, 2:5, 4:24].min() == 255  # the bar is at the top: upright
    stored = emnist.load_data("letters", upright=False, source=tmp_path / "src", cache_dir=cache)
    assert same(stored, release.extra["stored"])
    for x_up, x_st in ((upright[0][0], stored[0][0]), (upright[1][0], stored[1][0])):
        assert np.array_equal(x_up, x_st.transpose(0, 2, 1))  # a NumPy transpose
    assert {p for p in listing(cache) if "/" not in p and not p.startswith(".")} == {
        "emnist",  # the store: the source's verified members, kept
        "emnist-letters.idxmnist.npz",
        "emnist-letters-transposed.idxmnist.npz",
    }
    names = set(emnist_member_names("letters"))
    assert {p.name for p in (cache / "emnist").iterdir() if not p.name.startswith(".")} == names
    for orient, want in ((True, release.arrays), (False, release.extra["stored"])):
        hit = emnist.load_data("letters", upright=orient, cache_dir=cache)  # no source needed
        assert same(hit, want) and is_mapped(hit[0][0]) and is_mapped(hit[1][1])


def test_letters_labels_are_returned_as_stored(tmp_path, registered):
    release = emnist_release(tmp_path / "release", n_train=300)
    registered(emnist_spec(release))
    (_, y), _ = emnist.load_data("letters", source=release.root, cache_dir=tmp_path / "c")
    assert y.min() >= 1 and y.max() <= 26 and 26 in y and 1 in y
    assert np.array_equal(y, release.arrays["y_train"])


def test_other_splits_load_too(tmp_path, registered):
    release = emnist_release(tmp_path / "release", split="byclass", stored=())
    registered(emnist_spec(release))
    got = emnist.load_data("byclass", source=release.root, cache_dir=tmp_path / "c")
    assert same(got, release.arrays)


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
    top = {p for p in listing(cache) if "/" not in p and not p.startswith(".")}
    assert top == {"emnist-balanced.idxmnist.npz", "emnist"}  # the cache, and the store


def test_path_names_the_cache_file(tmp_path, registered):
    release = emnist_release(tmp_path / "release")
    registered(emnist_spec(release))
    cache = tmp_path / "cache"
    want = reference(release, "letters")
    got = emnist.load_data("letters", "mine.npz", source=release.root, cache_dir=cache)
    assert equal(got, want)
    top = {p for p in listing(cache) if "/" not in p and not p.startswith(".")}
    assert top == {"mine.idxmnist.npz", "emnist"}  # derived from path; the store
    hit = emnist.load_data("letters", "mine.npz", cache_dir=cache)  # no source: the cache
    assert equal(hit, want) and is_mapped(hit[0][0])
    stored = {k: v.transpose(0, 2, 1) if k.startswith("x_") else v for k, v in want.items()}
    got = emnist.load_data(
        "letters", "mine-stored.npz", upright=False, source=release.root, cache_dir=cache
    )
    assert equal(got, stored)
    top = {p for p in listing(cache) if "/" not in p and not p.startswith(".")}
    assert top == {"mine.idxmnist.npz", "mine-stored.idxmnist.npz", "emnist"}


def test_offline_true_never_goes_to_a_mirror(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(idxmnist.DownloadError) as info:
        emnist.load_data("letters", cache_dir=cache, offline=True)
    names = ", ".join(emnist_member_names("letters"))
    assert str(info.value).startswith(
        f"offline (offline=True): no network access, and {cache / 'emnist'} lacks "
        f"emnist_letters's {names}. "
    )


def test_download_from_a_local_server_under_a_registered_spec(tmp_path, registered, monkeypatch):
    release = emnist_release(tmp_path / "release")
    cache = tmp_path / "cache"
    monkeypatch.delenv("IDXMNIST_MIRRORS")  # the registered spec's own mirror decides
    with FaultServer({"gzip.zip": release.files["gzip.zip"]}) as server:
        spec = emnist_spec(release, mirrors=(server.url("404"), server.url()))
        registered(spec)
        assert same(emnist.load_data("letters", cache_dir=cache), release.arrays)
        # by ranges: the archive's end (its directory), then the split's four members
        assert server.gets() == {"/404/gzip.zip": 1, "/ok/gzip.zip": 5}
        assert all("Range" in h for h in server.headers_of("gzip.zip"))
        stored = emnist.load_data("letters", upright=False, cache_dir=cache)
        assert same(stored, release.extra["stored"])
        assert server.gets("ok") == {"/ok/gzip.zip": 5}  # the kept members served it
    names = emnist_member_names("letters")
    assert listing(cache) == {
        "emnist",
        "emnist/.idxmnist.lock",
        "emnist/.idxmnist-pins.json",
        *(f"emnist/{n}" for n in names),  # the verified members, not the archive
        "emnist-letters.idxmnist.npz",
        ".emnist-letters.idxmnist.npz.stamp",
        "emnist-letters-transposed.idxmnist.npz",
        ".emnist-letters-transposed.idxmnist.npz.stamp",
    }
    for f in spec.files:
        assert sha256((cache / "emnist" / f.name).read_bytes()) == f.digest


def test_archive_with_wrong_bytes_is_refused_and_only_verified_members_are_kept(
    tmp_path, registered, monkeypatch
):
    release = emnist_release(tmp_path / "release")
    cache = tmp_path / "cache"
    with FaultServer({"gzip.zip": release.files["gzip.zip"]}) as server:
        server.range_mode = "ignore"  # the whole archive, as a server without Range sends it
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("wrong"))
        registered(emnist_spec(release))
        with pytest.raises(idxmnist.ChecksumError) as info:
            emnist.load_data("letters", cache_dir=cache)
    # the first 64 bytes are wrong: the first member's local header
    names = emnist_member_names("letters")
    assert re.search(
        rf"wrong/gzip\.zip -> not the pinned gzip\.zip \(sha256 mismatch\); "
        rf".*wrong/gzip\.zip\[gzip/{names[0]}\]: no local header",
        str(info.value),
    )
    # the other three verify by their own pins and are kept: the next fetch needs one member
    assert listing(cache) == {
        "emnist",
        "emnist/.idxmnist.lock",
        "emnist/.idxmnist-pins.json",
        *(f"emnist/{n}" for n in names[1:]),
    }


def test_fetch_verify_and_preview_commands(tmp_path, registered, monkeypatch, capsys):
    release = emnist_release(tmp_path / "release", n_train=60)
    monkeypatch.setenv("IDXMNIST_HOME", str(tmp_path / "home"))
    with FaultServer({"gzip.zip": release.files["gzip.zip"]}) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        registered(emnist_spec(release))
        assert cli.main(["fetch", "--dataset", "emnist-letters", "--dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == str(tmp_path / "d")
    assert "emnist_letters: 4 files verified" in out.err and "(4 new)" in out.err
    assert cli.main(["verify", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in out) == ["ok"] * 4
    monkeypatch.setenv("COLUMNS", "200")
    code = cli.main(["preview", "--dataset", "emnist-letters", "--source", str(tmp_path / "d")])
    assert code == 0
    text = capsys.readouterr().out
    assert re.search(r"^1 Aa", text, re.M) and "26 Zz" in text
    # each image is a horizontal bar near its top: upright, it is one line of
    # glyphs, wide; transposed it would be a tall, narrow column
    lines = text.splitlines()
    block = []
    for line in lines[1:]:
        if re.match(r"\d+ [A-Z]", line):
            break
        block.append(line)
    assert len(block) <= 2 and re.search("[\u2580\u2584\u2588]{8}", block[0]), lines[:4]


# -- bad input: IdxError naming the archive and member, nothing left in the cache --------------


def rezip(release, replace: dict[str, bytes | None]) -> bytes:
    """The release's archive with members replaced (bytes) or left out (None)."""
    src = zipfile.ZipFile(io.BytesIO(release.files["gzip.zip"]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            name = info.filename.removeprefix("gzip/")
            if name in replace and replace[name] is None:
                continue
            z.writestr(info, replace.get(name) or src.read(info))
    return buf.getvalue()


TRAIN_X = "emnist-letters-train-images-idx3-ubyte.gz"
TEST_Y = "emnist-letters-test-labels-idx1-ubyte.gz"


def bad_archives(release) -> dict[str, tuple[bytes, str, type]]:
    """case -> (archive bytes, message pattern, exception class)."""
    z = release.files["gzip.zip"]
    gz_x = release.files[TRAIN_X]
    idx_y = gzip.decompress(release.files[TEST_Y])
    out_of_range = bytearray(idx_y)
    out_of_range[-1] = 27
    zero = bytearray(idx_y)
    zero[8] = 0
    return {
        "member-gzip-cut-short": (
            rezip(release, {TRAIN_X: gz_x[: len(gz_x) // 2]}),
            rf"\[gzip/{TRAIN_X}\]: container check failed: {len(gz_x) // 2} bytes, expected",
            idxmnist.TruncatedError,
        ),
        "member-missing": (
            rezip(release, {TRAIN_X: None}),
            rf"gzip\.zip: holds no {TRAIN_X}: not used",
            idxmnist.IdxError,
        ),
        "declares-fewer-bytes": (
            patch(z, f"gzip/{TRAIN_X}", 24, "<I", len(gz_x) - 10),
            rf"\[gzip/{TRAIN_X}\]: .*more than the {len(gz_x) - 10} bytes its directory",
            idxmnist.IdxError,
        ),
        "declares-more-bytes": (
            patch(z, f"gzip/{TRAIN_X}", 24, "<I", len(gz_x) + 10),
            rf"\[gzip/{TRAIN_X}\]: the member holds {len(gz_x)} bytes but its directory",
            idxmnist.TruncatedError,
        ),
        "data-past-the-end": (
            patch(z, f"gzip/{TRAIN_X}", 20, "<I", len(z) * 2),
            rf"\[gzip/{TRAIN_X}\]: the member's data would end at byte \d+ but the archive",
            idxmnist.TruncatedError,
        ),
        "bad-crc": (
            patch(z, f"gzip/{TRAIN_X}", 16, "<I", 12345),
            rf"\[gzip/{TRAIN_X}\]: CRC-32 mismatch",
            idxmnist.IdxError,
        ),
        "archive-cut-short": (
            z[: len(z) // 2],
            r"gzip\.zip: not a readable zip archive",
            idxmnist.IdxError,
        ),
        "label-27": (
            rezip(release, {TEST_Y: gz(bytes(out_of_range))}),
            rf"{TEST_Y}: holds label 27, outside 1\.\.26",
            idxmnist.IdxError,
        ),
        "label-0": (
            rezip(release, {TEST_Y: gz(bytes(zero))}),
            rf"{TEST_Y}: holds label 0, outside 1\.\.26",
            idxmnist.IdxError,
        ),
    }


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    release = emnist_release(tmp_path_factory.mktemp("letters"))
    return release, bad_archives(release)


CASES = [
    "archive-cut-short",
    "bad-crc",
    "data-past-the-end",
    "declares-fewer-bytes",
    "declares-more-bytes",
    "label-0",
    "label-27",
    "member-gzip-cut-short",
    "member-missing",
]


def test_every_bad_archive_case_is_run(letters):
    assert sorted(letters[1]) == CASES


@pytest.mark.parametrize("case", CASES)
def test_bad_archive_names_archive_and_member(case, letters, tmp_path, registered):
    release, cases = letters
    data, pattern, _ = cases[case]  # the exception's own class is lost in the refusal
    spec = emnist_spec(release)
    if case.startswith("label-"):  # the member pinned as it is: only the label check refuses it
        member = zipfile.ZipFile(io.BytesIO(data)).read(f"gzip/{TEST_Y}")
        pin = RemoteFile(TEST_Y, len(member), "sha256", sha256(member))
        spec = replace(spec, files=tuple(pin if f.name == TEST_Y else f for f in spec.files))
    registered(spec)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "gzip.zip").write_bytes(data)
    cache = tmp_path / "cache"
    for upright in (True, False):
        # the archive's members are verified as they are taken into the store: a bad one
        # is refused there, naming the archive and member (an IdxError, whatever the cause)
        with pytest.raises(idxmnist.IdxError, match=pattern) as info:
            emnist.load_data("letters", upright=upright, source=tmp_path / "src", cache_dir=cache)
        where = cache / "emnist" if case.startswith("label-") else tmp_path / "src" / "gzip.zip"
        assert str(where) in str(info.value)
        assert re.search(r"fetch it again|not this dataset's|damaged", str(info.value))
    # nothing partial: no cache file, no temporary; only members that verify were kept
    kept = {p for p in listing(cache) if not p.endswith((".lock", ".idxmnist-pins.json"))}
    assert not [p for p in kept if "/" not in p and p != "emnist"]
    for f in spec.files:
        if (cache / "emnist" / f.name).exists():
            assert sha256((cache / "emnist" / f.name).read_bytes()) == f.digest


def test_wrong_split_files_are_refused_by_their_size(tmp_path, registered):
    release = emnist_release(tmp_path / "release", n_train=41)
    spec = emnist_spec(release)
    registered(replace(spec, splits=(Split("train", 40), spec.splits[1])))
    with pytest.raises(idxmnist.IdxError, match=r"holds 41 images; emnist_letters's train split"):
        emnist.load_data("letters", source=release.root, cache_dir=tmp_path / "c")
