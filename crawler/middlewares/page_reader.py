"""Every response is read once, by `archive.page.read_page`, before the spider sees it.

The reading (list with its links, detail with its report, challenge, withdrawal, file, failure) goes
into `response.meta[READING]`; the spider only routes it. Pages are read in extraction worker
processes (`GOVARCHIVE_EXTRACT_WORKERS`, 0: inline) so the event loop keeps downloading meanwhile;
what the cheap checks decide (`archive.page.quick_reading`: the status, an empty or binary body, one of
GOVARCHIVE_PAGE_MAXSIZE or more) is read here, so such a body never crosses to a worker. A file's text
(archive/filetext) is read in a worker too, under the same timeout (`GOVARCHIVE_ATTACHMENT_TEXT`, on by
default); a file whose reading times out or crashes its worker is still a file, with text status "failed",
and one too big to read never crosses. A page the browser rendered
(crawler/browser) is read the same way, once per DOM state its pager showed, and its readings combined;
a challenge in its document as the server sent it decides before any state. Placed below RedirectMiddleware,
HttpCompressionMiddleware and RetryMiddleware, so it reads the final, decoded response once, and above
the anti-bot middleware, which acts on the reading.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.clock import iso_utc, now_iso
from archive.discover import Discovery, Link
from archive.extract import ExtractionError
from archive.extract.pool import ExtractionPool, auto_workers
from archive.filetext import FAILED as TEXT_FAILED
from archive.filetext import FileText
from archive.filetext.result import MAX_FILE_BYTES
from archive.page import (
    ATTACHMENT,
    EXTRACTION,
    FAILED,
    FILE,
    LIST,
    Fetched,
    PageContext,
    PageReading,
    challenge_reading,
    file_reading,
    quick_reading,
    read_page,
)
from crawler.browser.handler import RENDERING, Rendering
from crawler.extensions.crawl_run import is_robots_request
from crawler.middlewares.warc_capture import STARTED_KEY, WARC_REF_KEY

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

READING = "govarchive_reading"
# request.meta: what the spider knows of the page before it is read (an archive.page.PageContext).
CONTEXT = "govarchive_context"


class PageReaderMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        timeout = settings.getfloat("GOVARCHIVE_EXTRACT_TIMEOUT")
        self.pool = ExtractionPool(extract_workers(settings.get("GOVARCHIVE_EXTRACT_WORKERS")), read_page,
                                   timeout=timeout if timeout > 0 else None)
        self.stats = crawler.stats
        # what may cross to a worker: the page size limit (a body that reached it was already refused)
        self.max_bytes = settings.getint("GOVARCHIVE_PAGE_MAXSIZE")
        self.attachment_text = settings.getbool("GOVARCHIVE_ATTACHMENT_TEXT")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageReaderMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.pool.start, signal=signals.spider_opened)
        crawler.signals.connect(middleware.pool.close, signal=signals.spider_closed)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Response:
        if is_robots_request(request):
            return response
        request.meta[READING] = await self.read(request, response)
        return response

    async def read(self, request: Request, response: Response) -> PageReading:
        headers = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                   for k, values in response.headers.items() for v in values]
        fetched = Fetched(response.url, response.status, headers, response.body, fetched_at(request),
                          request.meta.get(WARC_REF_KEY))
        context = request.meta.get(CONTEXT) or PageContext(ATTACHMENT)
        rendering: Rendering | None = request.meta.get(RENDERING)
        # the cheap checks here, so a binary body or one too big to read never crosses to a worker
        if decided := quick_reading(fetched, context, 0 if rendering else self.max_bytes):
            if decided.kind == FILE:
                return await self._read_file(fetched)
            if decided.kind == FAILED:
                self.stats.inc_value(f"govarchive/pages/{decided.kind}")
            return decided
        if rendering is not None and rendering.states:
            reading = await self._read_rendering(fetched, rendering, context)
        else:
            reading = await self._run(fetched, context)
        self.stats.inc_value(f"govarchive/pages/{reading.kind}")
        return reading

    async def _read_file(self, fetched: Fetched) -> PageReading:
        if not self.attachment_text:
            return PageReading(FILE)
        if len(fetched.body) > MAX_FILE_BYTES:  # its text is not read: the body need not cross to a worker
            return file_reading(fetched)
        try:
            reading = await self.pool.run(fetched.url, fetched, PageContext(ATTACHMENT))
        except ExtractionError as exc:  # the worker timed out or crashed on this file
            reading = PageReading(FAILED, message=str(exc))
        if reading.kind != FILE or reading.file_text is None:
            reading = PageReading(FILE, file_text=FileText(TEXT_FAILED, detail=reading.message))
        self.stats.inc_value(f"govarchive/files/text/{reading.file_text.status}")
        return reading

    async def _run(self, fetched: Fetched, context: PageContext) -> PageReading:
        try:
            return await self.pool.run(fetched.url, fetched, context)
        except ExtractionError as exc:  # the worker timed out or crashed on this page
            return PageReading(FAILED, failure_kind=EXTRACTION, message=str(exc))

    async def _read_rendering(self, fetched: Fetched, rendering: Rendering, context: PageContext) -> PageReading:
        if rendering.document is not None and (challenge := challenge_reading(rendering.document)):
            return challenge
        states = [Fetched(fetched.url, fetched.status, [("Content-Type", "text/html; charset=utf-8")],
                          state.encode("utf-8"), fetched.fetched_at, fetched.warc) for state in rendering.states]
        return combined(await asyncio.gather(*(self._run(state, context) for state in states)))


def combined(readings: list[PageReading]) -> PageReading:
    """One reading of a page seen in several DOM states: its first list state's, with the records, pages
    and 更多 links of every later list state (a client-side pager's pages); else the first state's."""
    lists = [(r, r.links) for r in readings if r.kind == LIST and r.links is not None]
    if not lists:
        return readings[0]
    records: dict[str, Link] = {}
    pages: dict[tuple, Link] = {}
    more: dict[str, Link] = {}
    handlers: list[str] = []
    for _, found in lists:
        for link in found.records:
            records.setdefault(link.url, link)
        for link in found.pages:
            pages.setdefault(link.key, link)
        for link in found.more:
            more.setdefault(link.url, link)
        handlers += [name for name in found.handlers if name not in handlers]
    first, links = lists[0]
    return PageReading(LIST, first.reasons, links=Discovery(list(records.values()), list(pages.values()),
                                                             list(more.values()), handlers, links.column))


def extract_workers(value: Any) -> int:
    """GOVARCHIVE_EXTRACT_WORKERS: "auto" or a whole number >= 0."""
    if value is None or str(value).strip().lower() == "auto":
        return auto_workers()
    try:
        workers = int(value)
    except ValueError:
        workers = -1
    if workers < 0:
        raise ValueError(f"GOVARCHIVE_EXTRACT_WORKERS must be 'auto' or a whole number >= 0, not {value!r}")
    return workers


def fetched_at(request: Request) -> str:
    """When the response was fetched: its WARC-Date when the capture middleware is on, else now."""
    started = request.meta.get(STARTED_KEY)
    return iso_utc(started) if isinstance(started, datetime) else now_iso()

