"""``idxmnist verify``: say what each dataset file in a folder is, by content; and repair.

For each of the dataset's files, every copy in the folder (under its
registry name, its stem, or its stem with ``.gz``/``.xz``/``.bz2``) is
checked by container, then by content, and named when it fails: a
zero-byte leftover, an HTML page saved under a data name, a truncated file,
another dataset's file (the right format, the wrong dataset), another file
of the same dataset, or bytes that match nothing. A copy that verifies by
content under a misleading name (raw IDX bytes as ``.gz``, as a browser that
decompresses downloads saves them) is valid, and named as such.

:func:`repair` fixes what it can: renames misnamed valid files, moves another
dataset's file to that dataset's folder when the folder is in the cache
layout, fetches a verified copy of whatever is missing or bad (not when
offline). It removes a bad file only once it is replaced, except zero-byte
files and HTML pages, which hold no data; it never removes a file that
verifies (another dataset's whose folder already holds it is kept, and said
so), and never gives a file that is not the upstream bytes an upstream name.
Every action is reported, and a bad file it cannot replace is kept and said so.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import config
from ..datasets.spec import DatasetSpec, RemoteFile
from ..errors import DownloadError, printable
from ..fetch import download
from ..files import file_lock
from ..store.identify import EMPTY, HTML, Catalog, Known
from ..store.kept import LOCK_NAME, find_verified, kept_name, names_for
from ..store.pins import Learnt
from ..store.verify import verdict

__all__ = ["Finding", "expected_spec", "check_dir", "repair"]

Status = Literal["ok", "bad", "missing"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One copy of ``remote`` in the folder (or its absence) and what it is.

    ``rename``: a better name for a valid file. ``other``: the registered file
    it really is, when it is not ``remote``. ``empty_or_html``: it holds no
    data at all.
    """

    remote: RemoteFile
    path: Path
    status: Status
    what: str = ""
    rename: str | None = None
    other: Known | None = None
    empty_or_html: bool = False

    def __str__(self) -> str:
        path = printable(str(self.path))  # one line, whatever the folder's name holds
        if self.status == "missing":
            return f"missing   {path}"
        label = "ok       " if self.status == "ok" else "MISMATCH "
        return f"{label} {path}: {printable(self.what)}"


def expected_spec(
    folder: Path, specs: Sequence[DatasetSpec], catalog: Catalog
) -> tuple[DatasetSpec | None, str]:
    """The dataset ``folder`` should hold, and how that was decided.

    By its name first (``mnist``, ``fashion-mnist`` as in the cache;
    ``MNIST/raw`` as torchvision keeps it), else by what most of its files are.
    Where several datasets share the name (EMNIST's six splits all live in
    ``emnist``), the one most of its files belong to; the first on a tie.
    """
    named: list[tuple[DatasetSpec, str]] = []
    for spec in specs:
        if folder.name == spec.subdir:
            named.append((spec, f"by its name, {folder.name}"))
        elif folder.name == "raw" and spec.torchvision and folder.parent.name == spec.torchvision:
            named.append((spec, f"by its name, torchvision's {spec.torchvision}/raw"))
    if len(named) == 1:
        return named[0]
    found = _known_files(folder, catalog)
    if named:
        hits = [sum(k.remote in s.remote_files for k in found) for s, _ in named]
        best = hits.index(max(hits))
        spec, how = named[best]
        return spec, how + (" and its files" if hits[best] else "")
    votes: Counter[str] = Counter(k.spec.name for k in found)
    if votes:
        name = votes.most_common(1)[0][0]
        return next(s for s in specs if s.name == name), "by the checksums of its files"
    return None, ""


def _known_files(folder: Path, catalog: Catalog) -> list[Known]:
    """What each visible file in ``folder`` is, for those that are registered files."""
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):
            known = catalog.identify(path)
            if isinstance(known, Known):
                found.append(known)
    return found


def _finding(
    path: Path, remote: RemoteFile, spec: DatasetSpec, catalog: Catalog, learnt: Learnt
) -> Finding:
    result = verdict(path, learnt.of(remote))
    if result.ok:
        proper = kept_name(remote, result.how, result.kind)
        if result.how == "container":
            return Finding(remote, path, "ok", "ok (its exact upstream bytes)")
        what = f"valid by content ({result.kind} IDX bytes)"
        rename = None
        if proper == remote.name:  # recompressed: an upstream name is for upstream bytes only
            what += ", not the upstream bytes"
        elif path.name != proper:
            if result.kind == "raw" and path.name.endswith(".gz"):
                what = (
                    "decompressed: raw IDX bytes under a .gz name, as a browser that "
                    "unpacks downloads saves them; valid by content"
                )
            else:
                what = f"{result.kind} data under the name {path.name}; valid by content"
            rename = proper
        return Finding(remote, path, "ok", what, rename=rename)
    found = catalog.identify(path)
    if isinstance(found, Known):
        if found.spec.name != spec.name:
            what = (
                f"the right format, the wrong dataset: this is {found.spec.name}'s "
                f"{found.remote.stem} (by {found.how} sha256), not {spec.name}'s"
            )
        else:
            what = f"holds {found.remote.stem}, not {remote.stem} (swapped or misnamed)"
        return Finding(remote, path, "bad", what, other=found)
    reason = found.reason
    if not (reason in (EMPTY, HTML) or reason.startswith("truncated")):
        # which check failed, and how; without a content pin, also what the file is
        reason = result.reason if remote.content else f"{reason}; {result.reason}"
    return Finding(remote, path, "bad", reason, empty_or_html=reason in (EMPTY, HTML))


