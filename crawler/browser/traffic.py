"""Every exchange a browser page makes, written to the crawl's WARC as it finishes, as Browsertrix does.

The page itself, its scripts and styles, its XHR/JSON calls: each finished request becomes an
`archive.warc.Exchange` handed to `send` (the capture middleware's `browser_exchange` signal, so one
WarcWriter serves the whole crawl), and the page replays from the WARC like any other. The browser hands
over bodies already content-decoded, so `Content-Encoding` is dropped and `Content-Length` set to the
bytes archived: the record stays true to its payload. The rendered DOM is not an exchange and is never
written as one.

The same watch counts requests in flight, so the pager can tell when a page (or a click) has settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Request as BrowserRequest

from archive.clock import iso_utc
from archive.page import Fetched
from archive.report import WarcRef
from archive.warc import Exchange
from crawler.middlewares.warc_capture import host_value, reason_phrase

logger = logging.getLogger(__name__)

# Rewritten because the browser hands over decoded, de-chunked bodies.
_DROPPED = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_ARCHIVED_SCHEMES = ("http", "https")


class PageTraffic:
    """The network of one page: archived exchange by exchange, and watched for quiet."""

    def __init__(self, send: Callable[[Exchange], WarcRef | None]) -> None:
        self.send = send
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.exchanges = 0
        # the main frame's first document as the server sent it (not the rendered DOM), with its record:
        # a challenge the browser was answered with shows here, whatever its script did next
        self.document: Fetched | None = None
        self.document_started: datetime | None = None
        self._writes: set[asyncio.Task] = set()

    def handlers(self) -> dict[str, Callable[[BrowserRequest], None]]:
        """Page event handlers (scrapy-playwright's `playwright_page_event_handlers`)."""
        return {"request": self._started, "requestfinished": self._done, "requestfailed": self._done}

    def _started(self, request: BrowserRequest) -> None:
        self.in_flight += 1
        self.last_activity = time.monotonic()

    def _done(self, request: BrowserRequest) -> None:
        """Finished, or failed after its response arrived (Chromium cancels the body of a 404 stylesheet):
        either way its exchange is archived when there was a response."""
        self.in_flight = max(0, self.in_flight - 1)
        self.last_activity = time.monotonic()
        if urlsplit(request.url).scheme in _ARCHIVED_SCHEMES:
            task = asyncio.ensure_future(self._write(request))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _write(self, request: BrowserRequest) -> None:
        try:
            response = await request.response()
            if response is None:
                return
            status = response.status
            body = b""
            if not 300 <= status < 400:
                try:
                    body = await response.body()
                except PlaywrightError:  # no body (HEAD, 204) or the page went away
                    body = b""
            request_headers = await request.headers_array()
            response_headers = await response.headers_array()
            address = await response.server_addr()
        except PlaywrightError as exc:
            logger.warning("could not archive the browser's exchange for %s: %s", request.url, exc)
            return
        started = _started_at(request.timing)
        exchange = Exchange(
            url=request.url,
            method=request.method,
            request_headers=_request_headers(request.url, request_headers),
            request_body=request.post_data_buffer or b"",
            status=status,
            reason=response.status_text.encode("latin-1", "replace") if response.status_text else reason_phrase(status),
            response_headers=_response_headers(response_headers, len(body)),
            body=body,
            started_at=started,
            ip_address=address["ipAddress"] if address else None,
        )
        ref = self.send(exchange)
        self.exchanges += 1
        if self.document is None and _is_document(request) and not 300 <= status < 400:
            headers = [(h["name"], h["value"]) for h in response_headers]
            self.document = Fetched(request.url, status, headers, body, iso_utc(started), ref)
            self.document_started = started

    def touch(self) -> None:
        """Count now as activity: what the page does next (a click, say) has its quiet period from here."""
        self.last_activity = time.monotonic()

    async def idle(self, quiet: float, timeout: float) -> None:
        """Until nothing has been in flight for `quiet` seconds (or `timeout` seconds have passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight == 0 and time.monotonic() - self.last_activity >= quiet:
                return
            await asyncio.sleep(min(quiet / 4, 0.05) or 0.01)

    async def drain(self) -> None:
        """Every exchange finished so far is written (before the page closes and takes its bodies along)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)


def _is_document(request: BrowserRequest) -> bool:
    try:
        return request.is_navigation_request() and request.frame.parent_frame is None
    except PlaywrightError:  # a service worker's request has no frame
        return False


def _started_at(timing: dict[str, Any]) -> datetime:
    start = timing.get("startTime") if timing else None
    if isinstance(start, int | float) and start > 0:
        return datetime.fromtimestamp(start / 1000, UTC)
    return datetime.now(UTC)


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _request_headers(url: str, headers: list[dict[str, str]]) -> list[tuple[bytes, bytes]]:
    pairs = [(_header_bytes(h["name"]), _header_bytes(h["value"])) for h in headers if not h["name"].startswith(":")]
    if not any(name.lower() == b"host" for name, _ in pairs):
        parts = urlsplit(url)
        pairs.insert(0, (b"Host", host_value(parts.scheme, parts.hostname or "", parts.port)))
    return pairs


def _response_headers(headers: list[dict[str, str]], length: int) -> list[tuple[bytes, bytes]]:
    pairs = [(_header_bytes(h["name"]), _header_bytes(h["value"])) for h in headers
             if h["name"].lower() not in _DROPPED and not h["name"].startswith(":")]
    pairs.append((b"Content-Length", str(length).encode("ascii")))
    return pairs

