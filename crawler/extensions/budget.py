"""Budgets of one crawl run: pages, seconds, and free disk space under the WARC directory.

When one is spent the crawl stops the way a first Ctrl-C stops it (Scrapy closes the spider, the
in-flight requests end, the pipeline flushes) with the close reason `budget`; the run is recorded as
"interrupted (budget)" and `govarchive crawl … --resume` carries on from the archive. The budget that
ran out is in the stats (`govarchive/budget`) and so in the run's summary.
"""

from __future__ import annotations

import logging
import shutil
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extensions.crawl_run import ARCHIVED_FLAG, BUDGET_REASON, is_robots_request

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

BUDGET_STAT = "govarchive/budget"


class BudgetExtension:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_pages = settings.getint("GOVARCHIVE_MAX_PAGES")
        self.max_seconds = settings.getfloat("GOVARCHIVE_MAX_SECONDS")
        self.min_free = settings.getint("GOVARCHIVE_MIN_FREE_BYTES")
        self.directory = settings.get("GOVARCHIVE_WARC_DIR")
        if self.max_pages <= 0 and self.max_seconds <= 0 and self.min_free <= 0:
            raise NotConfigured("no crawl budget set")
        self.pages = 0
        self._t0 = time.monotonic()
        self._spent: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BudgetExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self._t0 = time.monotonic()
        self.check(spider)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if not is_robots_request(request) and ARCHIVED_FLAG not in response.flags:
            self.pages += 1
        self.check(spider)

    def check(self, spider: Spider) -> None:
        if self._spent is not None:
            return
        spent = self.spent()
        if spent is None:
            return
        self._spent = spent
        self.crawler.stats.set_value(BUDGET_STAT, spent)
        logger.warning("crawl budget spent (%s): stopping; `govarchive crawl … --resume` carries on", spent)
        assert self.crawler.engine is not None
        self.crawler.engine.close_spider(spider, BUDGET_REASON)

    def spent(self) -> str | None:
        """Which budget ran out, in words, or None."""
        if self.max_pages > 0 and self.pages >= self.max_pages:
            return f"GOVARCHIVE_MAX_PAGES={self.max_pages} pages fetched"
        if self.max_seconds > 0 and time.monotonic() - self._t0 >= self.max_seconds:
            return f"GOVARCHIVE_MAX_SECONDS={self.max_seconds:g} s spent"
        if self.min_free > 0 and self.directory:
            free = free_bytes(self.directory)
            if free is not None and free < self.min_free:
                return f"{free} bytes free under {self.directory}, below GOVARCHIVE_MIN_FREE_BYTES={self.min_free}"
        return None


def free_bytes(directory: str) -> int | None:
    from pathlib import Path

    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None
