#!/usr/bin/env python3
"""Mutation testing of the modules that guard data, one module at a time (mutmut).

    pip install -e '.[dev,mutation]'
    python tools/mutation.py                  # every module in MODULES (about an hour here)
    python tools/mutation.py npzfile atomic   # some of them (a name matches the file stem)
    python tools/mutation.py --list           # the modules, their tests, known equivalents
    python tools/mutation.py --report download               # the last run's figures again
    python tools/mutation.py download --recheck tests/fetch/test_whole.py
                                              # its survivors against new tests only

For each module a scratch copy of the checkout is made in ``.mutation/<stem>/``
(git-ignored) with a ``[tool.mutmut]`` section that mutates only that module
and runs only its test files, minus the ``realdata`` tests: a mutant must be
killed by a test that needs no downloaded data. mutmut first runs those tests
once to learn which test reaches which function, then runs each mutant
against the tests that reach it. The summary gives, per module, killed /
survived / other, the survivors judged equivalent (``EQUIVALENT`` below) and
the kill rate over the rest; ``docs/testing.md`` records the last figures.
To look at a survivor: ``cd .mutation/<stem> && mutmut show NAME``.

Not run in CI: it takes far too long for two cores. To cover a new module,
add it to ``MODULES`` with the test files that exercise it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"

#: module -> the test files that exercise it (the only ones run against its mutants)
MODULES: dict[str, list[str]] = {
    "idxmnist/idx/format.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_format.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_bad_input.py",
        "tests/contracts/test_messages.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/idx/reader.py": [
        "tests/idx/test_compression.py",
        "tests/idx/test_decode.py",
        "tests/idx/test_format.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",  # transpose=True and read_idx_from (zip members)
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_bad_input.py",
        "tests/contracts/test_messages.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/idx/compression.py": [
        "tests/idx/test_compression.py",
        "tests/idx/test_decode.py",
        "tests/idx/test_format.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_bad_input.py",
        "tests/contracts/test_messages.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/datasets/npzfile.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_bad_input.py",
        "tests/contracts/test_imports.py",
        "tests/test_config.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/datasets/assemble.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_format.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_bad_input.py",
        "tests/contracts/test_imports.py",
        "tests/contracts/test_messages.py",
        "tests/test_config.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
        # the family: find_sources, read_arrays, archive members, Kuzushiji-49's npz files
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_emnist.py",
        "tests/test_k49.py",
        "tests/test_qmnist.py",
    ],
    "idxmnist/datasets/download.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_digest.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_npzfile.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_transfer.py",
        "tests/fetch/test_whole.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/datasets/test_spec.py",
        "tests/cli/test_info.py",
        "tests/cli/test_main.py",
        "tests/contracts/test_imports.py",
        "tests/contracts/test_offline.py",
        "tests/test_config.py",
        "tests/test_emnist.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/datasets/transfer.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_transfer.py",
        "tests/fetch/test_whole.py",
        "tests/load/test_loader.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_spec.py",
        "tests/cli/test_main.py",
        "tests/contracts/test_imports.py",
        "tests/test_config.py",
    ],
    "idxmnist/datasets/partial.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_transfer.py",
        "tests/fetch/test_whole.py",
        "tests/load/test_loader.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_spec.py",
        "tests/cli/test_main.py",
        "tests/contracts/test_imports.py",
        "tests/test_config.py",
    ],
    "idxmnist/datasets/content.py": [
        "tests/idx/test_digest.py",
        "tests/store/test_identify.py",
        "tests/store/test_unpack.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/manage/test_diagnose.py",
        "tests/manage/test_export.py",
        "tests/manage/test_importer.py",
        "tests/test_config.py",
    ],
    "idxmnist/datasets/checksum.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_digest.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_identify.py",
        "tests/store/test_npzfile.py",
        "tests/store/test_unpack.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_transfer.py",
        "tests/fetch/test_whole.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/test_config.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/datasets/identify.py": [
        "tests/idx/test_digest.py",
        "tests/store/test_identify.py",
        "tests/store/test_unpack.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/manage/test_diagnose.py",
        "tests/manage/test_export.py",
        "tests/manage/test_importer.py",
        "tests/test_config.py",
    ],
    "idxmnist/atomic.py": [
        "tests/idx/test_decode.py",
        "tests/idx/test_reader.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_writer.py",
        "tests/store/test_npzfile.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_transfer.py",
        "tests/load/test_assemble.py",
        "tests/load/test_loader.py",
        "tests/contracts/test_crash_safety.py",
        "tests/contracts/test_imports.py",
        "tests/test_config.py",
        "tests/test_files.py",
        "tests/test_mnist.py",
    ],
    "idxmnist/idx/ziparchive.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_ziparchive.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_config.py",
        "tests/test_emnist.py",
    ],
    "idxmnist/idx/zipdirectory.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_ziparchive.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/test_config.py",
    ],
    "idxmnist/datasets/ranged.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/test_config.py",
    ],
    "idxmnist/idx/transpose.py": [
        "tests/idx/test_transpose.py",
        "tests/idx/test_ziparchive.py",
        "tests/idx/test_zipdirectory.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_emnist.py",
    ],
    "idxmnist/emnist.py": [
        "tests/idx/test_transpose.py",
        "tests/idx/test_ziparchive.py",
        "tests/idx/test_zipdirectory.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_emnist.py",
    ],
    "idxmnist/datasets/archive.py": [
        "tests/idx/test_digest.py",
        "tests/idx/test_transpose.py",
        "tests/idx/test_ziparchive.py",
        "tests/idx/test_zipdirectory.py",
        "tests/store/test_identify.py",
        "tests/store/test_verify.py",
        "tests/fetch/test_download.py",
        "tests/fetch/test_partial.py",
        "tests/fetch/test_ranged.py",
        "tests/fetch/test_session.py",
        "tests/fetch/test_single.py",
        "tests/fetch/test_whole.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_config.py",
        "tests/test_emnist.py",
    ],
    "idxmnist/datasets/classes.py": [
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_classes.py",
        "tests/cli/test_info.py",
        "tests/test_emnist.py",
        "tests/test_k49.py",
    ],
    "idxmnist/datasets/labels.py": [
        "tests/load/test_loader.py",
        "tests/datasets/test_catalog.py",
        "tests/datasets/test_registry.py",
        "tests/datasets/test_spec.py",
        "tests/test_qmnist.py",
    ],
}

#: mutant name -> why no test can tell it from the original (listed in docs/testing.md)
EQUIVALENT: dict[str, str] = {
    "idxmnist.idx.format.x_parse_header__mutmut_17": "buf[4 : 5 + 4 * ndim]: the slice differs "
    "only when buf holds all 4 * ndim bytes, and parse_dims reads just those",
    "idxmnist.idx.format.x_parse_header__mutmut_19": "buf[4 : 4 + 5 * ndim]: the slice differs "
    "only when buf holds all 4 * ndim bytes, and parse_dims reads just those",
    "idxmnist.idx.reader.xǁ_Prefixedǁreadinto__mutmut_12": "_lead = None, not _lead[n:]: "
    "only io.BufferedReader reads it, never fewer bytes than the <= 6-byte lead, so the "
    "lead is always used up and b'' and None are both false",
    "idxmnist.idx.reader.x__read_whole_gzip__mutmut_10": "peek 133 bytes, not 132: the lead "
    "is longer only when it holds the largest header, and parse_header reads no further",
    "idxmnist.idx.reader.x__read_whole_gzip__mutmut_12": "peek 164 bytes, not 132: the lead "
    "is longer only when it holds the largest header, and parse_header reads no further",
    "idxmnist.idx.reader.x__read_whole_gzip__mutmut_66": "frombuffer without count: the "
    "inflated buffer is exactly total_size bytes, so what follows the header is count items",
    "idxmnist.idx.reader.x__read_whole_gzip__mutmut_78": "reshape(-2): NumPy takes any "
    "negative size as 'the rest'",
    "idxmnist.idx.reader.x__read_stream__mutmut_34": "reshape(-2): NumPy takes any negative "
    "size as 'the rest'",
    "idxmnist.idx.reader.x__read_stream__mutmut_44": "swap = itemsize > 1 or NEEDS_SWAP: "
    "decode.swap_inplace does nothing for 1-byte items (nor on a big-endian host)",
    "idxmnist.idx.reader.x__read_stream__mutmut_45": "swap = itemsize >= 1 and NEEDS_SWAP: "
    "decode.swap_inplace does nothing for 1-byte items",
    "idxmnist.idx.reader.x__read_stream__mutmut_48": "done = 1: only a callback that saw a "
    "single byte is skipped; the next reports every landed byte, and a 1-byte payload is one "
    "1x1 image, its own transpose",
    "idxmnist.idx.reader.x_inspect_idx__mutmut_4": "_sniff(f, None): the sniffed bytes are "
    "chained in front of the stream instead of sought back over; the same header bytes are "
    "read, and the size returned is measured before",
    "idxmnist.idx.reader.xǁ_Chainedǁread__mutmut_2": "cut = n even for n < 0: the "
    "reader never reads with n <= 0 (it asks for CHUNK or the header bytes still missing)",
    "idxmnist.idx.reader.xǁ_Chainedǁread__mutmut_4": "n <= 0 for n < 0: the reader never "
    "reads with n <= 0 (it asks for CHUNK or the header bytes still missing)",
    "idxmnist.idx.reader.xǁ_Chainedǁread__mutmut_5": "n < 1 for n < 0: the reader never "
    "reads with n <= 0 (it asks for CHUNK or the header bytes still missing)",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_5": "resolve_backend(backend, None, 1): "
    "with 1-byte items nbytes is never looked at; the call only checks the name",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_10": "resolve_backend(backend, 1, 1): the "
    "call only checks the name; 1 byte is never worth Numba",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_11": "resolve_backend(backend, 0, 2): the "
    "call only checks the name; 0 bytes are never worth Numba",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_14": "len(lead) <= 6: one more read of "
    "6 - 6 = 0 bytes, which returns b'' and ends the loop",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_15": "a lead of up to 7 bytes: sniff looks "
    "at 6, and _Chained hands the whole lead back first",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_18": "read(6 + len(lead)) may gather a longer "
    "lead: sniff looks at 6, and _Chained hands the whole lead back first",
    "idxmnist.idx.reader.x_read_idx_from__mutmut_19": "read(7 - len(lead)) may gather a "
    "7-byte lead: sniff looks at 6, and _Chained hands the whole lead back first",
    "idxmnist.idx.reader.x__read_stream__mutmut_67": "end >= done: an empty slice is "
    "swapped and the same count handed to landed() again, which does nothing",
    "idxmnist.idx.reader.x__read_stream__mutmut_80": "the callback on every chunk: with "
    "neither swap nor transpose it only counts the landed bytes",
    "idxmnist.idx.reader.x__sniff__mutmut_7": "pos = 1 when the size is unknown: pos is "
    "used only to seek back, which happens only when the size is known",
    "idxmnist.idx.reader.x__sniff__mutmut_8": "len(lead) <= 6: one more read of 0 bytes, "
    "which returns b'' and ends the loop",
    "idxmnist.idx.reader.x__sniff__mutmut_9": "a lead of up to 7 bytes: sniff looks at 6, "
    "and the whole lead is sought back over or put back in front",
    "idxmnist.idx.reader.x__sniff__mutmut_12": "read(6 + len(lead)) may gather a longer "
    "lead: sniff looks at 6, and the whole lead is sought back over or put back in front",
    "idxmnist.idx.reader.x__sniff__mutmut_13": "read(7 - len(lead)) may gather a 7-byte "
    "lead: sniff looks at 6, and the whole lead is sought back over or put back in front",
    "idxmnist.idx.reader.x_read_idx__mutmut_5": "resolve_backend(backend, None, 1): with "
    "1-byte items nbytes is never looked at; the call only checks the name",
    "idxmnist.idx.reader.x_read_idx__mutmut_10": "resolve_backend(backend, 1, 1): the call "
    "only checks the name; 1 byte is never worth Numba",
    "idxmnist.idx.reader.x_read_idx__mutmut_11": "resolve_backend(backend, 0, 2): the call "
    "only checks the name; 0 bytes are never worth Numba",
    "idxmnist.datasets.assemble.x__candidates__mutmut_7": "replace() without its count 1: "
    "an upstream stem holds '-idx' once",
    "idxmnist.datasets.assemble.x__candidates__mutmut_12": "replace() with count 2: an "
    "upstream stem holds '-idx' once",
    "idxmnist.datasets.assemble.x_find_idx_files__mutmut_11": "found = None before the loop: "
    "the loop (over SUBDIRS, never empty) sets it before it is read",
    "idxmnist.datasets.assemble.x__size__mutmut_2": "sizes only order the jobs (largest "
    "first); every job runs and its result is kept under its key",
    "idxmnist.datasets.assemble.x__read_npz_array__mutmut_27": "kind in 'XXiuXX': it "
    "still holds 'i' and 'u', and no NumPy dtype has kind 'X'",
    "idxmnist.atomic.x__umask__mutmut_3": "os.umask(1) for os.umask(0): the old mask is "
    "returned and restored either way",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_7": "compression= dropped: "
    "ZipFile's default is ZIP_STORED, and each ZipInfo sets its compress_type itself",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_8": "allowZip64= dropped: "
    "ZipFile's default is True",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_20": "ZipInfo's default "
    "date_time is the same (1980, 1, 1, 0, 0, 0)",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_29": "- len(header) for "
    "+ len(header): NumPy pads a .npy header to a multiple of 64 bytes, so the padding "
    "(-fixed % 64) is the same",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_70": "reshape(-2): NumPy takes "
    "any negative size as 'the rest'",
    "idxmnist.datasets.npzfile.x__write_stored_aligned__mutmut_72": "cast('b') for cast('B'): "
    "the same bytes are written",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_60": "NumPy reads order='f' as 'F'",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_62": "NumPy reads order='c' as 'C'",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_66": "allow_pickle=None: NumPy only tests "
    "it for truth, and None is false like False",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_68": "allow_pickle= dropped: NumPy's "
    "default is False",
    "idxmnist.datasets.npzfile.x_load_npz__mutmut_69": "allow_pickle=True: npz_members has "
    "already refused any member whose .npy header declares objects, so np.load never meets one",
    "idxmnist.datasets.content.x_idx_digest__mutmut_11": "sniff(read(None)): sniff looks at "
    "the first 6 bytes at most, and the file is rewound",
    "idxmnist.datasets.content.x_idx_digest__mutmut_12": "sniff(read(7)): sniff looks at the "
    "first 6 bytes at most, and the file is rewound",
    "idxmnist.datasets.content.x_idx_digest__mutmut_68": "a 2-byte buffer for a 0- or 1-byte "
    "payload: each read is capped by the bytes left",
    "idxmnist.datasets.checksum.x_hash_file__mutmut_3": "usedforsecurity=None: hashlib reads it "
    "as a bool, so it is False",
    "idxmnist.datasets.checksum.x_verdict__mutmut_9": "sniff(read(None)): sniff looks at the "
    "first 6 bytes at most",
    "idxmnist.datasets.checksum.x_verdict__mutmut_10": "sniff(read(7)): sniff looks at the "
    "first 6 bytes at most",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_21": "get(size, None): None and [] "
    "are both falsy, and only tested for truth",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_23": "get(size): None and [] are "
    "both falsy, and only tested for truth",
    "idxmnist.datasets.identify.xǁCatalogǁidentify__mutmut_62": "_by_content.get(None) is None: "
    "its keys are hex digests",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_3": "encoding=None: json.dump writes "
    "ASCII only (ensure_ascii), the same bytes in any locale",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_6": "no encoding: json.dump writes "
    "ASCII only (ensure_ascii), the same bytes in any locale",
    "idxmnist.datasets.partial.xǁPartialǁsave__mutmut_10": "encoding='UTF-8': Python reads "
    "encoding names case-insensitively",
    "idxmnist.datasets.partial.x__load__mutmut_3": "encoding=None: a record is written ASCII "
    "only (ensure_ascii), read alike in any locale",
    "idxmnist.datasets.partial.x__load__mutmut_5": "encoding='UTF-8': Python reads encoding "
    "names case-insensitively",
    "idxmnist.datasets.partial.xǁPartialǁresume_point__mutmut_6": "size = -2 for -1 when there "
    "is no .part: only size <= 0 is asked",
    "idxmnist.idx.ziparchive.x__crc32__mutmut_1": (
        "lib = None: zlib-ng's (or zlib's) CRC-32 instead of libdeflate's; both compute the "
        "same CRC-32"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_3": (
        "module = None: getattr(None, 'crc32', zlib.crc32) is zlib.crc32, the same CRC-32"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_4": (
        "getattr(None, ...): falls back to zlib.crc32, the same CRC-32"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_6": (
        "getattr default None: zlib-ng, isal and zlib all define crc32, so the default is "
        "never used"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_9": (
        "getattr without a default: every gzip_backend module (zlib-ng, isal, zlib) has crc32"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_10": (
        "looks up 'XXcrc32XX', which no module has: falls back to zlib.crc32, the same CRC-32"
    ),
    "idxmnist.idx.ziparchive.x__crc32__mutmut_11": (
        "looks up 'CRC32', which no module has: falls back to zlib.crc32, the same CRC-32"
    ),
    "idxmnist.idx.ziparchive.x_local_data_offset__mutmut_20": (
        "encode('UTF-8'): Python reads codec names case-insensitively"
    ),
    "idxmnist.idx.ziparchive.x_local_data_offset__mutmut_27": (
        "encode('CP437'): Python reads codec names case-insensitively"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁ__init____mutmut_21": (
        "_done = None, not False: it is only tested for truth"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁ__init____mutmut_23": (
        "_tail = None, not b'': read as `_tail or ...` (both false), and _next sets it to "
        "bytes before _finish takes its len()"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁreadall__mutmut_2": (
        "read(None) for read(CHUNK): read() turns None into CHUNK"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁ_stored__mutmut_8": (
        "read(0) when nothing is left: the unbuffered file returns b'', like the literal"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁ_finish__mutmut_17": (
        "_done = None after a clean end: the next read finds the same state, passes the same "
        "checks and returns b'' again"
    ),
    "idxmnist.idx.ziparchive.xǁMemberReaderǁ_finish__mutmut_18": (
        "_done = False after a clean end: the next read finds the same state, passes the same "
        "checks and returns b'' again"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_2": (
        "the first search from len(tail) + 22: signatures in the last 21 bytes cannot hold a "
        "whole record, are skipped, and the same record is found"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_7": (
        "rfind(sig, None, ...): a start of None is 0"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_19": (
        "return -2 for -1 on no match: the only caller tests < 0"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_20": (
        "at - 22 <= len(tail): every at found is <= len(tail) - 22, so this and at + 22 <= "
        "len(tail) are both always true"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_34": (
        "at -= 2: skips only the byte before a rejected signature, where a signature cannot "
        "start (PK\\x05\\x06 cannot overlap itself)"
    ),
    "idxmnist.idx.zipdirectory.x__eocd_at__mutmut_36": (
        "return -2 for -1 after the loop: the only caller tests < 0"
    ),
    "idxmnist.idx.zipdirectory.xǁDirectoryǁ__init____mutmut_40": (
        "zip(strict=None): false like False"
    ),
    "idxmnist.idx.zipdirectory.xǁDirectoryǁ__init____mutmut_43": (
        "zip() without strict=: the default is False"
    ),
    "idxmnist.idx.zipdirectory.xǁDirectoryǁopen__mutmut_12": (
        "entry_at(offset=None): the default, info.header_offset - start, is 0 because start "
        "is that header offset"
    ),
    "idxmnist.idx.zipdirectory.xǁDirectoryǁopen__mutmut_17": (
        "entry_at without offset=: the default, info.header_offset - start, is 0 because "
        "start is that header offset"
    ),
    "idxmnist.idx.compression.xǁStreamǁ__init____mutmut_6": "_tail = None, not b'': _tail "
    "is only tested for truth",
    "idxmnist.idx.compression.xǁStreamǁ__init____mutmut_27": "_zlib_api = None, not False, "
    "for xz: it is only tested for truth",
    "idxmnist.idx.compression.xǁStreamǁ__init____mutmut_33": "_zlib_api = None, not False, "
    "for bz2: it is only tested for truth",
    "idxmnist.idx.compression.xǁStreamǁ_check_end__mutmut_6": "getattr default None: every "
    "decompressor (zlib, zlib-ng, isal, lzma, bz2) has unused_data, so the default is never used",
    "idxmnist.idx.compression.xǁStreamǁ_check_end__mutmut_9": "getattr with no default: every "
    "decompressor (zlib, zlib-ng, isal, lzma, bz2) has unused_data, so it never raises",
    "idxmnist.idx.compression.xǁStreamǁ_check_end__mutmut_12": "getattr default b'XXXX': every "
    "decompressor (zlib, zlib-ng, isal, lzma, bz2) has unused_data, so the default is never used",
    "idxmnist.idx.compression.xǁStreamǁ_check_end__mutmut_14": "read(2), not read(1): only "
    "the truth of the read is used; b'' at the end either way, any byte the same error",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_10": "find(trailer, None, ...): "
    "a start of None is 0",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_15": "rfind, not find: only "
    "whether some hit exists (>= 0) is used",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_16": "search from 1: a hit at 0 "
    "is never the member's own trailer (at len(member) - 8 >= 10); a spurious hit only sends "
    "a good file to the streaming path, which gives the same array",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_19": "> 0, not >= 0: misses only "
    "a hit at index 0, never the member's own trailer; a spurious hit only sends a good file "
    "to the streaming path, same array",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_20": ">= 1, not >= 0: misses only "
    "a hit at index 0, never the member's own trailer; a spurious hit only sends a good file "
    "to the streaming path, same array",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_22": "> THREADED_SEARCH_MIN: a "
    "file of exactly 1 MiB is searched inline after the inflate, not on the helper thread; "
    "same result",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_25": "daemon=None: the thread is "
    "always joined in the finally, and cannot block (inflating is set before the try)",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_27": "no daemon argument: the "
    "thread is always joined in the finally, and cannot block (inflating is set before the try)",
    "idxmnist.idx.compression.x_inflate_gzip_whole__mutmut_28": "daemon=False: the thread is "
    "always joined in the finally, and cannot block (inflating is set before the try)",
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_9": (
        "the message of an unreachable raise: without a content pin only the registry name is "
        "fetched, with Expect.size set, so transfer returns exactly remote.size bytes or fails"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_10": (
        "wrong_bytes of an unreachable raise: without a content pin transfer already enforces "
        "remote.size"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_11": (
        "an unreachable raise: without a content pin transfer already enforces remote.size"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_12": (
        "wrong_bytes of an unreachable raise: without a content pin transfer already enforces "
        "remote.size"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_13": (
        "wrong_bytes of an unreachable raise: without a content pin transfer already enforces "
        "remote.size"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_25": (
        "kept_name(remote, None, ...): kept_name only asks whether how == 'container'"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_30": (
        "kept_name(remote, 'XXcontentXX', ...): kept_name only asks whether how == 'container'"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_judge__mutmut_31": (
        "kept_name(remote, 'CONTENT', ...): kept_name only asks whether how == 'container'"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_variant__mutmut_21": (
        "range(3): after the second attempt the loop has returned or raised"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_variant__mutmut_57": (
        "the message of an unreachable AssertionError (the loop always returns or raises)"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_variant__mutmut_58": (
        "the message of an unreachable AssertionError (the loop always returns or raises)"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_variant__mutmut_59": (
        "the message of an unreachable AssertionError (the loop always returns or raises)"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_file__mutmut_6": (
        "first = '' for None: '' is falsy like None, so first or exc sets it before it is read"
    ),
    "idxmnist.datasets.download.xǁSessionǁ_file__mutmut_20": (
        "len(variants) > 2 for > 1: there is one variant (no content pin) or at least four "
        "(names_for: stem, .gz, .xz, .bz2)"
    ),
    "idxmnist.datasets.download.xǁSessionǁfetch_whole__mutmut_8": (
        "'SHA256' when nothing is pinned: hashlib takes the name in any case, and without a pin "
        "the digest is never compared"
    ),
    "idxmnist.datasets.download.xǁSessionǁfetch_whole__mutmut_22": (
        "max(limit, 1) for max(limit, 0): every caller's limit is at least 1 MiB"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_78": (
        "unlink(missing_ok=None) of a bad file when the download fails: it is still there (only a"
        " verified copy replaces one)"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_79": (
        "unlink(missing_ok=False) of a bad file when the download fails: it is still there"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_81": (
        "unlink(missing_ok=None) of a bad file other than the verified copy: nothing removed it"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_82": (
        "unlink(missing_ok=False) of a bad file other than the verified copy: nothing removed it"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_87": (
        "zip(..., strict=None): a DatasetSpec has two files per split, checked when it is built"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_90": (
        "zip(...) without strict: a DatasetSpec has two files per split, checked when it is built"
    ),
    "idxmnist.datasets.download.x_fetch_dataset__mutmut_91": (
        "zip(..., strict=False): a DatasetSpec has two files per split, checked when it is built"
    ),
    "idxmnist.datasets.download.x_timeout__mutmut_12": (
        "seconds = -2.0 for -1.0 on a non-number: either is refused by not seconds > 0"
    ),
    "idxmnist.datasets.download.x_timeout__mutmut_20": "float('INF') is float('inf')",
    "idxmnist.datasets.download.xǁSessionǁ__init____mutmut_10": (
        "zip(..., strict=None): zip runs only when there are as many keys as files"
    ),
    "idxmnist.datasets.download.xǁSessionǁ__init____mutmut_13": (
        "zip(..., strict=dropped): zip runs only when there are as many keys as files"
    ),
    "idxmnist.datasets.download.xǁSessionǁ__init____mutmut_14": (
        "zip(..., strict=True): zip runs only when there are as many keys as files"
    ),
    "idxmnist.datasets.download.x__whole_name__mutmut_6": "rsplit('/') for rsplit('/', 1): the "
    "last piece is the same",
    "idxmnist.datasets.download.x__whole_name__mutmut_10": "rsplit('/', 2) for rsplit('/', 1): "
    "the last piece is the same",
    "idxmnist.datasets.download.x__whole_name__mutmut_11": "[+1] for [-1]: a whole-file URL's "
    "path always has a '/', so rsplit('/', 1) has exactly two pieces",
    "idxmnist.datasets.download.xǁSessionǁ_intended__mutmut_11": "rsplit('/') for "
    "rsplit('/', 1): the last piece is the same",
    "idxmnist.datasets.download.xǁSessionǁ_intended__mutmut_20": "rsplit('/', 2) for "
    "rsplit('/', 1): the last piece is the same",
    "idxmnist.datasets.download.xǁSessionǁ_unpack__mutmut_42": "pop(None): a problem left "
    "for a file kept is never read (get() returns the kept file first)",
    "idxmnist.datasets.download.xǁSessionǁ_unpack__mutmut_45": "kept = 1: kept is only "
    "tested for zero",
    "idxmnist.datasets.download.xǁSessionǁ_unpack__mutmut_46": "kept -= 1: kept is only "
    "tested for zero, and never comes back to it",
    "idxmnist.datasets.download.xǁSessionǁ_unpack__mutmut_47": "kept += 2: kept is only "
    "tested for zero",
    "idxmnist.datasets.download.xǁSessionǁ_unpack__mutmut_49": "problems['XXXX']: only the "
    "values of that entry are read, never its key",
    "idxmnist.datasets.download.xǁSessionǁ_whole__mutmut_23": "range(3): after the second "
    "attempt the loop has returned or raised",
    "idxmnist.datasets.download.xǁSessionǁ_whole__mutmut_39": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
    "idxmnist.datasets.download.xǁSessionǁ_whole__mutmut_40": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
    "idxmnist.datasets.download.xǁSessionǁ_whole__mutmut_41": "the message of an "
    "unreachable AssertionError (the loop always returns or raises)",
}

# check_arrays builds a default spec for plain MNIST-style data: these mutants change
# one of its fields that check_arrays never reads
EQUIVALENT.update(
    {
        f"idxmnist.datasets.assemble.x_check_arrays__mutmut_{n}": "a field of the default "
        "spec that is never read: its splits have no published count, so no message names "
        "the dataset, and of its classes only the number counts"
        for n in (4, 5, 6, 8, 16, 17, 18, 19, 20, 21, 25)
    }
)

# spec.keys and spec.files always pair up: DatasetSpec refuses, when it is built, a
# spec without two files per split
EQUIVALENT.update(
    {
        f"idxmnist.datasets.assemble.{name}": "zip(..., strict=) changed or dropped: a "
        "DatasetSpec has two files per split, checked when it is built"
        for name in (
            "x_find_sources__mutmut_20",
            "x_find_sources__mutmut_23",
            "x_find_sources__mutmut_24",
            "x_read_arrays__mutmut_22",
            "x_read_arrays__mutmut_25",
            "x_read_arrays__mutmut_26",
        )
    }
)
# read_arrays: `serial` only chooses whether the reads run on threads (scheduling)
EQUIVALENT.update(
    {
        f"idxmnist.datasets.assemble.x_read_arrays__mutmut_{n}": "only whether the reads "
        "run on threads or one after the other (a speed choice): every read runs, its "
        "errors are re-raised in the dataset's order, and the arrays are the same"
        for n in (27, 28, 29, 34, 37, 38)
    }
)
EQUIVALENT.update(
    {
        f"idxmnist.datasets.assemble.x__run_all__mutmut_{n}": "only how the reads are "
        "scheduled (their order, how many threads, daemon or not: all are joined): every "
        "read runs, its errors are re-raised in the dataset's order, the arrays are the same"
        for n in (1, 4, 7, 8, 10, 16, 17, 18, 19, 20, 21, 22, 23, 38, 39, 40, 41, 42, 44, 45)
    }
)

#: files outside the package that the tests read
ALSO_COPY = ["README.md", "docs/", "benchmarks/", "conftest.py"]


def _files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def _prepare(module: str, tests: list[str]) -> Path:
    work = SCRATCH / Path(module).stem
    shutil.rmtree(work, ignore_errors=True)
    for name in _files():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, work / name)
    config = {
        "source_paths": ["idxmnist/"],
        "only_mutate": [module],
        "also_copy": ALSO_COPY,
        # Fork each mutant's run from a server that has run no test: mutmut's default
        # ("fork") forks from the process that ran the clean suite, where numba's
        # OpenMP threads are already running, and OpenMP kills a forked child that
        # uses them (SIGTERM: "fork() called from a process already using GNU
        # OpenMP"), which mutmut reports as "suspicious" whatever the mutant did.
        "process_isolation": "forkserver",
        "pytest_add_cli_args": ["--benchmark-disable", "-p", "no:cacheprovider"],
        "pytest_add_cli_args_test_selection": [
            *[t for t in tests if (work / t).is_file()],
            "-m",
            "not realdata",
        ],
    }
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    with open(work / "pyproject.toml", "a") as f:
        f.write("\n".join(lines) + "\n")
    return work


def _statuses(work: Path) -> dict[str, str]:
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=work, capture_output=True, text=True
    ).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("idxmnist."):
            result[name] = status.strip()
    return result


#: mutmut's verdicts that mean a test run noticed the mutant: a failure, a run stopped
#: at its time budget (a hang), or a run that crashed (SIGSEGV, or SIGKILL one second
#: after the CPU limit: mutmut calls both "segfault")
CAUGHT = ("killed", "timeout", "segfault", "killed by recheck")


def run(module: str, jobs: int) -> dict:
    work = _prepare(module, MODULES[module])
    env = _clean_env()
    with open(work / "mutmut.log", "w") as f:
        subprocess.run(
            ["mutmut", "run", "--max-children", str(jobs)],
            cwd=work,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return summarise(module)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDXMNIST_")}
    env.pop("CI", None)
    return env


#: a pytest plugin for recheck(): which functions of the mutated module each test reaches
#: (mutmut's trampolines report every call when MUTANT_UNDER_TEST is "stats")
_REACH_PLUGIN = """
import json, os
import pytest
import mutmut.mutation.trampoline as trampoline

