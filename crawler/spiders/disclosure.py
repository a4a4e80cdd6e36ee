"""The generic `disclosure` spider: column (栏目) URLs in, reports, files and failures out.

    scrapy crawl disclosure -a url=URL[,URL…]          # column URLs a person would open
    scrapy crawl disclosure -a site=NAME[,NAME…]       # site profiles (crawler/sites/NAME.yaml)
                            [-a base_url=http://…]     # override a profile's base_url

Every response goes through `parse`, which recognises the page by structure (archive/recognize.py):
list pages yield their record links and every other page of the column (archive/pagination.py), and
start pages (a 信息公开 home, a parent column) also the 更多 links of their blocks; detail pages become one
`ReportItem` through `archive.extract` (in worker processes: GOVARCHIVE_EXTRACT_WORKERS) and request
their attachments (an article split over pages is
reported once, with every page's body, after its pages 2..N were fetched); files
become `FileItem`s. HTTP errors (after RetryMiddleware), DNS failures, timeouts and refused
connections reach `errback` and become `FailureItem`s; a 404/410 on a record link is also a
`WithdrawnItem`. Anti-bot challenge pages are recorded, never reported, and make the spider back off.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from archive import pagination, recognize
from archive.extract import ExtractionError, is_withdrawal_notice
from archive.extract.decode import decode_body
from archive.extract.multipage import merge_pages
from archive.extract.pool import ExtractionPool, auto_workers
from archive.record_page import RecordPage, read_record
from archive.report import Report
from archive.urls import absolute
from crawler import links
from crawler.items import FailureItem, FileItem, ReportItem, WithdrawnItem
from crawler.profiles import Profile, load_profile

logger = logging.getLogger(__name__)

# request.meta["role"]: why the request was made; decides what a failure of it means.
START, PAGE, RECORD, ATTACHMENT, SUBPAGE = "start", "page", "record", "attachment", "subpage"
WITHDRAWN_STATUSES = (404, 410)
# "更多" links are followed from start pages and from the lists they lead to, this many levels down
# (信息公开 home → 法定主动公开内容 → its sub-columns).
MAX_MORE_DEPTH = 2
# Pages 2..N of a multi-page article go before other pending requests (Scrapy's default priority is 0).
SUBPAGE_PRIORITY = 10
_NETWORK_ERRORS: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    ("dns", (net_error.DNSLookupError,)),
    ("timeout", (net_error.TimeoutError, net_error.TCPTimedOutError)),
    ("connection", (net_error.ConnectionRefusedError, net_error.ConnectError, net_error.ConnectionLost,
                    net_error.ConnectionDone)),
)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DisclosureSpider(scrapy.Spider):
    name = "disclosure"

    def __init__(self, url: str | None = None, site: str | None = None, base_url: str | None = None,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles: list[Profile] = [load_profile(name, base_url=base_url) for name in _split(site)]
        urls = [u if "://" in u else "http://" + u for u in _split(url)]
        urls += [u for p in self.profiles for u in p.start_urls]
        self.start_urls = list(dict.fromkeys(urls))
        if not self.start_urls:
            raise ValueError("the disclosure spider needs column URLs (-a url=URL[,URL]) or a profile (-a site=NAME)")
        self.site_name = ",".join(p.name for p in self.profiles) or None
        extra_hosts = [h for p in self.profiles for h in p.hosts]
        ignore = [pat for p in self.profiles for pat in p.ignore_patterns]
        self.policy = links.LinkPolicy.for_start_urls(self.start_urls, extra_hosts=extra_hosts, ignore=ignore)
        self.detail_patterns = [pat for p in self.profiles for pat in p.detail_patterns]
        self.list_patterns = [pat for p in self.profiles for pat in p.list_patterns]
        self.selectors: dict[str, list[str]] = {}
        for p in self.profiles:
            for key, xpath in p.selectors.items():
                self.selectors.setdefault(key, []).append(xpath)
        self.challenges: dict[str, int] = {}
        self.blocked_hosts: set[str] = set()
        # List pages already requested: every page of a column computes all its others (createPageHTML,
        # countPage, dataproxy windows), so without this each would re-request the whole column.
        self.list_pages: set[str] = set()
        self.extraction = ExtractionPool(0, read_record)  # inline until from_crawler reads the setting

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DisclosureSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._apply_politeness(crawler.settings)
        timeout = crawler.settings.getfloat("GOVARCHIVE_EXTRACT_TIMEOUT", 60.0)
        spider.extraction = ExtractionPool(_extract_workers(crawler.settings.get("GOVARCHIVE_EXTRACT_WORKERS")),
                                           read_record, timeout=timeout if timeout > 0 else None)
        spider.extraction.start()
        crawler.signals.connect(spider.extraction.close, signal=signals.spider_closed)
        return spider

    def _apply_politeness(self, settings: Any) -> None:
        """Profiles' politeness at spider priority (`-s` still wins); with several, the most polite."""
        merged: dict[str, Any] = {}
        for profile in self.profiles:
            for name, value in profile.politeness.items():
                if name not in merged:
                    merged[name] = value
                elif name.startswith("CONCURRENT") or name == "DEPTH_LIMIT":
                    merged[name] = min(merged[name], value)
                elif isinstance(value, bool):
                    merged[name] = merged[name] or value
                else:
                    merged[name] = max(merged[name], value)
        if merged and not settings.frozen:
            settings.setdict(merged, priority="spider")

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield Request(url, callback=self.parse, errback=self.errback, meta={"role": START})

    # --- responses ---------------------------------------------------------------------------------

    async def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[Any]:
        for item in self._route(response):
            if isinstance(item, _ToRead):  # a record or detail page: read by an extraction worker
                async for out in self._detail_page(response, recognise=item.recognise):
                    yield out
            else:
                yield item

    def _route(self, response: Response) -> Iterator[Any]:
        """What a response leads to: requests and items, or _ToRead when a worker is to read the page."""
        if not self.policy.same_site(response.url):  # redirected off the site
            self._stat("skipped/offsite_redirect")
            return
        if not isinstance(response, TextResponse) or links.is_attachment_response(
                _header(response, b"Content-Type"), _header(response, b"Content-Disposition")):
            yield from self.parse_attachment(response)
            return
        if response.meta.get("role") == RECORD and not self._profile_kind(response.url):
            # The usual record page: the worker checks it is not a list and extracts it; a challenge page
            # is recognised there too (ExtractionError "challenge"), only its status and cookie here.
            reason = recognize.challenge_reason(response.status, _set_cookies(response), None, None)
            if reason:
                yield from self._challenge(response.url, reason)
            else:
                yield _ToRead(recognise=True)
            return
        text, selector = _text_and_selector(response)
        reason = recognize.challenge_reason(response.status, _set_cookies(response), text, selector)
        if reason:
            yield from self._challenge(response.url, reason)
            return
        kind = self._kind(response, text, selector)
        self._stat(f"pages/{kind}")
        if kind == recognize.LIST:
            yield from self._list_page(response, text, selector())
        elif kind == recognize.DETAIL or response.meta.get("role") == RECORD:
            # A record link that does not look like an article (a short notice, a withdrawal page):
            # extraction decides, and says why if it is not one.
            yield _ToRead(recognise=False)
        else:
            logger.info("neither a list nor a detail page, not followed: %s", response.url)

    def _kind(self, response: Response, text: str, selector: Callable[[], Selector]) -> str:
        return self._profile_kind(response.url) or recognize.recognize(response.url, text, selector()).kind

    def _profile_kind(self, url: str) -> str | None:
        """DETAIL or LIST when a site profile's URL patterns say so."""
        target = "/" + url.split("://", 1)[-1].partition("/")[2]
        if any(p.search(target) for p in self.detail_patterns):
            return recognize.DETAIL
        if any(p.search(target) for p in self.list_patterns):
            return recognize.LIST
        return None

    def _list_page(self, response: Response, text: str, sel: Selector) -> Iterator[Request]:
        url = response.url
        column = self._column(sel) if "<html" in text[:2000].lower() else None
        column = column or response.meta.get("column")
        records = [link.url for xpath in self.selectors.get("list_links", [None])
                   for link in recognize.list_links(url, sel, xpath)]
        records += pagination.datastore_links(url, text)
        for record in dict.fromkeys(records):
            if links.is_attachment_url(record):
                yield from self._attachment_request(record, None)
            elif self._allowed(record, record=True):
                yield Request(record, callback=self.parse, errback=self.errback,
                              meta={"role": RECORD, "column": column})
        more_depth = response.meta.get("more_depth", 0)
        if response.meta.get("role") == START or 0 < more_depth < MAX_MORE_DEPTH:
            # A parent column / 信息公开 home: its blocks' "更多" links lead to the sub-columns' full lists.
            for more in recognize.more_links(url, sel):
                if self._allowed(more):
                    yield Request(more, callback=self.parse, errback=self.errback,
                                  meta={"role": PAGE, "column": None, "more_depth": more_depth + 1})
        pages = pagination.next_pages(url, text, sel)
        for xpath in self.selectors.get("next_page", []):
            pages += [h for a in sel.xpath(xpath) if (h := absolute(recognize.base_url(url, sel), a.attrib.get("href")))]
        for page in dict.fromkeys(pages):
            if page not in self.list_pages and self._allowed(page):
                self.list_pages.add(page)
                yield Request(page, callback=self.parse, errback=self.errback, meta={"role": PAGE, "column": column})

    def _column(self, sel: Selector) -> str | None:
        for xpath in self.selectors.get("column_name", []):
            for found in sel.xpath(xpath):
                value = found.root if isinstance(found.root, str) else found.xpath("string()").get("")
                if name := " ".join(value.split()):
                    return name
        return recognize.column_name(sel)

    async def _read(self, response: Response, *, recognise: bool) -> RecordPage:
        return await self.extraction.run(response.body, response.url, status=response.status,
                                         content_type=_header(response, b"Content-Type"), recognise=recognise)

    async def _detail_page(self, response: Response, *, recognise: bool) -> AsyncIterator[Any]:
        try:
            page = await self._read(response, recognise=recognise)
        except ExtractionError as exc:
            for item in self._not_a_report(response, exc):
                yield item
            return
        if page.kind == recognize.LIST:  # a record link that led to a (sub-)column's list
            self._stat("pages/list")
            text, selector = _text_and_selector(response)
            for item in self._list_page(response, text, selector()):
                yield item
            return
        if recognise:
            self._stat("pages/detail")
        assert page.report is not None
        for item in self._detail_report(response, page.report, page.continuations):
            yield item

    def _not_a_report(self, response: Response, exc: ExtractionError) -> Iterator[Any]:
        url = response.url
        redirect = recognize.script_redirect(url, response.text) if isinstance(response, TextResponse) else None
        if exc.kind == "challenge":
            yield from self._challenge(url, str(exc))
        elif redirect and exc.kind == "no-content" and self._allowed(redirect, record=True):
            # a script-only redirect stub (转载/链接型文档): the record is where it sends the browser
            yield Request(redirect, callback=self.parse, errback=self.errback,
                          meta={"role": RECORD, "column": response.meta.get("column")})
        else:
            self._stat("failures/extraction")
            yield FailureItem(url, "extraction", str(exc))

    def _detail_report(self, response: Response, report: Report, following: list[str]) -> Iterator[Any]:
        url = response.url
        fetched_at = _fetched_at(response)
        if is_withdrawal_notice(report):
            yield WithdrawnItem(url, fetched_at, "withdrawal notice: " + (report.title or report.body_text[:80]))
            return
        report.fetched_at = fetched_at
        report.status = response.status
        report.column = report.column or response.meta.get("column")
        report.warc = response.meta.get("warc_ref")
        if following:  # an article split over pages: fetch them all before the report leaves
            yield self._subpage_request(report, following, [])
            return
        yield from self._report(report)

    def _report(self, report: Report) -> Iterator[Any]:
        self._stat("reports")
        yield ReportItem(report)
        for attachment in report.attachments:
            yield from self._attachment_request(attachment.url, report.url)
        if self.settings.getbool("GOVARCHIVE_FETCH_IMAGES"):
            for image in report.images:
                yield from self._attachment_request(image, report.url)

    # --- multi-page articles: the partial report travels through request meta --------------------------

    def _subpage_request(self, report: Report, pending: list[str], pages: list[Report]) -> Request:
        # dont_filter: a page already seen elsewhere must not silently end the chain (and lose the report);
        # a higher priority: the partial report is held in memory until its last page is in.
        return Request(pending[0], callback=self.parse_subpage, errback=self.subpage_failed, dont_filter=True,
                       priority=SUBPAGE_PRIORITY,
                       meta={"role": SUBPAGE, "report": report, "pending": pending[1:], "pages": pages})

    async def parse_subpage(self, response: Response) -> AsyncIterator[Any]:
        try:
            response.meta["pages"].append((await self._read(response, recognise=False)).report)
        except ExtractionError as exc:
            self._stat("failures/extraction")
            yield FailureItem(response.url, "extraction", f"page of {response.meta['report'].url}: {exc}")
        for item in self._next_subpage(response.meta):
            yield item

    def subpage_failed(self, failure: Failure) -> Iterator[Any]:
        yield from self.errback(failure)
        yield from self._next_subpage(failure.request.meta)  # type: ignore[attr-defined]

    def _next_subpage(self, meta: dict[str, Any]) -> Iterator[Any]:
        report, pending, pages = meta["report"], meta["pending"], meta["pages"]
        if pending:
            yield self._subpage_request(report, pending, pages)
            return
        yield from self._report(merge_pages(report, pages))

    def _attachment_request(self, url: str, report_url: str | None) -> Iterator[Request]:
        if links.host_of(url) in self.blocked_hosts:
            return
        if self.policy.allows_attachment(url):
            yield Request(url, callback=self.parse_attachment, errback=self.errback,
                          meta={"role": ATTACHMENT, "report_url": report_url})
        else:
            self._stat("skipped/attachment_offsite")

    def parse_attachment(self, response: Response) -> Iterator[FileItem]:
        """A fetched file: its facts, under the URL the report linked (before any redirect)."""
        body = response.body
        linked = (response.meta.get("redirect_urls") or [response.url])[0]
        self._stat("files")
        yield FileItem(url=linked, report_url=response.meta.get("report_url"),
                       content_type=_header(response, b"Content-Type"), size=len(body),
                       sha256=hashlib.sha256(body).hexdigest(), ref=response.meta.get("warc_ref"))

    # --- failures ----------------------------------------------------------------------------------

    def errback(self, failure: Failure) -> Iterator[Any]:
        request: Request = failure.request  # type: ignore[attr-defined]
        url = request.url
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            if status in recognize.CHALLENGE_STATUSES:
                yield from self._challenge(url, f"HTTP {status} challenge")
                return
            retries = request.meta.get("retry_times", 0)
            detail = f"HTTP {status}" + (f" after {retries} retries" if retries else "")
            self._stat(f"failures/http_{status}")
            yield FailureItem(url, f"http_{status}", detail)
            if status in WITHDRAWN_STATUSES and request.meta.get("role") == RECORD:
                yield WithdrawnItem(url, _utc_now(), f"HTTP {status}")
            return
        if failure.check(IgnoreRequest):  # robots.txt, offsite, size limits: by design, not failures
            self._stat("ignored")
            return
        kind = next((k for k, types in _NETWORK_ERRORS if failure.check(*types)), "download")
        self._stat(f"failures/{kind}")
        yield FailureItem(url, kind, f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def _challenge(self, url: str, reason: str) -> Iterator[FailureItem]:
        """Record the challenge; slow the host down, and stop crawling it after repeated challenges."""
        host = links.host_of(url)
        self.challenges[host] = hits = self.challenges.get(host, 0) + 1
        self._stat("failures/antibot")
        yield FailureItem(url, "antibot", reason)
        self._slow_down(urlsplit(url).hostname or "")  # Scrapy's download slot key
        if hits >= self.settings.getint("GOVARCHIVE_ANTIBOT_MAX_HITS", 3) and host not in self.blocked_hosts:
            self.blocked_hosts.add(host)
            logger.warning("%s answers anti-bot challenges (%d so far): no more requests to it", host, hits)
            if {links.host_of(u) for u in self.start_urls} <= self.blocked_hosts:
                raise CloseSpider("antibot")

    def _slow_down(self, host: str) -> None:
        try:
            slot = self.crawler.engine.downloader.slots.get(host)
        except (AttributeError, RuntimeError):  # no engine: the crawl has not started (tests)
            return
        if slot is not None:
            slot.delay = max(slot.delay * 2, self.settings.getfloat("GOVARCHIVE_ANTIBOT_DELAY", 30.0))

    # --- helpers -----------------------------------------------------------------------------------

    def _allowed(self, url: str, *, record: bool = False) -> bool:
        if links.host_of(url) in self.blocked_hosts:
            return False
        reason = self.policy.reject_reason(url, record=record)
        if reason:
            self._stat(f"skipped/{reason}")
            return False
        return True

    def _stat(self, key: str) -> None:
        try:
            stats = self.crawler.stats
        except (AttributeError, RuntimeError):
            return
        if stats is not None:
            stats.inc_value(f"govarchive/spider/{key}")


@dataclass
class _ToRead:
    """_route's answer for a page an extraction worker reads (first checking it is no list, if asked)."""

    recognise: bool


def _extract_workers(value: Any) -> int:
    if value is None or str(value).strip().lower() == "auto":
        return auto_workers()
    try:
        workers = int(value)
    except ValueError:
        workers = -1
    if workers < 0:
        raise ValueError(f"GOVARCHIVE_EXTRACT_WORKERS must be 'auto' or a whole number >= 0, not {value!r}")
    return workers


def _text_and_selector(response: TextResponse) -> tuple[str, Callable[[], Selector]]:
    """The page's text and (lazily) its tree. Scrapy decodes by the declared charset; when that gives
    replacement characters (GBK labelled UTF-8), the bytes are decoded the way extraction does it, so
    column names and titles on list pages are not mojibake."""
    text = response.text
    if "\ufffd" not in text:
        return text, lambda: response.selector
    fixed, _ = decode_body(response.body, _header(response, b"Content-Type"))
    if fixed.count("\ufffd") >= text.count("\ufffd"):
        return text, lambda: response.selector
    tree = Selector(text=fixed)  # rare (mis-declared pages only): built right away
    return fixed, lambda: tree


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _set_cookies(response: Response) -> list[str]:
    return [v.decode("latin-1") for v in response.headers.getlist(b"Set-Cookie")]


def _fetched_at(response: Response) -> str:
    started = response.meta.get("_warc_started_at")  # set by the WARC capture middleware
    if isinstance(started, datetime):
        return started.astimezone(UTC).isoformat(timespec="seconds")
    return _utc_now()
