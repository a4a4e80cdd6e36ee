"""Switches a crawl to the shared frontier when GOVARCHIVE_FRONTIER is set (`-s` or `--frontier`).

A Scrapy add-on (ADDONS in crawler/settings.py), so `scrapy crawl disclosure -s GOVARCHIVE_FRONTIER=…`
works as `govarchive crawl --frontier …` does. It sets, under any -s:
SCHEDULER (the leased scrapy-redis scheduler), the frontier's spider and downloader middlewares, a
store batch of one report (a page is acknowledged only once its report is committed), and the worker
id in the WARC file prefix.
"""

from __future__ import annotations

import re
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES

from crawler.frontier.state import FrontierError, default_worker_id, parse_frontier_url

SCHEDULER = "crawler.frontier.scheduler.FrontierScheduler"
SPIDER_MIDDLEWARE = "crawler.frontier.leases.FrontierSpiderMiddleware"
# 0: closest to the engine, so it sees the callback's output after every other spider middleware.
SPIDER_MIDDLEWARE_ORDER = 0
DOWNLOADER_MIDDLEWARES = {
    # closest to the engine for exceptions too: only a download that failed for good reaches it
    "crawler.frontier.leases.FrontierDownloaderMiddleware": 1,
    "crawler.frontier.politeness.ClusterPolitenessMiddleware": 940,
}
WORKER_ID = re.compile(r"^[A-Za-z0-9_.]{1,64}$")


def check_worker_id(worker: str) -> str:
    if not WORKER_ID.match(worker):
        raise FrontierError(f"worker id {worker!r}: use 1-64 letters, digits, '_' or '.' (it names WARC files)")
    return worker


class FrontierAddon:
    def update_settings(self, settings: Any) -> None:
        url = settings.get("GOVARCHIVE_FRONTIER")
        if not url:
            return
        parse_frontier_url(url)
        worker = check_worker_id(settings.get("GOVARCHIVE_FRONTIER_WORKER") or default_worker_id())
        settings.set("GOVARCHIVE_FRONTIER_WORKER", worker, priority="addon")
        settings.set("SCHEDULER", SCHEDULER, priority="addon")
        settings["SPIDER_MIDDLEWARES"] = {**settings.getdict("SPIDER_MIDDLEWARES"),
                                          SPIDER_MIDDLEWARE: SPIDER_MIDDLEWARE_ORDER}
        settings["DOWNLOADER_MIDDLEWARES"] = {**settings.getdict("DOWNLOADER_MIDDLEWARES"), **DOWNLOADER_MIDDLEWARES}
        if (settings.getpriority("GOVARCHIVE_BATCH_SIZE") or 0) < SETTINGS_PRIORITIES["cmdline"]:
            settings.set("GOVARCHIVE_BATCH_SIZE", 1, priority="project")  # over the project default, under -s
        prefix = settings.get("GOVARCHIVE_WARC_PREFIX")
        settings.set("GOVARCHIVE_WARC_PREFIX", f"{prefix}-{worker}",
                     priority=max(settings.getpriority("GOVARCHIVE_WARC_PREFIX") or 0, SETTINGS_PRIORITIES["project"]))
