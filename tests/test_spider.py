"""The disclosure spider against the fixture site (a real crawl in a subprocess, items collected through a
JSON-lines feed, pipelines and WARC capture switched off), plus its callbacks on hand-made responses."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from archive.discover import Link
from crawler.items import FailureItem, FileItem, ReportItem, WithdrawnItem
from crawler.middlewares.antibot import AntibotMiddleware, HostBlocked
from crawler.middlewares.page_reader import PageReaderMiddleware
from crawler.middlewares.retry_after import RetryAfterMiddleware, retry_after_seconds
from crawler.spiders.disclosure import RECORD, DisclosureSpider
from tests.conftest import project_crawler

ROOT = Path(__file__).resolve().parents[1]
# The spider alone: no store pipeline, no WARC capture, no progress display; fast but otherwise default.
SPIDER_ONLY = [
    "-s", "ITEM_PIPELINES={}", "-s", "GOVARCHIVE_PROGRESS_ENABLED=False", "-s", "GOVARCHIVE_WARC_ENABLED=False",
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "RETRY_BACKOFF_MAX=0.2", "-s", "LOG_LEVEL=WARNING",
]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def run_spider(site, out: Path, *args: str) -> dict:
    site.reset_log()
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "disclosure", *args, *SPIDER_ONLY, "-O", f"{out}:jsonlines",
         "-s", f"GOVARCHIVE_DB=sqlite:///{out.parent / 'runs.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {
        "reports": [i["report"] for i in items if "report" in i],
        "files": [i for i in items if "sha256" in i],
        "failures": [i for i in items if "kind" in i],
        "withdrawn": [i for i in items if "seen_at" in i],
        "log": site.requests,
        "external": site.external_requests,
        "stderr": result.stderr,
    }


@pytest.fixture(scope="module")
def crawl(site, tmp_path_factory):
    return run_spider(site, tmp_path_factory.mktemp("spider") / "items.jsonl", "-a", "url=" + ",".join(site.start_urls))


def test_every_detail_page_is_exactly_one_report(site, crawl):
    urls = [r["url"] for r in crawl["reports"]]
    assert len(urls) == len(set(urls)), "duplicate reports"
    assert set(urls) == set(site.expected.detail_urls)


def test_no_list_page_became_a_report(site, crawl):
    urls = {r["url"] for r in crawl["reports"]}
    assert not urls & set(site.expected.list_urls)
    assert not [u for u in urls if "dataproxy" in u]


def test_reports_carry_fetch_facts_and_their_column(site, crawl):
    by_url = {r["url"]: r for r in crawl["reports"]}
    for report in by_url.values():
        assert report["status"] == 200 and report["fetched_at"].endswith("+00:00")
        assert report["title"] and report["column"]
    hanweb = next(u for u in by_url if "/art/" in u and "_1234_" in u)
    assert by_url[hanweb]["column"] == "工作动态"


def test_redirected_detail_pages_are_reported_under_their_final_url(site, crawl):
    urls = {r["url"] for r in crawl["reports"]}
    for old, new in site.expected.redirect_urls.items():
        assert new in urls and old not in urls


def test_every_attachment_produced_a_file_item(site, crawl):
    files = {f["url"]: f for f in crawl["files"]}
    assert set(site.expected.attachment_urls) <= set(files)
    report_urls = set(site.expected.detail_urls)
    for url in site.expected.attachment_urls:
        item = files[url]
        assert item["report_url"] in report_urls
        assert item["size"] > 0 and len(item["sha256"]) == 64 and item["content_type"]
    shared = site.expected.identical_attachment_urls
    assert len({files[u]["sha256"] for u in shared}) == 1


def test_attachment_sha256_is_over_the_file_bytes(site, crawl):
    import urllib.request

    url = site.expected.attachment_urls[0]
    with urllib.request.urlopen(url, timeout=10) as r:
        body = r.read()
    item = next(f for f in crawl["files"] if f["url"] == url)
    assert item["sha256"] == hashlib.sha256(body).hexdigest() and item["size"] == len(body)


def test_robots_disallowed_path_trap_navigation_and_external_hosts_were_not_fetched(site, crawl):
    paths = [p for _, p, _ in crawl["log"]]
    for url in site.expected.disallowed_urls:
        assert path_of(url) not in paths
    assert not [p for p in paths if p.startswith(site.expected.trap_prefix)]
    assert not [p for p in paths if p.startswith(("/search", "/login"))]
    assert not set(paths) & {path_of(u) for u in site.expected.nav_urls}
    assert crawl["external"] == []


def test_no_page_was_fetched_twice(crawl):
    fetched = [(p, s) for _, p, s in crawl["log"] if s == 200 and p != "/robots.txt"]
    assert len(fetched) == len(set(fetched))


def test_503_page_was_retried_then_reported(site, crawl):
    (url,) = site.expected.flaky_urls
    assert [s for _, p, s in crawl["log"] if p == path_of(url)] == [503, 200]
    assert [r["url"] for r in crawl["reports"]].count(url) == 1
    assert not [f for f in crawl["failures"] if f["url"] == url]


def test_404_record_link_is_a_failure_and_a_withdrawal(site, crawl):
    for url in site.expected.not_found_urls:
        assert {"url": url, "kind": "http_404", "detail": "HTTP 404"} in crawl["failures"]
        assert [w["reason"] for w in crawl["withdrawn"] if w["url"] == url] == ["HTTP 404"]
    assert {f["kind"] for f in crawl["failures"]} == {"http_404"}


def test_pagination_reached_the_last_page_of_every_family(site, crawl):
    paths = {p for _, p, _ in crawl["log"]}
    assert {path_of(u) for u in site.expected.list_urls} <= paths
    assert [p for p in paths if p.startswith(urlsplit(site.expected.dataproxy_url).path)]


def test_site_profile_with_base_url_override_crawls_the_same_reports(site, tmp_path):
    result = run_spider(site, tmp_path / "items.jsonl", "-a", "site=fixture", "-a", f"base_url={site.url}")
    assert sorted(r["url"] for r in result["reports"]) == sorted(site.expected.detail_urls)
    assert not [p for _, p, _ in result["log"] if p.startswith("/private/")]


def test_bad_profile_stops_the_crawl_with_a_clear_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "disclosure", "-a", "site=nosuch", *SPIDER_ONLY],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "no site profile 'nosuch'" in result.stderr


# --- callbacks on hand-made responses --------------------------------------------------------------

START = "http://gov.test/col/tzgg/index.html"


def make_spider(**settings) -> DisclosureSpider:
    """The spider on hand-made responses, with the page reader that reads them first (inline unless a
    test asks for worker processes)."""
    crawler = project_crawler(DisclosureSpider, **{"GOVARCHIVE_EXTRACT_WORKERS": 0, **settings})
    spider = DisclosureSpider.from_crawler(crawler, url=START)
    spider.reader = PageReaderMiddleware.from_crawler(crawler)
    return spider


def respond(spider, url: str, body: str | bytes, role: str = "page", column: str | None = None, *,
            status: int = 200, headers=None, cls=HtmlResponse, **meta) -> Response:
    """The response to the request the spider itself would make for `url` in that role."""
    request = spider._request(Link(url, "list"), role, column, **meta)
    data = body.encode("utf-8") if isinstance(body, str) else body
    return cls(url, status=status, body=data, request=request,
               headers=headers or {"Content-Type": "text/html; charset=utf-8"})


def parse(spider, response) -> list:
    """What the spider yields for `response` once the page reader has read it, as in a crawl."""
    asyncio.run(spider.reader.process_response(response.request, response))
    return list(spider.parse(response))


def http_error(url: str, status: int, meta=None) -> Failure:
    request = Request(url, meta=meta or {})
    response = Response(url, status=status, request=request)
    failure = Failure(HttpError(response))
    failure.request = request
    return failure


def test_spider_needs_urls_or_a_site():
    with pytest.raises(ValueError, match="url=URL"):
        DisclosureSpider()


def test_challenge_stub_is_an_antibot_failure_never_a_report():
    spider = make_spider()
    stub = "<html><head><script>$_ts=window['$_ts'];$_ts.nsd=8;</script></head><body></body></html>"
    items = parse(spider, respond(spider, "http://gov.test/col/tzgg/t20240229_1.html", stub, RECORD))
    assert [type(i) for i in items] == [FailureItem] and items[0].kind == "antibot"


def test_412_and_521_are_antibot_and_repeated_challenges_stop_requests_to_the_host():
    spider = make_spider(GOVARCHIVE_ANTIBOT_MAX_HITS=3, GOVARCHIVE_ANTIBOT_PAUSE=0)
    antibot = AntibotMiddleware.from_crawler(spider.crawler)
    for n, status in enumerate((412, 521, 412)):
        response = respond(spider, f"http://gov.test/a{n}.html", "", RECORD, status=status)
        asyncio.run(spider.reader.process_response(response.request, response))
        antibot.process_response(response.request, response)
        failure = Failure(HttpError(response))
        failure.request = response.request
        (item,) = spider.errback(failure)
        assert item.kind == "antibot"
    blocked = Request("http://gov.test/x.pdf")
    with pytest.raises(HostBlocked) as caught:
        antibot.process_request(blocked)
    failure = Failure(caught.value)
    failure.request = blocked
    (item,) = spider.errback(failure)
    assert item.kind == "antibot" and "3 anti-bot challenges" in item.detail
    antibot.process_request(Request("http://other.test/y.html"))  # other hosts are still asked


def test_content_between_challenges_starts_the_count_again_so_a_mixed_host_is_never_given_up():
    spider = make_spider(GOVARCHIVE_ANTIBOT_MAX_HITS=2)
    antibot = AntibotMiddleware.from_crawler(spider.crawler)
    page = "<html><body><div class='list'>" + "<p>正文内容正文内容</p>" * 80 + "</div></body></html>"
    for n, (status, body) in enumerate([(412, ""), (200, page), (412, ""), (200, page), (521, "")]):
        response = respond(spider, f"http://gov.test/a{n}.html", body, RECORD, status=status)
        asyncio.run(spider.reader.process_response(response.request, response))
        antibot.process_response(response.request, response)
    antibot.process_request(Request("http://gov.test/x.html"))  # one challenge in a row: still asked
    assert spider.crawler.stats.get_value("govarchive/antibot/challenges") == 3


def test_a_host_answering_only_challenges_is_paused_once_then_given_up():
    spider = make_spider(GOVARCHIVE_ANTIBOT_MAX_HITS=2, GOVARCHIVE_ANTIBOT_PAUSE=60)
    antibot = AntibotMiddleware.from_crawler(spider.crawler)
    for n in range(4):
        antibot.process_request(Request(f"http://gov.test/a{n}.html"))  # paused after two, not given up
        response = respond(spider, f"http://gov.test/a{n}.html", "", RECORD, status=412)
        asyncio.run(spider.reader.process_response(response.request, response))
        antibot.process_response(response.request, response)
    assert spider.crawler.stats.get_value("govarchive/antibot/pauses") == 1
    with pytest.raises(HostBlocked, match="again after a pause of 60 s"):
        antibot.process_request(Request("http://gov.test/x.html"))


def test_a_challenge_slows_its_slot_and_its_retry_after_pauses_it():
    import time
    from types import SimpleNamespace

    from scrapy.core.downloader import Slot

    spider = make_spider(GOVARCHIVE_ANTIBOT_DELAY=1.0, GOVARCHIVE_ANTIBOT_MAX_DELAY=4.0)
    slot = Slot(concurrency=2, delay=0.0, jitter=0.0)
    spider.crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"gov.test": slot},
                                                                       get_slot_key=lambda request: "gov.test"))
    antibot = AntibotMiddleware.from_crawler(spider.crawler)
    delays = []
    for n in range(4):
        response = respond(spider, f"http://gov.test/a{n}.html", "", RECORD, status=412)
        asyncio.run(spider.reader.process_response(response.request, response))
        antibot.process_response(response.request, response)
        delays.append(slot.delay)
    assert delays == [1.0, 2.0, 4.0, 4.0]  # doubling, up to GOVARCHIVE_ANTIBOT_MAX_DELAY
    response = respond(spider, "http://gov.test/b.html", "", RECORD, status=412, headers={"Retry-After": "600"})
    asyncio.run(spider.reader.process_response(response.request, response))
    antibot.process_response(response.request, response)
    assert slot.lastseen + slot.delay >= time.monotonic() + 590  # no request to the host for ten minutes


@pytest.mark.parametrize(("exc", "kind"), [
    (net_error.DNSLookupError("no such host"), "dns"),
    (net_error.TimeoutError("took too long"), "timeout"),
    (net_error.TCPTimedOutError(), "timeout"),
    (DownloadTimeoutError("took too long"), "timeout"),
    (net_error.ConnectionRefusedError(), "connection"),
    (CannotResolveHostError("no such host"), "dns"),
    (DownloadConnectionRefusedError("refused"), "connection"),
    (DownloadFailedError("reset by peer"), "connection"),
    (ResponseDataLossError("short"), "truncated"),
    (DownloadCancelledError("Received 9 bytes which is larger than download max size (8) in request"), "too-large"),
    (ValueError("odd"), "download"),
])
def test_network_errors_become_failures_of_their_kind(exc, kind):
    failure = Failure(exc)
    failure.request = Request("http://gov.test/x.html")
    (item,) = make_spider().errback(failure)
    assert item.kind == kind and item.url == "http://gov.test/x.html"


def test_410_is_a_failure_and_a_withdrawal():
    items = list(make_spider().errback(http_error("http://gov.test/t1.html", 410, {"role": RECORD})))
    assert [type(i) for i in items] == [FailureItem, WithdrawnItem] and items[0].kind == "http_410"


def test_attachment_response_is_a_file_item_under_the_linked_url():
    body = b"%PDF-1.4 test"
    spider = make_spider()
    (request,) = spider._attachment_request("http://gov.test/new/a.pdf", "http://gov.test/t1.html")
    request.meta["redirect_urls"] = ["http://gov.test/old/a.pdf"]
    response = Response("http://gov.test/new/a.pdf", body=body, headers={"Content-Type": "application/pdf"},
                        request=request)
    (item,) = parse(spider, response)
    assert isinstance(item, FileItem)
    assert (item.url, item.report_url, item.size) == ("http://gov.test/old/a.pdf", "http://gov.test/t1.html", len(body))
    assert item.sha256 == hashlib.sha256(body).hexdigest() and item.content_type == "application/pdf"


def test_detail_page_becomes_a_report_and_requests_its_attachments():
    para = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"
    body = (
        "<html><head><title>关于优化营商环境的通知_某市人民政府</title><meta name='ArticleTitle' content='关于优化营商环境的通知'>"
        "</head><body><h1>关于优化营商环境的通知</h1><div class='TRS_Editor'>" + f"<p>{para}</p>" * 6 + "</div>"
        "<div class='fujian'><a href='./P020240229.pdf'>附件：实施方案.pdf</a></div></body></html>"
    )
    url = "http://gov.test/col/tzgg/202402/t20240229_1.html"
    spider = make_spider()
    items = parse(spider, respond(spider, url, body, RECORD, "通知公告"))
    report = items[0]
    assert isinstance(report, ReportItem) and report.report.url == url and report.report.status == 200
    assert report.report.column == "通知公告" and report.report.fetched_at
    (att,) = [i for i in items if isinstance(i, Request)]
    assert att.url == "http://gov.test/col/tzgg/202402/P020240229.pdf" and att.meta["report_url"] == url


@pytest.mark.parametrize("body", ["<html><body></body></html>", "<!DOCTYPE html>", "<!DOCTYPE html>\n<html>"])
def test_empty_or_unparsable_record_page_is_an_extraction_failure(body):
    spider = make_spider()
    items = parse(spider, respond(spider, "http://gov.test/t1.html", body, RECORD))
    assert [(type(i), i.kind) for i in items] == [(FailureItem, "extraction")]


# --- Retry-After ---------------------------------------------------------------------------------------

def test_retry_after_header_values():
    from datetime import UTC, datetime

    now = datetime(2024, 2, 29, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("Thu, 29 Feb 2024 12:00:30 GMT", now) == 30
    assert retry_after_seconds("Thu, 29 Feb 2024 11:00:00 GMT", now) == 0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_retry_after_waits_as_asked_capped_and_only_when_a_retry_follows():
    crawler = project_crawler(DisclosureSpider, RETRY_BACKOFF_MAX=60, RETRY_TIMES=2)
    mw = RetryAfterMiddleware.from_crawler(crawler)
    request = Request("http://gov.test/a.html")

    def response(status, retry_after=None):
        return Response(request.url, status=status, headers={"Retry-After": retry_after} if retry_after else {})

    assert mw.wait_for(request, response(503, "5")) == 5
    assert mw.wait_for(request, response(429, "3600")) == 60
    assert mw.wait_for(request, response(503)) == 1.0  # no header: backoff base
    assert mw.wait_for(Request(request.url, meta={"retry_times": 2}), response(503, "5")) == 0  # no retry left
    assert mw.wait_for(request, response(404, "5")) == 0


def test_page_redirected_off_the_site_is_dropped():
    spider = make_spider()
    assert parse(spider, respond(spider, "http://elsewhere.test/t1.html", "<html><body><p>x</p></body></html>",
                                 RECORD)) == []


def test_dataproxy_xml_answer_yields_record_links_and_the_next_windows():
    from scrapy.http import XmlResponse

    url = "http://gov.test/module/web/jpage/dataproxy.jsp?startrecord=9&endrecord=16&perpage=4&columnid=1234"
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore><totalrecord>30</totalrecord><recordset>'
           '<record><![CDATA[<li><a href="/art/2024/1/2/art_1234_9.html">九</a><span>2024-01-02</span></li>]]>'
           "</record></recordset></datastore>")
    spider = make_spider()
    requests = parse(spider, respond(spider, url, xml, "page", "工作动态", cls=XmlResponse,
                                     headers={"Content-Type": "text/xml;charset=UTF-8"}))
    records = [r for r in requests if r.meta["role"] == RECORD]
    pages = [r for r in requests if r.meta["role"] == "page"]
    assert [r.url for r in records] == ["http://gov.test/art/2024/1/2/art_1234_9.html"]
    assert records[0].meta["column"] == "工作动态"
    assert [parse_qs_of(r.url)["startrecord"] for r in pages] == ["17", "25"]


def parse_qs_of(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(urlsplit(url).query))


# --- articles split over several pages -----------------------------------------------------------------

def _article_page(title: str, paragraphs: list[str], nav: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}_某市人民政府</title><meta name='ArticleTitle' content='{title}'></head><body>"
            f"<h1>{title}</h1><div class='TRS_Editor'>{body}<div class='page'>{nav}</div></div></body></html>")


def test_multi_page_article_is_one_report_with_every_page_in_order():
    para = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"
    nav = "<a href='t20240301_7.html'>1</a> <a href='t20240301_7_1.html'>2</a> <a href='t20240301_7_2.html'>下一页</a>"
    url = "http://gov.test/col/a/202403/t20240301_7.html"
    spider = make_spider()
    first = parse(spider, respond(spider, url, _article_page("某某通知", [para, "第一页结束。" * 3], nav), RECORD))
    assert not [i for i in first if isinstance(i, ReportItem)]  # nothing leaves before every page is in
    req, req2 = first
    assert [req.url, req2.url] == [url.replace(".html", "_1.html"), url.replace(".html", "_2.html")]
    assert req.dont_filter and req.priority > 0
    second = parse(spider, HtmlResponse(req.url, body=_article_page("某某通知", ["第二页的正文。" * 3], nav).encode(),
                                        headers={"Content-Type": "text/html; charset=utf-8"}, request=req))
    assert second == []
    # the last page fails: the report still leaves, with the pages it has, and the failure is recorded
    failure = http_error(req2.url, 404, meta=req2.meta)
    items = list(req2.errback(failure))
    (report,) = [i.report for i in items if isinstance(i, ReportItem)]
    assert report.url == url and report.body_text.splitlines() == [para, "第一页结束。" * 3, "第二页的正文。" * 3]
    assert [i.kind for i in items if isinstance(i, FailureItem)] == ["http_404"]


@pytest.mark.parametrize("page_two", [b"<!DOCTYPE html>", b"<!DOCTYPE html>\n<html>", b"   "])
def test_an_unreadable_page_two_costs_its_own_page_not_the_article(page_two):
    """A body lxml cannot parse (it raised ParserError out of the callback once) as page 2 of 2: the
    report leaves with page 1's body and page 2 is an extraction failure."""
    para = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"
    nav = "<a href='t20240301_8.html'>1</a> <a href='t20240301_8_1.html'>2</a> <a href='t20240301_8_1.html'>下一页</a>"
    url = "http://gov.test/col/a/202403/t20240301_8.html"
    spider = make_spider()
    (request,) = parse(spider, respond(spider, url, _article_page("某某公告", [para], nav), RECORD))
    assert request.url == url.replace(".html", "_1.html")
    items = parse(spider, HtmlResponse(request.url, body=page_two, headers={"Content-Type": "text/html"},
                                       request=request))
    (report,) = [i.report for i in items if isinstance(i, ReportItem)]
    assert report.url == url and report.title == "某某公告" and report.body_text.splitlines() == [para]
    (failure,) = [i for i in items if isinstance(i, FailureItem)]
    assert failure.url == request.url and failure.kind == "extraction" and "page of an article" in failure.detail


