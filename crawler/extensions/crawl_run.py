"""The crawl-run record: one row per crawl, started when the spider opens, finished with its summary.

The one component that starts and finishes the run. Others learn its id from the stats
(`RUN_ID_STAT`, set at spider_opened before their own spider_opened handlers run, because extensions
are built before the engine's middlewares and pipelines) and report through stats under
`govarchive/…`. The summary is built at spider_closed after every other component has closed (the
WARC writer renamed its files, the pipeline flushed), recorded with `Store.finish_run`, and announced
with the `crawl_run_finished` signal (the progress extension prints it); `govarchive crawl` reads it
back from the run row for its exit status.

Outcome: "finished"; "failed" when not one page answered; "interrupted" when the crawl was stopped
(Ctrl-C, SIGTERM: Scrapy's close reason "shutdown").
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.settings import SETTINGS_PRIORITIES

from archive.store import Store
from crawler.start_outcomes import STARTS_STAT

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

RUN_ID_STAT = "govarchive/run_id"
PAGES_STAT = "govarchive/pages"
PAGES_OK_STAT = "govarchive/pages_ok"
# Set by the spider when it closes: the pager chains it stopped ({column, stopped, pages}).
PAGINATION_STAT = "govarchive/pagination"
# Set by the WARC capture middleware: {file name: bytes}, and the repairs of an earlier crawl's files.
WARC_FILES_STAT = "govarchive/warc/files"
WARC_REPAIRED_STAT = "govarchive/warc/repaired"
# Sent with the summary once it is recorded: handlers take (summary: dict).
crawl_run_finished = object()

ROBOTS_PATH = "/robots.txt"
# Settings that describe how polite the crawl was; recorded on the run and in the warcinfo record.
POLITENESS_SETTINGS = (
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "CONCURRENT_REQUESTS_PER_IP",
    "DOWNLOAD_DELAY",
    "RANDOMIZE_DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_START_DELAY",
    "AUTOTHROTTLE_MAX_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "RETRY_ENABLED",
    "RETRY_TIMES",
    "DOWNLOAD_TIMEOUT",
)
INTERRUPTED_REASONS = frozenset({"shutdown"})
# Requests Scrapy's spider middlewares refuse without a callback or errback: counted in the summary.
SCRAPY_SKIPS = {"depth_limit": "depth/request_ignored_count", "url_length": "urllength/request_ignored_count"}


def is_robots_request(request: Request) -> bool:
    """robots.txt fetched by RobotsTxtMiddleware (it marks its requests `dont_obey_robotstxt`)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith(ROBOTS_PATH)


class CrawlRunExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url: str = crawler.settings["GOVARCHIVE_DB"]
        self.store: Store | None = None
        self.run_id: int | None = None
        self._t0 = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self._t0 = time.monotonic()
        self.store = Store(self.db_url)
        self.run_id = self.store.start_run(start_urls(spider), site_name(spider), self.run_settings())
        self.stats.set_value(RUN_ID_STAT, self.run_id)
        logger.info("crawl run %s started (database %s)", self.run_id, safe_url(self.db_url))
        # Connected now, so it runs after the spider_closed handlers the other components connected
        # when they were built: the summary sees their final numbers.
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if is_robots_request(request):
            return
        self.stats.inc_value(PAGES_STAT)
        if response.status < 400:
            self.stats.inc_value(PAGES_OK_STAT)

    def run_settings(self) -> dict[str, Any]:
        """The politeness settings in effect plus every setting overridden on the command line."""
        settings = self.crawler.settings
        recorded = {name: settings.get(name) for name in POLITENESS_SETTINGS}
        cmdline = SETTINGS_PRIORITIES["cmdline"]
        for name, value in settings.copy_to_dict().items():
            if settings.getpriority(name) == cmdline:
                recorded[name] = value
        if "GOVARCHIVE_DB" in recorded:
            recorded["GOVARCHIVE_DB"] = safe_url(str(recorded["GOVARCHIVE_DB"]))
        return {k: (v if isinstance(v, str | int | float | bool | type(None)) else str(v)) for k, v in recorded.items()}

    def spider_closed(self, spider: Spider, reason: str) -> None:
        summary = build_summary(self.stats.get_stats(), reason, time.monotonic() - self._t0)
        if self.store is not None:
            try:
                self.store.finish_run(summary["run_id"], summary)
            except Exception:
                logger.exception("recording the end of crawl run %s failed", self.run_id)
            self.store.close()
            self.store = None
        self.crawler.signals.send_catch_log(crawl_run_finished, summary=summary)


