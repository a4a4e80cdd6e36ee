"""The frontier scheduler: scrapy-redis's scheduler, queue and dupefilter under the crawl's key, with
leased pops (`state.Frontier`) so that a killed worker loses nothing.

scrapy-redis 0.9.1 (verified with Scrapy 2.19: the scheduler interface, `Request.to_dict` /
`request_from_dict` with the spider's callbacks, pickled meta) pops destructively; here `pop` moves the
request into this worker's lease hash and the request carries the lease token in `request.meta`
(`LEASE_KEY`) until `crawler.frontier.leases` acknowledges it. The duplicate filter's fingerprint is
checked and the request queued in one Lua step (`Frontier.push`): scrapy-redis does the two apart, and a
worker killed between them lost the request for good. Requests marked `LOCAL_KEY` stay in this
process (an in-memory queue): pages 2..N of an article assembled here. The crawl ends for a worker when
the shared queue is empty, its own local queue is empty and no other worker holds leases that may still
yield requests.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from typing import TYPE_CHECKING, Any

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.frontier import LEASE_KEY, LOCAL_KEY
from crawler.frontier.state import Frontier, connect, crawl_id, default_worker_id

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Seconds between looks at the shared queue while this worker has nothing to download: Scrapy's engine
# asks its scheduler again only every 5 s (its heartbeat) when nothing happens in this process, while
# the other workers keep filling the queue.
POLL_INTERVAL = 0.5


def build_frontier(settings: Any, spider: Spider) -> Frontier:
    """This worker's view of the crawl of `spider`'s start URLs on the GOVARCHIVE_FRONTIER Redis."""
    client = connect(settings["GOVARCHIVE_FRONTIER"])
    return Frontier(client, settings["GOVARCHIVE_FRONTIER_PREFIX"], crawl_id(spider_targets(spider)),
                    settings["GOVARCHIVE_FRONTIER_WORKER"] or default_worker_id(),
                    settings.getfloat("GOVARCHIVE_FRONTIER_LEASE_TTL"))


def spider_targets(spider: Spider) -> list[str]:
    return [str(u) for u in getattr(spider, "start_urls", None) or []]


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop is a lease (see the module docstring)."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None,
                 frontier: Frontier | None = None) -> None:
        super().__init__(server, spider, key, serializer)
        assert frontier is not None
        self.frontier = frontier

    def push(self, request: Request, fingerprint: str = "") -> bool:
        """Queue `request` unless `fingerprint` was seen (one atomic step, see Frontier.push)."""
        replaces = request.meta.pop(LEASE_KEY, None)  # a retry or redirect continues the lease it came from
        return self.frontier.push(self._encode_request(request), -request.priority, replaces, fingerprint)

    def pop(self, timeout: int = 0) -> Request | None:
        found = self.frontier.pop()
        if found is None:
            return None
        token, data = found
        request = self._decode_request(data)
        request.meta[LEASE_KEY] = token
        return request


class FrontierScheduler(Scheduler):
    """Built only when GOVARCHIVE_FRONTIER is set (crawler.frontier.addon switches SCHEDULER to it)."""

    crawler: Crawler
    frontier: Frontier

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        settings = crawler.settings
        server = connect(settings["GOVARCHIVE_FRONTIER"])
        scheduler = cls(server=server, persist=True, idle_before_close=0)
        scheduler.crawler = crawler
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.frontier = build_frontier(self.crawler.settings, spider)
        self.queue = LeasedQueue(self.server, spider, self.frontier.k("requests"), frontier=self.frontier)
        self.df = RFPDupeFilter(self.server, key=self.frontier.k("seen"),
                                debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self._local: list[tuple[int, int, Request]] = []
        self._order = itertools.count()
        returned = self.frontier.join(spider_targets(spider))
        if returned:
            logger.warning("worker %s: %d requests an earlier run of this worker had taken are back in the queue",
                           self.frontier.worker, returned)
            self.stats.inc_value("govarchive/frontier/returned", returned)
        self._beat = task.LoopingCall(self.frontier.heartbeat)
        self._beat.start(self.frontier.lease_ttl / 3, now=False)
        self._poll = task.LoopingCall(self._wake_engine)
        self._poll.start(POLL_INTERVAL, now=False)
        if queued := self.frontier.queued():
            logger.info("frontier %s: %d requests queued", self.frontier.key, queued)

    def close(self, reason: str) -> None:
        for call in (getattr(self, "_beat", None), getattr(self, "_poll", None)):  # None: open() failed
            if call is not None and call.running:
                call.stop()
        # the crawl-run extension makes the worker leave the frontier (it has the summary to hand over)

    def _wake_engine(self) -> None:
        """Make the engine pull from the scheduler now (its slot's `nextcall`, which Scrapy itself triggers
        after each download), so an idle worker picks up the requests other workers queued."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and self.frontier.queued():
            slot.nextcall.schedule()

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get(LOCAL_KEY):
            heapq.heappush(self._local, (-request.priority, next(self._order), request))
            self.stats.inc_value("scheduler/enqueued/local")
            return True
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        if not self.queue.push(request, fingerprint):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self._local:
            return heapq.heappop(self._local)[2]
        self.frontier.reclaim()
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Asked by the engine only when this worker downloads and scrapes nothing: every request it took
        has been handled then, acknowledged or not (a page whose article pages were assembled here)."""
        if self._local:
            return True
        if dropped := self.frontier.drop_own_leases():
            logger.debug("worker %s: %d handled leases released at idle", self.frontier.worker, dropped)
        return self.frontier.queued() > 0 or self.frontier.others_busy()
