"""What one crawl's components share: the Store, the crawl-run record and the crawl's outcome.

The WARC capture middleware, the store pipeline and the progress extension each call
`CrawlRuntime.of(crawler)` and get the same object, so one crawl opens one `Store`, starts one crawl
run and finishes it once, whichever of the components are enabled.

Lifecycle: the run starts lazily on the first `ensure_run()` (spider_opened; the capture middleware
needs its id for the warcinfo record). At spider_closed, after the pipelines have flushed, the runtime
runs the registered closers (the WARC writer), builds the summary, records it with
`Store.finish_run` and closes the Store. The summary stays on `runtime.summary` for the extension's
final display and for the CLI's exit status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.settings import SETTINGS_PRIORITIES

from archive.config import default_db_url

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from archive.store import Store

logger = logging.getLogger(__name__)

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


def is_robots_request(request: Request) -> bool:
    """robots.txt fetched by RobotsTxtMiddleware (it marks its requests `dont_obey_robotstxt`)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith(ROBOTS_PATH)


class CrawlRuntime:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.db_url: str = crawler.settings.get("GOVARCHIVE_DB") or default_db_url()
        self.run_id: int | None = None
        self.started_at: datetime | None = None
        self.summary: dict[str, Any] | None = None
        self.pages_ok = 0  # responses (not robots.txt) that reached the spider with status < 400
        self.pages_seen = 0
        self.warc_repaired: list[dict[str, Any]] = []
        self.warc_files: dict[str, int] = {}  # file name -> bytes, filled by the capture middleware
        self._store: Store | None = None
        self._t0 = time.monotonic()
        self._closers: list[Callable[[], None]] = []
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def of(cls, crawler: Crawler) -> CrawlRuntime:
        runtime = getattr(crawler, "govarchive_runtime", None)
        if runtime is None:
            runtime = cls(crawler)
            crawler.govarchive_runtime = runtime  # type: ignore[attr-defined]
        return runtime

    @property
    def store(self) -> Store:
        if self._store is None:
            from archive.store import Store

            self._store = Store(self.db_url)
        return self._store

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Run `closer` at spider_closed, before the summary is built (e.g. close the WARC writer)."""
        self._closers.append(closer)

    def ensure_run(self, spider: Spider | None = None) -> int:
        """Start the crawl run once; later calls return its id."""
        if self.run_id is None:
            spider = spider or self.crawler.spider
            self.started_at = datetime.now(UTC)
            self._t0 = time.monotonic()
            self.run_id = self.store.start_run(start_urls(spider), site_name(spider), self.run_settings())
            logger.info("crawl run %s started (database %s)", self.run_id, safe_url(self.db_url))
        return self.run_id

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

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if is_robots_request(request):
            return
        self.pages_seen += 1
        if response.status < 400:
            self.pages_ok += 1

    @property
    def failed(self) -> bool:
        """The site could not be crawled at all: not one page answered."""
        return self.pages_ok == 0

    def spider_closed(self, spider: Spider, reason: str) -> None:
        for closer in self._closers:
            try:
                closer()
            except Exception:
                logger.exception("closing %r failed", closer)
        self.summary = build_summary(self, reason)
        if self.run_id is not None:
            try:
                self.store.finish_run(self.run_id, self.summary)
            except Exception:
                logger.exception("recording the end of crawl run %s failed", self.run_id)
        if self._store is not None:
            self._store.close()
            self._store = None


def build_summary(runtime: CrawlRuntime, reason: str) -> dict[str, Any]:
    """The crawl's outcome from the stats the components kept under `govarchive/…`."""
    stats = runtime.crawler.stats.get_stats() if runtime.crawler.stats else {}
    prefix = "govarchive/failures/"
    failures = {key[len(prefix):]: value for key, value in stats.items() if key.startswith(prefix)}
    status = "failed" if runtime.failed else "finished"
    exc_prefix = "downloader/exception_type_count/"
    download_errors = {
        key[len(exc_prefix):].rsplit(".", 1)[-1]: value
        for key, value in stats.items()
        if key.startswith(exc_prefix) and not key.endswith(".IgnoreRequest")  # robots.txt, offsite: by design
    }
    return {
        "run_id": runtime.run_id,
        "status": status,
        "finish_reason": reason,
        "pages": runtime.pages_seen,
        "pages_ok": runtime.pages_ok,
        "reports_new": stats.get("govarchive/reports/new", 0),
        "reports_changed": stats.get("govarchive/reports/changed", 0),
        "reports_unchanged": stats.get("govarchive/reports/unchanged", 0),
        "attachments": stats.get("govarchive/files", 0),
        "withdrawn": stats.get("govarchive/withdrawn", 0),
        "failures": failures,
        "failures_total": sum(failures.values()),
        "warc_files": sorted(runtime.warc_files),
        "warc_bytes": sum(runtime.warc_files.values()),
        "warc_records": stats.get("govarchive/warc/records", 0),
        "warc_revisits": stats.get("govarchive/warc/revisits", 0),
        "warc_errors": stats.get("govarchive/warc/errors", 0),
        "warc_repaired": runtime.warc_repaired,
        "download_errors": download_errors,
        "requests": stats.get("downloader/request_count", 0),
        "bytes": stats.get("downloader/response_bytes", 0),
        "seconds": round(time.monotonic() - runtime._t0, 3),
    }


def safe_url(db_url: str) -> str:
    """A database URL fit for logs and the run record: the password masked."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"


def start_urls(spider: Spider | None) -> list[str]:
    urls = getattr(spider, "start_urls", None) or []
    return [str(u) for u in urls]


def site_name(spider: Spider | None) -> str | None:
    for attr in ("site_name", "site"):
        value = getattr(spider, attr, None)
        if isinstance(value, str) and value:
            return value
    return None
