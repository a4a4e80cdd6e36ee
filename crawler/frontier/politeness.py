"""Per-host politeness held for the whole cluster of frontier workers, not for each worker.

Scrapy keeps a download slot per host in each process: two workers would each send
CONCURRENT_REQUESTS_PER_DOMAIN requests and each wait DOWNLOAD_DELAY, doubling the load on a site.
With a frontier, every request first takes a lease on its slot in Redis (one Lua script, atomic, on
Redis's clock): at most the slot's concurrency leases at once across all workers, and leases granted at
least the slot's delay apart. The lease is returned when the request leaves the downloader
(`request_left_downloader`, success or failure) and expires by itself after DOWNLOAD_TIMEOUT plus a
margin should its worker die. The slot's concurrency and delay are what this process would use
(DOWNLOAD_SLOTS, CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY, AutoThrottle's current delay), so the
profile and -s settings keep their meaning, now cluster-wide. Order 940: after robots.txt, offsite
and anti-bot checks (a request they drop takes no lease), before the WARC capture notes the start time.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.frontier.state import connect, default_worker_id

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

TOKEN_KEY = "govarchive_host_lease"
# Seconds between tries while a host's slots are all taken (its delay, when that is what holds it back).
FULL_POLL = 0.05
# Seconds a host lease outlives DOWNLOAD_TIMEOUT before it counts as abandoned (its worker died).
LEASE_MARGIN = 30.0

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_at > now then return next_at - now end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
local delay = tonumber(ARGV[2])
if delay > 0 then redis.call('SET', KEYS[2], now + delay, 'PX', delay + 1000) end
return 0
"""


class ClusterPolitenessMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.get("GOVARCHIVE_FRONTIER") or not settings.getbool("GOVARCHIVE_FRONTIER_POLITENESS"):
            raise NotConfigured("no frontier, or its cluster-wide politeness is off")
        self.crawler = crawler
        self.client = connect(settings["GOVARCHIVE_FRONTIER"])
        self.prefix = f"{settings['GOVARCHIVE_FRONTIER_PREFIX']}:host"
        self.worker = settings["GOVARCHIVE_FRONTIER_WORKER"] or default_worker_id()
        self.per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.slots: dict[str, Any] = settings.getdict("DOWNLOAD_SLOTS")
        self.hold_ms = int((settings.getfloat("DOWNLOAD_TIMEOUT") + LEASE_MARGIN) * 1000)
        self._acquire = self.client.register_script(_ACQUIRE)
        self._tokens = itertools.count()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterPolitenessMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.request_left_downloader, signal=signals.request_left_downloader)
        return middleware

    def limits(self, slot: str) -> tuple[int, float]:
        """(concurrency, delay in seconds) of a download slot, as this process would apply them."""
        configured = self.slots.get(slot) or {}
        concurrency = int(configured.get("concurrency", self.per_domain))
        delay = float(configured.get("delay", self.delay))
        engine = self.crawler.engine
        current = engine.downloader.slots.get(slot) if engine is not None else None
        if current is not None and not configured:
            delay = max(delay, current.delay)  # AutoThrottle's adjustment
        return max(1, concurrency), max(0.0, delay)

    async def process_request(self, request: Request) -> None:
        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.get_slot_key(request)
        concurrency, delay = self.limits(slot)
        token = f"{self.worker}:{next(self._tokens)}"
        while True:
            wait = self.try_lease(slot, token, concurrency, delay)
            if wait == 0:
                break
            self.crawler.stats.inc_value("govarchive/frontier/host_waits")
            await asyncio.sleep(FULL_POLL if wait < 0 else wait)
        request.meta[TOKEN_KEY] = (slot, token)

    def try_lease(self, slot: str, token: str, concurrency: int, delay: float) -> float:
        """Take a lease on `slot` for the cluster: 0 when granted, else the seconds until the slot's delay
        has passed, or -1 when `concurrency` leases are out."""
        keys = [f"{self.prefix}:{slot}:leases", f"{self.prefix}:{slot}:next"]
        wait_ms = int(self._acquire(keys=keys, args=[concurrency, int(delay * 1000), token, self.hold_ms]))
        return wait_ms if wait_ms <= 0 else wait_ms / 1000

    def release(self, slot: str, token: str) -> None:
        self.client.zrem(f"{self.prefix}:{slot}:leases", token)

    def request_left_downloader(self, request: Request, spider: Any = None) -> None:
        held = request.meta.pop(TOKEN_KEY, None)
        if held is not None:
            self.release(*held)
