"""WARC capture middleware: what a real crawl of the fixture site leaves in the WARC files (issue 4),
plus the translation from Scrapy's request/response to an `Exchange` on hand-made objects."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from crawler.middlewares.warc_capture import (
    WarcCaptureMiddleware,
    build_exchange,
    capture_kind,
    host_value,
    reason_phrase,
)
from tests.clirun import FAST, Ran, govarchive

pytestmark = pytest.mark.timeout(300)



# -- Scrapy objects to Exchange --------------------------------------------------------------------------

def test_exchange_keeps_raw_header_bytes_repeats_and_drops_transfer_encoding():
    request = Request("http://example.gov.cn:8080/xxgk/list.html?page=2", headers={"Cookie": "a=1"})
    headers = Headers()
    headers[b"Content-Type"] = b"application/pdf"
    headers.appendlist(b"Set-Cookie", b"a=1")
    headers.appendlist(b"Set-Cookie", b"b=2")
    headers[b"Content-Disposition"] = 'attachment; filename="年度报告.pdf"'.encode("gbk")
    headers[b"Transfer-Encoding"] = b"chunked"
    headers[b"Content-Encoding"] = b"gzip"
    body = gzip.compress(b"%PDF-1.4")
    response = Response(request.url, status=299, headers=headers, body=body, request=request,
                        ip_address=None, protocol="HTTP/1.1")
    started = datetime(2024, 2, 29, 9, 29, tzinfo=UTC)
    ex = build_exchange(request, response, started)
    assert ex.url == request.url
    assert ex.request_headers[0] == (b"Host", b"example.gov.cn:8080")
    assert (b"Cookie", b"a=1") in ex.request_headers
    assert [v for n, v in ex.response_headers if n == b"Set-Cookie"] == [b"a=1", b"b=2"]
    assert (b"Content-Disposition", 'attachment; filename="年度报告.pdf"'.encode("gbk")) in ex.response_headers
    assert not [n for n, _ in ex.response_headers if n.lower() == b"transfer-encoding"]
    assert ex.body == body  # still gzip
    assert ex.status == 299 and ex.reason == b"Unknown"
    assert ex.started_at == started


def test_post_body_and_its_length_are_in_the_request():
    request = Request("http://a.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1", method="POST",
                      body=b"col=1&perpage=15")
    response = Response(request.url, body=b"<datastore/>", request=request)
    ex = build_exchange(request, response, datetime.now(UTC))
    assert ex.method == "POST" and ex.request_body == b"col=1&perpage=15"
    assert (b"Content-Length", b"16") in ex.request_headers


def test_host_header_omits_default_port():
    assert host_value("http", "www.gov.cn", 80) == b"www.gov.cn"
    assert host_value("https", "www.gov.cn", None) == b"www.gov.cn"
    assert host_value("http", "::1", 8000) == b"[::1]:8000"


def test_reason_phrase_is_the_standard_one():
    assert reason_phrase(503) == b"Service Unavailable"
    assert reason_phrase(521) == b"Unknown"


def test_capture_kinds():
    assert capture_kind(True, 200, False) == "robots"
    assert capture_kind(False, 302, False) == "redirect"
    assert capture_kind(False, 404, False) == "error"
    assert capture_kind(False, 200, True) == "revisit"
    assert capture_kind(False, 200, False) == "response"


def test_disabled_by_setting():
    crawler = get_crawler(settings_dict={"GOVARCHIVE_WARC_ENABLED": False})
    with pytest.raises(NotConfigured):
        WarcCaptureMiddleware.from_crawler(crawler)


# -- a real crawl of the fixture site ------------------------------------------------------------------

def govarchive_crawl(site, workdir: Path, *extra: str) -> Ran:
    return govarchive("crawl", *site.start_urls, "--db", f"sqlite:///{workdir / 'db.sqlite'}",
                      "--warc-dir", str(workdir / "warc"), *FAST, *extra, cwd=workdir)


class Record:
    """A WARC record read back with warcio, plus its raw decompressed bytes."""

    def __init__(self, path: Path, record, raw: bytes) -> None:
        self.path = path
        self.type = record.rec_type
        self.headers = record.rec_headers
        self.http = record.http_headers
        self.payload = record.content_stream().read() if record.http_headers is not None else b""
        self.raw = raw

    def h(self, name: str) -> str | None:
        return self.headers.get_header(name)

    @property
    def uri(self) -> str:
        return self.h("WARC-Target-URI") or ""

    @property
    def status(self) -> int | None:
        return int(self.http.get_statuscode()) if self.http is not None and self.type != "request" else None


def read_records(paths: list[Path]) -> list[Record]:
    records = []
    for path in paths:
        data = path.read_bytes()
        with open(path, "rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                rec = Record(path, record, b"")
                iterator.read_to_end(record)
                offset, length = iterator.get_record_offset(), iterator.get_record_length()
                rec.raw = gzip.decompress(data[offset:offset + length])
                records.append(rec)
    return records


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("capture")
    before = len(site.requests)
    result = govarchive_crawl(site, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted((workdir / "warc").glob("*.warc.gz"))
    return workdir, site.requests[before:], files, read_records(files)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_warcio_check_is_clean(crawled):
    _, _, files, _ = crawled
    assert files
    result = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_response_record_for_every_request_the_site_answered(crawled):
    _, log, _, records = crawled
    captured = {(path_of(r.uri), r.status) for r in records if r.type in ("response", "revisit")}
    missing = [(path, status) for _, path, status in log if (path, status) not in captured]
    assert not missing, missing[:10]


def test_every_response_has_its_request_record_with_the_same_date(crawled):
    _, _, _, records = crawled
    by_id = {r.h("WARC-Record-ID"): r for r in records}
    requests = [r for r in records if r.type == "request"]
    assert requests
    for request in requests:
        response = by_id[request.h("WARC-Concurrent-To")]
        assert response.uri == request.uri
        assert response.h("WARC-Date") == request.h("WARC-Date")
        assert response.h("WARC-IP-Address") == "127.0.0.1"


def test_gzip_bodies_stay_gzip_with_their_content_encoding(crawled):
    _, _, _, records = crawled
    gzipped = [r for r in records if r.type == "response" and r.http.get_header("Content-Encoding") == "gzip"]
    assert gzipped, "the fixture site serves gzip; none archived as gzip"
    for record in gzipped:
        body = record.raw.split(b"\r\n\r\n", 2)[2]
        assert body.startswith(b"\x1f\x8b"), record.uri


def test_no_transfer_encoding_beside_a_dechunked_body(crawled):
    _, _, _, records = crawled
    for record in records:
        if record.type in ("response", "revisit"):
            assert record.http.get_header("Transfer-Encoding") is None, record.uri


def test_gbk_content_disposition_bytes_survive(site, crawled):
    _, _, _, records = crawled
    url = site.expected.gbk_disposition_url
    (record,) = [r for r in records if r.type == "response" and r.uri == url]
    head = record.raw.split(b"\r\n\r\n", 2)[1]
    (disposition,) = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-disposition:")]
    assert "政府信息公开工作年度报告".encode("gbk") in disposition  # the server's bytes, not re-encoded
    with pytest.raises(UnicodeDecodeError):
        disposition.decode("utf-8")


def test_robots_txt_and_redirect_are_captured_as_pairs(site, crawled):
    _, _, _, records = crawled
    robots = f"{site.url}/robots.txt"
    redirect = next(iter(site.expected.redirect_urls))
    for uri in (robots, redirect):
        responses = [r for r in records if r.type == "response" and r.uri == uri]
        assert responses, f"{uri} not archived"
        request = [r for r in records if r.type == "request" and r.h("WARC-Concurrent-To") ==
                   responses[0].h("WARC-Record-ID")]
        assert request and request[0].h("WARC-Date") == responses[0].h("WARC-Date")
    (response,) = [r for r in records if r.type == "response" and r.uri == redirect]
    assert 300 <= response.status < 400 and response.http.get_header("Location")


def test_identical_attachment_under_a_second_url_is_a_revisit(site, crawled):
    _, _, _, records = crawled
    first_url, second_url = site.expected.identical_attachment_urls
    revisits = [r for r in records if r.type == "revisit" and r.uri in (first_url, second_url)]
    assert len(revisits) == 1
    revisit = revisits[0]
    assert revisit.h("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert revisit.h("WARC-Refers-To-Target-URI") in (first_url, second_url)
    assert revisit.h("WARC-Refers-To-Target-URI") != revisit.uri


def test_warcinfo_opens_every_file_and_names_the_run(crawled):
    _, _, files, records = crawled
    for path in files:
        first = next(r for r in records if r.path == path)
        assert first.type == "warcinfo"
        assert b"crawl-run-id: 1" in first.raw
        assert b"robots: obey robots.txt" in first.raw
        assert b"start-urls: http://127.0.0.1" in first.raw


def test_second_crawl_writes_revisits_for_unchanged_payloads(site, crawled):
    workdir, _, files, records = crawled
    first_digests = {r.h("WARC-Payload-Digest") for r in records if r.type == "response" and r.status == 200}
    result = govarchive_crawl(site, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    new_files = sorted(set((workdir / "warc").glob("*.warc.gz")) - set(files))
    second = read_records(new_files)
    repeated = [r for r in second if r.type in ("response", "revisit") and r.status == 200
                and r.h("WARC-Payload-Digest") in first_digests]
    assert repeated, "nothing repeated between two crawls of an unchanged site"
    assert all(r.type == "revisit" for r in repeated), [r.uri for r in repeated if r.type != "revisit"][:5]


def test_warc_date_is_when_the_request_went_out_not_when_it_was_queued():
    from datetime import timedelta

    from crawler.middlewares.warc_capture import fetch_start

    queued = datetime.now(UTC) - timedelta(seconds=10)  # waited in the slot for DOWNLOAD_DELAY
    started = fetch_start(queued, 0.5)
    assert timedelta(seconds=0.4) < datetime.now(UTC) - started < timedelta(seconds=2)
    assert fetch_start(queued, None) == queued
    assert fetch_start(datetime.now(UTC), 30.0) > datetime.now(UTC) - timedelta(seconds=1)


def test_files_rotate_at_the_configured_size(site, tmp_path):
    result = govarchive_crawl(site, tmp_path, "-s", "GOVARCHIVE_WARC_MAX_SIZE=60000", "-s",
                              "GOVARCHIVE_WARC_PREFIX=yunchuan")
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(files) >= 3
    for path in files:
        assert path.name.startswith("yunchuan-")
        first = read_records([path])[0]
        assert first.type == "warcinfo"
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
