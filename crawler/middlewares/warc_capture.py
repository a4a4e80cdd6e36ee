"""WARC capture: every HTTP exchange written as request + response records, bytes as received.

Placed at a higher order than RedirectMiddleware (600), HttpCompressionMiddleware (590) and
RetryMiddleware (550), so `process_response` sees the raw response first: still gzip, every 3xx and
every 503 before it is retried. `process_request` runs after the other middlewares have set their
headers (cookies, Accept-Encoding, User-Agent), so the request record shows what was sent.
robots.txt fetches pass through downloader middlewares too and are captured the same way.

The record building lives in `archive.warc`; this module only translates Scrapy objects into an
`Exchange` and keeps one `WarcWriter` per crawl. Pages rendered in the browser (crawler/browser) are
the exception: the browser's own exchanges (the page, its scripts, its XHR calls) arrive through the
`browser_exchange` signal and are written by the same writer, while the response Scrapy sees (the
rendered DOM) is not an exchange and is not written. A failure to write a record is logged and counted
(`govarchive/warc/errors`), never raised: losing one record must not lose the crawl.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.report import WarcRef
from archive.store import Store
from archive.warc import Exchange, WarcWriter
from crawler.extensions.crawl_run import (
    POLITENESS_SETTINGS,
    RUN_ID_STAT,
    WARC_FILES_STAT,
    WARC_REPAIRED_STAT,
    force_stop,
    is_robots_request,
    start_urls,
)

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Request, Response

logger = logging.getLogger(__name__)

# request.meta: when this download began (UTC; the WARC-Date, and so the report's fetched_at), and
# the WarcRef of the response record (the report's `warc`).
STARTED_KEY = "govarchive_warc_started_at"
WARC_REF_KEY = "warc_ref"
# request.meta: the archived capture (an archive.warc Original) whose validators a conditional request
# sent (crawler/middlewares/conditional.py); a 304 answer is written as a revisit referring to it.
NOT_MODIFIED_OF_KEY = "govarchive_not_modified_of"
DEFAULT_PORTS = {"http": 80, "https": 443}
# Connection-level headers the HTTP client consumed: the body beside them is already de-chunked.
HOP_BY_HOP = {b"transfer-encoding"}
# Sent for each exchange a browser page made; handlers take (exchange: Exchange) and return the WarcRef
# of its response record (None when it could not be written).
browser_exchange = object()
# Response.flags of a page scrapy-playwright rendered.
RENDERED_FLAG = "playwright"


class WarcCaptureMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("GOVARCHIVE_WARC_ENABLED"):
            raise NotConfigured("GOVARCHIVE_WARC_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = Store(settings["GOVARCHIVE_DB"])
        self.run_id: int | None = None
        self.files: dict[str, int] = {}  # this crawl's WARC files -> bytes (the run's summary reads them)
        self.directory = Path(settings["GOVARCHIVE_WARC_DIR"])
        self.prefix: str = settings["GOVARCHIVE_WARC_PREFIX"]  # with a frontier, the worker id included
        self.worker: str | None = settings["GOVARCHIVE_FRONTIER_WORKER"] if settings.get("GOVARCHIVE_FRONTIER") else None
        self.max_size = settings.getint("GOVARCHIVE_WARC_MAX_SIZE")
        self.record_captures = settings.getbool("GOVARCHIVE_RECORD_CAPTURES")
        self.batch_size = max(1, settings.getint("GOVARCHIVE_BATCH_SIZE"))
        self._captures: list[dict[str, Any]] = []  # written to the Store in batches, not per response
        self.writer: WarcWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        crawler.signals.connect(middleware.close, signal=force_stop)  # a second Ctrl-C: files closed whole
        crawler.signals.connect(middleware.write_browser_exchange, signal=browser_exchange)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        from archive.warc.repair import repair_directory

        self.directory.mkdir(parents=True, exist_ok=True)
        self.stats.set_value(WARC_FILES_STAT, self.files)  # the same dict, kept current for the progress line
        try:
            # beside other frontier workers, only this worker's own files: theirs may be open right now
            repaired = repair_directory(self.directory, self.prefix if self.worker else None)
        except Exception as exc:  # e.g. a closed file of the same name exists: leave both for a person
            logger.error("could not repair the unfinished WARC files in %s: %s", self.directory, exc)
            self.stats.set_value(WARC_REPAIRED_STAT, [{"error": str(exc)}])
            repaired = []
        if repaired:
            self.stats.set_value(WARC_REPAIRED_STAT, [_describe(result) for result in repaired])
        for result in repaired:
            logger.warning("repaired unfinished WARC file from an interrupted crawl: %s", result.describe())
        self.run_id = run_id = self.stats.get_value(RUN_ID_STAT)  # set by CrawlRunExtension before this
        self.writer = WarcWriter(
            self.directory,
            prefix=self.prefix,
            max_size=self.max_size,
            warcinfo=self._warcinfo(spider, run_id),
            digest_index=self.store.digest_index(),
        )

    def _warcinfo(self, spider: Spider, run_id: int | None) -> dict[str, str]:
        settings = self.crawler.settings
        politeness = "; ".join(f"{name}={settings.get(name)}" for name in POLITENESS_SETTINGS)
        robots = "obey robots.txt" if settings.getbool("ROBOTSTXT_OBEY") else "robots.txt ignored"
        info = {
            "software": f"Scrapy {scrapy.__version__}",
            "format": "WARC File Format 1.1",
            "isPartOf": f"crawl-run-{run_id}",
            "crawl-run-id": str(run_id),
            "start-urls": " ".join(start_urls(spider)),
            "politeness": politeness,
            "robots": robots,
            "http-header-user-agent": str(settings.get("USER_AGENT") or ""),
        }
        if self.worker:
            info["govarchive-worker"] = self.worker
        return info

    def process_request(self, request: Request) -> None:
        request.meta[STARTED_KEY] = datetime.now(UTC)

    def process_response(self, request: Request, response: Response) -> Response:
        queued_at = request.meta.get(STARTED_KEY)
        if queued_at is None or RENDERED_FLAG in response.flags:
            return response  # not fetched over the network (a cache), or the browser archived its own exchanges
        started_at = fetch_start(queued_at, request.meta.get("download_latency"))
        request.meta[STARTED_KEY] = started_at  # the WARC-Date; the spider uses it as fetched_at
        request.meta[WARC_REF_KEY] = self._write(build_exchange(request, response, started_at),
                                                 robots=is_robots_request(request),
                                                 not_modified_of=request.meta.get(NOT_MODIFIED_OF_KEY))
        return response

    def write_browser_exchange(self, exchange: Exchange) -> WarcRef | None:
        return self._write(exchange, robots=False)

    def _write(self, exchange: Exchange, robots: bool, not_modified_of: Any = None) -> WarcRef | None:
        if self.writer is None:  # spider_opened failed to set up the writer (logged there)
            self.stats.inc_value("govarchive/warc/errors")
            return None
        try:
            written = self.writer.write_exchange(exchange, not_modified_of=not_modified_of)
        except Exception:
            self.stats.inc_value("govarchive/warc/errors")
            logger.exception("could not write the WARC records for %s", exchange.url)
            return None
        self.stats.inc_value("govarchive/warc/records")
        if written.revisit:
            self.stats.inc_value("govarchive/warc/revisits")
        self.files[written.ref.filename] = written.ref.offset + written.ref.length
        if self.record_captures:
            self._record_capture(exchange, written.ref, capture_kind(robots, exchange.status, written.revisit))
        return written.ref

    def _record_capture(self, exchange: Exchange, ref: WarcRef, kind: str) -> None:
        self._captures.append({"url": exchange.url, "status": exchange.status, "ref": ref,
                               "run_id": self.run_id, "kind": kind})
        if len(self._captures) >= self.batch_size:
            self._flush_captures()

    def _flush_captures(self) -> None:
        batch, self._captures = self._captures, []
        if not batch:
            return
        try:
            self.store.record_captures(batch)
        except Exception:
            self.stats.inc_value("govarchive/capture_errors", len(batch))
            logger.exception("could not record %d captures", len(batch))

    def close(self) -> None:
        if self.writer is None and not self._captures:
            return  # closed already (a forced stop, then spider_closed)
        self._flush_captures()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self._measure_files()
        self.stats.set_value(WARC_FILES_STAT, dict(self.files))
        self.store.close()

    def _measure_files(self) -> None:
        """Final sizes of this crawl's files, after the writer renamed them from `.open`."""
        for name in list(self.files):
            for candidate in (self.directory / name, self.directory / name.removesuffix(".open")):
                if candidate.exists():
                    self.files.pop(name)
                    self.files[candidate.name] = candidate.stat().st_size
                    break


