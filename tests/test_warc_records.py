"""Record-level WARC rules (DESIGN.md, "WARC rules"): one test per rule, every file passes warcio check."""

from __future__ import annotations

import base64
import gzip
import hashlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc import Exchange, MemoryDigestIndex, WarcWriter
from archive.warc.reader import iter_responses

T0 = datetime(2024, 2, 29, 9, 29, 0, 123456, tzinfo=UTC)
GBK_NAME = "附件1：2023年政府信息公开工作年度报告.pdf".encode("gbk")


def warcio_check(*paths: Path) -> None:
    """`warcio check` (digests included) must pass on every WARC a test writes."""
    assert paths, "no WARC file was written"
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "digest pass" in proc.stdout


def exchange(url: str = "http://www.example.gov.cn/col/col1/index.html?page=2", **kw) -> Exchange:
    values = dict(
        url=url,
        request_headers=[(b"User-Agent", b"govarchive-test"), (b"Accept-Encoding", b"gzip, deflate")],
        status=200,
        reason=b"OK",
        response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
        body="<html><head><title>公开</title></head><body>正文</body></html>".encode(),
        started_at=T0,
        ip_address="127.0.0.1",
    )
    values.update(kw)
    return Exchange(**values)


def write(tmp_path: Path, *exchanges: Exchange, **writer_kw):
    writer = WarcWriter(tmp_path, host="testhost", warcinfo={"run-id": "7"}, **writer_kw)
    written = [writer.write_exchange(ex) for ex in exchanges]
    writer.close()
    warcio_check(*writer.files)
    return writer, written


def records(path: Path) -> list[tuple[object, bytes]]:
    """(record, raw HTTP block bytes after the WARC headers) for every record."""
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            head = rec.http_headers
            raw = rec.raw_stream.read()
            out.append((rec, head, raw))
    return out


def raw_members(path: Path) -> list[bytes]:
    """Each record's bytes exactly as stored (decompressed), split on gzip members."""
    data = path.read_bytes()
    out = []
    import zlib

    while data:
        d = zlib.decompressobj(31)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def by_type(path: Path, rec_type: str):
    return [(r, h, raw) for r, h, raw in records(path) if r.rec_type == rec_type]


def sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def test_request_and_response_share_date_uri_and_are_linked(tmp_path):
    writer, [written] = write(tmp_path, exchange())
    [(resp, resp_http, _)] = by_type(writer.files[0], "response")
    [(req, req_http, _)] = by_type(writer.files[0], "request")
    for rec in (resp, req):
        assert rec.rec_headers["WARC-Date"] == "2024-02-29T09:29:00.123456Z"
        assert rec.rec_headers["WARC-Target-URI"] == "http://www.example.gov.cn/col/col1/index.html?page=2"
        assert rec.rec_headers["WARC-IP-Address"] == "127.0.0.1"
        assert rec.rec_headers.protocol == "WARC/1.1"
    assert req.rec_headers["WARC-Concurrent-To"] == resp.rec_headers["WARC-Record-ID"]
    assert written.ref.record_id == resp.rec_headers["WARC-Record-ID"]
    assert req_http.protocol == "GET" and req_http.statusline == "/col/col1/index.html?page=2 HTTP/1.1"
    assert req_http["Host"] == "www.example.gov.cn"
    assert resp_http.statusline == "200 OK"


def test_status_line_keeps_reason_or_uses_the_standard_phrase(tmp_path):
    writer, _ = write(
        tmp_path,
        exchange(url="http://h/a", status=404, reason=b"Not Here", body=b"missing"),
        exchange(url="http://h/b", status=503, reason=None, body=b"busy"),
    )
    lines = [m.split(b"\r\n\r\n", 1)[1].split(b"\r\n", 1)[0] for m in raw_members(writer.files[0])]
    assert b"HTTP/1.1 404 Not Here" in lines
    assert b"HTTP/1.1 503 Service Unavailable" in lines


