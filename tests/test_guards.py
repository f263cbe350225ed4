"""Tests aimed at single guards: each fails if that one check is removed or weakened.

They came out of mutation testing (docs/testing.md): every test here was seen
to fail with its guard broken by hand, and to pass with it in place. None
needs the real MNIST files. No mocks of the code under test: real files, a
real HTTP server on loopback, real read-only mounts.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.datasets.spec import RemoteFile, Split
from idxmnist.fetch import download
from idxmnist.idx import compression, decode, reader
from idxmnist.load.assemble import find_idx_files, find_sources, read_arrays
from idxmnist.load.loader import load_cached
from idxmnist.store import verify as checksum
from idxmnist.store.npzfile import load_npz, npz_members, write_npz

from .httpserver import FaultServer
from .support.synthetic import pinned_spec

KEYS = ("x_train", "y_train", "x_test", "y_test")
NAMES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
ROOT = Path(__file__).resolve().parent.parent


def arrays(n_train=6, n_test=3, side=28, test_side=None, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = test_side or side
    return {
        "x_train": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, t, t), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_set(directory: Path, data: dict[str, np.ndarray], roles=KEYS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for role in roles:
        idxmnist.write_idx(directory / NAMES[role], data[role])


def sized(n_train=6, n_test=3):
    """MNIST's entry with the split sizes of :func:`arrays`, for an npz of them read as is."""
    return dataclasses.replace(
        registry.get("mnist"), splits=(Split("train", n_train), Split("test", n_test))
    )


def same(got, want: dict[str, np.ndarray]) -> bool:
    (x, y), (xt, yt) = got
    pairs = zip((x, y, xt, yt), (want[k] for k in KEYS), strict=True)
    return all(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for a, b in pairs)


# -- the npz cache ---------------------------------------------------------------------------


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed], ids=["stored", "deflated"])
def test_fortran_order_members_load_as_written(tmp_path, save):
    """numpy writes a Fortran-ordered array's bytes column-major: reading them
    row-major scrambles the images (a stored member is memory-mapped by hand)."""
    want = arrays()
    want["x_train"] = np.asfortranarray(want["x_train"])
    want["x_test"] = np.asfortranarray(want["x_test"])
    save(tmp_path / "mnist.npz", **want)
    with open(tmp_path / "mnist.npz", "rb") as f:
        member = npz_members(f, "mnist.npz")["x_train"]
    assert member.fortran and member.stored == (save is np.savez)
    assert same(load_cached(tmp_path / "mnist.npz", sized()), want)


def _deflated_npz_declaring(excess: int) -> tuple[bytes, int, int]:
    """An npz whose deflated x_train member declares ``1032 * compressed + 1024 + excess``
    bytes consistently: in its local header, the central directory and its .npy
    header. Only the deflate ratio bound can tell that it lies."""
    other = arrays(n_train=1, n_test=1)
    n = 1000
    for _ in range(20):
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            head, {"descr": "|u1", "fortran_order": False, "shape": (n,)}
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("x_train.npy", head.getvalue() + bytes(100))
            for key in KEYS[1:]:
                npy = io.BytesIO()
                np.save(npy, other[key])
                z.writestr(f"{key}.npy", npy.getvalue())
        compressed = zipfile.ZipFile(buf).getinfo("x_train.npy").compress_size
        declared = 1032 * compressed + 1024 + excess
        if len(head.getvalue()) + n == declared:
            break
        n = declared - len(head.getvalue())
    data = bytearray(buf.getvalue())
    struct.pack_into("<L", data, 22, declared)  # the local header (first in the file)
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, declared)  # its central directory entry
    return bytes(data), declared, compressed


def test_a_deflated_member_declaring_more_than_deflate_can_produce_is_a_zip_bomb(tmp_path):
    path = tmp_path / "bomb.npz"
    data, declared, compressed = _deflated_npz_declaring(3 << 30)  # about 3 GiB
    path.write_bytes(data)
    assert len(data) < 2000 and declared > 3 << 30
    info = zipfile.ZipFile(path).getinfo("x_train.npy")
    assert (info.file_size, info.compress_size) == (declared, compressed)
    with pytest.raises(idxmnist.IdxError) as exc:
        load_npz(path, KEYS)
    assert str(exc.value) == (
        f"{path}: member 'x_train' declares {declared} bytes inflated from {compressed}, "
        "more than deflate can produce (a zip bomb?); the npz file is corrupt or not a "
        "dataset cache"
    )


def test_the_zip_bomb_bound_is_exactly_1032_to_1_plus_1024(tmp_path):
    path = tmp_path / "edge.npz"
    path.write_bytes(_deflated_npz_declaring(1)[0])
    with pytest.raises(idxmnist.IdxError, match=r"a zip bomb\?"):
        load_npz(path, KEYS)
    # one byte less is possible for deflate: refused later, for being cut short
    path.write_bytes(_deflated_npz_declaring(0)[0])
    with pytest.raises(idxmnist.IdxError, match="could not read its arrays") as exc:
        load_npz(path, KEYS)
    assert "zip bomb" not in str(exc.value)


def test_cached_arrays_are_writable_and_copy_on_write(tmp_path, registered):
    """A cache hit maps the file copy-on-write: writable arrays, the file untouched."""
    want = arrays()
    write_set(tmp_path / "src", want)
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    idxmnist.load_data(cache_dir=tmp_path, source=tmp_path / "src")
    before = (tmp_path / "mnist.idxmnist.npz").read_bytes()
    (x, y), (xt, yt) = idxmnist.load_data(cache_dir=tmp_path)
    for a in (x, y, xt, yt):
        assert a.flags.writeable and type(a) is np.ndarray
        a[...] = 7
    assert (tmp_path / "mnist.idxmnist.npz").read_bytes() == before
    assert same(idxmnist.load_data(cache_dir=tmp_path), want)


