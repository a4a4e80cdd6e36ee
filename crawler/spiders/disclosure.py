"""The generic `disclosure` spider: column (栏目) URLs in, reports, files and failures out.

    scrapy crawl disclosure -a url=URL[,URL…]          # column URLs a person would open
    scrapy crawl disclosure -a site=NAME[,NAME…]       # site profiles (crawler/sites/NAME.yaml)
                            [-a base_url=http://…]     # override a profile's base_url

The spider only routes. Every response arrives already read (`archive.page.read_page`, run by the
page reader middleware in extraction workers, in the context the spider gave the request): a list
page's record links, other pages and hub 更多 links (`archive.discover`) become requests that the link
policy allows; a detail page's report becomes a `ReportItem` and its attachments requests (an article
split over pages is reported once, with every page's body, after its pages 2..N were read:
`PageAssembler`); a file becomes a `FileItem`; a challenge, a withdrawal or a page that could not be
read becomes a `FailureItem` / `WithdrawnItem`. An app shell only a browser can render is requested
again through the browser (crawler/browser; GOVARCHIVE_BROWSER), and its rendering arrives read like any
page; with GOVARCHIVE_BROWSER=always every page and record goes there first. HTTP errors (after
RetryMiddleware), DNS failures, timeouts and refused connections reach `errback` and become `FailureItem`s; a 404/410 is also a
`WithdrawnItem` (the store ignores URLs it has no report for).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.discover import LIST as LIST_LINK
from archive.discover import RECORD as RECORD_LINK
from archive.discover import Link
from archive.endpoints import Endpoint, endpoint_link
from archive.extract import PageAssembler
from archive.page import (
    ATTACHMENT,
    CHALLENGE,
    DETAIL,
    FAILED,
    FILE,
    LIST,
    PAGE,
    RECORD,
    START,
    SUBPAGE,
    WITHDRAWN,
    PageContext,
    PageReading,
    status_reading,
)
from archive.report import Report
from crawler import link_policy
from crawler.browser.choice import FAILURE_KIND, META_KEY, BrowserChoice, browser_failure, is_shell
from crawler.extensions.crawl_run import PAGINATION_STAT
from crawler.failures import ANTIBOT, EXTRACTION, OFFSITE, REDIRECT, failure_kind
from crawler.frontier import LOCAL_KEY
from crawler.items import FailureItem, FileItem, ReportItem, WithdrawnItem
from crawler.middlewares.conditional import NotDue
from crawler.middlewares.page_reader import CONTEXT, READING, fetched_at
from crawler.middlewares.warc_capture import WARC_REF_KEY
from crawler.profiles import Profile, load_profile, site_name, start_targets
from crawler.start_outcomes import STARTS_STAT, UNLINKED, StartOutcome

logger = logging.getLogger(__name__)

# "更多" links are followed from start pages and from the lists they lead to, this many levels down
# (信息公开 home → 法定主动公开内容 → its sub-columns).
MAX_MORE_DEPTH = 2
# Discovery handlers whose pages are a list's own API calls (archive/discover.py), not links a person follows.
ENDPOINT_HANDLERS = frozenset({"script-endpoint", "request-pages", "gkmlpt", "json-list", "profile-endpoint"})
# Pages 2..N of a multi-page article go before other pending requests (Scrapy's default priority is 0).
SUBPAGE_PRIORITY = 10
# request.meta: the first list page of the pager chain a list page belongs to (its column's page count).
PAGER_KEY = "govarchive_pager"


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class DisclosureSpider(scrapy.Spider):
    name = "disclosure"
    browser: BrowserChoice  # set by from_crawler (GOVARCHIVE_BROWSER)
    page_maxsize = 0  # GOVARCHIVE_PAGE_MAXSIZE (from_crawler); 0: DOWNLOAD_MAXSIZE alone
    max_list_pages = 0  # GOVARCHIVE_MAX_LIST_PAGES (from_crawler); 0: no cap

    def __init__(self, url: str | None = None, site: str | None = None, base_url: str | None = None,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles: list[Profile] = [load_profile(name, base_url=base_url) for name in _split(site)]
        self.start_urls = start_targets(_split(url), self.profiles)
        if not self.start_urls:
            raise ValueError("the disclosure spider needs column URLs (-a url=URL[,URL]) or a profile (-a site=NAME)")
        self.site_name = site_name(self.profiles)
        extra_hosts = [h for p in self.profiles for h in p.hosts]
        ignore = [pat for p in self.profiles for pat in p.ignore_patterns]
        self.policy = link_policy.LinkPolicy.for_start_urls(self.start_urls, extra_hosts=extra_hosts, ignore=ignore)
        self.detail_patterns = [pat for p in self.profiles for pat in p.detail_patterns]
        self.endpoints = [e for p in self.profiles for e in p.endpoints]
        self.list_patterns = [pat for p in self.profiles for pat in p.list_patterns]
        self.selectors = {key: tuple(p.selectors[key] for p in self.profiles if key in p.selectors)
                          for key in ("list_links", "next_page", "column_name")}
        # List pages already requested: every page of a column computes all its others (createPageHTML,
        # countPage, dataproxy windows), so without this each would re-request the whole column.
        self.list_pages: set[tuple] = set()
        self.articles = PageAssembler()
        self.starts = {url: StartOutcome(url) for url in self.start_urls}
        # Endless columns: per pager chain (a column's list pages), the record links it brought and the
        # pages requested; a chain stops at a page with nothing new, or at GOVARCHIVE_MAX_LIST_PAGES.
        self.pager_seen: dict[str, set[str]] = {}
        self.pager_pages: dict[str, int] = {}
        self.pagers_stopped: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DisclosureSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._apply_politeness(crawler.settings)
        spider.browser = BrowserChoice.from_settings(crawler.settings)
        spider.page_maxsize = crawler.settings.getint("GOVARCHIVE_PAGE_MAXSIZE")
        spider.max_list_pages = crawler.settings.getint("GOVARCHIVE_MAX_LIST_PAGES")
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
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
            yield self._request(Link(url, LIST_LINK), START, start=url)
        for endpoint in self.endpoints:  # declared list APIs: their first page, which names the others
            link = endpoint_link(endpoint, endpoint.first_page)
            self.starts.setdefault(link.url, StartOutcome(link.url, kind=LIST))
            yield self._request(link, PAGE, endpoint.column, start=link.url, endpoint=endpoint,
                                endpoint_page=endpoint.first_page)

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value(STARTS_STAT, [o.as_dict() for o in self.starts.values()])
        self.crawler.stats.set_value(PAGINATION_STAT, [{"column": root, "stopped": why, "pages": self.pager_pages[root]}
                                                       for root, why in self.pagers_stopped.items()])

    def _request(self, link: Link, role: str, column: str | None = None, *, endpoint: Endpoint | None = None,
                 endpoint_page: int = 0, browser: bool = False, **meta: Any) -> Request:
        """A request for `link` carrying the context its page will be read in; through the browser when
        `browser` (a shell seen before) or GOVARCHIVE_BROWSER=always says so."""
        context = PageContext(role=role, column=column, kind_hint=self._profile_kind(link.url),
                              item_xpath=self.selectors["list_links"], next_xpath=self.selectors["next_page"],
                              column_xpath=self.selectors["column_name"], link=link,
                              fragment=urlsplit(link.url).fragment or None if role == START else None,
                              endpoint=endpoint, endpoint_page=endpoint_page)
        priority = SUBPAGE_PRIORITY if role == SUBPAGE else 0
        if browser or self.browser.renders_first(link, endpoint=link.via in ENDPOINT_HANDLERS):
            meta[META_KEY] = True
        if self.page_maxsize:  # a page is read whole: its own, lower size limit (attachments keep DOWNLOAD_MAXSIZE)
            meta.setdefault("download_maxsize", self.page_maxsize)
        self._stat("requests/issued")
        return Request(link.url, method=link.method, body=link.body, headers=dict(link.headers) or None,
                       callback=self.parse, errback=self.errback, priority=priority,
                       dont_filter=role == SUBPAGE or browser,  # a shell again: its first fetch is in the dupefilter
                       meta={"role": role, CONTEXT: context, "column": column, **meta})

    def _profile_kind(self, url: str) -> str | None:
        """DETAIL or LIST when a site profile's URL patterns say so."""
        target = "/" + url.split("://", 1)[-1].partition("/")[2]
        if any(p.search(target) for p in self.detail_patterns):
            return DETAIL
        if any(p.search(target) for p in self.list_patterns):
            return LIST
        return None

    # --- responses ---------------------------------------------------------------------------------

    def request_dropped(self, request: Request, spider: scrapy.Spider) -> None:
        """The scheduler's duplicate filter refused a request: its URL was (or will be) fetched another way."""
        self._stat("requests/duplicates")

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        self._stat("requests/answered")
        reading: PageReading = response.meta[READING]
        url = response.url
        role = response.meta.get("role")
        if role == START and (outcome := self.starts.get(response.meta.get("start"))):
            outcome.kind = reading.kind
            outcome.notes = [*reading.reasons, *(reading.links.handlers if reading.links else ())]
            if reading.failure_kind:
                outcome.failure = f"{reading.failure_kind}: {reading.message}"
        if role == SUBPAGE:
            yield from self._subpage(response, reading)
            return
        if not self.policy.same_site(url):  # a browser's navigation left the site (redirects: ScopeMiddleware)
            self._stat("skipped/offsite_redirect")
            return
        if reading.kind == FILE or role == ATTACHMENT:
            yield from self.parse_attachment(response)
        elif is_shell(reading):
            yield from self._shell(response, reading)
        elif reading.kind == LIST:
            yield from self._list_page(response, reading)
        elif reading.kind == DETAIL and reading.report is not None:
            yield from self._detail(reading.report, reading.continuations, response.meta.get("start"))
        else:
            yield from self._not_a_report(response, reading)

    def _list_page(self, response: Response, reading: PageReading) -> Iterator[Request]:
        found = reading.links
        if found is None:
            return
        column = found.column or response.meta.get("column")
        start = response.meta.get("start")
        outcome = self.starts.get(start)
        pager = response.meta.get(PAGER_KEY) or response.url
        seen = self.pager_seen.setdefault(pager, set())
        fresh = [link for link in found.records if link.url not in seen]
        seen.update(link.url for link in fresh)
        if outcome and UNLINKED in found.handlers and UNLINKED not in outcome.notes:
            outcome.notes.append(UNLINKED)  # an endpoint's answer, read after the start page
        for link in found.records:
            if link_policy.is_attachment_url(link.url):
                yield from self._attachment_request(link.url, None)
            elif self._allowed(link.url, record=True):
                if outcome:
                    outcome.records += 1
                yield self._request(link, RECORD, column, start=start)
            elif outcome and self.policy.reject_reason(link.url, record=True) == "offsite":
                outcome.offsite += 1
        more_depth = response.meta.get("more_depth", 0)
        if response.meta.get("role") == START or 0 < more_depth < MAX_MORE_DEPTH:
            # A parent column / 信息公开 home: its blocks' "更多" links lead to the sub-columns' full lists.
            for link in found.more:
                if self._allowed(link.url):
                    yield self._request(link, PAGE, None, more_depth=more_depth + 1, start=start)
        if not self._pager_goes_on(pager, response.url, len(fresh), len(seen) - len(fresh)):
            return
        context: PageContext = response.meta[CONTEXT]
        for number, link in enumerate(found.pages, start=context.endpoint_page + 1):
            key = link.key
            if key not in self.list_pages and self._allowed(link.url, endpoint=link.via in ENDPOINT_HANDLERS):
                if self.max_list_pages and self.pager_pages.get(pager, 1) >= self.max_list_pages:
                    self._pager_stopped(pager, "page-cap")
                    break
                self.list_pages.add(key)
                self.pager_pages[pager] = self.pager_pages.get(pager, 1) + 1
                # a declared endpoint's pages come in order after the one read (archive/endpoints.py)
                yield self._request(link, PAGE, column, start=start, endpoint=context.endpoint,
                                    endpoint_page=number if context.endpoint else 0, **{PAGER_KEY: pager})

    def _pager_goes_on(self, pager: str, url: str, fresh: int, brought: int) -> bool:
        """Whether the pages a list page names are followed: not when a page after the first brings no
        record link not seen before, once its chain has brought any (an endless or repeating pager)."""
        self.pager_pages.setdefault(pager, 1)
        if fresh or url == pager or not brought:
            return True
        self._pager_stopped(pager, "no-new-records")
        return False

    def _pager_stopped(self, pager: str, why: str) -> None:
        if pager not in self.pagers_stopped:
            self.pagers_stopped[pager] = why
            self._stat(f"pagination/{why}")
            logger.info("pagination of %s stopped after %d pages: %s", pager, self.pager_pages.get(pager, 1), why)

    def _shell(self, response: Response, reading: PageReading) -> Iterator[Any]:
        """An app shell: rendered in the browser next, or a failure that says why it cannot be (with
        GOVARCHIVE_BROWSER=never: a record that is one fails extraction, a list shell is only logged)."""
        url = response.url
        if not self.browser.renders_shells():
            if response.meta.get("role") == RECORD:
                yield FailureItem(url, EXTRACTION, f"{reading.message} (an app shell; GOVARCHIVE_BROWSER=never)")
            else:
                logger.info("neither a list nor a detail page, not followed: %s (an app shell; GOVARCHIVE_BROWSER=never)",
                            url)
        elif response.meta.get(META_KEY):
            yield FailureItem(url, FAILURE_KIND, f"{url} is still an empty app shell after rendering in the browser "
                                                 "(its scripts failed, or took longer than GOVARCHIVE_BROWSER_TIMEOUT)")
        elif self.browser.executable is None:
            yield FailureItem(url, FAILURE_KIND, self.browser.missing(url))
        else:
            self._stat("browser/shells")
            context: PageContext = response.meta[CONTEXT]
            yield self._request(context.link or Link(url, LIST_LINK), response.meta["role"], response.meta.get("column"),
                                browser=True, more_depth=response.meta.get("more_depth", 0),
                                start=response.meta.get("start"))

    def _detail(self, report: Report, continuations: list[str], start: str | None) -> Iterator[Any]:
        if outcome := self.starts.get(start):
            outcome.reports += 1
        complete = self.articles.add(report, continuations)
        if not complete:  # an article split over pages: read them all before the report leaves
            for url in continuations:
                # kept in this worker with a distributed frontier: the article is assembled here
                yield self._request(Link(url, RECORD_LINK), SUBPAGE, **{LOCAL_KEY: True})
            return
        yield from self._reports(complete)

    def _subpage(self, response: Response, reading: PageReading) -> Iterator[Any]:
        if reading.kind == DETAIL and reading.report is not None:
            yield from self._reports(self.articles.add(reading.report, []))
            return
        owner = f"page of an article: {reading.message or reading.kind}"
        yield FailureItem(response.url, reading.failure_kind or EXTRACTION, owner)
        yield from self._reports(self.articles.skip(response.url))

    def _reports(self, reports: list[Report]) -> Iterator[Any]:
        for report in reports:
            self._stat("reports")
            yield ReportItem(report)
            for attachment in report.attachments:
                yield from self._attachment_request(attachment.url, report.url)
            if self.settings.getbool("GOVARCHIVE_FETCH_IMAGES"):
                for image in report.images:
                    yield from self._attachment_request(image, report.url)

    def _not_a_report(self, response: Response, reading: PageReading) -> Iterator[Any]:
        url = response.url
        if reading.kind == CHALLENGE:
            yield FailureItem(url, ANTIBOT, reading.message)
        elif reading.kind == WITHDRAWN:
            yield WithdrawnItem(url, fetched_at(response.request), reading.message)
        elif reading.kind == FAILED:
            yield FailureItem(url, reading.failure_kind or EXTRACTION, reading.message)
        elif reading.redirect and self._allowed(reading.redirect, record=True):
            # a script-only redirect stub (转载/链接型文档): the record is where it sends the browser
            yield self._request(Link(reading.redirect, RECORD_LINK), RECORD, response.meta.get("column"),
                                start=response.meta.get("start"))
        else:
            logger.info("neither a list nor a detail page, not followed: %s (%s)", url, ", ".join(reading.reasons))

    def _attachment_request(self, url: str, report_url: str | None) -> Iterator[Request]:
        if self.policy.allows_attachment(url):
            self._stat("requests/issued")
            yield Request(url, callback=self.parse, errback=self.errback,
                          meta={"role": ATTACHMENT, CONTEXT: PageContext(ATTACHMENT), "report_url": report_url})
        else:
            self._stat("skipped/attachment_offsite")

    def parse_attachment(self, response: Response) -> Iterator[FileItem]:
        """A fetched file: its facts, under the URL the report linked (before any redirect)."""
        body = response.body
        linked = (response.meta.get("redirect_urls") or [response.url])[0]
        self._stat("files")
        reading: PageReading | None = response.meta.get(READING)
        yield FileItem(url=linked, report_url=response.meta.get("report_url"),
                       content_type=response.headers.get(b"Content-Type", b"").decode("latin-1") or None,
                       size=len(body), sha256=hashlib.sha256(body).hexdigest(), ref=response.meta.get(WARC_REF_KEY),
                       fetched_at=fetched_at(response.request), text=reading.file_text if reading else None)

    # --- failures ----------------------------------------------------------------------------------

    def errback(self, failure: Failure) -> Iterator[Any]:
        self._stat("requests/answered")
        request: Request = failure.request  # type: ignore[attr-defined]
        items = list(self._failure_items(failure, request))
        if request.meta.get("role") == START and (outcome := self.starts.get(request.meta.get("start"))):
            # the failure row's words ("HTTP 404"), not Scrapy's ("Ignoring non-200 response")
            recorded = next((item for item in items if isinstance(item, FailureItem)), None)
            outcome.failure = (f"{recorded.kind}: {recorded.detail}" if recorded
                               else failure.getErrorMessage() or failure.type.__name__)
        yield from items
        if request.meta.get("role") == SUBPAGE:
            yield from self._reports(self.articles.skip(request.url))

    def _failure_items(self, failure: Failure, request: Request) -> Iterator[Any]:
        url = request.url
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            reading = response.meta.get(READING) or status_reading(status)
            if reading is not None and reading.kind == CHALLENGE:
                yield FailureItem(url, ANTIBOT, reading.message)
                return
            retries = request.meta.get("retry_times", 0)
            yield FailureItem(url, f"http_{status}", f"HTTP {status}" + (f" after {retries} retries" if retries else ""))
            if reading is not None and reading.kind == WITHDRAWN:
                yield WithdrawnItem(url, fetched_at(request), reading.message)
            return
        if failure.check(NotDue):  # a known document not due for a recheck: its stored report counts
            if outcome := self.starts.get(request.meta.get("start")):
                outcome.reports += 1
            self._stat("not_due")
            return
        if request.meta.get(META_KEY) and not failure.check(IgnoreRequest):
            # the browser would not start, or the page would not render in time
            yield FailureItem(url, FAILURE_KIND, browser_failure(url, failure.value))
            return
        found = failure_kind(failure)
        if found is None:  # robots.txt, a duplicate: by design, not failures
            self._stat("ignored")
            return
        kind, message = found
        if kind in (OFFSITE, REDIRECT):  # the URL that was scheduled, not where its redirects led
            url = (request.meta.get("redirect_urls") or [url])[0]
        yield FailureItem(url, kind, message)

    # --- helpers -----------------------------------------------------------------------------------

    def _allowed(self, url: str, *, record: bool = False, endpoint: bool = False) -> bool:
        reason = self.policy.reject_reason(url, record=record, endpoint=endpoint)
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
