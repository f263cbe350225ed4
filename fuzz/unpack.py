"""Harness: whole-dataset files unpacked member by member (``store/unpack.py``).

The bytes are a file handed to ``idxmnist import`` or served as a
whole-dataset mirror: an npz, a zip, or a tar (plain, gzip, bz2, xz),
written to a file; ``members`` yields each member as a temporary copy.
Beyond the contract: every copy is a file in the work folder, no larger
than the limit, each is removed once the iteration moves on, and the work
folder is empty at the end, whatever happened.
"""

from __future__ import annotations

from idxmnist.store.unpack import members

from .contract import ALLOWED, fresh, scratch

#: the size limit a member must keep to be copied (the callers pass the largest
#: file the dataset can need; small here, so that one input stays quick)
LIMIT = 1 << 20


def TestOneInput(data: bytes) -> None:
    path = scratch() / "input.archive"
    path.write_bytes(data)
    work = fresh("work")
    walk = members(path, work, limit=LIMIT)
    try:
        before = None
        for member in walk:
            if before is not None:
                assert not before.exists(), f"{before} was not removed when the walk moved on"
            if member.path is None:
                assert member.problem, f"{member.name!r}: no file and no reason"
                continue
            assert member.path.parent == work and member.path.is_file(), member
            assert member.path.stat().st_size <= LIMIT, member
            before = member.path
    except ALLOWED:
        pass
    finally:
        walk.close()
        path.unlink()
    left = sorted(p.name for p in work.iterdir())
    assert not left, f"left in the work folder: {left}"
