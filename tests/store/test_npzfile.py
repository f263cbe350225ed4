"""The npz cache: written stored and aligned, memory-mapped back, every bound and message.

Stored members are mapped copy-on-write (writable arrays, the file
untouched), deflated ones (keras's layout) inflated; Fortran order, .npy
versions 2 and 3 and empty splits load as written. A member that declares
more than deflate can produce, runs past the end of the file or cannot be
read is refused by name, before anything is allocated.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import idxmnist
from idxmnist.datasets import registry
from idxmnist.datasets.spec import Split
from idxmnist.load.loader import load_cached
from idxmnist.store.npzfile import ALIGN, load_npz, npz_members, write_npz

from ..support.arrays import KEYS, arrays, same, write_set
from ..support.synth import make_dataset
from ..support.synthetic import pinned_spec


def sized(n_train=6, n_test=3):
    """MNIST's entry with the split sizes of :func:`arrays`, for an npz of them read as is."""
    return dataclasses.replace(
        registry.get("mnist"), splits=(Split("train", n_train), Split("test", n_test))
    )


# -- the layouts: stored and aligned, deflated, numpy's own ------------------------------------


def test_cache_members_are_stored_and_aligned(tmp_path):
    make_dataset(tmp_path / "src")
    out = idxmnist.build_npz(tmp_path / "src", tmp_path / "m.npz")
    with open(out, "rb") as f:
        members = npz_members(f, str(out))
    assert set(members) == {"x_train", "y_train", "x_test", "y_test"}
    for m in members.values():
        assert m.info.compress_type == zipfile.ZIP_STORED
        assert m.data_offset % ALIGN == 0
    assert zipfile.ZipFile(out).testzip() is None  # CRCs right


def test_reads_a_keras_style_compressed_npz(tmp_path, registered):
    arrays = make_dataset(tmp_path / "src")
    registered(pinned_spec(registry.get("mnist"), tmp_path / "src"))  # verified by content
    np.savez_compressed(
        tmp_path / "mnist.npz",
        x_train=arrays["train-images-idx3-ubyte"],
        y_train=arrays["train-labels-idx1-ubyte"],
        x_test=arrays["t10k-images-idx3-ubyte"],
        y_test=arrays["t10k-labels-idx1-ubyte"],
    )
    (x, y), (xt, yt) = idxmnist.load_data(cache_dir=tmp_path, offline=True)
    assert np.array_equal(xt, arrays["t10k-images-idx3-ubyte"]) and x.flags.writeable


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


def test_an_empty_split_is_a_valid_cache(tmp_path):
    """A zero dimension is not a negative one: (0, 28, 28) images load from the cache."""
    want = arrays()
    want["x_test"], want["y_test"] = want["x_test"][:0], want["y_test"][:0]
    np.savez(tmp_path / "mnist.npz", **want)
    assert same(load_cached(tmp_path / "mnist.npz", sized(6, 0)), want)


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


def npz_bytes(want: dict[str, np.ndarray], method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for key in KEYS:
            npy = io.BytesIO()
            np.save(npy, want[key])
            z.writestr(f"{key}.npy", npy.getvalue())
    return buf.getvalue()


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


# -- bounds: zip bombs, members past the end of the file ---------------------------------------


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


def npz_error(path: Path) -> str:
    with pytest.raises(idxmnist.IdxError) as info:
        load_npz(path, KEYS)
    return str(info.value)


def corrupt(path: Path, what: str) -> str:
    return f"{path}: {what}; the npz file is corrupt or not a dataset cache"


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


# -- what is refused, by name ------------------------------------------------------------------


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