def test_gzip_body_stays_gzip_with_its_content_encoding(tmp_path):
    html = "<html><body>政府信息公开</body></html>".encode()
    body = gzip.compress(html, mtime=0)
    ex = exchange(
        response_headers=[(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")], body=body
    )
    writer, [written] = write(tmp_path, ex)
    [(resp, http, raw)] = by_type(writer.files[0], "response")
    assert raw == body
    assert http["Content-Encoding"] == "gzip"
    assert resp.rec_headers["WARC-Payload-Digest"] == sha1(body) == written.payload_digest
    [archived] = iter_responses(writer.files)
    assert archived.payload == html


def test_chunked_transfer_encoding_is_not_left_beside_a_dechunked_body(tmp_path):
    ex = exchange(
        response_headers=[(b"Content-Type", b"text/plain"), (b"Transfer-Encoding", b"chunked")],
        body=b"plain body",
    )
    writer, _ = write(tmp_path, ex)
    [(_, http, raw)] = by_type(writer.files[0], "response")
    assert http.get_header("Transfer-Encoding") is None
    assert http["X-Archive-Orig-Transfer-Encoding"] == "chunked"
    assert raw == b"plain body"
    member = next(m for m in raw_members(writer.files[0]) if b"WARC-Type: response" in m)
    assert b"\r\nTransfer-Encoding:" not in member


def test_gbk_header_bytes_survive_byte_for_byte(tmp_path):
    disposition = b'attachment; filename="' + GBK_NAME + b'"'
    ex = exchange(
        url="http://h/files/report.pdf",
        response_headers=[(b"Content-Type", b"application/pdf"), (b"Content-Disposition", disposition)],
        body=b"%PDF-1.4 fake",
    )
    writer, _ = write(tmp_path, ex)
    member = next(m for m in raw_members(writer.files[0]) if b"WARC-Type: response" in m)
    assert b"\r\nContent-Disposition: " + disposition + b"\r\n" in member


def test_repeated_headers_are_kept_in_order(tmp_path):
    headers = [
        (b"Content-Type", b"text/html"),
        (b"Set-Cookie", b"JSESSIONID=abc; Path=/"),
        (b"Set-Cookie", b"route=r1; Path=/"),
    ]
    writer, _ = write(tmp_path, exchange(response_headers=headers))
    [(_, http, _)] = by_type(writer.files[0], "response")
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["JSESSIONID=abc; Path=/", "route=r1; Path=/"]


def test_redirect_exchange_is_captured_as_response(tmp_path):
    redirect = exchange(
        url="http://h/old?id=1",
        status=302,
        reason=b"Found",
        response_headers=[(b"Location", b"http://h/new?id=1"), (b"Content-Length", b"0")],
        body=b"",
    )
    writer, written = write(
        tmp_path, redirect, exchange(url="http://h/other", status=301, reason=None, body=b"")
    )
    responses = by_type(writer.files[0], "response")
    assert [h.statusline for _, h, _ in responses] == ["302 Found", "301 Moved Permanently"]
    assert responses[0][1]["Location"] == "http://h/new?id=1"
    assert not any(w.revisit for w in written)  # empty bodies are never deduplicated
    assert len(by_type(writer.files[0], "request")) == 2


def test_robots_txt_exchange_is_captured(tmp_path):
    robots = exchange(
        url="http://h/robots.txt",
        response_headers=[(b"Content-Type", b"text/plain")],
        body=b"User-agent: *\nDisallow: /private/\n",
    )
    writer, _ = write(tmp_path, robots)
    [(resp, _, raw)] = by_type(writer.files[0], "response")
    assert resp.rec_headers["WARC-Target-URI"] == "http://h/robots.txt"
    assert raw == b"User-agent: *\nDisallow: /private/\n"


def test_identical_payload_under_another_url_becomes_revisit(tmp_path):
    pdf = b"%PDF-1.7 the same attachment" * 50
    first = exchange(
        url="http://h/a/att.pdf", response_headers=[(b"Content-Type", b"application/pdf")], body=pdf
    )
    later = datetime(2024, 3, 1, tzinfo=UTC)
    second = exchange(
        url="http://h/b/att.pdf?x=1",
        response_headers=[(b"Content-Type", b"application/pdf")],
        body=pdf,
        started_at=later,
    )
    writer, (w1, w2) = write(tmp_path, first, second)
    assert (w1.revisit, w2.revisit) == (False, True)
    assert w1.payload_digest == w2.payload_digest == sha1(pdf)
    [(orig, _, _)] = by_type(writer.files[0], "response")
    [(rev, http, raw)] = by_type(writer.files[0], "revisit")
    assert (
        rev.rec_headers["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert rev.rec_headers["WARC-Refers-To-Target-URI"] == "http://h/a/att.pdf"
    assert rev.rec_headers["WARC-Refers-To-Date"] == orig.rec_headers["WARC-Date"]
    assert rev.rec_headers["WARC-Refers-To"] == orig.rec_headers["WARC-Record-ID"]
    assert rev.rec_headers["WARC-Payload-Digest"] == sha1(pdf)
    assert rev.rec_headers["WARC-Target-URI"] == "http://h/b/att.pdf?x=1"
    assert http.statusline == "200 OK" and raw == b""
    assert w2.ref.record_id == rev.rec_headers["WARC-Record-ID"]


def test_304_to_a_conditional_request_is_a_server_not_modified_revisit(tmp_path):
    first = exchange(url="http://h/p.html", response_headers=[(b"ETag", b'"v1"')])
    conditional = exchange(
        url="http://h/p.html",
        request_headers=[(b"If-None-Match", b'"v1"')],
        status=304,
        reason=b"Not Modified",
        response_headers=[(b"ETag", b'"v1"')],
        body=b"",
        started_at=datetime(2024, 3, 2, tzinfo=UTC),
    )
    writer, (_, w2) = write(tmp_path, first, conditional)
    assert w2.revisit
    [(orig, _, _)] = by_type(writer.files[0], "response")
    [(rev, http, _)] = by_type(writer.files[0], "revisit")
    assert rev.rec_headers["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert rev.rec_headers["WARC-Refers-To-Date"] == orig.rec_headers["WARC-Date"]
    assert rev.rec_headers["WARC-Refers-To-Target-URI"] == "http://h/p.html"
    assert http.statusline == "304 Not Modified"


def test_records_are_byte_exact_with_injected_clock_and_ids(tmp_path):
    def run(directory: Path) -> bytes:
        counter = iter(range(1000))
        writer = WarcWriter(
            directory,
            host="h",
            warcinfo={"run-id": "1"},
            clock=lambda: T0,
            record_id_factory=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(counter):012d}>",
            digest_index=MemoryDigestIndex(),
        )
        writer.write_exchange(exchange())
        writer.close()
        [path] = writer.files
        assert path.name == "govarchive-20240229092900123-00000-h.warc.gz"
        return path.read_bytes()

    assert run(tmp_path / "a") == run(tmp_path / "b")