@pytest.mark.parametrize("version", [(2, 0), (3, 0)])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_npy_version_2_and_3_headers_load(tmp_path, version, method):
    want = arrays()
    with zipfile.ZipFile(tmp_path / "mnist.npz", "w", method) as z:
        for key in KEYS:
            npy = io.BytesIO()
            np.lib.format.write_array(npy, want[key], version=version)
            assert npy.getvalue()[6:8] == bytes(version)
            z.writestr(f"{key}.npy", npy.getvalue())
    assert same(load_cached(tmp_path / "mnist.npz", sized()), want)


# -- the assembler ---------------------------------------------------------------------------


def test_train_and_test_images_of_different_sizes_do_not_form_a_dataset(tmp_path):
    write_set(tmp_path, arrays(side=28, test_side=20))
    with pytest.raises(idxmnist.IdxError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / NAMES['x_train']} holds (28, 28) images but "
        f"{tmp_path / NAMES['x_test']} holds (20, 20); they do not belong together"
    )


def test_a_partial_set_is_reported_for_the_directory_that_holds_it(tmp_path):
    data = arrays()
    write_set(tmp_path / "raw", data, roles=KEYS[:3])  # no test labels
    with pytest.raises(FileNotFoundError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    message = str(exc.value)
    assert message.startswith(f"{tmp_path / 'raw'}: missing IDX files: y_test: ")
    assert "x_train" not in message and "x_test" not in message


def test_a_partial_set_is_not_completed_from_another_directory(tmp_path):
    data = arrays()
    write_set(tmp_path, data, roles=KEYS[:3])
    write_set(tmp_path / "MNIST" / "raw", data)  # a complete set further down
    with pytest.raises(FileNotFoundError) as exc:
        idxmnist.load_idx_dataset(tmp_path)
    assert str(exc.value).startswith(f"{tmp_path}: missing IDX files: y_test: ")


# -- the IDX format --------------------------------------------------------------------------


def test_read_idx_refuses_a_text_mode_source(tmp_path):
    path = tmp_path / "x.idx"
    idxmnist.write_idx(path, np.arange(5, dtype=np.uint8))
    with open(path, encoding="latin-1") as text:
        with pytest.raises(TypeError, match="needs a path or a binary file object"):
            idxmnist.read_idx(text)
    with pytest.raises(TypeError, match="needs a path or a binary file object"):
        idxmnist.read_idx(io.StringIO("\x00\x00\x08\x01\x00\x00\x00\x00"))


def test_write_idx_refuses_a_dimension_of_2_to_the_32(tmp_path):
    empty = np.empty((1 << 32, 0), np.uint8)  # no data, but the dimension does not fit
    with pytest.raises(ValueError, match=r"IDX dimensions are 32-bit; shape \(4294967296, 0\)"):
        idxmnist.write_idx(tmp_path / "x.idx", empty)
    assert list(tmp_path.iterdir()) == []
    edge = np.empty(((1 << 32) - 1, 0), np.uint8)  # the largest that fits is written
    idxmnist.write_idx(tmp_path / "y.idx", edge)
    assert idxmnist.read_idx(tmp_path / "y.idx").shape == ((1 << 32) - 1, 0)


@pytest.mark.parametrize("compress", [None, "gzip"])
def test_a_header_of_0xffffffff_is_refused_before_allocating(monkeypatch, compress):
    def no_allocation(header, name):
        raise AssertionError(f"allocated for shape {header.shape}")

    monkeypatch.setattr(reader, "_allocate", no_allocation)
    head = struct.pack(">BBBBI", 0, 0, 0x08, 1, 0xFFFFFFFF) + bytes(10)
    data = head if compress is None else gzip.compress(head)
    pattern = r"declares 4294967303 .*truncated" if compress is None else "can possibly hold"
    with pytest.raises(idxmnist.IdxError, match=pattern):
        idxmnist.read_idx(io.BytesIO(data))
    two = struct.pack(">BBBBII", 0, 0, 0x08, 2, 0xFFFFFFFF, 0xFFFFFFFF)
    with pytest.raises(idxmnist.IdxError, match="not a plausible file"):
        idxmnist.read_idx(io.BytesIO(two))


# -- downloads -------------------------------------------------------------------------------


BODY = bytes(range(256)) * 40


def remote(body: bytes = BODY, size: int | None = None, algorithm="sha256") -> RemoteFile:
    digest = hashlib.new(algorithm, body).hexdigest()
    return RemoteFile("blob.gz", len(body) if size is None else size, algorithm, digest)


def test_a_short_body_without_content_length_is_never_kept(tmp_path):
    """The digest matches the bytes sent, so only the size check refuses them."""
    with FaultServer({"blob.gz": BODY}) as server:
        with pytest.raises(idxmnist.DownloadError) as exc:
            download.fetch_file(remote(size=len(BODY) + 10), tmp_path, [server.url("nolength")])
    assert f"-> got {len(BODY)} bytes, expected {len(BODY) + 10}" in str(exc.value)
    assert list(tmp_path.iterdir()) == []


def test_a_body_without_content_length_is_kept_when_complete(tmp_path):
    with FaultServer({"blob.gz": BODY}) as server:
        path = download.fetch_file(remote(), tmp_path, [server.url("nolength")])
    assert path.read_bytes() == BODY and list(tmp_path.iterdir()) == [path]


def test_a_body_longer_than_content_length_is_read_only_as_far_as_declared(tmp_path):
    with FaultServer({"blob.gz": BODY}) as server:
        path = download.fetch_file(remote(), tmp_path, [server.url("long")])
    assert path.read_bytes() == BODY and list(tmp_path.iterdir()) == [path]


def test_a_body_longer_than_the_registry_size_is_refused(tmp_path):
    with FaultServer({"blob.gz": BODY}) as server:
        with pytest.raises(idxmnist.DownloadError) as exc:
            download.fetch_file(remote(), tmp_path, [server.url("longnolength")])
    assert f"-> got more than {len(BODY)} bytes, expected {len(BODY)}" in str(exc.value)
    assert list(tmp_path.iterdir()) == []


def test_md5_verification_accepts_a_matching_file(tmp_path):
    good = remote(algorithm="md5")
    with FaultServer({"blob.gz": BODY}) as server:
        path = download.fetch_file(good, tmp_path, [server.url()])
        assert path.read_bytes() == BODY
        assert checksum.mismatch(path, good) is None
        bad = RemoteFile(good.name, good.size, "md5", "0" * 32)
        with pytest.raises(idxmnist.ChecksumError, match="md5 mismatch"):
            download.fetch_file(bad, tmp_path / "other", [server.url()])
    assert checksum.mismatch(path, bad) == f"md5 {good.digest}, expected {'0' * 32}"


@pytest.mark.parametrize("mirror", ["ftp://example.invalid/mnist/", "/srv/mnist", "mnist"])
def test_a_mirror_that_is_not_a_url_is_a_download_error(tmp_path, monkeypatch, mirror):
    monkeypatch.setenv("IDXMNIST_MIRRORS", mirror)
    with pytest.raises(idxmnist.DownloadError, match="IDXMNIST_MIRRORS") as exc:
        idxmnist.load_data(cache_dir=tmp_path)
    assert repr(mirror) in str(exc.value) and "http://, https:// or file://" in str(exc.value)


def test_a_source_with_an_unknown_scheme_is_a_download_error(tmp_path):
    with pytest.raises(idxmnist.DownloadError, match="http://, https:// or file://") as exc:
        idxmnist.load_data(source="ftp://example.invalid/mnist/", cache_dir=tmp_path)
    assert "'ftp://example.invalid/mnist/'" in str(exc.value)


# -- a cache directory that cannot be written or locked ----------------------------------------

CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path
    import idxmnist
    from idxmnist.datasets import registry
    from tests.support.synthetic import pinned_spec
    # the synthetic files' own pins, as the parent registered them
    registry.register(pinned_spec(registry.get("mnist"), Path(sys.argv[2])), replace=True)
    source = sys.argv[2] if sys.argv[3] == "source" else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (xt, yt) = idxmnist.load_data(source=source, cache_dir=sys.argv[1])
    print(json.dumps({"sums": [int(a.sum()) for a in (x, y, xt, yt)],
                      "writable": x.flags.writeable,
                      "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}))
    """
)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def run_on_readonly(directory: Path, *args: str, bind: bool) -> dict:
    """Run CHILD with ``directory`` read-only, as a read-only mount is (even for root).

    ``bind``: the directory keeps its files (a read-only bind mount of itself);
    else an empty read-only tmpfs is mounted over it.
    """
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", CHILD, str(directory), *args]
    if _unshare_works():
        mount = (
            'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1"'
            if bind
            else 'mount -t tmpfs -o ro,size=1m tmpfs "$1"'
        )
        cmd = [
            "unshare",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            f'{mount} && shift && exec "$@"',
        ]
        cmd += ["sh", str(directory), sys.executable, "-c", CHILD, str(directory), *args]
    elif os.geteuid() != 0:
        directory.chmod(0o555)  # permissions work for everyone but root
    else:
        pytest.skip("as root, only a read-only mount makes a directory read-only: no unshare here")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    finally:
        directory.chmod(0o755)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_read_only_cache_directory_warns_and_still_returns_the_data(tmp_path):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    cache.mkdir()
    out = run_on_readonly(cache, str(tmp_path / "src"), "source", bind=False)
    assert out["sums"] == [int(want[k].sum()) for k in KEYS] and out["writable"]
    assert out["warnings"] == [  # one warning, and nothing written
        f"RuntimeWarning: {cache} cannot be written (read-only): the arrays were read from "
        "the verified files there and not cached; every call reads them again"
    ]
    assert list(cache.iterdir()) == []


def test_a_read_only_cache_directory_holding_the_cache_is_read_without_a_word(tmp_path, registered):
    want = arrays()
    write_set(tmp_path / "src", want)
    cache = tmp_path / "cache"
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    idxmnist.load_data(source=tmp_path / "src", cache_dir=cache)  # stamped by idxmnist
    out = run_on_readonly(cache, str(tmp_path / "src"), "-", bind=True)
    assert out == {"sums": [int(want[k].sum()) for k in KEYS], "writable": True, "warnings": []}


def test_an_unlockable_cache_directory_warns_and_still_works(tmp_path, registered):
    want = arrays()
    write_set(tmp_path / "src", want)
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))
    lock = tmp_path / "cache" / ".mnist.idxmnist.npz.lock"
    lock.mkdir(parents=True)  # the lock file cannot be made
    with pytest.warns(
        RuntimeWarning,
        match=r"cannot lock .*mnist\.npz \(\[Errno 21\] .*\); building it without a lock",
    ):
        data = idxmnist.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert same(data, want)
    assert same(idxmnist.load_data(cache_dir=tmp_path / "cache"), want)  # and it was cached


def test_an_empty_split_is_a_valid_cache(tmp_path):
    """A zero dimension is not a negative one: (0, 28, 28) images load from the cache."""
    want = arrays()
    want["x_test"], want["y_test"] = want["x_test"][:0], want["y_test"][:0]
    np.savez(tmp_path / "mnist.npz", **want)
    assert same(load_cached(tmp_path / "mnist.npz", sized(6, 0)), want)


def test_a_stored_member_running_past_the_end_of_the_file_is_refused(tmp_path):
    """Its .npy header, local header and directory entry agree, but the file ends first:
    mapping it would read past the end. Only the check against the file size sees it."""
    want = arrays()
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for key in KEYS:
            npy = io.BytesIO()
            np.save(npy, want[key])
            z.writestr(f"{key}.npy", npy.getvalue())
    data = bytearray(path.read_bytes())
    extra = 100_000  # far more than the central directory that follows the last member
    local = data.find(b"y_test.npy") - 30  # the local header, just before its name
    assert data[local : local + 4] == b"PK\x03\x04"
    head_start = data.index(b"\x93NUMPY", local)
    header_len = struct.unpack_from("<H", data, head_start + 8)[0]
    text = bytes(data[head_start + 10 : head_start + 10 + header_len]).decode("latin1")
    assert "'shape': (3,)" in text
    text = text.replace("'shape': (3,)", f"'shape': ({3 + extra},)").rstrip(" \n")
    text = text + " " * (header_len - 1 - len(text)) + "\n"
    data[head_start + 10 : head_start + 10 + header_len] = text.encode("latin1")
    size = struct.unpack_from("<L", data, local + 22)[0] + extra
    struct.pack_into("<LL", data, local + 18, size, size)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<LL", data, cd + 20, size, size)
    path.write_bytes(bytes(data))
    with pytest.raises(idxmnist.IdxError) as exc:
        load_npz(path, KEYS)
    assert str(exc.value) == (
        f"{path}: member 'y_test' is cut short or its size does not match its header; "
        "the npz file is corrupt or not a dataset cache"
    )


# -- the libdeflate whole-buffer gzip path -----------------------------------------------------

RAW_IDX = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 3, 4, 5) + bytes(range(60))


def whole_path_only():
    if compression.libdeflate() is None:
        pytest.skip("the deflate package (idxmnist[fast]) is not installed")


def gzip_named(payload: bytes, name_len: int) -> bytes:
    """A gzip file (RFC 1952) with an FNAME field of ``name_len`` bytes, its data stored."""
    z = zlib.compressobj(0, zlib.DEFLATED, -15)
    body = z.compress(payload) + z.flush()
    head = b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\xff" + b"n" * name_len + b"\x00"
    return head + body + struct.pack("<II", zlib.crc32(payload), len(payload))


def read_spying_on_the_stream_path(data: bytes, monkeypatch) -> tuple[np.ndarray, bool]:
    streamed = []
    real = reader._read_stream
    monkeypatch.setattr(reader, "_read_stream", lambda *a: streamed.append(a) or real(*a))
    return idxmnist.read_idx(io.BytesIO(data)), bool(streamed)


def test_a_gzip_name_field_that_pushes_the_idx_header_past_the_peek_is_streamed(monkeypatch):
    """The whole path peeks at the first PEEK_INPUT (64 KiB) compressed bytes for the IDX
    header. A long (legal) FNAME field can leave only part of the header in them: that
    is not a cut file, the streaming path reads it."""
    whole_path_only()
    want = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    # 10-byte gzip header + name + NUL + 5-byte stored-block header: 6 IDX bytes remain
    data = gzip_named(RAW_IDX, compression.PEEK_INPUT - 16 - 6)
    assert len(zlib.decompressobj(31).decompress(data[: compression.PEEK_INPUT])) == 6
    arr, streamed = read_spying_on_the_stream_path(data, monkeypatch)
    assert np.array_equal(arr, want) and streamed


def test_a_gzip_file_of_exactly_the_peek_size_is_read_whole(monkeypatch):
    """At PEEK_INPUT bytes the peek saw the whole file, so a short lead is the whole data
    and the one-call inflate applies; one byte more and the lead may be cut: streamed."""
    whole_path_only()
    want = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    base = len(gzip_named(RAW_IDX, 0))
    exact = gzip_named(RAW_IDX, compression.PEEK_INPUT - base)
    assert len(exact) == compression.PEEK_INPUT
    arr, streamed = read_spying_on_the_stream_path(exact, monkeypatch)
    assert np.array_equal(arr, want) and not streamed
    over = gzip_named(RAW_IDX, compression.PEEK_INPUT - base + 1)
    arr, streamed = read_spying_on_the_stream_path(over, monkeypatch)
    assert np.array_equal(arr, want) and streamed


def test_a_gzip_file_cut_right_after_the_magic_names_the_cut_header():
    """Four inflated bytes are enough to check the magic: the whole path then reports the
    cut header; with three it leaves the diagnosis to the streaming path."""
    whole_path_only()
    data = gzip.compress(RAW_IDX, compresslevel=0, mtime=0)  # stored: byte n is at 15 + n
    for n, text in [
        (
            3,
            "the gzip stream ends early: the file is truncated (an interrupted download?); "
            "delete it and fetch it again",
        ),
        (
            4,
            "file ends inside the IDX header (4 of 16 header bytes); the file is truncated, "
            "fetch it again",
        ),
        (
            5,
            "file ends inside the IDX header (5 of 16 header bytes); the file is truncated, "
            "fetch it again",
        ),
    ]:
        assert zlib.decompressobj(31).decompress(data[: 15 + n]) == RAW_IDX[:n]
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.read_idx(io.BytesIO(data[: 15 + n]))
        assert str(info.value) == f"<BytesIO>: {text}"


def test_a_gzip_header_declaring_more_than_the_file_holds_allocates_nothing_first():
    """The whole path checks the header against the file size before the one-call inflate
    allocates its output, even when the gzip trailer agrees with the header."""
    whole_path_only()
    total = 8 + 10_000_000
    data = gzip.compress(struct.pack(">BBBBI", 0, 0, 0x08, 1, 10_000_000) + bytes(200), mtime=0)
    data = data[:-4] + struct.pack("<I", total)  # ISIZE says what the header says
    tracemalloc.start()
    try:
        with pytest.raises(idxmnist.IdxError) as info:
            idxmnist.read_idx(io.BytesIO(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"<BytesIO>: IDX header declares {total} bytes (shape (10000000,)), more than a "
        f"{len(data)}-byte gzip file can possibly hold; the header is corrupt or the file "
        "is truncated"
    )
    assert peak < 1_000_000, peak


def test_backend_numba_is_honoured_on_both_read_paths(tmp_path, monkeypatch, read_path):
    """backend="numba" swaps with the Numba kernels (loaded on first use), not NumPy's."""
    if not decode.numba_available():
        pytest.skip("numba (idxmnist[numba]) is not installed")
    import idxmnist.idx as idx_package

    monkeypatch.delitem(sys.modules, "idxmnist.idx._numba", raising=False)
    monkeypatch.delattr(idx_package, "_numba", raising=False)
    want = np.arange(-500, 500, dtype=np.int32).reshape(10, 100)
    idxmnist.write_idx(tmp_path / "x.gz", want)
    assert np.array_equal(idxmnist.read_idx(tmp_path / "x.gz", backend="numpy"), want)
    assert "idxmnist.idx._numba" not in sys.modules
    assert np.array_equal(idxmnist.read_idx(tmp_path / "x.gz", backend="numba"), want)
    assert "idxmnist.idx._numba" in sys.modules


@pytest.mark.parametrize("above", [0, 1])
def test_transpose_uses_the_helper_thread_from_exactly_thread_min_bytes(monkeypatch, above):
    """A payload of THREAD_MIN_BYTES is turned on the helper thread; one byte less, inline."""
    from idxmnist.idx import transpose

    want = np.arange(23 * 5 * 7, dtype=np.uint8).reshape(23, 5, 7)
    monkeypatch.setattr(transpose, "THREAD_MIN_BYTES", want.nbytes + above)
    monkeypatch.setattr(transpose, "THREAD_BATCH_BYTES", 3 * 5 * 7)
    monkeypatch.setattr(transpose.os, "cpu_count", lambda: 2)
    on_main = []
    real = transpose.InPlaceTransposer._turn

    def turn(self, start, stop, scratch):
        on_main.append(threading.current_thread() is threading.main_thread())
        return real(self, start, stop, scratch)

    monkeypatch.setattr(transpose.InPlaceTransposer, "_turn", turn)
    data = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 23, 5, 7) + want.tobytes()
    assert np.array_equal(
        idxmnist.read_idx(io.BytesIO(data), transpose=True), want.transpose(0, 2, 1)
    )
    assert on_main and set(on_main) == {bool(above)}


# -- the npz cache: bounds, messages, layouts -------------------------------------------------


def npz_bytes(want: dict[str, np.ndarray], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for key in KEYS:
            npy = io.BytesIO()
            np.save(npy, want[key])
            z.writestr(f"{key}.npy", npy.getvalue())
    return buf.getvalue()


def npz_error(path: Path) -> str:
    with pytest.raises(idxmnist.IdxError) as info:
        load_npz(path, KEYS)
    return str(info.value)


def corrupt(path: Path, what: str) -> str:
    return f"{path}: {what}; the npz file is corrupt or not a dataset cache"


@pytest.mark.parametrize("compress", [False, True])
def test_write_npz_round_trips_both_layouts_and_an_empty_split(tmp_path, compress):
    """compress=True writes deflated members (keras's layout); both load as written,
    and so does an empty split, (0, 28, 28) images."""
    want = arrays()
    want["x_test"], want["y_test"] = want["x_test"][:0], want["y_test"][:0]
    path = write_npz(tmp_path / "mnist.npz", want, compress=compress)
    with zipfile.ZipFile(path) as z:
        methods = {i.compress_type for i in z.infolist()}
    assert methods == {zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED}
    got = load_npz(path, KEYS)
    assert same(((got["x_train"], got["y_train"]), (got["x_test"], got["y_test"])), want)


def test_an_npy_version_npz_does_not_know_is_refused_by_name(tmp_path):
    """.npy 4.0 does not exist (1.0 to 3.0 do); the member is named, stored or deflated."""
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = tmp_path / f"v4-{method}.npz"
        with zipfile.ZipFile(path, "w", method) as z:
            z.writestr("x_train.npy", b"\x93NUMPY\x04\x00" + bytes(56))
        assert npz_error(path) == corrupt(
            path, "member 'x_train' has a bad .npy header (unsupported .npy version (4, 0))"
        )


def test_a_zip_compression_method_other_than_stored_or_deflate_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(npz_bytes(arrays(), zipfile.ZIP_BZIP2))
    assert npz_error(path) == corrupt(
        path,
        "member 'x_train' uses zip compression method 12; only stored and deflate members are read",
    )


@pytest.mark.parametrize(
    "delta, what", [(0, "a local header offset outside the file"), (-1, "a bad local header")]
)
def test_a_local_header_offset_at_the_end_of_the_file_is_outside_it(tmp_path, delta, what):
    """An offset equal to the file size points past its last byte; one less is inside
    (and holds no local header there)."""
    data = bytearray(npz_bytes(arrays()))
    cd = data.find(b"PK\x01\x02")  # x_train's directory entry
    struct.pack_into("<L", data, cd + 42, len(data) + delta)
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(data))
    assert npz_error(path) == corrupt(path, f"member 'x_train' has {what}")


def _grow_last_member(data: bytearray, extra: int) -> None:
    """Make y_test (3 labels, the last member) declare ``extra`` more, consistently in its
    .npy header, local header and directory entry, without moving a byte."""
    local = data.find(b"y_test.npy") - 30
    assert data[local : local + 4] == b"PK\x03\x04"
    head = data.index(b"\x93NUMPY", local)
    header_len = struct.unpack_from("<H", data, head + 8)[0]
    text = bytes(data[head + 10 : head + 10 + header_len]).decode("latin1")
    assert "'shape': (3,)" in text
    text = text.replace("'shape': (3,)", f"'shape': ({3 + extra},)").rstrip(" \n")
    data[head + 10 : head + 10 + header_len] = (text.ljust(header_len - 1) + "\n").encode()
    size = struct.unpack_from("<L", data, local + 22)[0] + extra
    struct.pack_into("<LL", data, local + 18, size, size)
    struct.pack_into("<LL", data, data.rfind(b"PK\x01\x02") + 20, size, size)


def test_a_stored_member_may_end_exactly_at_the_end_of_the_file(tmp_path):
    """The file-size bound is inclusive: data ending on the file's last byte lies inside it
    (here it overlaps the zip directory, which zipfile reads from the end); one byte
    further does not."""
    data = bytearray(npz_bytes(arrays()))
    end = data.index(b"\x93NUMPY", data.find(b"y_test.npy"))
    end += 10 + struct.unpack_from("<H", data, end + 8)[0] + 3  # y_test's last label + 1
    extra = len(data) - end
    path = tmp_path / "mnist.npz"
    exact = bytearray(data)
    _grow_last_member(exact, extra)
    path.write_bytes(bytes(exact))
    y = load_npz(path, KEYS)["y_test"]
    assert y.shape == (3 + extra,) and bytes(y[3:]) == bytes(exact[end:])
    _grow_last_member(data, extra + 1)
    path.write_bytes(bytes(data))
    assert npz_error(path) == corrupt(
        path, "member 'y_test' is cut short or its size does not match its header"
    )


def test_a_deflated_member_with_a_negative_dimension_is_refused_by_name(tmp_path):
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 2), }"
    header = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + text.ljust(117).encode() + b"\n"
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x_train.npy", header)
    assert npz_error(path) == corrupt(
        path, "member 'x_train' has a negative dimension in shape (-1, 2)"
    )


def test_a_deflated_member_zipfile_cannot_open_is_refused_by_name(tmp_path):
    data = bytearray(npz_bytes(arrays(), zipfile.ZIP_DEFLATED))
    data[3] = 5  # x_train's local header signature, PK\3\4 -> PK\3\5
    path = tmp_path / "mnist.npz"
    path.write_bytes(bytes(data))
    assert npz_error(path) == corrupt(
        path, "member 'x_train' cannot be read (Bad magic number for file header)"
    )


def test_npz_members_reads_a_file_object_without_a_file_descriptor():
    """A zip stream (no fileno) has no size to check against, but is read all the same."""

    class NoFileno:
        def __init__(self, data: bytes):
            self._f = io.BytesIO(data)
            self.read, self.seek, self.tell = self._f.read, self._f.seek, self._f.tell

        def seekable(self) -> bool:
            return True

    want = arrays()
    members = npz_members(NoFileno(npz_bytes(want)), "stream.npz")
    assert {k: (m.dtype, m.shape) for k, m in members.items()} == {
        k: (want[k].dtype, want[k].shape) for k in KEYS
    }


def test_load_npz_shows_check_each_key_with_its_declared_member(tmp_path):
    want = arrays()
    np.savez(tmp_path / "mnist.npz", **want)
    seen = []
    load_npz(tmp_path / "mnist.npz", KEYS, check=lambda k, m: seen.append((k, m.shape)))
    assert seen == [(k, want[k].shape) for k in KEYS]


# -- the assembler: finding and reading the four files ---------------------------------------


def test_the_dotted_upstream_names_are_found(tmp_path):
    """``train-images.idx3-ubyte`` (how some mirrors and archives spell it) is found too."""
    want = arrays()
    for role in KEYS:
        dotted = NAMES[role].replace("-idx", ".idx").removesuffix(".gz")
        idxmnist.write_idx(tmp_path / dotted, want[role])
    found = find_idx_files(tmp_path, registry.get("mnist").stems)
    assert {k: p.name for k, p in found.items()} == {
        "x_train": "train-images.idx3-ubyte",
        "y_train": "train-labels.idx1-ubyte",
        "x_test": "t10k-images.idx3-ubyte",
        "y_test": "t10k-labels.idx1-ubyte",
    }
    assert same(idxmnist.load_idx_dataset(tmp_path), want)


def test_find_idx_files_messages_word_for_word(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path / "nowhere", registry.get("mnist").stems)
    assert str(info.value) == (
        f"{tmp_path / 'nowhere'}: no such directory (expected the dataset's files)"
    )
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path, registry.get("mnist").stems)
    looked = "; ".join(
        f"{k}: {s} or {s.replace('-idx', '.idx')} (.gz/.xz/.bz2 too)"
        for k, s in [
            ("x_train", "train-images-idx3-ubyte"),
            ("y_train", "train-labels-idx1-ubyte"),
            ("x_test", "t10k-images-idx3-ubyte"),
            ("y_test", "t10k-labels-idx1-ubyte"),
        ]
    )
    assert str(info.value) == (
        f"{tmp_path}: missing IDX files: {looked}. Put the four upstream files there "
        "(as downloaded, .gz is fine)"
    )


