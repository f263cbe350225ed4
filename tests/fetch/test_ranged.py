"""One EMNIST split by HTTP ranges, not the whole archive; and every way back to the whole.

A synthetic ``gzip.zip`` laid out as NIST's (every split's four members,
then the mapping files) is served by the loopback server, which counts the
body bytes it writes per request; each split's entry is registered at run
time with the archive's and the members' own sizes and SHA-256s
(``register()``: the real download path, no back door). The reference for
what the bytes should be is the standard library's ``zipfile`` reading the
same archive. Also here: the directory read from the archive's tail as a
ranged fetch reads it (end records, ZIP64, a comment, a directory past the
first tail read); ``idx.zipdirectory`` on its own is in
``tests/idx/test_zipdirectory.py``.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile

import numpy as np
import pytest

import idxmnist
from idxmnist import emnist
from idxmnist.datasets.spec import RemoteFile
from idxmnist.fetch import ranged
from idxmnist.idx.zipdirectory import Directory, NeedMoreError, end_record

from ..support.family import emnist_archive, emnist_member_names, emnist_specs
from ..support.helpers import listing
from ..support.httpserver import FaultServer

#: digits and byclass big enough that the ratio means something; the rest small
COUNTS = {
    "byclass": (3000, 600),
    "bymerge": (40, 10),
    "balanced": (40, 10),
    "letters": (300, 60),
    "digits": (2000, 400),
    "mnist": (40, 10),
}
URL_PATH = "/ok/gzip.zip"


def same(got, want) -> bool:
    (x, y), (xt, yt) = got
    wanted = [want[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    return all(np.array_equal(a, b) for a, b in zip((x, y, xt, yt), wanted, strict=True))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return emnist_archive(tmp_path_factory.mktemp("emnist"), COUNTS)


def reference(archive: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(archive))


def needed(archive: bytes, split: str) -> tuple[int, int]:
    """``(the split's members' sizes, the central directory and end record)``, per zipfile."""
    zf = reference(archive)
    members = sum(zf.getinfo(f"gzip/{n}").file_size for n in emnist_member_names(split))
    return members, len(archive) - zf.start_dir


def span_of(archive: bytes, member: str) -> tuple[int, int]:
    """Where ``member`` lies in the archive: its local header to the next one's, per zipfile."""
    zf = reference(archive)
    starts = sorted(i.header_offset for i in zf.infolist()) + [zf.start_dir]
    start = zf.getinfo(member).header_offset
    return start, starts[starts.index(start) + 1]


@pytest.fixture
def serve(release, registered, monkeypatch):
    """``serve(archive_bytes, pinned=...)``: a server holding the archive (the release's by
    default), every split registered with its mirror and the archive pinned as ``pinned``
    (by default, as what is served)."""
    monkeypatch.delenv("IDXMNIST_MIRRORS")  # the registered specs' own mirror decides
    servers = []

    def start(archive: bytes | None = None, pinned: RemoteFile | None = None) -> FaultServer:
        data = release.files["gzip.zip"] if archive is None else archive
        server = FaultServer({"gzip.zip": data})
        servers.append(server.__enter__())
        pin = pinned or RemoteFile(
            "gzip.zip", len(data), "sha256", hashlib.sha256(data).hexdigest()
        )
        registered(*emnist_specs(release, (server.url(),), pin))
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


# -- the target: one split, its members and the directory --------------------------------------


