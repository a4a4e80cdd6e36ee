"""Back off from a site that answers anti-bot challenges: slow it, pause it, and only then give it up.

The reading (`archive.challenge`, via the page reader) says a response is a challenge; this middleware
only acts on it: the site's download slot is slowed to `GOVARCHIVE_ANTIBOT_DELAY` seconds (doubling
with each challenge, at most `GOVARCHIVE_ANTIBOT_MAX_DELAY`), or paused for as long as the challenge's
`Retry-After` asks when that is longer. After `GOVARCHIVE_ANTIBOT_MAX_HITS` challenges in a row (any other
answer from the host starts the count again) the host is paused for `GOVARCHIVE_ANTIBOT_PAUSE` seconds:
its scheduled requests wait, they are not dropped (a WAF that challenges a burst often lets the crawl
through after a while). Only when the host answers that many challenges in a row again is it given up:
its remaining requests are not sent, each dropped with `HostBlocked`, which the spider records as an
`antibot` failure. Nothing is lost without a trace, and challenges are recorded, never defeated.
GOVARCHIVE_ANTIBOT_MAX_HITS = 0 turns the backoff off (challenges are still recorded).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from archive.page import CHALLENGE
from archive.urls import host_of
from crawler.failures import ANTIBOT, Rejected
from crawler.middlewares.page_reader import READING
from crawler.middlewares.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class HostBlocked(Rejected):
    """A request not sent because its host answered nothing but challenges."""

    def __init__(self, message: str) -> None:
        super().__init__(ANTIBOT, message)

    def __reduce__(self):
        return (type(self), (self.message,))


class AntibotMiddleware:
    def __init__(self, crawler: Crawler, max_hits: int, delay: float, max_delay: float, pause: float) -> None:
        self.crawler = crawler
        self.max_hits = max_hits
        self.delay = delay
        self.max_delay = max(max_delay, delay)
        self.pause = pause
        self.hits: dict[str, int] = {}  # challenges in a row per host
        self.paused: set[str] = set()  # hosts paused once already
        self.blocked: set[str] = set()  # hosts given up

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntibotMiddleware:
        settings = crawler.settings
        max_hits = settings.getint("GOVARCHIVE_ANTIBOT_MAX_HITS")
        if max_hits <= 0:
            raise NotConfigured("GOVARCHIVE_ANTIBOT_MAX_HITS is 0")
        return cls(crawler, max_hits, settings.getfloat("GOVARCHIVE_ANTIBOT_DELAY"),
                   settings.getfloat("GOVARCHIVE_ANTIBOT_MAX_DELAY"), settings.getfloat("GOVARCHIVE_ANTIBOT_PAUSE"))

    def process_request(self, request: Request) -> None:
        host = host_of(request.url)
        if host in self.blocked:
            self.crawler.stats.inc_value("govarchive/antibot/not_requested")
            again = f", and again after a pause of {self.pause:g} s" if host in self.paused else ""
            raise HostBlocked(f"not requested: {host} answered {self.max_hits} anti-bot challenges in a row{again}")

    def process_response(self, request: Request, response: Response) -> Response:
        reading = request.meta.get(READING)
        host = host_of(response.url)
        if reading is None or reading.kind != CHALLENGE:
            if reading is not None and host not in self.blocked:
                self.hits.pop(host, None)  # content again: the host is not a wall of challenges
            return response
        self.hits[host] = hits = self.hits.get(host, 0) + 1
        self.crawler.stats.inc_value("govarchive/antibot/challenges")
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if hits >= self.max_hits and host not in self.blocked:
            if self.pause > 0 and host not in self.paused:
                self.paused.add(host)
                self.hits[host] = 0
                wait = max(wait or 0.0, self.pause)
                self.crawler.stats.inc_value("govarchive/antibot/pauses")
                logger.warning("%s answers anti-bot challenges (%d in a row): pausing it for %g s", host, hits, wait)
            else:
                self.blocked.add(host)
                logger.warning("%s answers anti-bot challenges (%d in a row): no more requests to it", host, hits)
        self._slow_down(request, wait)
        return response

    def _slow_down(self, request: Request, retry_after: float | None) -> None:
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # not crawling (a component test)
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return
        slot.delay = min(max(slot.delay * 2, self.delay), self.max_delay)
        if retry_after and retry_after > slot.delay:
            # the host asked for a pause: no request to it before then (Scrapy waits `delay` after `lastseen`, monotonic)
            slot.lastseen = max(slot.lastseen, time.monotonic() + retry_after - slot.delay)
            self.crawler.stats.inc_value("govarchive/antibot/paused_seconds", retry_after)