@pytest.mark.parametrize("count, word", [(2, "two"), (3, "3")])
def test_find_idx_files_with_other_stems_names_them_and_their_count(tmp_path, count, word):
    stems = {f"k{i}": f"part{i}-idx1-ubyte" for i in range(count)}
    idxmnist.write_idx(tmp_path / "part0-idx1-ubyte.gz", np.zeros(3, np.uint8))
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        find_idx_files(tmp_path, stems)
    looked = "; ".join(
        f"k{i}: part{i}-idx1-ubyte or part{i}.idx1-ubyte (.gz/.xz/.bz2 too)"
        for i in range(1, count)
    )
    assert str(info.value) == (
        f"{tmp_path}: missing files: {looked}. Put the {word} upstream files there "
        "(as downloaded, .gz is fine)"
    )
    for i in range(1, count):
        idxmnist.write_idx(tmp_path / f"part{i}.idx1-ubyte", np.zeros(3, np.uint8))
    assert sorted(p.name for p in find_idx_files(tmp_path, stems).values()) == sorted(
        ["part0-idx1-ubyte.gz"] + [f"part{i}.idx1-ubyte" for i in range(1, count)]
    )


def test_load_idx_dataset_defaults_and_options(tmp_path):
    """load_idx_dataset's defaults: backend "auto", labels 0..9; it hands its backend and
    num_classes down to the assembler."""
    want = arrays(seed=1)
    want["y_train"][:] = 4
    want["y_test"][:] = 9
    write_set(tmp_path, want)
    assert same(idxmnist.load_idx_dataset(tmp_path), want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 9, outside 0\.\.4"):
        idxmnist.load_idx_dataset(tmp_path, num_classes=5)
    with pytest.raises(ValueError, match="backend must be one of"):
        idxmnist.load_idx_dataset(tmp_path, backend="fast")
    want["y_test"][0] = 10
    write_set(tmp_path, want)
    with pytest.raises(idxmnist.IdxError, match=r"holds label 10, outside 0\.\.9"):
        idxmnist.load_idx_dataset(tmp_path)
    assert same(idxmnist.load_idx_dataset(tmp_path, num_classes=11), want)


def test_find_sources_names_the_files_and_the_archive_when_neither_is_there(tmp_path):
    spec = registry.get("emnist_letters")
    with pytest.raises(FileNotFoundError) as info:
        find_sources(tmp_path, spec)
    text = str(info.value)
    assert text.startswith(
        f"{tmp_path}: missing IDX files: x_train: emnist-letters-train-images-idx3-ubyte or "
        "emnist-letters-train-images.idx3-ubyte (.gz/.xz/.bz2 too); "
    )
    assert text.endswith(
        "Put the four upstream files there (as downloaded, .gz is fine); or gzip.zip, the "
        "archive that holds them"
    )


def test_read_arrays_hands_its_backend_to_the_reader(tmp_path):
    spec = registry.get("mnist")
    write_set(tmp_path, arrays())
    with pytest.raises(ValueError, match="backend must be one of"):
        read_arrays(spec, find_sources(tmp_path, spec), backend="fast")


def _k49_bad_labels(tmp_path, registered, labels: np.ndarray) -> str:
    from idxmnist import k49

    from .family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    path = tmp_path / "src" / "k49-test-labels.npz"
    path.write_bytes(npz_bytes(labels))
    release.files[path.name] = path.read_bytes()
    registered(k49_spec(release))  # pinned as it is: only the reader's own guard can refuse it
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    return str(info.value).removeprefix(f"{tmp_path / 'cache' / 'k49' / path.name}: ")


def test_k49_labels_of_another_kind_or_shape_are_refused_word_for_word(tmp_path, registered):
    want = "expected (N,) integer labels; the file is not k49's: fetch it again"
    assert _k49_bad_labels(tmp_path, registered, np.zeros(15, np.float32)) == (
        f"arr_0 is float32 (15,), {want}"
    )
    assert _k49_bad_labels(tmp_path, registered, np.zeros((15, 1), np.uint8)) == (
        f"arr_0 is uint8 (15, 1), {want}"
    )


@pytest.mark.parametrize("bad", [-1, 256])
def test_k49_wide_labels_are_range_checked_before_narrowing(tmp_path, registered, bad):
    """int64 labels become uint8: -1 or 256 would wrap to 255 or to a valid 0."""
    labels = np.zeros(15, np.int64)
    labels[3] = bad
    assert _k49_bad_labels(tmp_path, registered, labels) == (
        f"holds label {bad}, outside 0..48; the file is not k49's labels or is damaged"
    )


def test_k49_images_of_a_wrong_count_are_refused_word_for_word(tmp_path, registered):
    from idxmnist import k49

    from .family import k49_release, k49_spec, npz_bytes

    release = k49_release(tmp_path / "src")
    path = tmp_path / "src" / "k49-test-imgs.npz"
    path.write_bytes(npz_bytes(release.arrays["x_test"][:-1]))
    release.files[path.name] = path.read_bytes()
    registered(k49_spec(release))  # pinned as it is: only the reader's own guard can refuse it
    with pytest.raises(idxmnist.IdxError) as info:
        k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "cache")
    assert str(info.value) == (
        f"{tmp_path / 'cache' / 'k49' / path.name}: arr_0 declares 14 rows; k49's test split "
        "has 15: the file is not k49's or is damaged: fetch it again"
    )


