"""One URL into one resumable ``.part``: HTTP with ``Range`` and ``If-Range``, or ``file://``.

Against the real loopback server, which speaks HTTP ranges. A body cut after
N bytes is continued with ``Range: bytes=N-`` (the server's per-request byte
counts show that only the rest was sent), in the same call or, when the
server went away, in the next one. The misbehaving servers: one that ignores
``Range``, one whose ``Content-Range`` does not fit, a file that changed in
between (``If-Range`` honoured), bodies without ``Content-Length`` or longer
than it says. The final checksum decides every time.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import pty
import select
import socket
import struct
import sys
import termios
import time
import warnings
from urllib.parse import quote

import numpy as np
import pytest

import idxmnist
from idxmnist import ChecksumError
from idxmnist.datasets.spec import RemoteFile
from idxmnist.fetch import download, transfer
from idxmnist.fetch.partial import Partial
from idxmnist.fetch.transfer import Expect
from idxmnist.load.loader import load_dataset
from idxmnist.store import verify as checksum

from ..support.helpers import listing
from ..support.httpserver import FaultServer
from ..support.pinned import NPZ, UPSTREAM, synth_spec
from ..support.resume import BIG, N, flipped, ranges
from ..support.synth import NAMES, same, with_files

# -- the body: its length, Content-Length, and what is kept ------------------------------------


def test_a_wrong_content_length_is_refused_before_the_body(tmp_path, synth):
    files, _, spec = synth
    # the registry says the file is one byte longer than what the server has
    remote = spec.files[1]
    longer = RemoteFile(remote.name, remote.size + 1, remote.algorithm, remote.digest)
    with FaultServer(files) as server:
        with pytest.raises(idxmnist.DownloadError, match=r"got \d+ bytes, expected \d+"):
            download.fetch_file(longer, tmp_path / "d", [server.url()])
        assert server.gets() == {f"/ok/{remote.name}": 1}
    assert not (tmp_path / "d").exists() or listing(tmp_path / "d") == set()


def test_a_body_of_another_length_than_the_pinned_one_says_both_lengths(tmp_path):
    body = np.random.default_rng(6).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    for size in (len(body) - 10, len(body) + 10):
        remote = RemoteFile("blob.gz", size, "sha256", "0" * 64)
        with FaultServer({"blob.gz": body}) as server:
            url = server.url()
            with pytest.raises(ChecksumError) as info:
                download.fetch_file(remote, tmp_path, [url])
        assert str(info.value).split("\n")[1:] == [
            f"  {url}blob.gz -> got {len(body)} bytes, expected {size}"
        ]
        assert listing(tmp_path) == set()


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


# -- resume: Range, If-Range, and servers that get them wrong ----------------------------------


def test_a_cut_download_resumes_in_the_same_call(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, size - N]  # no byte sent twice
        assert server.sent[f"/ok/{BIG}"] == size
        # If-Range carries the validator the first answer gave
        etag = server.headers_of(BIG)[1]["If-Range"]
        assert etag.startswith('"') and etag != '""'
    assert listing(tmp_path) == with_files(*NAMES)
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]


def test_a_cut_download_resumes_in_the_next_call(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.down_after_cut = True  # the retry gets a 503: this call gives up
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError, match="HTTP 503"):
            load_dataset(spec, cache_dir=tmp_path)
        kept = tmp_path / "synth" / f".{BIG}.part"
        assert kept.read_bytes() == files[BIG][:N]
        assert json.loads(kept.with_name(kept.name + ".json").read_text())["synced"] == N
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-", f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, 0, size - N]
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_server_that_ignores_range_sends_it_all_and_that_is_used(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.range_mode = "ignore"  # 200 and the whole body, whatever is asked
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        assert ranges(server) == [None, f"bytes={N}-"]
        assert server.sent_per_request(BIG) == [N, size]
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]  # not the first N twice
    assert listing(tmp_path) == with_files(*NAMES)


def test_a_content_range_that_does_not_fit_restarts_the_file(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.range_mode = "misfit"  # 206, Content-Range starting 7 bytes later
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        # cut; a 206 that does not fit (refused before its body is used); whole again
        assert ranges(server) == [None, f"bytes={N}-", None]
        assert server.sent_per_request(BIG)[2] == size
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]
    assert listing(tmp_path) == with_files(*NAMES)


@pytest.mark.parametrize("etags", [True, False], ids=["etag", "last-modified"])
def test_a_file_that_changed_comes_back_whole_through_if_range(data, tmp_path, monkeypatch, etags):
    files, arrays, spec = data
    size = len(files[BIG])
    with FaultServer({**files, BIG: flipped(files[BIG])}) as server:
        server.etags = etags
        server.cut[BIG] = N
        server.down_after_cut = True
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url())
        with pytest.raises(idxmnist.DownloadError):
            load_dataset(spec, cache_dir=tmp_path)
        old = server.headers_of(BIG)[1]["If-Range"]
        server.put(BIG, files[BIG])  # the mirror replaced its bad copy meanwhile
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        third = server.headers_of(BIG)[2]
        assert third["Range"] == f"bytes={N}-" and third["If-Range"] == old
        assert old.startswith('"') == etags  # an ETag, else the Last-Modified date
        assert server.sent_per_request(BIG)[2] == size  # the new file, whole
    assert (tmp_path / "synth" / BIG).read_bytes() == files[BIG]


def test_no_range_support_no_kept_part(data, tmp_path, monkeypatch):
    """A server that does not say ``Accept-Ranges: bytes`` leaves nothing to resume."""
    files, _, spec = data
    with FaultServer(files) as server:
        monkeypatch.setenv("IDXMNIST_MIRRORS", server.url("half"))
        with pytest.raises(idxmnist.DownloadError, match="connection closed after"):
            load_dataset(spec, cache_dir=tmp_path)
        assert ranges(server, BIG) == []  # the half mode is under /half/
        assert [h.get("Range") for h in server.headers_of(BIG, "half")] == [None]
    assert listing(tmp_path) == with_files(npz=False)


def test_download_error_lists_each_try(data, tmp_path):
    files, _, spec = data
    with FaultServer(files) as server:
        server.cut[BIG] = N
        server.down_after_cut = True
        with pytest.raises(idxmnist.DownloadError) as info:
            download.fetch_dataset(spec, tmp_path, [server.url()])
    assert f"{server.url()}{BIG} -> HTTP 503" in str(info.value)


# -- file:// URLs ------------------------------------------------------------------------------


def test_file_urls_work(synth, tmp_path, monkeypatch):
    files, arrays, spec = synth
    for name, body in files.items():
        (tmp_path / "mirror").mkdir(exist_ok=True)
        (tmp_path / "mirror" / name).write_bytes(body)
    good = (tmp_path / "mirror").as_uri() + "/"
    monkeypatch.setenv("IDXMNIST_MIRRORS", f"file://{tmp_path}/missing/,{good}")
    assert same(load_dataset(spec, cache_dir=tmp_path / "c"), arrays)
    assert listing(tmp_path / "c") == with_files(*NAMES)


# -- the progress bar on a terminal names the file, not the URL --------------------------------


END = "-- end of what the test shows --"


@contextlib.contextmanager
def terminal(monkeypatch):
    """``sys.stderr`` on a real pseudo-terminal; yields a function reading what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    tty = os.fdopen(slave, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", tty)

    def read() -> str:
        # the kernel passes a terminal's output on asynchronously: read up to a marker
        tty.write(f"\n{END}\n")
        tty.flush()
        shown, deadline = b"", time.monotonic() + 60  # a deadline for a hang, not a timing
        while END.encode() not in shown:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"the terminal never showed the end marker: {shown!r}"
            shown += os.read(master, 65536)
        return shown.decode("utf-8", "replace").split(END)[0]

    try:
        yield read
    finally:
        monkeypatch.undo()
        tty.close()
        os.close(master)


def test_the_progress_bar_of_a_file_names_it_not_its_url(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    remote = synth_spec().files[0]
    with FaultServer(UPSTREAM) as server, terminal(monkeypatch) as shown:
        got = download.fetch_file(remote, tmp_path, [server.url()], seconds=10)
        out = shown()
    assert got.read_bytes() == UPSTREAM[remote.name]
    assert f"{remote.name}:" in out, out
    assert "http://" not in out, out


def test_the_progress_bar_of_a_whole_file_names_it_not_its_url(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    spec = synth_spec()
    with FaultServer({"synth.npz": NPZ}) as server, terminal(monkeypatch) as shown:
        download.fetch_file(spec.files[0], tmp_path, [server.url() + "synth.npz"], spec=spec)
        out = shown()
    assert "synth.npz:" in out, out
    assert "http://" not in out, out


# -- credentials in a mirror URL: HTTP Basic, never shown (issue 19, row 9) ---------------------


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` before its host, each percent-encoded as a URL needs."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{rest}"


def test_a_mirror_url_with_a_user_and_password_works_by_http_basic(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    with FaultServer(files) as server:
        url = with_credentials(server.url("auth"), server.user, server.password)
        monkeypatch.setenv("IDXMNIST_MIRRORS", url)
        assert same(load_dataset(spec, cache_dir=tmp_path), arrays)
        token = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
        assert {h.get("Authorization") for h in server.headers_of(BIG, "auth")} == {
            f"Basic {token}"
        }
        # the credentials travel in the header, never in the request line
        assert all(server.password not in r["path"] for r in server.requests)


def test_a_password_never_shows_in_an_error_a_warning_or_a_resume_record(
    data, tmp_path, monkeypatch
):
    files, _, spec = data
    with FaultServer(files) as server:
        shown = server.url("auth").replace("http://", f"http://{server.user}:***@")
        wrong = with_credentials(server.url("auth"), server.user, "not-the-password")
        monkeypatch.setenv("IDXMNIST_MIRRORS", wrong)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(idxmnist.DownloadError) as refused:
                load_dataset(spec, cache_dir=tmp_path)
        message = str(refused.value)
        assert f"{shown}{BIG} -> HTTP 401 (a user name and password were refused" in message
        assert "not-the-password" not in message + "".join(str(w.message) for w in caught)
        # the right password, and a cut: the resume record names the URL without it
        server.cut[BIG] = N
        server.down_after_cut = True
        good = with_credentials(server.url("auth"), server.user, server.password)
        monkeypatch.setenv("IDXMNIST_MIRRORS", good)
        with pytest.raises(idxmnist.DownloadError) as cut:
            load_dataset(spec, cache_dir=tmp_path)
        assert server.password not in str(cut.value)
        assert f"{shown}{BIG} -> HTTP 503" in str(cut.value)
        record = tmp_path / "synth" / f".{BIG}.part.json"
        assert json.loads(record.read_text())["url"] == f"{shown}{BIG}"
        everything = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
        assert quote(server.password, safe="").encode() not in everything
        assert server.password.encode() not in everything
        # and the next call resumes that record with the same URL
        monkeypatch.setenv("IDXMNIST_MIRRORS", good)
        load_dataset(spec, cache_dir=tmp_path)
        assert server.headers_of(BIG, "auth")[-1]["Range"] == f"bytes={N}-"


def test_the_progress_bar_of_a_url_with_credentials_hides_the_password(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    body = bytes(range(256)) * 4096  # 1 MiB: the bar shows
    with FaultServer({"blob.gz": body}) as server, terminal(monkeypatch) as shown:
        url = with_credentials(server.url("auth"), server.user, server.password) + "blob.gz"
        part = Partial(tmp_path, "blob.gz")
        result = transfer.fetch(url, part, Expect(len(body), len(body), "sha256"), 10)
        out = shown()
    assert result.digest == hashlib.sha256(body).hexdigest()
    assert f"{server.user}:***@127.0.0.1" in out, out
    assert "s3cret" not in out and quote(server.password, safe="") not in out, out


def test_credentials_never_follow_a_redirect_to_another_origin(data, tmp_path):
    files, _, spec = data
    with FaultServer(files) as other, FaultServer(files) as server:
        server.redirect_base = other.url("ok")  # another port: another origin
        url = with_credentials(server.url("redirect"), server.user, server.password)
        download.fetch_file(spec.files[1], tmp_path, [url])
        assert server.headers_of(spec.files[1].name, "redirect")[0]["Authorization"]
        assert "Authorization" not in other.headers_of(spec.files[1].name)[0]


# -- redirects: to http and https only (row 10) -----------------------------------------------


def test_a_redirect_to_ftp_is_refused_by_name_and_nothing_connects(data, tmp_path, monkeypatch):
    files, arrays, spec = data
    ftp = socket.create_server(("127.0.0.1", 0))  # would answer the client's USER anonymous
    ftp.setblocking(False)
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "2")
    try:
        with FaultServer(files) as server:
            server.ftp_port = ftp.getsockname()[1]
            monkeypatch.setenv("IDXMNIST_MIRRORS", f"{server.url('ftp')},{server.url()}")
            assert same(load_dataset(spec, cache_dir=tmp_path), arrays)  # the next mirror
            with pytest.raises(idxmnist.DownloadError) as refused:
                download.fetch_file(spec.files[1], tmp_path / "d", [server.url("ftp")])
        with pytest.raises(BlockingIOError):
            ftp.accept()  # no connection ever came
    finally:
        ftp.close()
    target = f"ftp://127.0.0.1:{server.ftp_port}/{spec.files[1].name}"
    assert (
        f"{server.url('ftp')}{spec.files[1].name} -> refused a redirect to {target}: only "
        "http and https are followed"
    ) in str(refused.value)


# -- a server that sends a byte at a time is cut off (row 11) ----------------------------------


def test_headers_sent_a_byte_at_a_time_are_cut_off_by_the_answer_deadline(tmp_path, monkeypatch):
    """A socket timeout alone restarts with every byte: 0.2 s a byte never times out at 1 s."""
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "1")
    with FaultServer({"blob.gz": BODY}) as server:
        server.dribble_pause = 0.2
        with pytest.raises(idxmnist.DownloadError) as exc:
            download.fetch_file(remote(), tmp_path, [server.url("slowheaders")])
        sent = server.sent_per_request("blob.gz", "slowheaders")
    assert "no answer within 1 s (its headers did not arrive in time)" in str(exc.value)
    # cut off long before the headers were through (about 90 bytes), never mind the body
    assert sent and max(sent) < 40, sent
    assert list(tmp_path.iterdir()) == []


def test_a_body_that_trickles_is_too_slow_and_the_next_mirror_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("IDXMNIST_TIMEOUT", "1")
    with FaultServer({"blob.gz": BODY}) as server:
        server.dribble_pause = 0.05
        with pytest.raises(idxmnist.DownloadError) as exc:
            download.fetch_file(remote(), tmp_path / "a", [server.url("trickle")])
        sent = server.sent_per_request("blob.gz", "trickle")
        path = download.fetch_file(remote(), tmp_path / "b", [server.url("trickle"), server.url()])
    assert path.read_bytes() == BODY
    message = str(exc.value)
    assert "too slow: " in message and "fewer than the 16 KiB a mirror must send" in message
    assert sent and max(sent) < 100 < len(BODY), sent


# -- a full disk is the disk's fault, not the mirror's -------------------------------------------

FULL_DISK = """
import idxmnist
try:
    idxmnist.mnist.load_data(cache_dir=sys.argv[1])
except OSError as exc:
    print(type(exc).__name__, isinstance(exc, idxmnist.DownloadError), exc.errno)
    print(exc)
else:
    print("no error")
"""


def test_a_full_disk_mid_download_is_an_oserror_naming_the_file_and_no_mirror_is_blamed(
    mnist_dir, tmp_path, monkeypatch
):
    """A child that cannot write past 3 MiB (``RLIMIT_FSIZE``, as a full disk) downloads MNIST
    from two mirrors: the 9.9 MB training images stop it with an ``OSError`` (EFBIG, not a
    ``DownloadError``) naming the ``.part`` in the dataset's folder and the limit; the second
    mirror is never asked (another mirror cannot make room); the ``.part`` and its resume
    record (past 1 MiB, it was resumable) are removed, the file already kept is untouched.
    Without the limit, the next call downloads and loads the real arrays."""
    import errno

    from ..support.helpers import MNIST_FILES, plain_read, run_size_limited, sha256

    files = {n: (mnist_dir / n).read_bytes() for n in MNIST_FILES}
    cache = tmp_path / "cache"
    store = cache / "mnist"
    store.mkdir(parents=True)
    kept = store / "t10k-labels-idx1-ubyte.gz"  # already in the store from an earlier call
    kept.write_bytes(files[kept.name])
    before, digest = listing(cache), sha256(kept)
    with FaultServer(files) as first, FaultServer(files) as second:
        mirrors = f"{first.url()},{second.url()}"
        out = run_size_limited(FULL_DISK, 3 << 20, cache, IDXMNIST_MIRRORS=mirrors)
        assert out.returncode == 0, out.stderr
        head, message = out.stdout.split("\n", 1)
        assert head == f"OSError False {errno.EFBIG}", out.stdout
        part = store / ".train-images-idx3-ubyte.gz.part"
        assert f"could not write {part}: " in message, message
        assert "file-size limit" in message and "disk is full" in message, message
        assert "partial download" in message and "mirror" not in message, message
        assert first.gets() == {"/ok/train-images-idx3-ubyte.gz": 1}
        assert second.gets() == {}
        assert listing(cache) == before | {"mnist/.idxmnist.lock"}  # no .part, no record
        assert sha256(kept) == digest
        monkeypatch.setenv("IDXMNIST_MIRRORS", mirrors)
        (x, y), (xt, yt) = idxmnist.mnist.load_data(cache_dir=cache)
    assert np.array_equal(x.reshape(-1), plain_read(mnist_dir / MNIST_FILES[0], 16))
    assert np.array_equal(yt, plain_read(kept, 8))
