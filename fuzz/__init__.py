"""Coverage-guided fuzzing of every parser that reads outside bytes (atheris, libFuzzer).

One harness per parser, each a module with ``TestOneInput(data: bytes)``:

=================  ==================================================================
harness            what it feeds the bytes to
=================  ==================================================================
``idx_reader``     ``read_idx`` (a seekable ``BytesIO``, a file, an unseekable stream,
                   ``transpose=True``) and ``read_idx_header``: raw, gzip, xz, bz2
``zip_directory``  ``zipdirectory.end_record`` from tails of several lengths (following
                   ``NeedMoreError`` as a ranged fetch does), ``Directory``, its spans,
                   and each member read from its span
``zip_member``     ``ziparchive.ZipArchive`` on a file, each member's entry and its
                   ``MemberReader`` read to the end
``npz``            ``npzfile.npz_members`` and ``load_npz`` (every array touched)
``unpack``         ``unpack.members``: a zip, a tar (plain, gz, bz2, xz), an npz
``part_record``    a ``.part.json`` resume record: ``Partial.meta``, ``in_progress``,
                   ``resume_point``
``content_range``  a 206 answer's header block: ``transfer._misfit`` (Content-Range)
                   and the Content-Length read beside it
=================  ==================================================================

The contract each asserts (``fuzz/contract.py``, docs/testing.md "Fuzzing"):
only idxmnist's own errors escape, memory stays under the stated bounds,
and no input takes longer than the hang detector's timeout. The harnesses
need no atheris: ``tests/contracts/test_fuzz_corpus.py`` runs each over its
seed corpus (``fuzz/corpus/<harness>/``, written by ``fuzz/make_corpus.py``).

    python -m fuzz list                        # the harnesses
    python -m fuzz run idx_reader --seconds 3600
    python -m fuzz ci                          # what .ci/run runs: corpus + 2000 runs, seed 1
    python -m fuzz replay unpack crash-1234    # an input again, without atheris
    python -m fuzz report                      # the runs recorded in .fuzz/, per harness
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["HARNESSES", "Harness", "ROOT", "CORPUS"]

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"


@dataclass(frozen=True)
class Harness:
    """A harness: its module ``fuzz.<name>`` and the largest input libFuzzer may make."""

    name: str
    max_len: int

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name

    @property
    def dictionary(self) -> Path | None:
        path = ROOT / "dicts" / f"{self.name}.dict"
        return path if path.is_file() else None


#: the harnesses, in the order ``run all`` and ``ci`` take them
HARNESSES = {
    h.name: h
    for h in (
        Harness("idx_reader", 1 << 16),
        Harness("zip_directory", 1 << 16),
        Harness("zip_member", 1 << 16),
        Harness("npz", 1 << 16),
        Harness("unpack", 1 << 16),
        Harness("part_record", 1 << 13),
        Harness("content_range", 1 << 13),
    )
}
