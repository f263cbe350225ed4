"""Write the fuzzers' seed corpus: ``python fuzz/make_corpus.py`` (into ``fuzz/corpus/``).

Small files of the real layouts, built here from synthetic arrays (never
real MNIST data), byte for byte the same at every run (fixed seeds, fixed
dates, no timestamps): IDX files of each type raw and in each container,
zips with stored, deflated and ZIP64 members, npz files stored and
compressed, tars in every compression, resume records, ``206`` header
blocks. Beside them, each hostile input of issue 19's table that reaches a
harness (``attack-NN-...``, NN the row), and other known-bad shapes
(``bad-...``).

Files named ``found-*`` are inputs a fuzzer found that broke the contract
(kept verbatim, added by hand with their fix): this script leaves them
alone and rewrites every other file. ``--out DIR`` writes elsewhere (the
test suite checks that the committed corpus is what this script writes).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import pickle
import struct
import sys
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

HERE = Path(__file__).resolve().parent
DATE = (2020, 1, 1, 0, 0, 0)
KEYS = ("x_train", "y_train", "x_test", "y_test")
FOUND = "found-"

# -- IDX -------------------------------------------------------------------------------------

#: IDX type code of each dtype
CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx(arr: np.ndarray) -> bytes:
    """``arr`` as an IDX file: the header, then the big-endian payload (written here by hand)."""
    kind = f"{arr.dtype.kind}{arr.dtype.itemsize}"
    head = struct.pack(f">BBBB{arr.ndim}I", 0, 0, CODES[kind], arr.ndim, *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def header(code: int, shape: tuple[int, ...]) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, code, len(shape), *shape)


def gz(data: bytes) -> bytes:
    out = bytearray(gzip.compress(data, 9, mtime=0))
    out[9] = 3  # the OS byte, Unix, as 3.11 and 3.12 write it (3.13 writes 255, "unknown")
    return bytes(out)


def xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ)


def bz(data: bytes) -> bytes:
    return bz2.compress(data, 9)


CONTAINERS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda d: d,
    ".gz": gz,
    ".xz": xz,
    ".bz2": bz,
}


def arrays() -> dict[str, np.ndarray]:
    """Small arrays of each IDX type, in the shapes the family uses."""
    rng = np.random.default_rng(19)
    strokes = np.zeros((3, 28, 28), np.uint8)
    strokes[:, 6:22, 12:16] = rng.integers(128, 256, (3, 16, 4), dtype=np.uint8)
    return {
        "images-u8": strokes,  # MNIST's shape, a few images
        "labels-u8": rng.integers(0, 10, 12, dtype=np.uint8),
        "images-i8": rng.integers(-128, 128, (2, 4, 5), dtype=np.int8),
        "shorts-i16": rng.integers(-30000, 30000, (2, 3, 4), dtype=np.int16),
        "qmnist-labels-i32": rng.integers(0, 1000, (4, 8), dtype=np.int32),
        "floats-f32": rng.standard_normal((2, 3)).astype(np.float32),
        "doubles-f64": rng.standard_normal((2, 3)).astype(np.float64),  # 12-byte header
        "empty-u8": np.zeros((0, 28, 28), np.uint8),
    }


def gzip_with_fields(data: bytes) -> bytes:
    """A gzip member with every optional header field (FEXTRA, FNAME, FCOMMENT, FHCRC)."""
    head = b"\x1f\x8b\x08" + bytes([0x1E]) + struct.pack("<I", 0) + b"\x02\x03"
    head += struct.pack("<H", 6) + b"ab\x02\x00xy" + b"labels.idx\x00" + b"a comment\x00"
    head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = body.compress(data) + body.flush()
    return head + deflated + struct.pack("<II", zlib.crc32(data), len(data))


def idx_reader() -> dict[str, bytes]:
    out = {}
    for name, arr in arrays().items():
        for suffix, pack in CONTAINERS.items():
            out[f"{name}.idx{suffix}"] = pack(idx(arr))
    labels = idx(arrays()["labels-u8"])
    images = idx(arrays()["images-u8"])
    # issue 19, row 4: a 327-byte bz2 labels file declaring 400 million labels (all there)
    packer = bz2.BZ2Compressor(9)
    parts = [packer.compress(header(0x08, (400_000_000,)))]
    zeros = bytes(1 << 22)
    for _ in range(400_000_000 // len(zeros)):
        parts.append(packer.compress(zeros))
    parts += [packer.compress(bytes(400_000_000 % len(zeros))), packer.flush()]
    out["attack-04-bz2-400m-labels.idx.bz2"] = b"".join(parts)
    # row 8: an 80-byte raw file claiming 3 TB, a raw image file cut in half, an 84-byte
    # xz claiming 4 GB
    out["attack-08-raw-80-bytes-claims-3tb.idx"] = header(0x08, (3_000_000, 1000, 1000)) + bytes(64)
    out["attack-08-raw-images-cut-in-half.idx"] = images[: len(images) // 2]
    out["attack-08-xz-claims-4gb.idx.xz"] = xz(header(0x08, (4, 1024, 1024, 1024)))
    out["bad-gzip-two-members.idx.gz"] = gz(labels) + gz(b"\x00")
    out["bad-gzip-trailing-junk.idx.gz"] = gz(labels) + b"junk"
    out["bad-gzip-cut.idx.gz"] = gz(images)[:-9]
    bad_crc = bytearray(gz(labels))
    bad_crc[-8] ^= 0xFF
    out["bad-gzip-crc.idx.gz"] = bytes(bad_crc)
    out["gzip-all-header-fields.idx.gz"] = gzip_with_fields(labels)
    out["bad-gzip-bomb-declares-10.idx.gz"] = gz(header(0x08, (10,)) + bytes(1 << 20))
    out["bad-xz-two-streams.idx.xz"] = xz(labels) + xz(b"")
    out["bad-bz2-two-streams.idx.bz2"] = bz(labels) + bz(b"\x00")
    out["bad-raw-trailing-bytes.idx"] = labels + b"\x00"
    out["bad-html-page.idx"] = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"
    out["bad-33-dimensions.idx"] = bytes([0, 0, 8, 33]) + bytes(4 * 33)
    out["bad-type-code.idx"] = bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 7])
    out["bad-three-bytes.idx"] = b"\x00\x00\x08"
    out["bad-header-cut.idx.gz"] = gz(header(0x08, (10, 28, 28))[:9])
    out["bad-raw-payload-over-256tib.idx"] = header(0x0E, (1 << 20, 1 << 20, 1 << 10))
    return out


# -- zip --------------------------------------------------------------------------------------


def make_zip(
    members: list[tuple[str, bytes, int]],
    *,
    comment: bytes = b"",
    force_zip64: bool = False,
    stream: bool = False,
) -> bytes:
    """A zip of ``(name, data, method)`` members, written by ``zipfile`` with a fixed date.

    ``stream``: written to an unseekable stream, so each member has a data descriptor.
    """
    buf = io.BytesIO()
    target: io.RawIOBase | io.BytesIO = _Unseekable(buf) if stream else buf
    with zipfile.ZipFile(target, "w") as z:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            if force_zip64:
                with z.open(info, "w", force_zip64=True) as f:
                    f.write(data)
            else:
                z.writestr(info, data)
        z.comment = comment
    return buf.getvalue()


class _Unseekable(io.RawIOBase):
    def __init__(self, buf: io.BytesIO) -> None:
        super().__init__()
        self._buf = buf

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b: object) -> int:
        return self._buf.write(b)  # type: ignore[arg-type]

    def tell(self) -> int:
        raise OSError("unseekable")


def with_zip64_end(archive: bytes) -> bytes:
    """``archive`` with ZIP64 end records, the EOCD's fields at 0xFFFF / 0xFFFFFFFF (by hand)."""
    eocd = archive.rindex(b"PK\x05\x06")
    count, size, start = struct.unpack_from("<HLL", archive, eocd + 10)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return archive[:eocd] + record + locator + end