def fetch_start(queued_at: datetime, latency: float | None) -> datetime:
    """When the request went out: the downloader may hold it in its slot queue (DOWNLOAD_DELAY,
    concurrency) after `process_request`, so step back from now by Scrapy's download latency (time to
    the response headers), never earlier than the moment the request entered the downloader."""
    if not latency:
        return queued_at
    return max(queued_at, datetime.now(UTC) - timedelta(seconds=latency))


def capture_kind(robots: bool, status: int, revisit: bool) -> str:
    if robots:
        return "robots"
    if 300 <= status < 400:
        return "redirect"
    if status >= 400:
        return "error"
    return "revisit" if revisit else "response"


def build_exchange(request: Request, response: Response, started_at: datetime) -> Exchange:
    """The exchange as it went over the wire, as far as Scrapy's HTTP client lets us see it."""
    parts = urlsplit(request.url)
    request_headers = header_pairs(request.headers)
    if not any(name.lower() == b"host" for name, _ in request_headers):
        request_headers.insert(0, (b"Host", host_value(parts.scheme, parts.hostname or "", parts.port)))
    if request.body and not any(name.lower() == b"content-length" for name, _ in request_headers):
        request_headers.append((b"Content-Length", str(len(request.body)).encode()))  # added by the client
    response_headers = [
        (name, value) for name, value in header_pairs(response.headers) if name.lower() not in HOP_BY_HOP
    ]
    return Exchange(
        url=response.url,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        reason=reason_phrase(response.status),
        response_headers=response_headers,
        body=response.body,
        started_at=started_at,
        ip_address=str(response.ip_address) if response.ip_address else None,
    )


def header_pairs(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Scrapy's Headers as (name, value) byte pairs; a repeated header gives one pair per value."""
    pairs: list[tuple[bytes, bytes]] = []
    for name, values in headers.items():
        for value in values:
            pairs.append((bytes(name), bytes(value)))
    return pairs


def host_value(scheme: str, host: str, port: int | None) -> bytes:
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return host.encode("idna") if not host.isascii() else host.encode("ascii")


def reason_phrase(status: int) -> bytes:
    """Scrapy drops the server's reason phrase; use the standard one (or a neutral one if unknown)."""
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b"Unknown"


def _describe(result: Any) -> dict[str, Any]:
    """A RepairResult as plain JSON for the crawl run."""
    return {
        "file": Path(result.path).name,
        "action": result.action,
        "records": result.records,
        "bytes_dropped": result.bytes_dropped,
    }
