"""Back off from a site that answers anti-bot challenges, and stop asking it after repeated ones.

The reading (`archive.challenge`, via the page reader) says a response is a challenge; this middleware
only acts on it: the site's download slot is slowed to `GOVARCHIVE_ANTIBOT_DELAY` seconds (doubling
with each challenge), and after `GOVARCHIVE_ANTIBOT_MAX_HITS` challenges from one host its remaining
requests are not sent: each is dropped with `HostBlocked`, which the spider records as an `antibot`
failure, so nothing is lost without a trace. Challenges are recorded, never defeated.
GOVARCHIVE_ANTIBOT_MAX_HITS = 0 turns the backoff off (challenges are still recorded).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from archive.page import CHALLENGE
from archive.urls import host_of
from crawler.middlewares.page_reader import READING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class HostBlocked(IgnoreRequest):
    """A request not sent because its host answered too many challenges."""


class AntibotMiddleware:
    def __init__(self, crawler: Crawler, max_hits: int, delay: float) -> None:
        self.crawler = crawler
        self.max_hits = max_hits
        self.delay = delay
        self.hits: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntibotMiddleware:
        max_hits = crawler.settings.getint("GOVARCHIVE_ANTIBOT_MAX_HITS")
        if max_hits <= 0:
            raise NotConfigured("GOVARCHIVE_ANTIBOT_MAX_HITS is 0")
        return cls(crawler, max_hits, crawler.settings.getfloat("GOVARCHIVE_ANTIBOT_DELAY"))

    def process_request(self, request: Request) -> None:
        host = host_of(request.url)
        if self.hits.get(host, 0) >= self.max_hits:
            raise HostBlocked(f"not requested: {host} answered {self.hits[host]} anti-bot challenges")

    def process_response(self, request: Request, response: Response) -> Response:
        reading = request.meta.get(READING)
        if reading is not None and reading.kind == CHALLENGE:
            host = host_of(response.url)
            self.hits[host] = hits = self.hits.get(host, 0) + 1
            self.crawler.stats.inc_value("govarchive/antibot/challenges")
            self._slow_down(request)
            if hits == self.max_hits:
                logger.warning("%s answers anti-bot challenges (%d so far): no more requests to it", host, hits)
        return response

    def _slow_down(self, request: Request) -> None:
        try:
            downloader = self.crawler.engine.downloader
        except RuntimeError:  # not crawling (a component test)
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = max(slot.delay * 2, self.delay)