def test_k49_an_empty_test_split_loads(tmp_path, registered):
    from idxmnist import k49

    from .family import k49_release, k49_spec

    release = k49_release(tmp_path / "src", n_test=0)
    registered(k49_spec(release))
    (_, _), (x_test, y_test) = k49.load_data(source=tmp_path / "src", cache_dir=tmp_path / "c")
    assert x_test.shape == (0, 28, 28) and y_test.shape == (0,) and y_test.dtype == np.uint8


# -- read_idx_from: an open, unseekable stream (a zip member) ---------------------------------


class Trickle:
    """A stream that hands out at most ``step`` bytes per read, as a pipe or socket may."""

    def __init__(self, data: bytes, step: int = 1):
        self._f, self._step = io.BytesIO(data), step

    def read(self, n: int = -1) -> bytes:
        return self._f.read(self._step if n < 0 else min(n, self._step))


def test_read_idx_from_reads_plain_and_transposed_from_a_trickling_stream():
    """The sniffed lead is gathered from reads of one byte at a time; transpose is off by
    default and turns the images when asked."""
    x = np.arange(4 * 3 * 5, dtype=np.uint8).reshape(4, 3, 5)
    data = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 4, 3, 5) + x.tobytes()
    plain = reader.read_idx_from(Trickle(data), "x.idx", len(data))
    assert plain.shape == (4, 3, 5) and np.array_equal(plain, x)
    turned = reader.read_idx_from(Trickle(data, 7), "x.idx", None, transpose=True)
    assert turned.shape == (4, 5, 3) and np.array_equal(turned, x.transpose(0, 2, 1))
    labels = gzip.compress(struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + b"\x01\x02\x03", mtime=0)
    assert reader.read_idx_from(Trickle(labels), "y.gz", len(labels)).tolist() == [1, 2, 3]


