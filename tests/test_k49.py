"""Kuzushiji-49: the publishers' npz files through the project's npz reader.

The shipped class map is checked against the publishers' file (697 bytes,
MD5 ``f7d0d039...``: the key under which a public mirror of the codh files
keeps it); the registry's checksums against ``k49-files.tsv`` are in
``tests/datasets/test_catalog.py``. Loading is checked on small synthetic
npz files holding ``arr_0``, through ``source=DIR`` and through a local HTTP
server under a spec registered at run time; bad files (Python objects, lying
shapes, labels out of range) are refused naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import cli, k49
from idxmnist.datasets import ClassFile, registry

from .support.family import K49_NAMES, is_mapped, k49_release, k49_spec, listing, npz_bytes
from .support.httpserver import FaultServer

#: k49_classmap.csv as the publishers serve it: its size and MD5 (a public
#: git-annex mirror of the codh files keys it MD5E-s697--f7d0d0391f68bdf0fe4cf160ceb85753)
CLASSMAP_SIZE, CLASSMAP_MD5 = 697, "f7d0d0391f68bdf0fe4cf160ceb85753"


@pytest.fixture
def release(tmp_path, registered):
    rel = k49_release(tmp_path / "src")
    registered(k49_spec(rel))
    return rel


def same(got, want) -> bool:
    (x, y), (xt, yt) = got
    pairs = zip(
        (x, y, xt, yt),
        (want["x_train"], want["y_train"], want["x_test"], want["y_test"]),
        strict=True,
    )
    return all(a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)


def test_class_map_is_the_publishers_file(registry_facts):
    table = registry.get("k49").classes
    assert isinstance(table, ClassFile)
    data = table.resolve().read_bytes()
    assert len(data) == CLASSMAP_SIZE and hashlib.md5(data).hexdigest() == CLASSMAP_MD5
    header = (registry_facts / "k49-files.tsv").read_text()
    assert "k49_classmap.csv columns: index,codepoint,char" in header
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == ["index", "codepoint", "char"]
    want = tuple(chr(int(cp[2:], 16)) for _, cp, _ in rows[1:])
    assert [int(i) for i, _, _ in rows[1:]] == list(range(49))
    assert all(c == ch for (_, _, ch), c in zip(rows[1:], want, strict=True))
    assert k49.class_names() == want
    assert want[0] == "\u3042" and want[44] == "\u3090" and want[48] == "\u309d"


def test_source_dir_and_cache_hit(release, tmp_path):
    cache = tmp_path / "cache"
    got = k49.load_data(source=release.root, cache_dir=cache)
    assert same(got, release.arrays)
    assert all(a.dtype == np.uint8 for pair in got for a in pair)
    hit = k49.load_data(cache_dir=cache)
    assert same(hit, release.arrays) and is_mapped(hit[0][0]) and is_mapped(hit[1][1])
    assert {p for p in listing(cache) if not p.rsplit("/", 1)[-1].startswith(".")} == {
        "k49.idxmnist.npz",
        "k49",  # the store: the source's four files, verified and kept
        *(f"k49/{name}" for name in release.files),
    }


def test_wider_integer_labels_are_accepted(tmp_path, registered):
    rel = k49_release(tmp_path / "src", label_dtype="int64")
    registered(k49_spec(rel))
    (_, y), _ = k49.load_data(source=rel.root, cache_dir=tmp_path / "c")
    assert y.dtype == np.uint8 and np.array_equal(y, rel.arrays["y_train"])


def test_download_from_a_local_server(release, tmp_path, monkeypatch, registered):
    cache = tmp_path / "cache"
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    with FaultServer(release.files) as server:
        registered(k49_spec(release, mirrors=(server.url("500"), server.url())))
        assert same(k49.load_data(cache_dir=cache), release.arrays)
        assert server.gets("ok") == {f"/ok/{n}": 1 for n in K49_NAMES}
    assert sorted(p for p in listing(cache) if p.startswith("k49/") and "lock" not in p) == [
        f"k49/{n}" for n in sorted(K49_NAMES)
    ]


def test_preview_shows_kana(release, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert cli.main(["preview", "--dataset", "k49", "--source", str(release.root), "--n", "5"]) == 0
    out = capsys.readouterr().out
    names = k49.class_names()
    labels = sorted(set(release.arrays["y_train"].tolist()))[:5]
    for label in labels:
        assert f"{label} {names[label]}" in out


# -- bad files -----------------------------------------------------------------------------


class Evil:
    """Unpickling this would create a file: proof that a pickle was executed."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def object_npz(marker: str) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, np.array([Evil(marker)], dtype=object))
    return buf.getvalue()


