"""Honour `Retry-After` (and back off exponentially) before RetryMiddleware retries a response.

Scrapy's RetryMiddleware re-schedules a 503/429 at once. A government portal that says
`Retry-After: 120` means it; so this middleware, placed just above RetryMiddleware (process_response
runs in descending order: 560 before 550), waits before handing a retryable response on:

- `Retry-After: <seconds>` or `Retry-After: <HTTP date>`: that long;
- no header: RETRY_BACKOFF_BASE × 2^(retries so far) seconds;
- never longer than RETRY_BACKOFF_MAX seconds (per request: `request.meta["retry_backoff_max"]`).

Only the retried request waits; other requests to the site go on at the politeness settings' pace.
Stats: `govarchive/retry_after/waits`, `govarchive/retry_after/seconds`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header value asks for (delta-seconds or HTTP-date), None if unusable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED") or not settings.getbool("RETRY_AFTER_ENABLED"):
            raise NotConfigured
        self.stats = crawler.stats
        self.codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
        self.max_retries = settings.getint("RETRY_TIMES")
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.max_wait = settings.getfloat("RETRY_BACKOFF_MAX")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def wait_for(self, request: Request, response: Response) -> float:
        retries = request.meta.get("retry_times", 0)
        if response.status not in self.codes or request.meta.get("dont_retry") \
                or retries >= request.meta.get("max_retry_times", self.max_retries):
            return 0.0  # RetryMiddleware will not retry it: no reason to wait
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        wait = asked if asked is not None else self.base * (2 ** retries)
        return max(0.0, min(wait, float(request.meta.get("retry_backoff_max", self.max_wait))))

    async def process_response(self, request: Request, response: Response) -> Response:
        wait = self.wait_for(request, response)
        if wait > 0:
            logger.debug("HTTP %s for %s: waiting %.1f s before the retry", response.status, request.url, wait)
            if self.stats is not None:
                self.stats.inc_value("govarchive/retry_after/waits")
                self.stats.inc_value("govarchive/retry_after/seconds", wait)
            await asyncio.sleep(wait)
        return response
