"""Reading responses back from any standard WARC: other tools' files, revisits, corrupt files."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc import Exchange, WarcWriter
from archive.warc.reader import iter_responses

HTML = "<html><head><title>通知</title></head><body>关于印发的通知</body></html>".encode()


def warcio_check(*paths: Path) -> None:
    assert paths, "no WARC file was written"
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def warcio_made(path: Path, gz: bool = True) -> Path:
    """A WARC/1.0 written by warcio's own writer, with a chunked gzip response and a dns resource."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcio"}))
        body = gzip.compress(HTML)
        chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        http = StatusAndHeaders(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Transfer-Encoding", "chunked"),
            ],
            protocol="HTTP/1.0",
        )
        writer.write_record(
            writer.create_warc_record(
                "http://other.tool/a.html", "response", payload=BytesIO(chunked), http_headers=http
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "dns:other.tool",
                "resource",
                payload=BytesIO(b"other.tool 1.2.3.4"),
                warc_content_type="text/dns",
            )
        )
        plain = StatusAndHeaders("404 Not Found", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                "http://other.tool/missing", "response", payload=BytesIO(b"nope"), http_headers=plain
            )
        )
    return path


def ours(directory: Path, *bodies_and_urls: tuple[str, bytes]) -> list[Path]:
    writer = WarcWriter(directory, host="testhost")
    for i, (url, body) in enumerate(bodies_and_urls):
        writer.write_exchange(
            Exchange(
                url=url,
                status=200,
                response_headers=[(b"Content-Type", b"text/html")],
                body=body,
                started_at=datetime(2024, 1, 1, 0, 0, i, tzinfo=UTC),
            )
        )
    writer.close()
    return writer.files


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_reads_a_warc_written_by_warcio(tmp_path, gz):
    path = warcio_made(tmp_path / ("other.warc.gz" if gz else "other.warc"), gz=gz)
    warcio_check(path)
    errors = []
    got = list(iter_responses([tmp_path], on_error=lambda p, e: errors.append(e)))
    assert not errors
    assert [(r.url, r.status, r.record_type) for r in got] == [
        ("http://other.tool/a.html", 200, "response"),
        ("http://other.tool/missing", 404, "response"),
    ]
    assert got[0].payload == HTML  # de-chunked and gunzipped
    assert got[0].header("content-type") == "text/html; charset=utf-8"
    assert got[1].payload == b"nope"
    assert got[0].ref.filename == path.name and got[0].ref.record_id.startswith("<urn:uuid:")


def test_reads_a_hand_made_uncompressed_warc(tmp_path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + HTML
    record = (
        (
            b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://hand.made/x\r\n"
            b"WARC-Date: 2020-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:11111111-1111-1111-1111-111111111111>\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http)
        )
        + http
        + b"\r\n\r\n"
    )
    (tmp_path / "hand.warc").write_bytes(record)
    [got] = list(iter_responses(tmp_path / "hand.warc"))
    assert (got.url, got.status, got.payload, got.date) == (
        "http://hand.made/x",
        200,
        HTML,
        "2020-01-01T00:00:00Z",
    )
    assert got.ref.offset == 0


def test_truncated_gzip_warc_yields_complete_records_and_reports_the_rest(tmp_path):
    bodies = [HTML + os.urandom(1500) for _ in range(5)]  # incompressible: the cut lands predictably
    [path] = ours(tmp_path, *[(f"http://h/{i}", body) for i, body in enumerate(bodies)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])  # the last request and the end of the last response
    errors = []
    got = list(iter_responses([path], on_error=lambda p, e: errors.append((p, e))))
    assert [r.url for r in got] == [f"http://h/{i}" for i in range(4)]
    assert [r.payload for r in got] == bodies[:4]
    assert errors and errors[0][0] == path


def test_a_corrupt_member_in_the_middle_is_skipped(tmp_path):
    [path] = ours(tmp_path, *[(f"http://h/{i}", HTML + bytes([65 + i]) * 500) for i in range(4)])
    first = next(iter(iter_responses([path])))
    second = list(iter_responses([path]))[1]
    data = bytearray(path.read_bytes())
    start = second.ref.offset + 20  # inside the compressed data of the second response
    data[start : start + 40] = b"\x00" * 40
    path.write_bytes(bytes(data))
    errors = []
    urls = [r.url for r in iter_responses([path], on_error=lambda p, e: errors.append(e))]
    assert errors
    assert urls[0] == first.url and "http://h/1" not in urls
    assert urls[-2:] == ["http://h/2", "http://h/3"]


def test_garbage_file_never_crashes(tmp_path):
    (tmp_path / "junk.warc.gz").write_bytes(b"this is not a warc at all" * 10)
    errors = []
    assert list(iter_responses(tmp_path, on_error=lambda p, e: errors.append(e))) == []
    assert errors


def test_revisit_is_resolved_even_when_its_original_is_read_later(tmp_path):
    from archive.warc import MemoryDigestIndex

    index = MemoryDigestIndex()
    body = HTML * 20
    w1 = WarcWriter(tmp_path / "b", host="h", digest_index=index, prefix="z")
    w1.write_exchange(Exchange(url="http://h/orig", status=200, body=body, started_at=datetime.now(UTC)))
    w1.close()
    w2 = WarcWriter(tmp_path / "a", host="h", digest_index=index, prefix="a")
    w2.write_exchange(Exchange(url="http://h/copy", status=200, body=body, started_at=datetime.now(UTC)))
    w2.close()
    got = {r.url: r for r in iter_responses([*w2.files, *w1.files])}  # revisit file first
    assert got["http://h/copy"].record_type == "revisit"
    assert got["http://h/copy"].resolved and got["http://h/copy"].payload == body

    [alone] = list(iter_responses(w2.files))
    assert alone.record_type == "revisit" and not alone.resolved and alone.payload == b""