def test_more_links_are_followed_from_start_pages_only():
    lis = "".join(f"<li><a href='/c/t2024030{i}_{i}.html'>第{i}条公开信息的完整标题文字</a><span>2024-03-0{i}</span></li>"
                  for i in range(1, 4))
    body = f"<html><body><div class='block'><div class='hd'><a href='/c/index.html'>更多</a></div><ul>{lis}</ul></div></body></html>"
    url = "http://gov.test/zfxxgk/index.html"
    spider = make_spider()
    started = [r.url for r in parse(spider, respond(spider, url, body, "start"))]
    assert "http://gov.test/c/index.html" in started
    spider = make_spider()
    paged = [r.url for r in parse(spider, respond(spider, url, body, "page"))]
    assert "http://gov.test/c/index.html" not in paged and len(paged) == 3


def test_gbk_list_labelled_utf8_gives_records_a_readable_column():
    lis = "".join(f"<li><a href='/c/t2024030{i}_{i}.html'>第{i}条公开信息的完整标题</a><span>2024-03-0{i}</span></li>"
                  for i in range(1, 4))
    body = (f"<html><head><meta charset='utf-8'><title>政府信息公开年报_某市人民政府</title>"
            f"<meta name='ColumnName' content='政府信息公开年报'></head><body><ul>{lis}</ul></body></html>")
    url = "http://gov.test/zfxxgk/xxgknb/index.html"
    spider = make_spider()
    response = respond(spider, url, body.encode("gbk"), "start")
    records = [r for r in parse(spider, response) if r.meta.get("role") == RECORD]
    assert len(records) == 3 and {r.meta["column"] for r in records} == {"政府信息公开年报"}