def bad_files(release, marker: str) -> dict[str, tuple[str, bytes, str]]:
    a = release.arrays
    n = len(a["y_test"])
    stored = release.files["k49-test-labels.npz"]  # stored: the .npy header is plain text
    lying = stored.replace(f"'shape': ({n},)".encode(), b"'shape': (99,)")
    npy = io.BytesIO()
    np.lib.format.write_array(npy, a["y_test"])
    deflated = io.BytesIO()
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("arr_0.npy", npy.getvalue().replace(f"({n},)".encode(), b"(99,)"))
    labels_50 = a["y_test"].copy()
    labels_50[0] = 49
    two = io.BytesIO()
    np.savez(two, a["y_test"], a["y_test"])
    return {
        "object-array": (
            "k49-train-labels.npz",
            object_npz(marker),
            r"Python objects \(refused: no pickle\)",
        ),
        "lying-shape": (
            "k49-test-labels.npz",
            lying,
            r"member 'arr_0' is cut short or its size does not match its header",
        ),
        "lying-shape-deflated": (
            "k49-test-labels.npz",
            deflated.getvalue(),
            r"member 'arr_0': its \.npy header does not match its size in the zip",
        ),
        "wrong-count": (
            "k49-test-imgs.npz",
            npz_bytes(a["x_test"][:-1]),
            r"arr_0 declares \d+ rows; k49's test split",
        ),
        "label-49": (
            "k49-test-labels.npz",
            npz_bytes(labels_50),
            r"holds label 49, outside 0\.\.48",
        ),
        "float-images": (
            "k49-train-imgs.npz",
            npz_bytes(a["x_train"].astype(np.float32)),
            r"arr_0 is float32 .* expected \(N, height, width\) uint8",
        ),
        "two-arrays": (
            "k49-test-labels.npz",
            two.getvalue(),
            r"keys are \['arr_0', 'arr_1'\], expected \['arr_0'\]",
        ),
        "not-a-zip": ("k49-train-imgs.npz", b"<html>gone</html>", r"not a readable zip archive"),
    }


CASES = [
    "float-images",
    "label-49",
    "lying-shape",
    "lying-shape-deflated",
    "not-a-zip",
    "object-array",
    "two-arrays",
    "wrong-count",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_npz_is_refused_naming_the_file(case, release, tmp_path, registered):
    marker = tmp_path / "unpickled"
    name, data, pattern = bad_files(release, str(marker))[case]
    src = tmp_path / "bad"
    shutil.copytree(release.root, src)
    (src / name).write_bytes(data)
    # pinned as it is: only the npz reader's own guards can refuse it (an unpinned bad
    # file is refused before, by its checksum: test_source_files_are_verified_first)
    release.files[name] = data
    registered(k49_spec(release))
    cache = tmp_path / "cache"
    with pytest.raises(idxmnist.IdxError, match=pattern) as info:
        k49.load_data(source=src, cache_dir=cache)
    assert str(cache / "k49" / name) in str(info.value)
    assert not marker.exists(), "a pickle was executed"
    assert not [p for p in listing(cache) if p.endswith(".npz") and "/" not in p]  # no cache


def test_source_files_are_verified_first(release, tmp_path):
    src = tmp_path / "bad"
    shutil.copytree(release.root, src)
    (src / "k49-test-labels.npz").write_bytes(npz_bytes(release.arrays["y_test"][::-1].copy()))
    with pytest.warns(RuntimeWarning, match=r"k49-test-labels\.npz: container check failed"):
        with pytest.raises(idxmnist.IdxError, match="not used") as info:
            k49.load_data(source=src, cache_dir=tmp_path / "cache")
    assert str(src / "k49-test-labels.npz") in str(info.value)
    assert not (tmp_path / "cache" / "k49" / "k49-test-labels.npz").exists()


def test_every_bad_case_is_run(release, tmp_path):
    assert sorted(bad_files(release, str(tmp_path / "m"))) == CASES


def test_the_object_array_would_run_if_unpickled(tmp_path):
    """The test's own evidence: allow_pickle=True would execute the payload."""
    marker = tmp_path / "ran"
    with zipfile.ZipFile(io.BytesIO(object_npz(str(marker)))) as z:
        assert z.namelist() == ["arr_0.npy"]
    with np.load(io.BytesIO(object_npz(str(marker))), allow_pickle=True) as f:
        f["arr_0"]
    assert marker.exists()
