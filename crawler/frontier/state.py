"""The Redis state of one distributed crawl, and every operation on it.

A crawl is named by its key, `PREFIX:CRAWL` where CRAWL is a digest of the sorted start URLs (and
site profiles): workers started with the same targets share one crawl; other crawls on the same Redis
never mix with it. Keys under it:

    requests          sorted set: the queue (scrapy-redis PriorityQueue, pickled request dicts)
    seen              set: request fingerprints (scrapy-redis RFPDupeFilter)
    inflight:WORKER   hash: lease token -> "score|request" of what WORKER took and has not finished
    alive:WORKER      string "host:pid", expiring after GOVARCHIVE_FRONTIER_LEASE_TTL unless renewed
    workers           set: workers that joined and have not stopped
    started / seeded  the start-URL guard: the worker that enqueues the start URLs, and that it did
    run / run-lock    the one crawl run of all workers (its id in the database)
    acked             hash: WORKER -> pages finished, and `t0`, when the crawl began (for the rate)
    summaries         list: each stopped worker's summary (JSON), merged by the last one to stop
    joins             counter: worker processes that joined (more than the summaries: some were killed)
    info              hash: start URLs, for `govarchive frontier status`

A popped request moves atomically from the queue to its worker's `inflight` hash (a lease); it leaves
it when its page has been handled (acknowledged). A worker whose `alive` key expired (killed -9, its
machine gone) has its leases put back in the queue by any other worker; the same worker id started
again takes its own back at once. Nothing here imports Scrapy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis

# Seconds a worker waits for the worker creating the crawl run to record its id.
RUN_WAIT = 60.0
DONE_KEYS = ("requests", "seen", "started", "seeded", "run", "run-lock", "workers", "summaries", "info",
             "acked", "closing", "joins")

_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return nil end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.sha1hex(r[1])
redis.call('HSET', KEYS[2], token, r[2] .. '|' .. r[1])
return {token, r[1]}
"""
_REQUEUE = """
local entries = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local bar = string.find(value, '|', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(value, 1, bar - 1), string.sub(value, bar + 1))
  n = n + 1
end
redis.call('DEL', KEYS[2])
return n
"""
_PUSH = """
if ARGV[4] ~= '' and redis.call('SADD', KEYS[3], ARGV[4]) == 0 then
  if ARGV[3] ~= '' then redis.call('HDEL', KEYS[2], ARGV[3]) end
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[2], ARGV[3]) end
return 1
"""
_LEAVE = """
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'EX', 3600) then return 1 end
end
return 0
"""


class FrontierError(Exception):
    """The frontier cannot be used: a bad URL, Redis unreachable, a worker id already in use."""


