"""The shared frontier of distributed crawl workers (`govarchive crawl --frontier redis://HOST:PORT/DB`).

Several crawl processes, on one machine or many, share one Redis-backed request queue and duplicate
filter (scrapy-redis's priority queue and dupefilter, under a key per crawl), one database (the
PostgreSQL store) and nothing else: each writes WARC files of its own, named after its worker id.

- `state.Frontier`: the Redis keys of one crawl and every operation on them (leases, start guard,
  the shared crawl run, worker registration, status);
- `addon.FrontierAddon`: switches a crawl to the frontier when GOVARCHIVE_FRONTIER is set;
- `scheduler.FrontierScheduler`: scrapy-redis's scheduler with leased pops;
- `leases`: acknowledging a request once its page is handled, and the start-URL guard;
- `politeness.ClusterPolitenessMiddleware`: per-host concurrency and delay held for the whole cluster.
"""

# request.meta: the lease a request was popped under (a string, so requests stay serialisable).
LEASE_KEY = "govarchive_frontier_lease"
# request.meta: a request that must stay in this worker (its state lives in this process: the pages
# 2..N of an article that is being assembled here); never put in the shared queue.
LOCAL_KEY = "govarchive_frontier_local"
