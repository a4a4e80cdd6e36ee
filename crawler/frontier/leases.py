"""Acknowledging leases, and enqueuing the start URLs once for the whole cluster.

`FrontierSpiderMiddleware` sits closest to the engine (order 0), so its `process_spider_output` sees
the callback's output last. It queues the page's requests itself, at once (Scrapy's scraper would
take them a few at a time, after the output is exhausted), and acknowledges the lease when the last of
the page's items has been through the pipeline (`item_scraped`/`item_dropped`/`item_error`; the store
commits each report, batch size 1 with a frontier): killed before that, the page is fetched again. A page whose output keeps requests in this worker (pages 2..N of an article)
stays leased until the worker is idle: killed before, the article's first page is fetched again.
Its `process_start` lets the spider's start requests through in exactly one worker of the crawl.

`FrontierDownloaderMiddleware` acknowledges requests whose download failed for good (DNS, refused,
timeouts after the retries, robots.txt): their errback's output never passes spider middlewares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawler.frontier import LEASE_KEY, LOCAL_KEY
from crawler.frontier.scheduler import build_frontier

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.frontier.state import Frontier


class _FrontierComponent:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.get("GOVARCHIVE_FRONTIER"):
            raise NotConfigured("GOVARCHIVE_FRONTIER is not set")
        self.crawler = crawler
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        component = cls(crawler)
        crawler.signals.connect(component.spider_opened, signal=signals.spider_opened)
        return component

    def spider_opened(self, spider: Spider) -> None:
        self.frontier = build_frontier(self.crawler.settings, spider)

    def ack(self, request: Request | None) -> None:
        token = request.meta.get(LEASE_KEY) if request is not None else None
        if token:
            self.ack_token(token)

    def ack_token(self, token: str) -> None:
        if self.frontier is not None:
            self.frontier.ack(token)
            self.crawler.stats.inc_value("govarchive/frontier/acked")


@dataclass
class _Page:
    """What a leased page's callback gave, and how much of it the pipeline has finished."""

    token: str
    items: int = 0
    done: int = 0
    exhausted: bool = False


class FrontierSpiderMiddleware(_FrontierComponent):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pages: dict[int, _Page] = {}  # id(response) -> its output so far

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        component = super().from_crawler(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(component.item_finished, signal=signal)
        return component

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        frontier = build_frontier(self.crawler.settings, self.crawler.spider)
        if not frontier.claim_seeding():
            self.crawler.stats.set_value("govarchive/frontier/seeded", False)
            return  # another worker enqueued (or is enqueuing) the start URLs
        async for item in start:
            yield item
        frontier.seeded()
        self.crawler.stats.set_value("govarchive/frontier/seeded", True)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Requests are queued here, at once (Scrapy would queue them later, a few at a time); items go on
        to the pipeline, and the page is acknowledged when the last of them is through."""
        token = response.request.meta.get(LEASE_KEY) if response.request is not None else None
        page = _Page(token) if token else None
        local = False
        if page is not None:
            self.pages[id(response)] = page
        async for output in result:
            if isinstance(output, Request):
                local = local or bool(output.meta.get(LOCAL_KEY))
                assert self.crawler.engine is not None
                self.crawler.engine.crawl(output)
                continue
            if page is not None:
                page.items += 1
            yield output
        if page is None:
            return
        if local:  # its article is assembled in this process: leased until the worker is idle
            self.pages.pop(id(response), None)
            return
        page.exhausted = True
        self._settle(id(response), page)

    def item_finished(self, item: Any, response: Any = None, **kwargs: Any) -> None:
        page = self.pages.get(id(response))
        if page is not None:
            page.done += 1
            self._settle(id(response), page)

    def _settle(self, key: int, page: _Page) -> None:
        if page.exhausted and page.done >= page.items:
            self.pages.pop(key, None)
            self.ack_token(page.token)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self.ack(response.request)


class FrontierDownloaderMiddleware(_FrontierComponent):
    def process_exception(self, request: Request, exception: Exception) -> None:
        self.ack(request)