def parse_frontier_url(url: str) -> str:
    """`redis://HOST[:PORT][/DB]` (or rediss://), checked; else FrontierError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise FrontierError(f"frontier {url!r} is not a Redis URL: use redis://HOST:PORT/DB")
    try:
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        raise FrontierError(f"frontier {url!r} has a port that is not a number from 1 to 65535") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise FrontierError(f"frontier {url!r} has no host: use redis://HOST:PORT/DB")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise FrontierError(f"frontier {url!r}: the database after the host is a number (redis://HOST:PORT/0)")
    return url.strip()


def connect(url: str) -> redis.Redis:
    """A client of the frontier's Redis, checked with a PING: FrontierError naming the URL if it fails."""
    parse_frontier_url(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise FrontierError(f"cannot reach the frontier at {url}: {exc}") from None
    return client


def crawl_id(targets: Iterable[str]) -> str:
    """The name of the crawl of these start URLs / profiles: the same targets, the same crawl."""
    text = "\n".join(sorted(set(targets)))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def default_worker_id() -> str:
    """The host name, as a worker id (one worker per machine unless GOVARCHIVE_FRONTIER_WORKER says)."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:64] or "worker"


@dataclass
class Ending:
    """What the last worker of a finished crawl gets: every worker process's summary, and how many
    processes joined and left none (killed: their counts are lost, their reports are in the database)."""

    summaries: list[dict[str, Any]]
    lost: int = 0


@dataclass
class WorkerStatus:
    worker: str
    alive: bool
    inflight: int
    acked: int


@dataclass
class CrawlStatus:
    key: str
    start_urls: list[str]
    queued: int
    seen: int
    run_id: int | None
    seeded: bool
    workers: list[WorkerStatus]
    pages_per_second: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"crawl": self.key, "start_urls": self.start_urls, "queued": self.queued, "seen": self.seen,
                "run_id": self.run_id, "seeded": self.seeded, "pages_per_second": self.pages_per_second,
                "workers": [vars(w) for w in self.workers]}


class Frontier:
    """One crawl's keys on one Redis, seen from one worker."""

    def __init__(self, client: redis.Redis, prefix: str, crawl: str, worker: str, lease_ttl: float) -> None:
        self.client = client
        self.prefix = prefix
        self.key = f"{prefix}:{crawl}"
        self.worker = worker
        self.lease_ttl = max(1.0, lease_ttl)
        self._identity = f"{socket.gethostname()}:{os.getpid()}"
        self._pop = client.register_script(_POP)
        self._requeue = client.register_script(_REQUEUE)
        self._leave = client.register_script(_LEAVE)
        self._push = client.register_script(_PUSH)
        self._last_reclaim = 0.0

    def k(self, name: str) -> str:
        return f"{self.key}:{name}"

    # --- joining and leaving ------------------------------------------------------------------------

    def join(self, start_urls: list[str]) -> int:
        """Register this worker: refuse an id another live process holds; take back the leases an earlier
        run of this same worker left (it was killed). Returns how many requests were put back."""
        holder = self.client.get(self.k(f"alive:{self.worker}"))
        if holder is not None and holder.decode() != self._identity and self._holder_alive(holder.decode()):
            raise FrontierError(
                f"worker id {self.worker!r} is in use by {holder.decode()} on this frontier: give each worker its "
                f"own -s GOVARCHIVE_FRONTIER_WORKER=NAME (or wait {self.lease_ttl:.0f} s if that process is gone)")
        returned = int(self._requeue(keys=[self.k("requests"), self.k(f"inflight:{self.worker}")]))
        self.heartbeat()
        pipe = self.client.pipeline()
        pipe.sadd(self.k("workers"), self.worker)
        pipe.incr(self.k("joins"))
        pipe.hsetnx(self.k("info"), "start_urls", json.dumps(start_urls, ensure_ascii=False))
        pipe.hsetnx(self.k("acked"), "t0", str(time.time()))
        pipe.execute()
        return returned

    def _holder_alive(self, holder: str) -> bool:
        """Whether the process named `host:pid` may still run (certain only on this host)."""
        host, _, pid = holder.rpartition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def heartbeat(self) -> None:
        """Renew this worker's liveness (called every third of the lease TTL)."""
        self.client.set(self.k(f"alive:{self.worker}"), self._identity, px=int(self.lease_ttl * 1000))

    def leave(self, summary: dict[str, Any], *, finished: bool) -> Ending | None:
        """This worker stops. Its unfinished leases go back to the queue (an interrupted worker's requests
        are someone else's next), its summary is kept; the summaries of every worker when it is the last
        one of a finished crawl (the crawl's keys are then removed: the next crawl starts afresh)."""
        inflight = self.k(f"inflight:{self.worker}")
        if finished:
            self.client.delete(inflight)
        else:
            self._requeue(keys=[self.k("requests"), inflight])
        self.client.rpush(self.k("summaries"), json.dumps(summary, ensure_ascii=False, default=str))
        self.client.delete(self.k(f"alive:{self.worker}"))
        self.reclaim(force=True)
        if not finished:
            self.client.srem(self.k("workers"), self.worker)
            return None
        last = int(self._leave(keys=[self.k("workers"), self.k("requests"), self.k("closing")], args=[self.worker]))
        if not last:
            return None
        summaries = [json.loads(s) for s in self.client.lrange(self.k("summaries"), 0, -1)]
        joins = int(self.client.get(self.k("joins")) or 0)
        self.client.delete(*(self.k(name) for name in DONE_KEYS))
        return Ending(summaries, max(0, joins - len(summaries)))

    # --- the queue -----------------------------------------------------------------------------------

    def pop(self) -> tuple[str, bytes] | None:
        """The next request (highest priority first) under a new lease: (token, encoded request)."""
        found = self._pop(keys=[self.k("requests"), self.k(f"inflight:{self.worker}")])
        if not found:
            return None
        token, data = found
        return token.decode(), data

    def push(self, data: bytes, score: float, replaces: str | None = None, fingerprint: str = "") -> bool:
        """Queue a request unless its `fingerprint` was seen (marked seen and queued in one step: a worker
        killed between the two would leave a request seen and never queued, lost with all it leads to);
        `replaces` is the lease it continues (a retry, a redirect), released either way. False for a
        duplicate; an empty fingerprint (`dont_filter`) is never one."""
        keys = [self.k("requests"), self.k(f"inflight:{self.worker}"), self.k("seen")]
        return bool(int(self._push(keys=keys, args=[data, score, replaces or "", fingerprint])))

    def ack(self, token: str) -> None:
        """The page of this lease is handled: it will not be fetched again."""
        pipe = self.client.pipeline()
        pipe.hdel(self.k(f"inflight:{self.worker}"), token)
        pipe.hincrby(self.k("acked"), self.worker, 1)
        pipe.execute()

    def drop_own_leases(self) -> int:
        """At idle every request this worker took is handled: forget leases nobody acknowledged."""
        inflight = self.k(f"inflight:{self.worker}")
        count = int(self.client.hlen(inflight))
        if count:
            self.client.delete(inflight)
        return count

    def reclaim(self, *, force: bool = False) -> int:
        """Put back in the queue what dead workers had taken (their `alive` key expired); at most once a
        third of the lease TTL unless forced. Returns how many requests were put back."""
        now = time.monotonic()
        if not force and now - self._last_reclaim < self.lease_ttl / 3:
            return 0
        self._last_reclaim = now
        returned = 0
        for raw in self.client.smembers(self.k("workers")):
            worker = raw.decode()
            if worker == self.worker or self.client.exists(self.k(f"alive:{worker}")):
                continue
            returned += int(self._requeue(keys=[self.k("requests"), self.k(f"inflight:{worker}")]))
            self.client.srem(self.k("workers"), worker)
        started = self.client.get(self.k("started"))
        if started is not None and not self.client.exists(self.k("seeded")) and \
                not self.client.exists(self.k(f"alive:{started.decode()}")):
            self.client.delete(self.k("started"))  # the seeding worker died: the next one seeds again
        return returned

    def queued(self) -> int:
        return int(self.client.zcard(self.k("requests")))

    def others_busy(self) -> bool:
        """Whether another worker holds leases, or the start URLs are still being enqueued: their pages
        may yield more requests, so an empty queue does not end this worker yet."""
        for raw in self.client.smembers(self.k("workers")):
            worker = raw.decode()
            if worker != self.worker and self.client.hlen(self.k(f"inflight:{worker}")):
                return True
        return not self.client.exists(self.k("seeded"))  # a worker may be joining before the seeding one

    # --- the start URLs and the crawl run ------------------------------------------------------------

    def claim_seeding(self) -> bool:
        """True for exactly one worker of a crawl: the one that enqueues the start URLs (again, when it was
        killed before it had enqueued them all: the duplicate filter drops those it had)."""
        if self.client.set(self.k("started"), self.worker, nx=True):
            return True
        holder = self.client.get(self.k("started"))
        return holder is not None and holder.decode() == self.worker and not self.client.exists(self.k("seeded"))

    def seeded(self) -> None:
        self.client.set(self.k("seeded"), self.worker)

    def run_id(self, create: Callable[[], int]) -> int:
        """The crawl run shared by every worker: created (by `create`) by the first, read by the others."""
        deadline = time.monotonic() + RUN_WAIT
        while True:
            found = self.client.get(self.k("run"))
            if found is not None:
                return int(found)
            if self.client.set(self.k("run-lock"), self.worker, nx=True, ex=int(RUN_WAIT)):
                run_id = create()
                self.client.set(self.k("run"), run_id)
                return run_id
            if time.monotonic() > deadline:
                raise FrontierError(f"no crawl run recorded on {self.key} after {RUN_WAIT:.0f} s")
            time.sleep(0.05)

    # --- status --------------------------------------------------------------------------------------

    def status(self) -> CrawlStatus:
        client = self.client
        info = client.hgetall(self.k("info"))
        acked = {k.decode(): v.decode() for k, v in client.hgetall(self.k("acked")).items()}
        names = sorted({w.decode() for w in client.smembers(self.k("workers"))} | (set(acked) - {"t0"}))
        workers = [WorkerStatus(name, bool(client.exists(self.k(f"alive:{name}"))),
                                int(client.hlen(self.k(f"inflight:{name}"))), int(acked.get(name, 0)))
                   for name in names]
        total = sum(w.acked for w in workers)
        t0 = float(acked["t0"]) if "t0" in acked else None
        rate = round(total / (time.time() - t0), 2) if t0 and time.time() > t0 else None
        run = client.get(self.k("run"))
        return CrawlStatus(self.key, json.loads(info.get(b"start_urls", b"[]")), self.queued(),
                           int(client.scard(self.k("seen"))), int(run) if run is not None else None,
                           bool(client.exists(self.k("seeded"))), workers, rate)


def crawl_status(client: redis.Redis, prefix: str, crawl: str) -> CrawlStatus | None:
    """What the frontier holds of crawl `crawl` (seen from no worker), or None when it holds nothing."""
    frontier = Frontier(client, prefix, crawl, "-", 30.0)
    return frontier.status() if client.exists(frontier.k("info")) else None


def crawls(client: redis.Redis, prefix: str) -> list[str]:
    """The crawl names with state under `prefix` on this Redis."""
    found = set()
    for key in client.scan_iter(match=f"{prefix}:*:info", count=1000):
        found.add(key.decode()[len(prefix) + 1:].split(":", 1)[0])
    return sorted(found)
