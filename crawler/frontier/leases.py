"""Acknowledging leases, and enqueuing the start URLs once for the whole cluster.

`FrontierSpiderMiddleware` sits closest to the engine (order 0), so its `process_spider_output` sees
the callback's output last: once that output is exhausted, the page's report has gone through the
pipeline (a synchronous store, batch size 1 with a frontier) and its links are in the queue, and the
lease is acknowledged. A page whose output keeps requests in this worker (pages 2..N of an article)
stays leased until the worker is idle: killed before, the article's first page is fetched again.
Its `process_start` lets the spider's start requests through in exactly one worker of the crawl.

`FrontierDownloaderMiddleware` acknowledges requests whose download failed for good (DNS, refused,
timeouts after the retries, robots.txt): their errback's output never passes spider middlewares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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
        if token and self.frontier is not None:
            self.frontier.ack(token)
            self.crawler.stats.inc_value("govarchive/frontier/acked")


class FrontierSpiderMiddleware(_FrontierComponent):
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
        local = False
        async for item in result:
            if isinstance(item, Request) and item.meta.get(LOCAL_KEY):
                local = True
            yield item
        if not local:
            self.ack(response.request)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self.ack(response.request)


class FrontierDownloaderMiddleware(_FrontierComponent):
    def process_exception(self, request: Request, exception: Exception) -> None:
        self.ack(request)