def test_one_split_transfers_its_members_and_the_directory_only(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    got = emnist.load_data("digits", cache_dir=tmp_path)
    assert same(got, release.extra["upright"]["digits"])
    members, directory = needed(archive, "digits")
    sent = server.sent[URL_PATH]
    assert sent <= 1.05 * (members + directory), (sent, members, directory)
    assert sent < len(archive) / 2  # the whole archive was never sent
    # the tail (end records and directory), then one span per member: all by Range
    headers = server.headers_of("gzip.zip")
    assert len(headers) == 5 and all("Range" in h for h in headers)
    assert all(h.get("If-Range") for h in headers[1:])  # the archive may not change between
    assert listing(tmp_path / "emnist") == {
        ".idxmnist.lock",
        ".idxmnist-pins.json",
        *emnist_member_names("digits"),
    }
    for name in emnist_member_names("digits"):
        assert (tmp_path / "emnist" / name).read_bytes() == release.files[name]


def test_a_second_split_fetches_only_its_own_members(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    emnist.load_data("digits", cache_dir=tmp_path)
    first = server.sent[URL_PATH]
    assert same(
        emnist.load_data("letters", cache_dir=tmp_path), release.extra["upright"]["letters"]
    )
    members, directory = needed(archive, "letters")
    assert server.sent[URL_PATH] - first <= 1.05 * (members + directory)
    asked = [h["Range"] for h in server.headers_of("gzip.zip")[5:]]
    spans = [span_of(archive, f"gzip/{n}") for n in emnist_member_names("letters")]
    assert asked[1:] == [f"bytes={a}-{b - 1}" for a, b in spans]
    # another orientation of a split already fetched: its kept members, no request
    before = dict(server.hits)
    emnist.load_data("digits", upright=False, cache_dir=tmp_path)
    assert dict(server.hits) == before
    assert listing(tmp_path / "emnist") == {
        ".idxmnist.lock",
        ".idxmnist-pins.json",
        *emnist_member_names("digits"),
        *emnist_member_names("letters"),
    }


# -- back to the whole archive ------------------------------------------------------------------


def test_without_range_the_whole_archive_is_fetched_and_still_verified(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    server.range_mode = "ignore"  # 200 and the whole body, whatever was asked
    got = emnist.load_data("digits", cache_dir=tmp_path)
    assert same(got, release.extra["upright"]["digits"])
    # the first answer (to the tail's Range) is the whole file: refused unread; then
    # the whole archive, read once, its members checked by their own pins
    headers = server.headers_of("gzip.zip")
    assert len(headers) == 2 and "Range" in headers[0] and "Range" not in headers[1]
    assert server.sent_per_request("gzip.zip")[1] == len(archive)
    assert listing(tmp_path / "emnist") == {
        ".idxmnist.lock",
        ".idxmnist-pins.json",
        *emnist_member_names("digits"),
    }


def test_a_member_damaged_in_transit_falls_back_to_the_whole_archive(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    name = emnist_member_names("digits")[0]
    start, stop = span_of(archive, f"gzip/{name}")
    server.mangle = (start + stop) // 2  # one byte of that member's ranged answer
    got = emnist.load_data("digits", cache_dir=tmp_path)
    assert same(got, release.extra["upright"]["digits"])
    headers = server.headers_of("gzip.zip")
    # tail, four spans (one failed its check), then the whole archive for that one
    assert len(headers) == 6 and "Range" not in headers[-1]
    assert server.sent_per_request("gzip.zip")[-1] == len(archive)
    for n in emnist_member_names("digits"):
        assert (tmp_path / "emnist" / n).read_bytes() == release.files[n]
    assert not [p for p in listing(tmp_path / "emnist") if p.endswith(".part")]


def rezip(archive: bytes, replace: dict[str, bytes]) -> bytes:
    """The archive with members replaced (a consistent zip: their CRCs match)."""
    src = reference(archive)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info, replace.get(info.filename, src.read(info)))
    return buf.getvalue()


def test_a_member_that_is_not_the_pinned_one_is_refused_both_ways(release, serve, tmp_path):
    names = emnist_member_names("digits")
    other = release.files[emnist_member_names("mnist")[3]]  # valid gzip, another file
    archive = rezip(release.files["gzip.zip"], {f"gzip/{names[3]}": other})
    # the registry pins an archive of that size, but not that one
    pinned = hashlib.sha256(release.files["gzip.zip"]).hexdigest()
    server = serve(archive, RemoteFile("gzip.zip", len(archive), "sha256", pinned))
    with pytest.raises(idxmnist.ChecksumError) as info:
        emnist.load_data("digits", cache_dir=tmp_path)
    message = str(info.value)
    assert f"could not download {names[3]}" in message
    assert (
        "by ranges: " in message and "; then the whole archive: not the pinned gzip.zip" in message
    )
    assert message.count("container check failed") == 2  # its own pin, each time
    # the three members that verify are kept: the next fetch needs only the fourth
    assert listing(tmp_path / "emnist") == {".idxmnist.lock", ".idxmnist-pins.json", *names[:3]}
    assert server.sent_per_request("gzip.zip")[-1] == len(archive)


def test_offline_opens_no_connection(release, serve, tmp_path):
    server = serve()
    with pytest.raises(idxmnist.DownloadError, match=r"offline \(offline=True\)"):
        emnist.load_data("digits", cache_dir=tmp_path, offline=True)
    assert server.connections == 0


# -- interrupted: resumed where it stopped ------------------------------------------------------


def test_a_member_cut_off_resumes_with_range_on_the_next_call(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    name = emnist_member_names("digits")[0]
    start, stop = span_of(archive, f"gzip/{name}")
    server.cut_at["gzip.zip"] = (206, start, 200_000)
    server.down_after_cut = True  # the immediate retry gets 503: this call gives up
    with pytest.raises(idxmnist.DownloadError, match="503"):
        emnist.load_data("digits", cache_dir=tmp_path)
    assert f".{name}.span.part" in listing(tmp_path / "emnist")
    assert same(emnist.load_data("digits", cache_dir=tmp_path), release.extra["upright"]["digits"])
    asked = [h["Range"] for h in server.headers_of("gzip.zip")]
    assert f"bytes={start + 200_000}-{stop - 1}" in asked
    per_request = dict(zip(asked, server.sent_per_request("gzip.zip"), strict=True))
    assert per_request[f"bytes={start}-{stop - 1}"] == 200_000
    assert per_request[f"bytes={start + 200_000}-{stop - 1}"] == stop - start - 200_000
    assert not [p for p in listing(tmp_path / "emnist") if p.endswith(".part")]


def test_an_interrupted_whole_archive_is_continued_not_restarted(release, serve, tmp_path):
    archive = release.files["gzip.zip"]
    server = serve()
    start, stop = span_of(archive, f"gzip/{emnist_member_names('digits')[0]}")
    server.mangle = (start + stop) // 2  # ranges fail that member: the whole archive it is
    server.cut_at["gzip.zip"] = (200, 0, len(archive) // 2)
    server.down_after_cut = True
    with pytest.raises(idxmnist.DownloadError):
        emnist.load_data("digits", cache_dir=tmp_path)
    assert ".gzip.zip.part" in listing(tmp_path / "emnist")
    server.mangle = None
    before = len(server.requests)
    assert same(emnist.load_data("digits", cache_dir=tmp_path), release.extra["upright"]["digits"])
    # straight back to the archive, from where it stopped; no ranged members first
    headers = server.headers_of("gzip.zip")[before:]
    assert [h.get("Range") for h in headers] == [f"bytes={len(archive) // 2}-"]
    assert "gzip.zip" not in "".join(p for p in listing(tmp_path / "emnist") if "part" in p)


# -- the directory ---------------------------------------------------------------------------


def zip64(archive: bytes, comment: bytes = b"") -> bytes:
    """``archive`` with ZIP64 end records (the EOCD's fields set to 0xFFFF/0xFFFFFFFF),
    as a writer of large archives leaves them."""
    zf = reference(archive)
    start = zf.start_dir
    eocd = archive.rindex(b"PK\x05\x06")
    count, size = struct.unpack_from("<HL", archive, eocd + 10)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment)
    )
    return archive[:eocd] + record + locator + end + comment


def test_zip64_end_records_are_read(release, serve, tmp_path):
    archive = zip64(release.files["gzip.zip"])
    assert reference(archive).read(f"gzip/{emnist_member_names('digits')[1]}")  # zipfile agrees
    server = serve(archive)
    registered_size = len(archive)
    assert registered_size > len(release.files["gzip.zip"])
    got = emnist.load_data("digits", cache_dir=tmp_path)
    assert same(got, release.extra["upright"]["digits"])
    assert len(server.headers_of("gzip.zip")) == 5  # still by ranges


@pytest.mark.parametrize("kind", ["plain", "zip64", "comment"])
def test_every_member_span_reads_as_zipfile_reads_it(release, kind, tmp_path):
    archive = release.files["gzip.zip"]
    if kind == "zip64":
        archive = zip64(archive)
    elif kind == "comment":
        archive = zip64(archive, b"x" * 40000)  # a long comment: the first tail is short
    size = len(archive)
    tail_start = size - ranged.TAIL
    try:
        end = end_record(archive[tail_start:], tail_start, size, "a.zip")
    except NeedMoreError as more:
        assert kind == "comment"
        tail_start = more.start
        end = end_record(archive[tail_start:], tail_start, size, "a.zip")
    assert end.zip64 == (kind != "plain")
    directory = Directory(archive[end.start :], end, "a.zip")
    zf = reference(archive)
    assert directory.names() == zf.namelist()
    for name in zf.namelist():
        start, stop = directory.span(name)
        assert (start, stop) == span_of(archive, name)
        (tmp_path / "span").write_bytes(archive[start:stop])
        with directory.open(name, tmp_path / "span") as f:
            assert f.readall() == zf.read(name), name


def test_a_directory_longer_than_the_first_tail_takes_one_more_request(serve, tmp_path, release):
    many = {f"gzip/padding-{i:04d}-{'x' * 60}.txt": b"." for i in range(200)}
    buf = io.BytesIO()
    src = reference(release.files["gzip.zip"])
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        for name, data in many.items():
            z.writestr(name, data)
    archive = buf.getvalue()
    assert len(archive) - reference(archive).start_dir > ranged.TAIL
    server = serve(archive)
    assert same(emnist.load_data("mnist", cache_dir=tmp_path), release.extra["upright"]["mnist"])
    assert len(server.headers_of("gzip.zip")) == 6  # tail, the directory's start, four members


# -- the archive under another name; a member it does not hold ---------------------------------


@pytest.mark.parametrize("range_mode", ["honor", "ignore"])
def test_the_archive_under_another_name_is_still_the_pinned_archive(
    release, registered, monkeypatch, tmp_path, range_mode
):
    """A mirror entry that is the archive's own URL, renamed: by ranges, or whole."""
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    archive = release.files["gzip.zip"]
    with FaultServer({"EMNIST-renamed.zip": archive}) as server:
        server.range_mode = range_mode
        registered(*emnist_specs(release, (server.url() + "EMNIST-renamed.zip",)))
        got = emnist.load_data("digits", cache_dir=tmp_path)
        assert same(got, release.extra["upright"]["digits"])
        headers = server.headers_of("EMNIST-renamed.zip")
    if range_mode == "honor":
        assert len(headers) == 5 and all("Range" in h for h in headers)
    else:  # the tail's answer refused unread, then the archive, whole, checked by its pin
        assert len(headers) == 2 and "Range" not in headers[1]
    assert listing(tmp_path / "emnist") == {
        ".idxmnist.lock",
        ".idxmnist-pins.json",
        *emnist_member_names("digits"),
    }


def test_a_member_the_directory_does_not_list_does_not_fetch_the_whole_archive(
    release, serve, tmp_path
):
    names = emnist_member_names("digits")
    src = reference(release.files["gzip.zip"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            if info.filename != f"gzip/{names[3]}":
                z.writestr(info, src.read(info))
    server = serve(buf.getvalue())
    with pytest.raises(idxmnist.DownloadError) as info:
        emnist.load_data("digits", cache_dir=tmp_path)
    message = str(info.value)
    assert f"holds no {names[3]} (its central directory lists no such member)" in message
    headers = server.headers_of("gzip.zip")
    assert len(headers) == 4 and all("Range" in h for h in headers)  # the tail, three members
    assert listing(tmp_path / "emnist") == {".idxmnist.lock", ".idxmnist-pins.json", *names[:3]}


class ChangesAfterItsDirectoryIsRead(FaultServer):
    """The archive on the server is replaced right after the first request (its tail)."""

    def __init__(self, files: dict[str, bytes], replacement: bytes) -> None:
        super().__init__(files)
        self.replacement: bytes | None = replacement

    def finish_request(self, request, client_address):
        super().finish_request(request, client_address)
        with self.lock:
            replacement, self.replacement = self.replacement, None
        if replacement is not None:
            self.put("gzip.zip", replacement)


def test_an_archive_changed_between_its_directory_and_a_member_is_fetched_whole(
    release, registered, monkeypatch, tmp_path
):
    """If-Range answered with the whole (new) archive: that body is refused unread, never
    mixed in, and the members come from the whole archive, each verified on its own pin."""
    monkeypatch.delenv("IDXMNIST_MIRRORS")
    archive = release.files["gzip.zip"]
    src = reference(archive)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the same members, repacked: other bytes, new ETag
        z.comment = b"repacked"
        for info in src.infolist():
            z.writestr(info, src.read(info))
    changed = buf.getvalue()
    assert changed != archive
    with ChangesAfterItsDirectoryIsRead({"gzip.zip": archive}, changed) as server:
        pin = RemoteFile("gzip.zip", len(archive), "sha256", hashlib.sha256(archive).hexdigest())
        registered(*emnist_specs(release, (server.url(),), pin))
        got = emnist.load_data("digits", cache_dir=tmp_path)
        headers = server.headers_of("gzip.zip")
    assert same(got, release.extra["upright"]["digits"])
    assert "Range" in headers[0] and "If-Range" not in headers[0]  # the tail
    assert "Range" in headers[1] and headers[1].get("If-Range")  # a member, by its range
    assert "Range" not in headers[-1]  # then the whole archive, the new one
    assert len(headers) == 3
    for n in emnist_member_names("digits"):
        assert (tmp_path / "emnist" / n).read_bytes() == release.files[n]