_hits = set()
trampoline.record_trampoline_hit = lambda name, caller=None: _hits.add(name)
_reach = {}

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _hits.clear()
    yield
    _reach[item.nodeid] = sorted(_hits)

def pytest_sessionfinish(session):
    with open(os.environ["RECHECK_REACH"], "w") as f:
        json.dump(_reach, f)
"""


def recheck(module: str, tests: list[str], extra: tuple[str, ...] = ()) -> dict:
    """Run each survivor of the last run of ``module`` against ``tests`` (new test files).

    mutmut throws away every verdict of a module when its test selection changes,
    and a named re-run of a survivor runs every test that reaches its function
    (a minute or more for ``download.py``). This runs, in the scratch copy's
    ``mutants/`` tree, only the tests of the given files that reach the mutated
    function (learnt from one run under mutmut's ``stats`` switch), with mutmut's
    own switch ``MUTANT_UNDER_TEST`` choosing the mutant: a failing run (pytest's
    exit status 1) kills it. The verdicts go to ``.mutation/<stem>/rechecked.json``;
    :func:`summarise` counts them as killed ("killed by recheck").
    """
    work = SCRATCH / Path(module).stem
    tree = work / "mutants"
    for t in tests:
        shutil.copy2(ROOT / t, tree / t)
    (tree / "_recheck_reach.py").write_text(_REACH_PLUGIN)
    base = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    # a mutant that makes a test hang fails it after a minute (pytest-timeout): killed, as
    # mutmut counts its own timeouts
    base += ["--benchmark-disable", "-m", "not realdata", "--timeout", "60", *extra]

    def status(mutant: str, selected: list[str], *more: str, **env: str) -> int:
        env = {**_clean_env(), "MUTANT_UNDER_TEST": mutant, **env}
        command = [*base, *more, *selected]
        return subprocess.run(command, cwd=tree, env=env, capture_output=True).returncode

    # the tests must pass on the original, and must reach the module's mutated copy
    if status("", tests) != 0:
        sys.exit(f"{module}: {' '.join(tests)} fail without a mutant; fix them first")
    if status("fail", tests) != 1:
        sys.exit(f"{module}: {' '.join(tests)} never call into {module}'s mutated copy")
    reach_file = work / "reach.json"
    status("stats", tests, "-p", "_recheck_reach", RECHECK_REACH=str(reach_file))
    reach: dict[str, list[str]] = json.loads(reach_file.read_text())
    path = work / "rechecked.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    for name in summarise(module)["survived"]:
        if done.get(name) == "killed":
            continue
        function = name.rsplit("__mutmut_", 1)[0]
        selected = [test for test, hits in reach.items() if function in hits]
        killed = bool(selected) and status(name, selected) == 1
        done[name] = "killed" if killed else "survived"
        print(f"   {name}: {done[name]} ({len(selected)} tests reach it)", flush=True)
        path.write_text(json.dumps(done, indent=1, sort_keys=True))
    return summarise(module)


def summarise(module: str) -> dict:
    """The figures of the last run of ``module`` (in ``.mutation/<stem>/``)."""
    work = SCRATCH / Path(module).stem
    statuses = _statuses(work)
    if not statuses:
        sys.exit(f"{module}: mutmut reported no mutants; see {work / 'mutmut.log'}")
    rechecked = work / "rechecked.json"
    if rechecked.exists():
        for name, verdict in json.loads(rechecked.read_text()).items():
            if verdict == "killed" and statuses.get(name) not in CAUGHT:
                statuses[name] = "killed by recheck"
    killed = [n for n, s in statuses.items() if s in CAUGHT]
    equivalent = [n for n, s in statuses.items() if s not in CAUGHT and n in EQUIVALENT]
    survived = [n for n, s in statuses.items() if s not in CAUGHT and n not in EQUIVALENT]
    counted = len(killed) + len(survived)
    return {
        "module": module,
        "total": len(statuses),
        "killed": len(killed),
        "equivalent": equivalent,
        "survived": survived,
        "rate": len(killed) / counted if counted else 1.0,
        "rechecked": sum(statuses[n] == "killed by recheck" for n in killed),
        "statuses": {n: statuses[n] for n in survived},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module stems or paths (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants at once")
    parser.add_argument("--list", action="store_true", help="show the modules and exit")
    parser.add_argument(
        "--recheck",
        nargs="+",
        metavar="TEST_FILE",
        help="run the last run's survivors against these test files only (see recheck())",
    )
    parser.add_argument(
        "--report", action="store_true", help="summarise the last runs again, without running"
    )
    args = parser.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(module, "<-", " ".join(tests))
        for name, why in EQUIVALENT.items():
            print(f"equivalent: {name}: {why}")
        return 0
    chosen = [
        m for m in MODULES if not args.modules or any(a in (m, Path(m).stem) for a in args.modules)
    ]
    if not chosen:
        parser.error(f"no such module: {' '.join(args.modules)}")
    results = []
    for module in chosen:
        print(f"== {module}", flush=True)
        if args.recheck:
            r = recheck(module, args.recheck)
        else:
            r = summarise(module) if args.report else run(module, args.jobs)
        results.append(r)
        for name in r["survived"]:
            print(f"   survived: {name} ({r['statuses'][name]})")
        print(
            f"   {r['killed']} killed ({r['rechecked']} of them by --recheck), "
            f"{len(r['survived'])} survived, "
            f"{len(r['equivalent'])} equivalent, of {r['total']}: {r['rate']:.1%}",
            flush=True,
        )
    killed = sum(r["killed"] for r in results)
    counted = killed + sum(len(r["survived"]) for r in results)
    print("\n| module | mutants | killed | survived | equivalent | kill rate |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| `{r['module']}` | {r['total']} | {r['killed']} | {len(r['survived'])} "
            f"| {len(r['equivalent'])} | {r['rate']:.1%} |"
        )
    rate = killed / counted if counted else 1.0
    total = sum(r["total"] for r in results)
    equivalent = sum(len(r["equivalent"]) for r in results)
    print(f"| all | {total} | {killed} | {counted - killed} | {equivalent} | {rate:.1%} |")
    return 0 if rate >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
