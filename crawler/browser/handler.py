"""The http(s) download handler: Scrapy's own, and scrapy-playwright's browser for the requests marked for it.

Requests without `meta["playwright"]` go to Scrapy's HTTP/1.1 handler untouched. The first marked one
starts Playwright and launches Debian's chromium (`GOVARCHIVE_BROWSER_EXECUTABLE`; Playwright's own
browser downloads are never used), so a crawl that meets no app shell never starts either. A download
handler rather than a middleware, so browser pages wait in the same per-site download slots (delays,
concurrency) as every other request.

Each browser page: at most `GOVARCHIVE_BROWSER_POOL` at once; every step bounded by
`GOVARCHIVE_BROWSER_TIMEOUT`; its traffic archived (`traffic`); its DOM states collected (`pager`). Pages
share a browser context until `GOVARCHIVE_BROWSER_PAGES_PER_CONTEXT` have used it, then a fresh context
takes over and the old one closes with its last page: its cache, storage and leftovers go with it.

What the page reader needs is left in `request.meta[RENDERING]`; the response scrapy-playwright builds
(the final DOM under the document's headers) only carries it through the middlewares and is not archived.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from archive.page import Fetched
from archive.report import WarcRef
from archive.warc import Exchange
from crawler.browser import pager
from crawler.browser.choice import META_KEY, BrowserChoice
from crawler.browser.traffic import PageTraffic
from crawler.middlewares.warc_capture import STARTED_KEY, WARC_REF_KEY, browser_exchange

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

# request.meta: the rendered page, for the page reader.
RENDERING = "govarchive_rendering"
# request.meta keys of scrapy-playwright that hold this page's live objects: gone once it is rendered.
_LIVE_KEYS = ("playwright_page_event_handlers", "playwright_page_methods")


@dataclass
class Rendering:
    states: list[str]  # the DOM after the scripts settled, then after each pager step
    document: Fetched | None  # the main document as the server sent it, with its WARC record


class ContextRotation:
    """Names of browser contexts: a fresh one every `limit` pages; a used-up one closes with its last page."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.generation = 0
        self.taken = 0
        self.open: dict[str, int] = {}

    @property
    def current(self) -> str:
        return f"govarchive-{self.generation}"

    def take(self) -> str:
        if self.taken >= self.limit:
            self.generation += 1
            self.taken = 0
        self.taken += 1
        self.open[self.current] = self.open.get(self.current, 0) + 1
        return self.current

    def give_back(self, name: str) -> bool:
        """True when the context `name` is used up and its last page is done: time to close it."""
        self.open[name] -= 1
        if self.open[name] or (name == self.current and self.taken < self.limit):
            return False
        del self.open[name]
        return True


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.crawler = crawler
        choice = BrowserChoice.from_settings(settings)
        pool = settings.getint("GOVARCHIVE_BROWSER_POOL")
        self.timeout = settings.getfloat("GOVARCHIVE_BROWSER_TIMEOUT")
        self.quiet = settings.getfloat("GOVARCHIVE_BROWSER_QUIET")
        self.max_clicks = settings.getint("GOVARCHIVE_BROWSER_MAX_CLICKS")
        self.config.launch_options = {"executable_path": choice.executable or choice.setting, "headless": True}
        self.config.navigation_timeout_ms = self.timeout * 1000
        self.config.max_pages_per_context = pool
        self.pool = asyncio.Semaphore(max(1, pool))
        self.contexts = ContextRotation(settings.getint("GOVARCHIVE_BROWSER_PAGES_PER_CONTEXT"))
        self._start_lock = asyncio.Lock()
        self._started = False

    async def _maybe_launch_in_thread(self) -> None:
        """Not at engine start (scrapy-playwright's default): on the first page for the browser."""

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(META_KEY):
            return await super().download_request(request)
        async with self._start_lock:
            if not self._started:
                await self._launch()
                self._started = True
        async with self.pool:
            return await self._render(request)

    async def _render(self, request: Request) -> Response:
        traffic = PageTraffic(self._archive)
        states = PageMethod(pager.render, traffic, quiet=self.quiet, timeout=self.timeout, max_clicks=self.max_clicks)
        context = self.contexts.take()
        request.meta.update({"playwright_context": context, "playwright_page_event_handlers": traffic.handlers(),
                             "playwright_page_methods": [states]})
        try:
            response = await super().download_request(request)
        finally:
            for key in _LIVE_KEYS:
                request.meta.pop(key, None)
            if self.contexts.give_back(context):
                await self._close_context(context)
        request.meta[RENDERING] = Rendering(states.result or [], traffic.document)
        if traffic.document is not None:
            request.meta[WARC_REF_KEY] = traffic.document.warc
            request.meta[STARTED_KEY] = traffic.document_started
        stats = self.crawler.stats
        stats.inc_value("govarchive/browser/pages")
        stats.inc_value("govarchive/browser/states", len(states.result or []))
        stats.inc_value("govarchive/browser/exchanges", traffic.exchanges)
        return response

    async def _close_context(self, name: str) -> None:
        wrapper = self.context_wrappers.get(name)
        if wrapper is None:
            return
        try:
            await wrapper.context.close()
        except PlaywrightError as exc:
            logger.warning("closing browser context %s failed: %s", name, exc)
        self.crawler.stats.inc_value("govarchive/browser/contexts_recycled")

    def _archive(self, exchange: Exchange) -> WarcRef | None:
        """One WARC writer per crawl: the capture middleware's, reached through its signal."""
        for _, written in self.crawler.signals.send_catch_log(browser_exchange, exchange=exchange):
            if isinstance(written, WarcRef):
                return written
        return None