def test_read_idx_from_a_stream_shorter_than_the_sniff_is_refused():
    with pytest.raises(idxmnist.IdxError) as info:
        reader.read_idx_from(io.BytesIO(b"\x00\x00\x08"), "x.idx", 3)
    assert str(info.value) == (
        "x.idx: file is 3 bytes long, too short for an IDX header (an empty or cut-off file); "
        "delete it and fetch it again"
    )


def test_read_arrays_hands_backend_and_size_to_archive_members(tmp_path):
    """EMNIST's members are read straight from gzip.zip: with the caller's backend, and
    checked against the member's own size before anything is allocated."""
    from idxmnist.load.assemble import MemberRef

    from .family import emnist_member_names, emnist_release, emnist_spec, gz

    release = emnist_release(tmp_path / "src")
    spec = emnist_spec(release)
    sources = find_sources(tmp_path / "src", spec)
    assert all(isinstance(s, MemberRef) for s in sources.values())
    got = read_arrays(spec, sources)
    assert all(np.array_equal(got[k], release.arrays[k]) for k in KEYS)
    with pytest.raises(ValueError, match="backend must be one of"):
        read_arrays(spec, sources, backend="fast")
    # x_test's member declares 100000 images in a few dozen bytes
    lying = gz(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 100_000, 28, 28) + bytes(100))
    name = f"gzip/{emnist_member_names('letters')[2]}"
    with zipfile.ZipFile(tmp_path / "src" / "gzip.zip") as old:
        members = {i.filename: old.read(i) for i in old.infolist()}
    members[name] = lying
    with zipfile.ZipFile(tmp_path / "src" / "gzip.zip", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(idxmnist.IdxError) as info:
        read_arrays(spec, sources)
    assert str(info.value).endswith(
        f"IDX header declares {16 + 100_000 * 784} bytes (shape (100000, 28, 28)), more than "
        f"a {len(lying)}-byte gzip file can possibly hold; the header is corrupt or the file "
        "is truncated"
    )


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">f8"])
def test_multi_byte_items_landing_in_pieces_are_swapped_once_whole(dtype):
    """A stream that hands out 3 bytes at a time splits items across reads: each item is
    swapped once, after its last byte has landed."""
    want = np.arange(-40, 40).astype(dtype)
    code = {">i2": 0x0B, ">i4": 0x0C, ">f8": 0x0E}[dtype]
    data = struct.pack(">BBBBI", 0, 0, code, 1, want.size) + want.tobytes()
    got = reader.read_idx_from(Trickle(data, 3), "x.idx", len(data))
    assert got.dtype == want.dtype.newbyteorder("=") and np.array_equal(got, want)


