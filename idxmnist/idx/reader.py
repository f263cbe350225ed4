"""Read IDX files: source -> bytes -> header + payload -> array.

A source is a path or a binary file object. The container is detected from
the leading bytes, never from the name. The output array is allocated once,
after the header has been checked against what the source can hold, and the
payload lands straight in it:

* gzip from a file of known size, with libdeflate installed: one whole-buffer
  inflate straight into the array's memory (or, where libdeflate cannot be
  called directly, into a ``bytearray`` that the array then wraps);
* everything else: chunk-by-chunk decompression into the array's memory.

The whole-buffer inflate's output is advised for huge pages before anything
lands in it (:mod:`.memory`).

On little-endian hosts multi-byte payloads are then byte-swapped in place.
``transpose=True`` (EMNIST's images) swaps the last two axes while decoding:
each chunk of whole images is transposed into its place in the output
(:mod:`.transpose`), never as a second pass.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Union

import numpy as np

from ..errors import IdxError, TruncatedError, describe
from ..files import open_regular
from . import compression, decode
from .compression import Container
from .decode import Backend
from .format import MAX_NDIM, IdxHeader, parse_header, read_header
from .memory import advise_huge_pages

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from numpy.typing import NDArray

__all__ = [
    "read_idx",
    "read_idx_from",
    "read_idx_header",
    "inspect_idx",
    "idx_stream",
    "IdxInfo",
    "Source",
]

Source = Union[str, "os.PathLike[str]", BinaryIO]

#: Inflate gzip in one call only up to this input and output size; larger files stream.
WHOLE_BUFFER_MAX = 1 << 30


@dataclass(frozen=True)
class IdxInfo:
    """What ``idxmnist info`` reports about one IDX file."""

    header: IdxHeader
    compression: Container
    stored_size: int | None  # bytes on disk (None for an unsized stream)

    @property
    def raw_size(self) -> int:
        return self.header.total_size


class _Prefixed(io.RawIOBase):
    """An unseekable stream with bytes already read put back in front."""

    def __init__(self, lead: bytes, f: BinaryIO):
        self._lead, self._f = lead, f

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        b = memoryview(buffer).cast("B")
        if self._lead:
            n = min(len(b), len(self._lead))
            b[:n] = self._lead[:n]
            self._lead = self._lead[n:]
            return n
        data = self._f.read(len(b))
        b[: len(data)] = data
        return len(data)


def _binary_file(obj: object) -> bool:
    return hasattr(obj, "read") and not isinstance(obj, io.TextIOBase)


@contextmanager
def _opened(source: Source) -> Iterator[tuple[BinaryIO, str, int | None]]:
    """Yield ``(binary file, name, bytes left in it or None)``."""
    if isinstance(source, (str, os.PathLike)):
        # unbuffered: a buffered read() of the whole file after the 6-byte sniff
        # costs ~9 ms on a 10 MB file (measured), a plain one ~0.4 ms; every
        # read here is large anyway
        with open_regular(source, buffering=0) as f:  # never a FIFO or a device
            yield f, describe(source), os.fstat(f.fileno()).st_size
        return
    if not _binary_file(source):
        raise TypeError(f"read_idx needs a path or a binary file object, not {source!r}")
    size = None
    try:
        if source.seekable():
            pos = source.tell()
            size = source.seek(0, os.SEEK_END) - pos
            source.seek(pos)
    except (AttributeError, OSError):
        size = None
    yield source, describe(source), size


def _sniff(f: BinaryIO, size: int | None) -> tuple[Container, BinaryIO]:
    lead = b""
    pos = f.tell() if size is not None else 0
    while len(lead) < 6:  # a raw stream (pipe, socket) may return fewer bytes
        part = f.read(6 - len(lead))
        if not part:
            break
        lead += part
    if size is not None:
        f.seek(pos)
    else:
        f = io.BufferedReader(_Prefixed(lead, f))
    return compression.sniff(lead), f


def _check_fits(header: IdxHeader, kind: Container, size: int | None, name: str) -> None:
    """Refuse, before allocating, a header that declares more than the source holds."""
    if size is None:
        return
    total = header.total_size
    if kind == "raw":
        if size < total:
            raise TruncatedError(
                f"{name}: file is {size} bytes but its IDX header declares "
                f"{total} (shape {header.shape}); the file is truncated, "
                "delete it and fetch it again"
            )
        if size > total:
            raise IdxError(
                f"{name}: file is {size} bytes but its IDX header declares "
                f"{total}; {size - total} trailing bytes follow the data"
            )
    elif total > compression.MAX_RATIO[kind] * size + compression.MAX_RATIO_SLACK:
        raise IdxError(
            f"{name}: IDX header declares {total} bytes (shape {header.shape}), "
            f"more than a {size}-byte {kind} file can possibly hold; the header "
            "is corrupt or the file is truncated"
        )


def _allocate(header: IdxHeader, name: str, *, whole_file: bool = False) -> np.ndarray:
    """The output array, unwritten; ``whole_file``: a flat uint8 buffer for the header and
    the payload, as a whole-file inflate writes them, advised for huge pages. The
    streaming path's arrays are not: measured 2026-12-03, EMNIST byclass upright (the
    transpose working right behind the decoder) went from 1.25x to 3.6x the floor with
    the advice, and QMNIST's xz from 0.94x to 1.5x."""
    try:
        if whole_file:
            arr = np.empty(header.total_size, dtype=np.uint8)
        else:
            arr = np.empty(header.shape, dtype=header.dtype)
    except (MemoryError, ValueError):
        raise IdxError(
            f"{name}: IDX header declares shape {header.shape} "
            f"({header.payload_size} bytes), more than can be allocated; "
            "the header is corrupt"
        ) from None
    if whole_file:
        advise_huge_pages(arr.__array_interface__["data"][0], arr.nbytes)
    return arr