def build_summary(stats: dict[str, Any], reason: str, seconds: float) -> dict[str, Any]:
    """The crawl's outcome from the stats the components kept under `govarchive/…`."""
    prefix = "govarchive/failures/"
    failures = {key[len(prefix):]: value for key, value in stats.items() if key.startswith(prefix)}
    if reason in INTERRUPTED_REASONS:
        status = "interrupted"
    elif not stats.get(PAGES_OK_STAT):
        status = "failed"
    else:
        status = "finished"
    exc_prefix = "downloader/exception_type_count/"
    download_errors = {
        key[len(exc_prefix):].rsplit(".", 1)[-1]: value
        for key, value in stats.items()
        if key.startswith(exc_prefix) and not key.endswith(".IgnoreRequest")  # robots.txt, offsite: by design
    }
    warc_files = stats.get(WARC_FILES_STAT) or {}
    skipped_prefix = "govarchive/spider/skipped/"
    skipped = {key[len(skipped_prefix):]: value for key, value in stats.items() if key.startswith(skipped_prefix)}
    for name, key in SCRAPY_SKIPS.items():
        if stats.get(key):
            skipped[name] = stats[key]
    unaccounted = unaccounted_requests(stats)
    starts = stats.get(STARTS_STAT) or []
    return {
        "run_id": stats.get(RUN_ID_STAT),
        "status": status,
        "finish_reason": reason,
        "pages": stats.get(PAGES_STAT, 0),
        "pages_ok": stats.get(PAGES_OK_STAT, 0),
        "reports_new": stats.get("govarchive/reports/new", 0),
        "reports_changed": stats.get("govarchive/reports/changed", 0),
        "reports_unchanged": stats.get("govarchive/reports/unchanged", 0),
        "attachments": stats.get("govarchive/files", 0),
        "withdrawn": stats.get("govarchive/withdrawn", 0),
        "failures": failures,
        "failures_total": sum(failures.values()),
        "warc_files": sorted(warc_files),
        "warc_bytes": sum(warc_files.values()),
        "warc_records": stats.get("govarchive/warc/records", 0),
        "warc_revisits": stats.get("govarchive/warc/revisits", 0),
        "warc_errors": stats.get("govarchive/warc/errors", 0),
        "warc_repaired": stats.get(WARC_REPAIRED_STAT) or [],
        "download_errors": download_errors,
        "offsite_dropped": stats.get("govarchive/scope/offsite", 0),
        "skipped": skipped,
        "requests_unaccounted": unaccounted,
        "antibot_not_requested": stats.get("govarchive/antibot/not_requested", 0),
        "pagination_stopped": stats.get(PAGINATION_STAT) or [],
        "browser_pages": stats.get("govarchive/browser/pages", 0),
        "browser_exchanges": stats.get("govarchive/browser/exchanges", 0),
        "browser_contexts_recycled": stats.get("govarchive/browser/contexts_recycled", 0),
        "requests": stats.get("downloader/request_count", 0),
        "bytes": stats.get("downloader/response_bytes", 0),
        "seconds": round(seconds, 3),
        "starts": starts,
        "silent_starts": [{"url": s["url"], "problem": s["problem"]} for s in starts if s.get("problem")],
    }


def unaccounted_requests(stats: dict[str, Any]) -> int:
    """Requests the spider made that neither reached a callback or errback (fetched, or a failure row),
    nor were refused as a duplicate or by a depth or URL-length limit (counted under `skipped`): 0 unless
    a request was lost, or the crawl was stopped with requests still waiting."""
    issued = stats.get("govarchive/spider/requests/issued", 0)
    settled = (stats.get("govarchive/spider/requests/answered", 0) + stats.get("govarchive/spider/requests/duplicates", 0)
               + sum(stats.get(key, 0) for key in SCRAPY_SKIPS.values()))
    return max(0, issued - settled)


def safe_url(db_url: str) -> str:
    """A database URL fit for logs and the run record: the password masked."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"


def start_urls(spider: Spider | None) -> list[str]:
    return [str(u) for u in getattr(spider, "start_urls", None) or []]


def site_name(spider: Spider | None) -> str | None:
    value = getattr(spider, "site_name", None)
    return value if isinstance(value, str) and value else None
