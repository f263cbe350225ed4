"""Memory for the buffers inflated into: advised for transparent huge pages.

The output of a whole-buffer inflate is fresh anonymous memory, written once
from start to end by libdeflate. With 4 KiB pages the kernel takes one page
fault per 4 KiB, each zeroing its page (11,485 of them for MNIST's training
images: about 18 ms of an 84 ms inflate, measured on a 2-core VM). Advised
with ``madvise(MADV_HUGEPAGE)``, where the kernel's transparent huge pages
are set to ``madvise`` or ``always``, it takes one per 2 MiB. NumPy advises
its own large allocations so unless its hint is turned off; idxmnist advises
the buffers it inflates into itself, whatever that setting (the streaming
path's arrays it leaves alone: see ``reader._allocate``). Where the kernel,
the platform or the C library offers none of this, nothing happens.

Also the one handle on the C library (:func:`libc`), for ``madvise`` here
and ``memmem`` in :mod:`.compression`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["HUGE_MIN", "advise_huge_pages", "libc"]

#: arrays at least this large are advised (NumPy's own threshold)
HUGE_MIN = 4 << 20
_PAGE = 4096


@cache
def libc() -> Any:
    """The C library through ctypes, or None where there is none to call."""
    try:
        import ctypes  # only large reads need it (numpy has loaded it already)

        return ctypes.CDLL(None)
    except (ImportError, OSError, TypeError):
        return None


@cache
def _madvise() -> tuple[Any, int] | None:
    """``madvise`` and ``MADV_HUGEPAGE``, or None where either is missing."""
    import mmap  # only large reads need it

    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    lib = libc()
    if advice is None or lib is None:
        return None
    try:
        import ctypes

        madvise = lib.madvise
    except AttributeError:
        return None
    madvise.restype = ctypes.c_int
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return madvise, advice


def advise_huge_pages(address: int, nbytes: int) -> None:
    """Advise the whole pages of ``[address, address + nbytes)`` for huge pages.

    Only for memory not yet written (the advice changes how later page faults
    are served) and at least :data:`HUGE_MIN` long; a refusal is ignored, as
    the memory works the same without.
    """
    if nbytes < HUGE_MIN:
        return
    found = _madvise()
    if found is None:
        return
    madvise, advice = found
    start = -(-address // _PAGE) * _PAGE
    stop = (address + nbytes) // _PAGE * _PAGE
    if stop > start:
        madvise(start, stop - start, advice)