def _read_whole_gzip(f: BinaryIO, name: str, size: int, backend: Backend) -> np.ndarray | None:
    """The libdeflate fast path; None when it does not apply or the file is bad.

    A bad file returns None so the streaming path can diagnose it precisely.
    """
    data = f.read()
    lead = compression.peek_gzip(data, 4 + 4 * MAX_NDIM, name)
    if len(lead) < 4 + 4 * MAX_NDIM and len(data) > compression.PEEK_INPUT:
        return None  # a long gzip header field: let the streaming path read it
    if len(lead) < 4:
        return None  # empty, or cut off in the gzip header: the streaming path says which
    header = parse_header(lead, name)
    _check_fits(header, "gzip", size, name)
    total = header.total_size
    isize = int.from_bytes(data[-4:], "little")
    if header.payload_size == 0 or total > WHOLE_BUFFER_MAX or isize != total:
        return None
    out: np.ndarray | bytearray | None
    if compression.inflates_into():
        out = _allocate(header, name, whole_file=True)
        if not compression.inflate_gzip_into(data, out.data):
            return None
    else:  # libdeflate cannot be called directly here: through the deflate module
        out = compression.inflate_gzip_whole(data, total)
        if out is None:
            return None
    del data
    arr = np.frombuffer(out, dtype=header.dtype, count=header.count, offset=header.header_size)
    if not arr.flags.aligned:  # an 8-byte type after a 4-byte-aligned header
        arr = arr.copy()
    arr = arr.reshape(header.shape)
    decode.swap_inplace(
        arr.reshape(-1),
        decode.resolve_backend(backend, header.payload_size, header.dtype.itemsize),
    )
    return arr


def _truncated(name: str, got: int, header: IdxHeader) -> TruncatedError:
    return TruncatedError(
        f"{name}: the data ends after {got} of {header.payload_size} payload "
        f"bytes declared by the IDX header (shape {header.shape}); the file "
        "is truncated (an interrupted download?), delete it and fetch it again"
    )


def _transposed_shape(header: IdxHeader, name: str) -> tuple[int, int, int]:
    if header.ndim != 3:
        raise IdxError(
            f"{name}: transpose=True needs images, shape (count, height, width); "
            f"the IDX header declares shape {header.shape}"
        )
    n, h, w = header.shape
    return n, w, h


