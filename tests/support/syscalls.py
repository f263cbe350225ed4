"""A child process under ``strace``: which file was written, fsync'ed and renamed, in order.

What only a power cut would show (a rename published before the data reached
the disk; a folder whose new entry was never fsync'ed) is seen here as the
order of system calls. :func:`trace` runs a command under ``strace -f -y``
(``-y``: each descriptor printed with its path) for the writes, the fsyncs
and the renames; :func:`parse` turns its log into :class:`Call` records;
:func:`durability_faults` checks every rename into the folders given:

* the renamed file was fsync'ed (``fsync`` or ``fdatasync`` of a descriptor
  of that path) after its last write and before the rename;
* its new folder was fsync'ed after the rename, before the next rename.

:func:`unavailable` says why strace cannot run here (not installed, or
``ptrace`` not permitted), for a skip.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: the system calls traced: every way Python writes, syncs and renames a file on Linux
SYSCALLS = ("write", "pwrite64", "writev", "fsync", "fdatasync", "rename", "renameat", "renameat2")
WRITES = {"write", "pwrite64", "writev"}
SYNCS = {"fsync", "fdatasync"}
RENAMES = {"rename", "renameat", "renameat2"}
#: strace prints at most this many characters of a string: paths must be shorter
STRING_LIMIT = 1024

_LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<rest>.*)$")
_CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+|\?)(?:\s.*)?$")
_UNFINISHED = re.compile(r"^(?P<head>.*?)\s*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>\w+) resumed>\s?(?P<tail>.*)$")
_FD = re.compile(r"^(?:-?\d+|AT_FDCWD)<(?P<path>.*)>$", re.S)


class TraceError(AssertionError):
    """The log holds something this parser does not read (a truncated path, say)."""


@dataclass(frozen=True)
class Call:
    """One finished system call: ``paths`` are its file's path (a write or an fsync,
    from ``-y``) or the rename's source and destination, absolute."""

    index: int
    pid: int
    name: str
    paths: tuple[str, ...]
    result: int


def unavailable() -> str | None:
    """Why strace cannot trace a child here; None when it can."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (apt-get install strace)"
    try:
        probe = subprocess.run(
            [strace, "-f", "-o", os.devnull, "-e", "trace=fsync", "true"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"strace cannot run: {exc}"
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        return f"strace cannot trace a child here (ptrace not permitted?): {why[0]}"
    return None


def trace(
    argv: Sequence[str], log: Path, *, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` under strace, its calls written to ``log``; the command's own result."""
    strace = shutil.which("strace")
    assert strace is not None
    command = [strace, "-f", "-y", "-qq", "-s", str(STRING_LIMIT), "-o", str(log)]
    command += ["-e", "trace=" + ",".join(SYSCALLS), "-e", "signal=none", *argv]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


def _split(args: str) -> list[str]:
    """The top-level arguments of a call: commas inside ``"..."``, ``<...>``, ``[...]`` and
    ``{...}`` do not split."""
    out, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(args):
        c = args[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in "<[{(":
            depth += 1
        elif c in ">]})":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(args[start:i].strip())
            start = i + 1
        i += 1
    out.append(args[start:].strip())
    return out


def _unescape(text: str) -> str:
    """A path as strace escapes it (``\\"``, ``\\\\``, octal ``\\377``, ``\\n``...), decoded."""
    raw = codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0]
    return os.fsdecode(raw)


def _string(arg: str) -> str:
    if arg.endswith('"...'):
        raise TraceError(f"a string cut at strace's limit ({STRING_LIMIT}): {arg[:80]}...")
    if not (len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"'):
        raise TraceError(f"not a quoted string: {arg!r}")
    return _unescape(arg[1:-1])


def _fd_path(arg: str) -> str:
    m = _FD.match(arg)
    if m is None:
        raise TraceError(f"a descriptor without its path (strace -y): {arg!r}")
    return _unescape(m["path"])


def _rename_paths(name: str, args: list[str], cwd: str) -> tuple[str, str]:
    if name == "rename":
        old_dir = new_dir = cwd
        old, new = _string(args[0]), _string(args[1])
    else:  # renameat(olddirfd, old, newdirfd, new[, flags])
        old_dir, old = _fd_path(args[0]), _string(args[1])
        new_dir, new = _fd_path(args[2]), _string(args[3])
    return (
        os.path.normpath(os.path.join(old_dir, old)),
        os.path.normpath(os.path.join(new_dir, new)),
    )


def parse(text: str, cwd: str | os.PathLike[str]) -> list[Call]:
    """The finished calls of an ``strace -f -y`` log, in order; a call split across
    lines (``<unfinished ...>`` then ``<... NAME resumed>``) is joined again. ``cwd`` is
    the child's working directory (what a relative path in ``rename`` is relative to)."""
    pending: dict[int, str] = {}
    calls: list[Call] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            raise TraceError(f"a line without a pid (strace -f -o): {line!r}")
        pid, rest = int(m["pid"]), m["rest"]
        if rest.startswith(("---", "+++")):  # a signal, an exit
            continue
        unfinished = _UNFINISHED.match(rest)
        if unfinished is not None:
            pending[pid] = unfinished["head"]
            continue
        resumed = _RESUMED.match(rest)
        if resumed is not None:
            head = pending.pop(pid, None)
            if head is None:
                raise TraceError(f"a resumed call that never started: {line!r}")
            rest = head + resumed["tail"]
        call = _CALL.match(rest)
        if call is None:
            raise TraceError(f"not a system call line: {line!r}")
        name, args = call["name"], _split(call["args"])
        result = -1 if call["result"] == "?" else int(call["result"])
        if name in RENAMES:
            paths = _rename_paths(name, args, os.fspath(cwd))
        elif name in WRITES | SYNCS:
            paths = (_fd_path(args[0]),)
        else:
            raise TraceError(f"a call that was not asked for: {line!r}")
        calls.append(Call(len(calls), pid, name, paths, result))
    return calls


def durability_faults(calls: Sequence[Call], folders: Iterable[Path]) -> tuple[list[str], int]:
    """What is wrong with each successful rename into ``folders`` (see the module's
    docstring), and how many such renames there were."""
    roots = {os.path.normpath(os.fspath(f)) for f in folders}
    faults: list[str] = []
    checked = 0
    for call in calls:
        if call.name not in RENAMES or call.result != 0:
            continue
        src, dest = call.paths
        folder = os.path.dirname(dest)
        if folder not in roots:
            continue
        checked += 1
        before = calls[: call.index]
        last_write = max(
            (c.index for c in before if c.name in WRITES and c.paths[0] == src), default=-1
        )
        synced = [
            c.index
            for c in before
            if c.name in SYNCS and c.paths[0] == src and c.result == 0 and c.index > last_write
        ]
        if not synced:
            faults.append(f"{dest}: renamed from {src} without an fsync of it after its last write")
        later = calls[call.index + 1 :]
        following = next((c.index for c in later if c.name in RENAMES), len(calls))
        if not any(
            c.name in SYNCS and c.paths[0] == folder and c.result == 0
            for c in later
            if c.index < following
        ):
            faults.append(
                f"{dest}: its folder {folder} was not fsync'ed after the rename "
                "(before the next one)"
            )
    return faults, checked