def test_script_redirect_stub_leads_to_the_record():
    stub = "<html><head><script>window.location.href = '/art/2024/3/1/art_99_1.html';</script></head><body></body></html>"
    spider = make_spider()
    items = parse(spider, respond(spider, "http://gov.test/xxgk/link_1.html", stub, RECORD))
    assert [(type(i), i.url, i.meta["role"]) for i in items] == [(Request, "http://gov.test/art/2024/3/1/art_99_1.html", RECORD)]
    offsite = stub.replace("/art/2024", "http://other.test/art/2024")
    assert parse(spider, respond(spider, "http://gov.test/xxgk/link_2.html", offsite, RECORD)) == []


@pytest.mark.parametrize("workers", [0, 1], ids=["inline", "worker"])
def test_record_link_to_a_list_is_followed_as_a_list_and_a_detail_page_is_reported(workers):
    spider = make_spider(GOVARCHIVE_EXTRACT_WORKERS=workers)
    spider.reader.pool.start()
    items = "".join(f'<li><a href="/col/tzgg/202403/t202403{d:02d}_{d}.html">关于第{d}号事项的通知</a>'
                    f"<span>2024-03-{d:02d}</span></li>" for d in range(1, 21))
    listing = f"<html><head><title>通知公告</title></head><body><ul class='list'>{items}</ul></body></html>"
    try:
        out = parse(spider, respond(spider, "http://gov.test/col/tzgg/sub/index.html", listing, RECORD, "通知公告"))
        assert not [i for i in out if isinstance(i, ReportItem)]
        assert [r.url for r in out if r.meta.get("role") == RECORD] == [
            f"http://gov.test/col/tzgg/202403/t202403{d:02d}_{d}.html" for d in range(1, 21)]

        para = "为进一步加强和规范财政预算管理工作，现将有关事项通知如下，请认真贯彻执行。" * 4
        article = (f"<html><head><title>关于加强预算管理的通知</title></head><body><h1>关于加强预算管理的通知</h1>"
                   f"<div class='info'>发布时间：2024-03-01</div><div class='TRS_Editor'><p>{para}</p>"
                   f"<p>{para}</p></div></body></html>")
        (report,) = [i for i in parse(spider, respond(spider, "http://gov.test/col/tzgg/202403/t20240301_1.html",
                                                      article, RECORD)) if isinstance(i, ReportItem)]
        assert report.report.title == "关于加强预算管理的通知" and report.report.publish_time.startswith("2024-03-01")
    finally:
        spider.reader.pool.close()