def _read_stream(
    f: BinaryIO,
    kind: Container,
    name: str,
    size: int | None,
    backend: Backend,
    transpose: bool = False,
) -> np.ndarray:
    stream = compression.Stream(f, kind, name)
    header = read_header(stream)
    _check_fits(header, kind, size, name)
    shape: tuple[int, ...] = _transposed_shape(header, name) if transpose else header.shape
    arr = _allocate(header, name)
    flat = arr.reshape(-1)
    itemsize = header.dtype.itemsize
    chosen = decode.resolve_backend(backend, header.payload_size, itemsize)
    swap = itemsize > 1 and decode.NEEDS_SWAP
    done = 0
    with ExitStack() as stack:
        turner = None
        if transpose:
            from .transpose import THREAD_MIN_BYTES, InPlaceTransposer

            threaded = header.payload_size >= THREAD_MIN_BYTES
            stored = (shape[0], shape[2], shape[1])
            turner = stack.enter_context(InPlaceTransposer(flat, stored, threaded=threaded))

        def decode_landed(start: int, stop: int) -> None:
            nonlocal done
            end = stop - stop % itemsize
            if end > done:
                if swap:
                    decode.swap_inplace(flat[done // itemsize : end // itemsize], chosen)
                done = end
                if turner is not None:
                    turner.landed(done // itemsize)

        on_chunk = decode_landed if swap or transpose else None
        got = stream.readinto(flat.view(np.uint8).data, on_chunk)
        if got < header.payload_size:
            raise _truncated(name, got, header)
    stream.finish()
    return arr.reshape(shape)


def read_idx(source: Source, *, backend: Backend = "auto", transpose: bool = False) -> NDArray[Any]:
    """Reads one IDX file (raw, gzip, xz or bz2) into a new NumPy array.

    The container is detected from the first bytes, never from the name. The
    header is checked against what the source can hold before the array is
    allocated, and the payload lands straight in it.

    Args:
        source: a path, or a binary file object (seekable or not: a pipe or a
            socket works too).
        backend: the decoder for multi-byte types: ``"numpy"``, ``"numba"``
            (needs ``idxmnist[numba]``) or ``"auto"`` (Numba for payloads of
            64 MB or more once its kernels are loaded, else NumPy). uint8
            files need no decoding.
        transpose: read images ``(count, h, w)`` as ``(count, w, h)``, each
            transposed while it is decoded, chunk by chunk into the output
            (EMNIST stores its images so); never a second pass.

    Returns:
        A native-endian, C-contiguous, writable array of the dtype and shape
        the header declares (MNIST's images: uint8, (60000, 28, 28)).

    Raises:
        IdxError: the data is malformed, corrupt or not IDX (an HTML page, a
            zip), or ``transpose=True`` for data that is not images;
            ``TruncatedError``, a subclass, when it is cut short. The message
            names the file and says what to do.
        TypeError: ``source`` is a text-mode file or not a file at all.
        ValueError: ``backend`` is not one of the three names.
        ImportError: ``backend="numba"`` without numba installed.

    Example:

    >>> x = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> x.shape, x.dtype                           # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    decode.resolve_backend(backend, 0, 1)  # reject a bad name before any I/O
    with _opened(source) as (f, name, size):
        kind, f = _sniff(f, size)
        if transpose:
            return _read_stream(f, kind, name, size, backend, transpose=True)
        if (
            kind == "gzip"
            and size is not None
            and size <= WHOLE_BUFFER_MAX
            and compression.libdeflate() is not None
        ):
            start = f.tell()
            arr = _read_whole_gzip(f, name, size, backend)
            if arr is not None:
                return arr
            f.seek(start)
        return _read_stream(f, kind, name, size, backend)


class _Chained:
    """The bytes already read by the sniff, then the rest of an unseekable stream.

    ``read`` hands the underlying stream's chunks through without copying.
    """

    def __init__(self, lead: bytes, f: Readable) -> None:
        self._lead, self._f = lead, f

    def read(self, n: int = -1) -> bytes:
        if self._lead:
            cut = len(self._lead) if n < 0 else n
            lead, self._lead = self._lead[:cut], self._lead[cut:]
            return lead
        return self._f.read(n)

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Readable(Protocol):
    """What :func:`read_idx_from` needs of a stream: ``read(n)``."""

    def read(self, n: int = -1, /) -> bytes: ...


def read_idx_from(
    f: Readable,
    name: str,
    size: int | None,
    *,
    backend: Backend = "auto",
    transpose: bool = False,
) -> np.ndarray:
    """Read an IDX file from an open, unseekable binary stream (a zip member).

    ``name`` names it in errors; ``size`` is the stream's length in bytes if
    known (a header that declares more than that can hold is refused before
    anything is allocated). Always decodes chunk by chunk; otherwise as
    :func:`read_idx`.
    """
    decode.resolve_backend(backend, 0, 1)
    lead = b""
    while len(lead) < 6:
        part = f.read(6 - len(lead))
        if not part:
            break
        lead += part
    chained: Any = _Chained(lead, f)
    return _read_stream(chained, compression.sniff(lead), name, size, backend, transpose)


@contextmanager
def idx_stream(source: Source) -> Iterator[tuple[compression.Stream, IdxHeader]]:
    """An IDX source's decompressed stream, positioned at its payload, and its header.

    The caller reads the payload in bounded chunks and calls
    ``stream.finish()`` to check that nothing follows it. (Nothing is
    allocated from the header here; ``read_idx``, which allocates the whole
    array, first checks the header against what the source can hold.)
    """
    with _opened(source) as (f, name, size):
        kind, f = _sniff(f, size)
        stream = compression.Stream(f, kind, name)
        yield stream, read_header(stream)


def read_idx_header(source: Source) -> IdxHeader:
    """Reads only the header of an IDX file: its type, shape and sizes.

    Reads (and for compressed files inflates) only the first bytes.

    Args:
        source: a path, or a binary file object.

    Returns:
        The :class:`~idxmnist.IdxHeader`: ``.dtype`` (native), ``.shape``,
        ``.header_size``, ``.payload_size``, ``.total_size``.

    Raises:
        IdxError: the bytes are not an IDX header, or the header declares
            more than the file can hold (``TruncatedError`` when it is cut).

    Example:

    >>> read_idx_header("train-images-idx3-ubyte.gz").shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    return inspect_idx(source).header


def inspect_idx(source: Source, *, size: int | None = None) -> IdxInfo:
    """Header, container and stored size of an IDX file, reading only its start.

    The header is checked against the file's size as :func:`read_idx` checks
    it (a raw file of another length, a compressed one too small to hold
    it): an :class:`IdxError` (``TruncatedError`` when it is cut), never a
    description of data that is not there. ``size``: the length of a stream
    that cannot tell it (an archive member: its directory's size).
    """
    with _opened(source) as (f, name, known):
        size = known if size is None else size
        kind, f = _sniff(f, known)
        header = read_header(compression.Stream(f, kind, name))
        _check_fits(header, kind, size, name)
        return IdxInfo(header, kind, size)