def test_sweep_stale_removes_a_temporary_file_just_over_an_hour_old(tmp_path):
    """The default cutoff is one hour: a writer's leftover 3600.01 s old goes, a fresh
    one stays. (Only a stall of about a second between the two lines below could let a
    cutoff of 3601 s remove it too; the original removes it whatever the stall.)"""
    import time

    from idxmnist import files as atomic

    dest = tmp_path / "mnist.npz"
    old = tmp_path / f".mnist.npz.1234{atomic.TEMP_SUFFIX}"
    fresh = tmp_path / f".mnist.npz.5678{atomic.TEMP_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    now = time.time()
    os.utime(old, (now - 3600.01, now - 3600.01))
    atomic.sweep(dest.parent)
    assert not old.exists() and fresh.exists()


def test_read_idx_starts_at_the_file_objects_position():
    """A file object already moved past other data is read from where it stands."""
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    data = struct.pack(">BBBB2I", 0, 0, 0x08, 2, 3, 4) + x.tobytes()
    f = io.BytesIO(b"junk" + data)
    f.seek(4)
    assert np.array_equal(idxmnist.read_idx(f), x)


def test_transpose_checks_the_header_against_the_file_size_first(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 1000, 28, 28) + bytes(100))
    with pytest.raises(idxmnist.TruncatedError) as info:
        idxmnist.read_idx(path, transpose=True)
    assert str(info.value) == (
        f"{path}: file is 116 bytes but its IDX header declares 784016 (shape (1000, 28, 28)); "
        "the file is truncated, delete it and fetch it again"
    )


