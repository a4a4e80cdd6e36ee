"""The crawl-run record: one row per crawl, started when the spider opens, finished with its summary.

The one component that starts and finishes the run. Others learn its id from the stats
(`RUN_ID_STAT`, set at spider_opened before their own spider_opened handlers run, because extensions
are built before the engine's middlewares and pipelines) and report through stats under
`govarchive/…`. The summary is built at spider_closed after every other component has closed (the
WARC writer renamed its files, the pipeline flushed), recorded with `Store.finish_run`, and announced
with the `crawl_run_finished` signal (the progress extension prints it); `govarchive crawl` reads it
back from the run row for its exit status.

Outcome: "finished"; "failed" when not one page answered; "interrupted" when the crawl was stopped
(Ctrl-C, SIGTERM: Scrapy's close reason "shutdown"; a budget: "budget"; a second Ctrl-C: `force_stop`,
sent by `govarchive crawl` before it stops the reactor, recorded at once because spider_closed never
comes). While the crawl runs, the row's heartbeat is refreshed every GOVARCHIVE_HEARTBEAT_INTERVAL
seconds; at the start, earlier runs whose process died are marked "crashed" (archive/store/runs.py).

With a distributed frontier (GOVARCHIVE_FRONTIER) the run is one for all workers: the first worker
creates it and the others read its id from the frontier; each stopping worker hands its summary to the
frontier, and the last one of a finished crawl records the merged summary (`merge_summaries`). The
summary of this worker's crawl, merged or its own, is left in the stats (`SUMMARY_STAT`).
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
SUMMARY_STAT = "govarchive/summary"
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
# Response.flags of an answer `crawl --resume` read from the archive (crawler/middlewares/from_archive.py).
ARCHIVED_FLAG = "archived"
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
BUDGET_REASON = "budget"
FORCED_REASON = "shutdown (forced)"
INTERRUPTED_REASONS = frozenset({"shutdown", BUDGET_REASON, FORCED_REASON})
# Sent (by crawler.cli's process) on a second Ctrl-C, before the reactor stops without spider_closed:
# components flush what they hold; handlers take no arguments.
force_stop = object()
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
        self.resumes = crawler.settings.getint("GOVARCHIVE_RESUME_RUN") or None
        self.heartbeat_interval = crawler.settings.getfloat("GOVARCHIVE_HEARTBEAT_INTERVAL")
        self.stale_seconds = crawler.settings.getfloat("GOVARCHIVE_RUN_STALE_SECONDS")
        self._heartbeat: Any = None
        self.frontier: Any = None  # crawler.frontier.state.Frontier with GOVARCHIVE_FRONTIER
        self._t0 = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        from twisted.internet import task

        self._t0 = time.monotonic()
        self.store = Store(self.db_url)
        for crashed in self.store.mark_crashed_runs(self.stale_seconds):
            logger.warning("crawl run %s ended without a record of its end: marked crashed", crashed)
        store = self.store

        def create() -> int:
            return store.start_run(start_urls(spider), site_name(spider), self.run_settings(), resumes=self.resumes)

        if self.crawler.settings.get("GOVARCHIVE_FRONTIER"):
            from crawler.frontier.scheduler import build_frontier

            self.frontier = build_frontier(self.crawler.settings, spider)
            self.run_id = self.frontier.run_id(create)
        else:
            self.run_id = create()
        self.stats.set_value(RUN_ID_STAT, self.run_id)
        logger.info("crawl run %s started (database %s)", self.run_id, safe_url(self.db_url))
        if self.heartbeat_interval > 0:
            self._heartbeat = task.LoopingCall(self.beat)
            self._heartbeat.start(self.heartbeat_interval, now=False)
        # Connected now, so they run after the handlers the other components connected when they were
        # built (pipeline flushed, WARC files closed): the summary sees their final numbers.
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        self.crawler.signals.connect(self.force_stop, signal=force_stop)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if is_robots_request(request) or ARCHIVED_FLAG in response.flags:  # pages fetched, not read again
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

    def beat(self) -> None:
        if self.store is not None and self.run_id is not None:
            try:
                self.store.heartbeat(self.run_id)
            except Exception:
                logger.warning("could not refresh the heartbeat of crawl run %s", self.run_id, exc_info=True)

    def force_stop(self) -> None:
        """A second Ctrl-C: record the run as interrupted now (spider_closed will not come)."""
        self.spider_closed(None, FORCED_REASON)

    def spider_closed(self, spider: Spider | None, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if self.store is None:
            return  # recorded already (a forced stop)
        summary = build_summary(self.stats.get_stats(), reason, time.monotonic() - self._t0)
        if self.frontier is not None:
            summary["worker"] = self.crawler.settings["GOVARCHIVE_FRONTIER_WORKER"]
            try:
                ending = self.frontier.leave(summary, finished=reason not in INTERRUPTED_REASONS)
            except Exception:  # Redis gone at the end: this worker's summary still says what it did
                logger.exception("could not hand this worker's summary to the frontier")
                ending = None
            if ending is None:  # other workers go on (or the crawl was interrupted): the run stays open
                summary = worker_summary(summary)
                self.stats.set_value(SUMMARY_STAT, summary)
                if self.store is not None:
                    self.store.close()
                    self.store = None
                self.crawler.signals.send_catch_log(crawl_run_finished, summary=summary)
                return
            summary = merge_summaries(ending.summaries, lost_workers=ending.lost)
        self.stats.set_value(SUMMARY_STAT, summary)
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
        "budget": stats.get("govarchive/budget"),
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
        # over the network: Scrapy's downloader stats also count what `--resume` read from the archive
        "requests": stats.get("downloader/request_count", 0) - stats.get("govarchive/resume/from_archive", 0),
        "bytes": max(0, stats.get("downloader/response_bytes", 0) - stats.get("govarchive/resume/from_archive_bytes", 0)),
        "from_archive": stats.get("govarchive/resume/from_archive", 0),
        "not_modified": stats.get("govarchive/incremental/not_modified", 0),  # 304s to conditional requests
        "not_due": stats.get("govarchive/incremental/not_due", 0),  # known documents not asked for
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


_SUMMED = ("pages", "pages_ok", "reports_new", "reports_changed", "reports_unchanged", "attachments", "withdrawn",
           "failures_total", "warc_bytes", "warc_records", "warc_revisits", "warc_errors", "browser_pages",
           "browser_exchanges", "browser_contexts_recycled", "requests", "bytes")
_START_COUNTS = ("records", "offsite", "reports")


def merge_summaries(summaries: list[dict[str, Any]], lost_workers: int = 0) -> dict[str, Any]:
    """The summary of a distributed crawl from its workers' (each worker's run of it, killed ones' lost):
    counts added up, WARC files and repairs listed, start URLs' outcomes combined (one worker read the
    start page, others the records it led to), the status of the whole. With `lost_workers` (processes
    killed, whose counts are gone) the start URLs are not judged: a report or a start page read by a
    killed worker is stored but uncounted, and "nothing from URL" would be a false failure."""
    last = summaries[-1]
    merged: dict[str, Any] = {**last, **{key: sum(s.get(key, 0) for s in summaries) for key in _SUMMED}}
    for key in ("failures", "download_errors"):
        total: dict[str, int] = {}
        for s in summaries:
            for name, n in (s.get(key) or {}).items():
                total[name] = total.get(name, 0) + n
        merged[key] = total
    merged["warc_files"] = sorted(f for s in summaries for f in s.get("warc_files", []))
    merged["warc_repaired"] = [r for s in summaries for r in s.get("warc_repaired", [])]
    merged["seconds"] = max(s.get("seconds", 0) for s in summaries)
    merged["workers"] = sorted({s["worker"] for s in summaries if s.get("worker")})
    merged["status"] = "finished" if merged["pages_ok"] else "failed"
    from crawler.start_outcomes import StartOutcome

    outcomes: dict[str, StartOutcome] = {}
    for s in summaries:
        for start in s.get("starts", []):
            outcome = outcomes.setdefault(start["url"], StartOutcome(start["url"]))
            for key in _START_COUNTS:
                setattr(outcome, key, getattr(outcome, key) + start.get(key, 0))
            if start.get("kind") and outcome.kind is None:  # the worker that read the start page
                outcome.kind, outcome.notes, outcome.failure = start["kind"], start.get("notes", []), start.get("failure")
    merged["starts"] = [o.as_dict() for o in outcomes.values()]
    merged["silent_starts"] = [] if lost_workers else [
        {"url": o["url"], "problem": o["problem"]} for o in merged["starts"] if o["problem"]]
    if lost_workers:
        merged["lost_workers"] = lost_workers
    return merged


def worker_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """One worker's summary while others go on: its start URLs' outcomes are partial (another worker may
    have read a start page or the records it led to), so none is a problem yet; the last worker judges."""
    out = {**summary, "silent_starts": []}
    if out["status"] == "failed" and not out.get("pages"):
        out["status"] = "finished"  # nothing was left for this worker: the others fetched it all
    return out


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