def central_entries(archive: bytes) -> list[int]:
    """Offsets of every central directory header."""
    out, at = [], archive.find(b"PK\x01\x02")
    while at >= 0:
        out.append(at)
        at = archive.find(b"PK\x01\x02", at + 4)
    return out


def overlapping(copies: int, member_size: int) -> bytes:
    """Row 2 (scaled down): ``copies`` directory entries, one name, all on one deflated member."""
    one = make_zip([("train-images-idx3-ubyte", bytes(member_size), zipfile.ZIP_DEFLATED)])
    (entry,) = central_entries(one)
    eocd = one.rindex(b"PK\x05\x06")
    directory = one[entry:eocd] * copies
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, copies, copies, len(directory), entry, 0)
    return one[:entry] + directory + end


def set_flag(archive: bytes, bits: int) -> bytes:
    """Every member's general-purpose flags |= ``bits`` (local and central headers)."""
    out = bytearray(archive)
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = archive.find(sig)
        while pos >= 0:
            flags = struct.unpack_from("<H", out, pos + at)[0]
            struct.pack_into("<H", out, pos + at, flags | bits)
            pos = archive.find(sig, pos + 4)
    return bytes(out)


def zips() -> dict[str, bytes]:
    """The zip seeds shared by ``zip_directory`` and ``zip_member``."""
    a = arrays()
    labels, images = idx(a["labels-u8"]), idx(a["images-u8"])
    d, s = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
    emnist = [  # EMNIST's gzip.zip: gzip files stored under gzip/
        ("gzip/emnist-digits-train-images-idx3-ubyte.gz", gz(images), s),
        ("gzip/emnist-digits-train-labels-idx1-ubyte.gz", gz(labels), s),
        ("gzip/emnist-digits-test-labels-idx1-ubyte.gz", gz(idx(a["labels-u8"][:5])), d),
    ]
    mixed = [("stored", images, s), ("deflated", images, d), ("empty", b"", d), ("dir/", b"", s)]
    out = {
        "emnist-gzip.zip": make_zip(emnist),
        "stored-and-deflated.zip": make_zip(mixed),
        "comment.zip": make_zip(mixed[:2], comment=b"made for idxmnist's fuzzer " * 4),
        "long-comment.zip": make_zip(mixed[:1], comment=b"c" * 9000),
        "data-descriptors.zip": make_zip(mixed[:3], stream=True),
        "zip64-members.zip": make_zip(mixed[:2], force_zip64=True),
        "zip64-end-records.zip": with_zip64_end(make_zip(emnist)),
        "zip64-everything.zip": with_zip64_end(make_zip(mixed[:2], force_zip64=True)),
        "empty.zip": make_zip([]),
        "utf8-name.zip": make_zip([("gzip/émnist-\u4e00.gz", gz(labels), s)]),
        "bzip2-and-lzma-members.zip": make_zip(
            [("b", labels, zipfile.ZIP_BZIP2), ("l", labels, zipfile.ZIP_LZMA)]
        ),
        "prefixed.zip": b"#!/bin/sh\nexit 0\n" + make_zip(mixed[:2]),
        # row 1: names holding ANSI escape sequences and newlines
        "attack-01-escape-names.zip": make_zip(
            [("\x1b[2J\x1b[31mevil", labels, s), ("a\nrecognised x -> /etc/passwd", labels, d)]
        ),
        # row 2, scaled down: 20 entries on one 512 KiB deflated member
        "attack-02-overlapping-entries.zip": overlapping(20, 512 << 10),
        "bad-traversal-names.zip": make_zip([("../../etc/passwd", labels, s), ("/abs", b"", s)]),
        "bad-encrypted.zip": set_flag(make_zip(mixed[:2]), 0x1),
        "bad-cut.zip": make_zip(mixed[:2])[:-40],
    }
    twice = io.BytesIO()
    with zipfile.ZipFile(twice, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": the point of this one
        for data in (labels, images):
            z.writestr(zipfile.ZipInfo("same", DATE), data)
    out["bad-two-members-one-name.zip"] = twice.getvalue()
    lying = bytearray(make_zip([("m", images, d)]))
    (entry,) = central_entries(bytes(lying))
    struct.pack_into("<L", lying, entry + 24, 1 << 30)  # declares 1 GiB from a few hundred bytes
    out["bad-deflate-bomb-declared.zip"] = bytes(lying)
    return out


# -- npz --------------------------------------------------------------------------------------


def npy_bytes(arr: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buf = io.BytesIO()
    npy.write_array(buf, arr, version=version, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


def npz(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    """An npz: each ``key -> .npy bytes`` as member ``key.npy`` (a fixed date, as no writer)."""
    return make_zip([(f"{k}.npy", v, method) for k, v in members.items()])


def keras_arrays(x_dtype: str = "u1") -> dict[str, np.ndarray]:
    a = arrays()
    x = a["images-u8"]
    return {
        "x_train": x.astype(x_dtype),
        "y_train": np.array([1, 2, 3], np.uint8),
        "x_test": x[:2],
        "y_test": np.array([4, 5], np.uint8),
    }


def stored_aligned(arrs: dict[str, np.ndarray]) -> bytes:
    """The cache layout idxmnist writes (stored, 64-byte aligned): with its own writer."""
    import tempfile

    from idxmnist.store.npzfile import write_npz

    with tempfile.TemporaryDirectory() as tmp:
        return write_npz(Path(tmp) / "cache.npz", arrs).read_bytes()


def big_npy_header() -> bytes:
    """Row 6: a ``.npy`` whose header (20,000 bytes) is over NumPy's 10,000-byte limit."""
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"
    text += " " * (20000 - len(text) - 11) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + b"\x01\x02\x03"


def npy_with(text: str, payload: bytes = b"") -> bytes:
    """A version 1.0 ``.npy`` with the header dictionary ``text``, padded as NumPy pads it."""
    body = text + " " * (-(10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode() + payload


def npz_files() -> dict[str, bytes]:
    keras = keras_arrays()
    npys = {k: npy_bytes(v) for k, v in keras.items()}
    d = zipfile.ZIP_DEFLATED
    return {
        "keras-stored-aligned.npz": stored_aligned(keras),
        "keras-stored.npz": npz(npys),
        "keras-compressed.npz": npz(npys, d),
        "k49-arr_0.npz": npz({"arr_0": npy_bytes(keras["x_test"])}, d),
        "npy-versions-2-and-3.npz": npz(
            {"a": npy_bytes(keras["y_train"], (2, 0)), "b": npy_bytes(keras["y_test"], (3, 0))}
        ),
        "fortran-and-big-endian.npz": npz(
            {
                "f": npy_bytes(np.asfortranarray(arrays()["shorts-i16"][0])),
                "b": npy_bytes(arrays()["shorts-i16"].astype(">i2")),
            }
        ),
        "zip64-members.npz": make_zip(
            [(f"{k}.npy", v, zipfile.ZIP_STORED) for k, v in npys.items()], force_zip64=True
        ),
        # row 5: x_train as bool, as uint16
        "attack-05-x-train-bool.npz": npz({**npys, "x_train": npy_bytes(keras["x_train"] > 0)}),
        "attack-05-x-train-uint16.npz": npz(
            {**npys, "x_train": npy_bytes(keras["x_train"].astype(np.uint16))}, d
        ),
        # row 6: an .npy header over NumPy's size limit
        "attack-06-npy-header-over-limit.npz": npz({**npys, "y_test": big_npy_header()}),
        # an object array, written by hand: NumPy's own pickle differs between versions
        "bad-object-array.npz": npz(
            {
                "x_train": npy_with(
                    "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                    pickle.dumps([1, "a"], protocol=3),
                )
            }
        ),
        "bad-negative-shape.npz": npz(
            {"x_train": npy_with("{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 3), }")}
        ),
        "bad-shape-overflows.npz": npz(
            {"a": npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (2**62, 8), }")}
        ),
        "bad-shape-past-the-end.npz": npz(
            {"a": npy_with("{'descr': '|u1', 'fortran_order': False, 'shape': (1000,), }", b"ab")}
        ),
        "bad-not-npy-member.npz": make_zip(
            [("x_train.npy", npys["x_train"], 0), ("a.txt", b"", 0)]
        ),
        "bad-npy-magic.npz": npz({"x_train": b"\x93NUMPX\x01\x00" + npys["x_train"][8:]}),
    }


# -- whole-dataset files -------------------------------------------------------------------------


def tar(
    members: Sequence[tarfile.TarInfo | tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT
) -> bytes:
    """A tar of files ``(name, data)`` and other members (``TarInfo``), fixed owner and date."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                t.addfile(member)
                continue
            name, data = member
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime = kind, link, 0
    return info


def huge_first_member(copies: int) -> bytes:
    """Row 3 (scaled down): a tar.bz2 whose first member is ``copies`` x 45 MB of zeros.

    Each 45 MB is one bz2 stream of 50 bytes, repeated (tar.bz2 readers take several
    streams); the member is declared as large as it is, then the MNIST labels follow.
    """
    size = 45_000_000 * copies
    head = tarfile.TarInfo("train-images-idx3-ubyte")
    head.size, head.mtime = size, 0
    labels = idx(arrays()["labels-u8"])
    rest = bytes(-size % 512) + tar([("train-labels-idx1-ubyte", labels)])
    return bz(head.tobuf(format=tarfile.USTAR_FORMAT)) + bz(bytes(45_000_000)) * copies + bz(rest)


def tar_header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime = kind, size, 0
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def pax_bomb() -> bytes:
    """A 590-byte tar.bz2 whose pax header declares 360 MB (tarfile reads it whole)."""
    size = 45_000_000 * 8
    rest = tar([("train-labels-idx1-ubyte", idx(arrays()["labels-u8"]))])
    head = tar_header("././@PaxHeader", tarfile.XHDTYPE, size)
    return bz(head) + bz(bytes(45_000_000)) * 8 + bz(rest)


def pax_digits(count: int) -> bytes:
    """A tar whose pax header is ``count`` digits (tarfile's search is quadratic in them)."""
    head = tar_header("././@PaxHeader", tarfile.XHDTYPE, count) + b"1" * count
    member = tar_header("x", tarfile.REGTYPE, 3) + b"abc" + bytes(509)
    return head + bytes(-count % 512) + member + bytes(1024)


def sparse_map(entries: int) -> bytes:
    """A tar.bz2 of a GNU sparse 1.0 member whose map has ``entries`` entries (all read)."""
    records = b"".join(
        f"{len(r) + len(str(len(r) + 3)) + 1} {r}".encode()
        for r in ("GNU.sparse.major=1\n", "GNU.sparse.minor=0\n", "GNU.sparse.name=x\n")
    )
    body = b"100000000\n" + b"0\n" * entries
    data = tar_header("././@PaxHeader", tarfile.XHDTYPE, len(records)) + records
    data += bytes(-len(records) % 512) + tar_header("x", tarfile.REGTYPE, len(body)) + body
    return bz(data + bytes(1024))


def unpack_files() -> dict[str, bytes]:
    a = arrays()
    files = [
        ("train-images-idx3-ubyte.gz", gz(idx(a["images-u8"]))),
        ("train-labels-idx1-ubyte.gz", gz(idx(a["labels-u8"][:3]))),
        ("t10k-images-idx3-ubyte", idx(a["images-u8"][:2])),
        ("t10k-labels-idx1-ubyte", idx(a["labels-u8"][:2])),
    ]
    d = zipfile.ZIP_DEFLATED
    plain = tar(files)
    keras = keras_arrays()
    npys = {k: npy_bytes(v) for k, v in keras.items()}
    pax = tarfile.TarInfo("pax/" + "long-name-" * 12)
    pax.size, pax.mtime, pax.pax_headers = 3, 0, {"comment": "x" * 300}
    links = [
        special("mnist/link", tarfile.SYMTYPE, "/etc/passwd"),
        special("mnist/hard", tarfile.LNKTYPE, "mnist/link"),
        special("mnist/device", tarfile.CHRTYPE),
        special("mnist/fifo", tarfile.FIFOTYPE),
        special("mnist/", tarfile.DIRTYPE),
    ]
    return {
        "mnist.zip": make_zip([(n, b, d if not n.endswith(".gz") else 0) for n, b in files]),
        "mnist.tar": plain,
        "mnist.tar.gz": gz(plain),
        "mnist.tar.bz2": bz(plain),
        "mnist.tar.xz": xz(plain),
        "mnist-ustar-in-folder.tar": tar(
            [(f"mnist/raw/{n}", b) for n, b in files[:2]], tarfile.USTAR_FORMAT
        ),
        "mnist-pax.tar": tar([files[3], (pax.name, b"abc")], tarfile.PAX_FORMAT),
        "gnu-long-names.tar": tar([("gnu/" + "very-long-member-name-" * 10, b"abc")]),
        "keras-stored.npz": npz(npys),
        "keras-compressed.npz": npz(npys, d),
        # row 1: names with escape sequences and newlines, in a tar and a zip
        "attack-01-escape-names.tar": tar(
            [("\x1b]0;owned\x07train-images", b"x"), ("a\nrecognised x -> /etc/passwd", b"")]
        ),
        "attack-01-escape-names.zip": make_zip([("\x1b[31mred\x1b[0m", b"x", 0)]),
        # row 2, scaled down: 20 entries on one 512 KiB deflated member
        "attack-02-overlapping-entries.zip": overlapping(20, 512 << 10),
        # row 3, scaled down: the first member is 360 MB of zeros (the attack's 32 GiB hangs)
        "attack-03-tar-bz2-huge-zeros.tar.bz2": huge_first_member(8),
        # row 5: an npz whose x_train is bool, uint16
        "attack-05-x-train-bool.npz": npz({**npys, "x_train": npy_bytes(keras["x_train"] > 0)}),
        "attack-05-x-train-uint16.npz": npz(
            {**npys, "x_train": npy_bytes(keras["x_train"].astype(np.uint16))}
        ),
        "bad-links-devices-fifos.tar": tar([*links, files[3]]),
        "bad-traversal.tar": tar([("../../outside", b"x"), ("/etc/cron.d/x", b"y")]),
        "bad-tar-cut.tar.gz": gz(plain)[: len(gz(plain)) // 2],
        "bad-encrypted.zip": set_flag(make_zip([(n, b, 0) for n, b in files[2:]]), 0x1),
        "bad-member-over-limit.tar": tar([("big", bytes((1 << 20) + 1)), files[3]])[:4096],
        "bad-tar-pax-header-of-360-mb.tar.bz2": pax_bomb(),
        "bad-tar-pax-header-of-digits.tar": pax_digits(20 << 10),
        "bad-tar-gnu-sparse-map.tar.bz2": sparse_map(1 << 20),
        "bad-npz-fortran.npz": npz(
            {**npys, "x_train": npy_bytes(np.asfortranarray(keras["x_train"]))}
        ),
    }


# -- resume records, Content-Range ------------------------------------------------------------

URL = "http://mirror.invalid/train-labels-idx1-ubyte.gz"


def record(selector: int, value: object) -> bytes:
    """A ``part_record`` input: the ``.part``'s size selector, then the record's bytes."""
    text = value if isinstance(value, bytes) else json.dumps(value).encode()
    return bytes([selector]) + text


def part_records() -> dict[str, bytes]:
    good = {"url": URL, "etag": '"abc"', "last_modified": None, "total": 4096, "synced": 1000}
    return {
        "resume-at-1000.json": record(5, good),
        "resume-cut-back.json": record(5, {**good, "synced": 100}),
        "resume-weak-etag.json": record(4, {**good, "etag": 'W/"x"', "synced": 900}),
        "resume-date-only.json": record(
            3, {**good, "etag": None, "last_modified": "Wed, 21 Oct 2015 07:28:00 GMT"}
        ),
        "resume-no-total.json": record(4, {**good, "total": None}),
        "done-already.json": record(5, {**good, "synced": 4096}),
        "span.json": record(3, {**good, "url": f"{URL} bytes=0-99", "synced": 50}),
        "other-url.json": record(5, {**good, "url": "http://elsewhere.invalid/x"}),
        "no-part.json": record(0, good),
        "empty-part.json": record(1, good),
        "synced-zero.json": record(5, {**good, "synced": 0}),
        "bad-types.json": record(5, {**good, "synced": "1000", "total": 1.5}),
        "bad-negative.json": record(5, {**good, "synced": -1}),
        "bad-missing-key.json": record(5, {k: v for k, v in good.items() if k != "etag"}),
        "bad-not-an-object.json": record(5, [URL, 1000]),
        "bad-cut.json": record(5, json.dumps(good).encode()[:40]),
        "bad-not-utf8.json": record(5, b'{"url": "\xff\xfe"}'),
        "bad-empty.json": record(5, b""),
    }


def block(*lines: str) -> bytes:
    return ("".join(f"{line}\r\n" for line in lines) + "\r\n").encode("latin-1")


def content_ranges() -> dict[str, bytes]:
    return {
        "from-100.txt": block("Content-Range: bytes 100-199/200", "Content-Length: 100"),
        "from-0.txt": block("Content-Range: bytes 0-199/200", "Content-Length: 200"),
        "unknown-total.txt": block("Content-Range: bytes 100-199/*"),
        "span.txt": block("Content-Range: bytes 100-149/200", "Content-Length: 50"),
        "case-and-spaces.txt": block("content-range:   BYTES  100-199/200  "),
        "with-etag.txt": block(
            'ETag: "abc"', "Content-Range: bytes 100-199/200", "Accept-Ranges: bytes"
        ),
        "bad-other-start.txt": block("Content-Range: bytes 0-99/200"),
        "bad-length-disagrees.txt": block("Content-Range: bytes 100-199/200", "Content-Length: 7"),
        "bad-end-before-start.txt": block("Content-Range: bytes 100-50/200"),
        "bad-past-the-end.txt": block("Content-Range: bytes 100-299/200"),
        "bad-unsatisfied.txt": block("Content-Range: bytes */200"),
        "bad-other-unit.txt": block("Content-Range: items 100-199/200"),
        "bad-negative.txt": block("Content-Range: bytes -100-199/200"),
        "bad-two-headers.txt": block("Content-Range: bytes 100-199/200", "Content-Range: x"),
        "bad-folded.txt": block("Content-Range: bytes 100-199/", " 200"),
        "bad-missing.txt": block("Content-Length: 100"),
        "bad-length-not-a-number.txt": block(
            "Content-Range: bytes 100-199/200", "Content-Length: 1e2"
        ),
    }


# -- writing ------------------------------------------------------------------------------------


def corpus() -> dict[str, dict[str, bytes]]:
    """Every seed: harness -> file name -> bytes."""
    shared = zips()
    return {
        "idx_reader": idx_reader(),
        "zip_directory": shared,
        "zip_member": shared,
        "npz": npz_files(),
        "unpack": unpack_files(),
        "part_record": part_records(),
        "content_range": content_ranges(),
    }


def write(out: Path) -> dict[str, dict[str, bytes]]:
    """Write the corpus under ``out/<harness>/``; ``found-*`` files there are kept."""
    seeds = corpus()
    for harness, files in seeds.items():
        folder = out / harness
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if not old.name.startswith(FOUND) and old.name not in files:
                old.unlink()
        for name, data in files.items():
            (folder / name).write_bytes(data)
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus")
    args = parser.parse_args(argv)
    seeds = write(args.out)
    total = sum(len(d) for files in seeds.values() for d in files.values())
    count = sum(len(files) for files in seeds.values())
    print(f"{count} seeds, {total} bytes, in {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))  # idxmnist from this checkout (its npz writer)
    sys.exit(main())