def check_dir(folder: Path, spec: DatasetSpec, catalog: Catalog) -> list[Finding]:
    """A finding for every copy of each of ``spec``'s files in ``folder``; ``missing`` if none."""
    findings = []
    learnt = Learnt(folder)
    for remote in spec.remote_files:
        present = [folder / n for n in names_for(remote) if (folder / n).is_file()]
        if not present:
            findings.append(Finding(remote, folder / remote.name, "missing"))
        findings.extend(_finding(p, remote, spec, catalog, learnt) for p in present)
    return findings


def _move_to_its_folder(f: Finding, folder: Path, specs: Iterable[DatasetSpec]) -> str:
    """Put another dataset's file where the cache keeps that dataset, if it is in that layout."""
    assert f.other is not None
    other = f.other
    if folder.name not in {s.subdir for s in specs}:
        return f"kept {f.path}: it is {other.describe()}; move it yourself"
    home = folder.parent / other.spec.subdir
    home.mkdir(exist_ok=True)
    with file_lock(home / LOCK_NAME):
        have, _ = find_verified(home, other.remote, Learnt(home))
        if have is not None:
            return (
                f"kept {f.path}: {other.describe()}, which {have} already holds, verified "
                "(a duplicate: idxmnist removes no file that verifies; remove it yourself)"
            )
        target = home / other.install_name
        os.replace(f.path, target)
    return f"moved {f.path} -> {target}: it is {other.describe()}"


def repair(
    folder: Path,
    spec: DatasetSpec,
    findings: Sequence[Finding],
    specs: Sequence[DatasetSpec],
    *,
    mirrors: Sequence[str] | None = None,
    offline: bool | None = None,
) -> list[str]:
    """Fix what ``findings`` show can be fixed; return what was done and what was not."""
    actions = []
    nodata = {f.path: f.what for f in findings if f.empty_or_html}
    for f in findings:
        if f.status != "bad" or f.other is None:
            continue
        if f.other.spec.name != spec.name:  # another dataset's: to its own folder
            actions.append(_move_to_its_folder(f, folder, specs))
            continue
        # another file of this dataset under this one's name: to its own name, if free
        slot, _ = find_verified(folder, f.other.remote, Learnt(folder))
        target = folder / f.other.install_name
        if slot is None and not target.exists():
            os.replace(f.path, target)
            actions.append(f"renamed {f.path} -> {target}: it is {f.other.describe()}")
    for f in findings:
        if f.status == "ok" and f.rename and not (folder / f.rename).exists():
            os.replace(f.path, folder / f.rename)
            actions.append(f"renamed {f.path} -> {folder / f.rename} (valid by content)")
    urls = download.mirrors_for(spec) if mirrors is None else mirrors
    if config.offline(offline):
        urls = tuple(u for u in urls if u.lower().startswith("file:"))
    with file_lock(folder / LOCK_NAME):
        learnt = Learnt(folder)
        for remote in spec.remote_files:
            have, bad = find_verified(folder, remote, learnt)
            if have is not None:
                bad += [
                    (f.path, f.what) for f in findings if f.remote == remote and f.status == "bad"
                ]
                for path, why in dict(bad).items():
                    if path.exists() and path != have:
                        path.unlink()
                        actions.append(f"removed {path}: {why}; {have.name} is the verified copy")
                continue
            try:
                if not urls:
                    raise DownloadError("offline: no mirror to fetch it from")
                got = download.fetch_file(remote, folder, urls, spec=spec)
            except DownloadError as exc:
                lines = str(exc).splitlines()
                first = lines[0] if len(lines) < 2 else f"{lines[0]} {lines[1].strip()}"
                for path, _ in bad:
                    if path in nodata or path.stat().st_size == 0:
                        path.unlink()
                        why = nodata.get(path, "empty")
                        actions.append(f"removed {path}: it held no data ({why})")
                    else:
                        actions.append(f"kept {path}: no verified copy to replace it ({first})")
                if not bad:
                    actions.append(f"still missing {folder / remote.name}: {first}")
                continue
            replaced = " (replacing the bad file of that name)" if got in dict(bad) else ""
            actions.append(f"fetched {got}, verified{replaced}")
            for path, _ in bad:
                if path != got and path.exists():
                    path.unlink()
                    actions.append(f"removed {path}: replaced by {got.name}")
    return actions
