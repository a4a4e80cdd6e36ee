"""A crawl a person can watch: a live progress line while crawling and a summary at the end.

The live line (pages, reports, attachments, errors, rate, WARC size) is drawn with rich on stderr when
stderr is a terminal (GOVARCHIVE_PROGRESS = "auto"), or always/never ("on"/"off"). With "on" and a
stderr that is not a terminal (cron, a log file) the same figures are a plain line every
LOG_INTERVAL seconds (or GOVARCHIVE_PROGRESS_INTERVAL when given on the command line). The summary
(new/changed/unchanged reports, failures by kind, WARC files and bytes, time) is printed when the
engine has stopped, from the `crawl_run_finished` signal of the crawl-run extension, which recorded it
on the crawl run; GOVARCHIVE_SUMMARY = False silences it.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.asyncio import create_looping_call

from archive.cli.errors import MessageStream
from crawler.extensions.crawl_run import PAGES_STAT, WARC_FILES_STAT, crawl_run_finished

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

LOG_INTERVAL = 10.0  # seconds between progress log lines when stderr is not a terminal


class ProgressExtension:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        # also under `scrapy crawl`, where no govarchive main wraps stderr: a closed pipe never stops the crawl
        self.stream = MessageStream(sys.stderr)
        self.console = Console(file=self.stream, highlight=False)
        self.live_enabled = live_wanted(settings.get("GOVARCHIVE_PROGRESS"), self.console)
        # "on" without a terminal: a line per interval instead of a redrawn line nobody sees
        self.log_enabled = self.live_enabled and not self.console.is_terminal
        self.live_enabled = self.live_enabled and not self.log_enabled
        self.summary_enabled = settings.getbool("GOVARCHIVE_SUMMARY")
        self.interval = settings.getfloat("GOVARCHIVE_PROGRESS_INTERVAL")
        if self.log_enabled and (settings.getpriority("GOVARCHIVE_PROGRESS_INTERVAL") or 0) < SETTINGS_PRIORITIES["cmdline"]:
            self.interval = LOG_INTERVAL
        self.crawler = crawler
        self.stats = crawler.stats
        self.summary: dict[str, Any] | None = None
        self.live: Live | None = None
        self.task: Any = None
        self._t0 = time.monotonic()
        self._swapped: list[tuple[logging.StreamHandler, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        if not crawler.settings.getbool("GOVARCHIVE_PROGRESS_ENABLED"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        crawler.signals.connect(ext.run_finished, signal=crawl_run_finished)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self._t0 = time.monotonic()
        if self.log_enabled:
            self.task = create_looping_call(self.log_line)
            self.task.start(self.interval, now=False)
            return
        if not self.live_enabled:
            return
        real_stderr = sys.stderr
        self.live = Live(self.render(), console=self.console, auto_refresh=False, transient=True)
        self.live.start()  # replaces sys.stderr with a proxy that prints above the live line
        self._route_logging(real_stderr, sys.stderr)
        self.task = create_looping_call(self.refresh)
        self.task.start(self.interval, now=False)

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.render(), refresh=True)

    def log_line(self) -> None:
        """One progress line for a log: time, then the live line's figures, without colour."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} progress: {self.render().plain}", file=self.stream, flush=True)

    def render(self) -> Text:
        get = self.stats.get_value
        seconds = max(time.monotonic() - self._t0, 1e-6)
        pages = get(PAGES_STAT, 0)
        failures = sum(v for k, v in self.stats.get_stats().items() if k.startswith("govarchive/failures/"))
        warc_bytes = sum((get(WARC_FILES_STAT) or {}).values())
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"pages {pages}  ", style="bold")
        text.append(f"reports {get('govarchive/reports/received', 0)}  ")
        text.append(f"files {get('govarchive/files', 0)}  ")
        text.append(f"errors {failures}  ", style="red" if failures else "")
        text.append(f"{pages / seconds:.1f} pages/s  ")
        text.append(f"WARC {human_bytes(warc_bytes)}  ")
        text.append(format_duration(seconds), style="dim")
        return text

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None
        self._restore_logging()

    def run_finished(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def engine_stopped(self) -> None:
        if self.summary_enabled and self.summary is not None:
            # a log (cron, a pipe) keeps each line whole; a terminal wraps to its width
            self.console.print(render_summary(self.summary, self.summary.get("run_id")),
                               soft_wrap=not self.console.is_terminal)

    def _route_logging(self, real_stderr: Any, proxy: Any) -> None:
        """Scrapy's log handler holds the real stderr; point it at the Live proxy while it runs."""
        if proxy is real_stderr:
            return
        for handler in logging.root.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is real_stderr:
                handler.setStream(proxy)
                self._swapped.append((handler, real_stderr))

    def _restore_logging(self) -> None:
        for handler, stream in self._swapped:
            handler.setStream(stream)
        self._swapped.clear()


def live_wanted(mode: Any, console: Console) -> bool:
    value = str(mode).strip().lower()
    if value in {"1", "true", "on", "yes", "always"}:
        return True
    if value in {"0", "false", "off", "no", "never"}:
        return False
    return console.is_terminal and not console.is_dumb_terminal


def render_summary(summary: dict[str, Any], run_id: int | None) -> Text:
    text = Text()
    failed = summary.get("status") == "failed"
    head = ("crawl failed: the site could not be crawled" if failed
            else "crawl interrupted" if summary.get("status") == "interrupted" else "crawl finished")
    reason = summary.get("finish_reason")
    detail = [f"run {run_id}", format_duration(summary.get("seconds", 0))]
    if reason and reason != "finished":
        detail.append(f"stopped: {reason}")
    text.append(f"{head} ({', '.join(detail)})\n", style="bold red" if failed else "bold")
    text.append(f"  pages      {summary.get('pages', 0)} fetched, {summary.get('pages_ok', 0)} ok\n")
    if summary.get("from_archive"):
        text.append(f"  resumed    {summary['from_archive']} answers read from the archive, not fetched again\n")
    text.append(f"  reports    {summary.get('reports_new', 0)} new, {summary.get('reports_changed', 0)} changed, "
                f"{summary.get('reports_unchanged', 0)} unchanged\n")
    text.append(f"  attachments {summary.get('attachments', 0)}\n")
    failures = summary.get("failures") or {}
    detail = ", ".join(f"{kind} {n}" for kind, n in sorted(failures.items())) or "none"
    text.append(f"  failures   {summary.get('failures_total', 0)} ({detail})\n")
    skipped = []
    if summary.get("offsite_dropped"):
        skipped.append(f"{summary['offsite_dropped']} off-site requests dropped before fetch")
    for stop in summary.get("pagination_stopped") or []:
        skipped.append(f"pagination of {stop['column']} stopped after {stop['pages']} pages ({stop['stopped']})")
    for line in skipped:
        text.append(f"  skipped    {line}\n")
    if summary.get("requests_unaccounted"):
        text.append(f"  lost       {summary['requests_unaccounted']} requests neither fetched nor recorded "
                    "(the crawl stopped early?)\n", style="bold yellow")
    if summary.get("lost_workers"):
        text.append(f"  workers    {summary['lost_workers']} worker process(es) were killed: their counts are "
                    "missing above (their reports are stored); start URLs not judged\n", style="yellow")
    files = summary.get("warc_files") or []
    text.append(f"  WARC       {len(files)} file(s), {human_bytes(summary.get('warc_bytes', 0))}, "
                f"{summary.get('warc_records', 0)} records ({summary.get('warc_revisits', 0)} revisits)")
    if summary.get("warc_errors"):
        text.append(f", {summary['warc_errors']} write errors", style="red")
    for repaired in summary.get("warc_repaired") or []:
        text.append(f"\n  repaired   unfinished WARC from an interrupted crawl: {format_repair(repaired)}",
                    style="yellow")
    for start in summary.get("silent_starts") or []:
        text.append(f"\n  nothing from {start['url']}: {start['problem']}", style="bold yellow")
    return text


def format_repair(info: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in info.items())


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
