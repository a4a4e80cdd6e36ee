"""WarcWriter: warcinfo, naming, rotation, .open files, flushing, crash repair, cross-crawl revisits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive import __version__
from archive.warc import Exchange, MemoryDigestIndex, WarcWriter
from archive.warc.reader import iter_responses
from archive.warc.repair import repair_directory

T0 = datetime(2024, 2, 29, 9, 29, 0, tzinfo=UTC)
NAME_RE = re.compile(r"^crawl-(\d{17})-(\d{5})-testhost\.warc\.gz$")
WARCINFO = {
    "run-id": "42",
    "start-urls": "http://h/col/",
    "politeness": "delay=1s concurrency=2",
    "robots": "obey",
}


def warcio_check(*paths: Path) -> None:
    assert paths, "no WARC file was written"
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def exchange(i: int, body: bytes | None = None) -> Exchange:
    return Exchange(
        url=f"http://h/art/{i}.html?v={i}",
        status=200,
        reason=b"OK",
        response_headers=[(b"Content-Type", b"text/html")],
        body=body if body is not None else f"<html>page {i} ".encode() + os.urandom(2000).hex().encode(),
        started_at=T0 + timedelta(seconds=i),
        ip_address="127.0.0.1",
    )


def record_types(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.rec_type for r in ArchiveIterator(fh)]


def read_at(directory: Path, ref) -> object:
    with open(directory / ref.filename, "rb") as fh:
        fh.seek(ref.offset)
        data = fh.read(ref.length)
    import io

    rec = next(iter(ArchiveIterator(io.BytesIO(data))))
    return rec


def test_warcinfo_opens_the_file_with_crawl_settings(tmp_path):
    writer = WarcWriter(tmp_path, prefix="crawl", host="testhost", warcinfo=WARCINFO)
    writer.write_exchange(exchange(1))
    writer.close()
    [path] = writer.files
    warcio_check(path)
    with open(path, "rb") as fh:
        first = next(iter(ArchiveIterator(fh)))
        fields = first.content_stream().read().decode()
        assert first.rec_type == "warcinfo"
        assert first.rec_headers["WARC-Filename"] == path.name
    assert f"software: govarchive/{__version__}" in fields
    for key, value in WARCINFO.items():
        assert f"{key}: {value}\r\n" in fields


def test_file_is_written_as_open_flushed_per_exchange_and_renamed_on_close(tmp_path):
    writer = WarcWriter(tmp_path, prefix="crawl", host="testhost", warcinfo=WARCINFO)
    written = [writer.write_exchange(exchange(i)) for i in range(3)]
    open_path = writer.current_path
    assert open_path is not None and open_path.name.endswith(".warc.gz.open")
    assert list(tmp_path.iterdir()) == [open_path]
    # flushed: everything written so far is readable while the writer is still open
    assert [r.url for r in iter_responses([open_path])] == [f"http://h/art/{i}.html?v={i}" for i in range(3)]
    writer.close()
    [path] = writer.files
    assert NAME_RE.match(path.name) and not open_path.exists()
    assert {w.ref.filename for w in written} == {path.name}
    for w in written:  # every ref points at its response record
        rec = read_at(tmp_path, w.ref)
        assert rec.rec_type == "response" and rec.rec_headers["WARC-Record-ID"] == w.ref.record_id


def test_files_rotate_at_max_size_with_serials_and_a_warcinfo_each(tmp_path):
    clock = iter(T0 + timedelta(milliseconds=5 * n) for n in range(100))
    writer = WarcWriter(
        tmp_path,
        prefix="crawl",
        host="testhost",
        max_size=12_000,
        warcinfo=WARCINFO,
        clock=lambda: next(clock),
    )
    written = [writer.write_exchange(exchange(i)) for i in range(12)]
    writer.close()
    assert len(writer.files) >= 3
    serials = []
    for path in writer.files:
        match = NAME_RE.match(path.name)
        assert match, path.name
        serials.append(int(match.group(2)))
        types = record_types(path)
        assert types[0] == "warcinfo" and types.count("warcinfo") == 1
        assert types.count("response") >= 1
        assert path.stat().st_size <= 12_000
    assert serials == list(range(len(writer.files)))
    assert NAME_RE.match(writer.files[0].name).group(1) == "20240229092900000"
    warcio_check(*writer.files)
    assert sorted(tmp_path.iterdir()) == sorted(writer.files)
    assert sum(1 for _ in iter_responses(tmp_path)) == 12
    assert len({w.ref.filename for w in written}) == len(writer.files)


def test_one_exchange_larger_than_max_size_still_gets_written(tmp_path):
    writer = WarcWriter(tmp_path, host="testhost", max_size=1000)
    writer.write_exchange(exchange(1, body=os.urandom(5000)))
    writer.write_exchange(exchange(2, body=os.urandom(5000)))
    writer.close()
    assert len(writer.files) == 2
    warcio_check(*writer.files)


def test_revisit_across_crawls_through_a_shared_digest_index(tmp_path):
    index = MemoryDigestIndex()  # stands in for the store's persistent index
    attachment = b"%PDF-1.5 " + b"x" * 4000
    first = WarcWriter(tmp_path / "run1", host="testhost", digest_index=index)
    w1 = first.write_exchange(exchange(1, body=attachment))
    first.close()
    second = WarcWriter(tmp_path / "run2", host="testhost", digest_index=index)
    w2 = second.write_exchange(exchange(2, body=attachment))
    second.close()
    assert not w1.revisit and w2.revisit
    rec = read_at(tmp_path / "run2", w2.ref)
    assert rec.rec_type == "revisit"
    assert rec.rec_headers["WARC-Refers-To"] == w1.ref.record_id
    # the reader resolves the revisit when both crawls are read together
    [orig, rev] = list(iter_responses([tmp_path / "run1", tmp_path / "run2"]))
    assert rev.record_type == "revisit" and rev.resolved and rev.payload == attachment == orig.payload
    warcio_check(*first.files, *second.files)


CRASH_SCRIPT = textwrap.dedent(
    """
    import sys, os
    from datetime import datetime, UTC
    from pathlib import Path
    from archive.warc import Exchange, WarcWriter
    writer = WarcWriter(Path(sys.argv[1]), host="testhost")
    i = 0
    while True:
        writer.write_exchange(Exchange(url=f"http://h/p/{i}", status=200,
            response_headers=[(b"Content-Type", b"text/html")],
            body=b"<html>" + os.urandom(3000).hex().encode(), started_at=datetime.now(UTC)))
        print(i, flush=True)
        i += 1
    """
)


def test_kill_9_leaves_complete_records_and_repair_closes_the_file(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        acknowledged = -1
        while acknowledged < 30:
            line = proc.stdout.readline()
            assert line, "writer process died"
            acknowledged = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    [open_path] = list(tmp_path.glob("*.warc.gz.open"))
    # a kill in the middle of a write leaves half a record at the end: simulate it
    with open(open_path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03half a member")

    errors = []
    urls = [r.url for r in iter_responses([open_path], on_error=lambda p, e: errors.append(e))]
    assert urls[: acknowledged + 1] == [f"http://h/p/{i}" for i in range(acknowledged + 1)]

    [result] = repair_directory(tmp_path)
    assert result.action == "truncated" and result.bytes_dropped > 0
    assert result.path.name == open_path.name.removesuffix(".open") and result.path.exists()
    assert not open_path.exists()
    warcio_check(result.path)
    assert [r.url for r in iter_responses(tmp_path)] == urls
    assert repair_directory(tmp_path) == []


def test_repair_removes_a_file_without_a_complete_record(tmp_path):
    broken = tmp_path / "crawl-20240229092900000-00000-testhost.warc.gz.open"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    [result] = repair_directory(tmp_path)
    assert result.action == "removed" and not broken.exists()


def test_repair_closes_a_complete_open_file_untouched(tmp_path):
    writer = WarcWriter(tmp_path, host="testhost")
    writer.write_exchange(exchange(1))
    open_path = writer.current_path
    data = open_path.read_bytes()
    [result] = repair_directory(tmp_path)
    assert result.action == "closed" and result.records == 3
    assert result.path.read_bytes() == data
    warcio_check(result.path)


def test_repair_never_overwrites_a_finished_file(tmp_path):
    writer = WarcWriter(tmp_path, host="testhost")
    writer.write_exchange(exchange(1))
    open_path = writer.current_path
    final = open_path.with_name(open_path.name.removesuffix(".open"))
    final.write_bytes(b"someone else's file")
    [result] = repair_directory(tmp_path)
    assert result.action == "skipped" and "already exists" in result.describe()
    assert final.read_bytes() == b"someone else's file" and open_path.exists()


class BrokenIndex:
    def lookup(self, payload_digest):
        raise ConnectionError("database went away")

    def add(self, payload_digest, original):
        raise ConnectionError("database went away")


def test_a_failing_digest_index_never_costs_the_record(tmp_path):
    writer = WarcWriter(tmp_path, host="testhost", digest_index=BrokenIndex())
    written = [writer.write_exchange(exchange(i, body=b"same body")) for i in range(2)]
    writer.close()
    assert [w.revisit for w in written] == [False, False]
    assert [r.payload for r in iter_responses(tmp_path)] == [b"same body", b"same body"]
    warcio_check(*writer.files)