# -- three bugs the mutation pass found ---------------------------------------------------------


def test_numba_kernels_loaded_in_the_process_are_what_auto_uses_for_a_big_job():
    """``backend="auto"`` takes Numba once its kernels are loaded (and only then): in a
    fresh interpreter, before and after a ``backend="numba"`` call."""
    if not decode.numba_available():
        pytest.skip("numba is not installed")
    code = textwrap.dedent(
        """
        import numpy as np
        from idxmnist.idx import decode
        before = decode.choose_backend("auto", True)
        decode.swap_inplace(np.zeros(4, np.int32), backend="numba")
        print(before, decode.choose_backend("auto", True), decode.choose_backend("auto", False))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["numpy", "numba", "numpy"]


def test_a_file_cut_inside_its_header_is_a_truncated_error(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10) + b"\x00\x00")
    with pytest.raises(idxmnist.TruncatedError) as exc:
        idxmnist.read_idx(path)
    assert str(exc.value) == (
        f"{path}: file ends inside the IDX header (10 of 16 header bytes); "
        "the file is truncated, fetch it again"
    )


def test_images_of_another_size_are_named_against_the_first_split_whatever_its_place():
    """With three splits, the split that disagrees is named, not always the second."""
    import dataclasses

    from idxmnist.datasets.spec import Split
    from idxmnist.load.assemble import check_arrays

    spec = dataclasses.replace(
        registry.get("mnist"),
        name="three",
        splits=(Split("train", 2), Split("test", 2), Split("extra", 2)),
        files=tuple(RemoteFile(f"f{i}", 1, "sha256", "0" * 64) for i in range(6)),
    )
    data = {}
    for split, side in (("train", 28), ("test", 28), ("extra", 20)):
        data[f"x_{split}"] = np.zeros((2, side, side), np.uint8)
        data[f"y_{split}"] = np.zeros(2, np.uint8)
    names = {key: f"{key}.idx" for key in data}
    with pytest.raises(idxmnist.IdxError) as exc:
        check_arrays(data, names, spec=spec)
    assert str(exc.value) == (
        "x_train.idx holds (28, 28) images but x_extra.idx holds (20, 20); "
        "they do not belong together"
    )
