"""Incremental crawls: known documents are asked for only when they may have changed.

For a document page or attachment the store already has (`archive.store.known`), the request carries
`If-None-Match` / `If-Modified-Since` from the validators of its last capture, read from that WARC
record. A `304 Not Modified` is archived by the capture middleware as a `server-not-modified` revisit
referring to that capture; this middleware then hands on the archived page instead, so the spider
reads it as always and the store finds it unchanged (last_seen moves, no version is made).

How often a known document is asked for at all follows its age (GOVARCHIVE_RECHECK_YOUNG_DAYS,
GOVARCHIVE_RECHECK_OLD_EVERY_DAYS): a young one on every crawl, an old one only when its last check
is that old, or at once when its list entry shows another date than the stored one. A document not
due is not requested (`govarchive/incremental/not_due`); a vanished one is found withdrawn at its
next check. List pages, endpoints and start pages are always fetched: they are how new documents
are found.

Placed at 800: its process_request runs after the others set their headers and before the capture
middleware (950) records the request; its process_response runs after the capture wrote the 304 and
Scrapy's DownloaderStats (850) counted it, so the run's bytes are those that crossed the network.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from archive.headers import header_value
from archive.page import ATTACHMENT, RECORD, PageContext
from archive.resume import as_archived
from archive.store import Store
from archive.store.known import Known, known_documents
from archive.warc.digests import Original
from archive.warc.reader import ArchivedResponse, read_capture_at
from crawler.browser.choice import META_KEY as BROWSER_KEY
from crawler.middlewares.from_archive import archived_response
from crawler.middlewares.page_reader import CONTEXT
from crawler.middlewares.warc_capture import NOT_MODIFIED_OF_KEY

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

NOT_MODIFIED_FLAG = "not-modified"
_CAPTURE_KEY = "govarchive_conditional_capture"
STAT = "govarchive/incremental/"


class NotDue(IgnoreRequest):
    """A known document not due for a recheck on this crawl: not requested, its report stays as stored."""


def date_digits(value: str | None) -> str | None:
    """2024-02-29, 2024/2/29 and 2024年2月29日 alike as "20240229"; None when no full date is there."""
    if not value:
        return None
    match = re.search(r"(\d{4})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2})", value)
    return f"{match[1]}{int(match[2]):02d}{int(match[3]):02d}" if match else None


def recheck_due(known: Known, list_date: str | None, now: datetime, young_days: int, old_every_days: int) -> bool:
    """Whether a known document is asked for on this crawl."""
    if young_days <= 0 or known.publish_date is None:
        return True
    listed = date_digits(list_date)
    if listed is not None and listed != date_digits(known.publish_date):
        return True  # the list shows another date: revised or republished
    try:
        published = datetime.fromisoformat(known.publish_date).replace(tzinfo=UTC)
        last_seen = datetime.fromisoformat(known.last_seen or "")
    except ValueError:
        return True
    if now - published < timedelta(days=young_days):
        return True
    return now - last_seen >= timedelta(days=old_every_days)


class ConditionalRequestMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("GOVARCHIVE_CONDITIONAL_REQUESTS"):
            raise NotConfigured
        self.stats = crawler.stats
        self.db_url: str = settings["GOVARCHIVE_DB"]
        self.directory = Path(settings["GOVARCHIVE_WARC_DIR"])
        self.young_days = settings.getint("GOVARCHIVE_RECHECK_YOUNG_DAYS")
        self.old_every_days = settings.getint("GOVARCHIVE_RECHECK_OLD_EVERY_DAYS")
        self._known: dict[str, Known] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        return cls(crawler)

    def known(self) -> dict[str, Known]:
        if self._known is None:
            store = Store(self.db_url)
            try:
                with store.read_engine.connect() as conn:
                    self._known = known_documents(conn)
            finally:
                store.close()
        return self._known

    def process_request(self, request: Request) -> None:
        context: PageContext | None = request.meta.get(CONTEXT)  # what the spider says the page is
        if request.method != "GET" or context is None or context.role not in (RECORD, ATTACHMENT) \
                or request.meta.get(BROWSER_KEY):  # a browser rendering needs the whole page, never a 304
            return None
        known = self.known().get(request.url)
        if known is None or known.ref is None:
            return None
        listed = context.link.date if context.link is not None else None
        if not recheck_due(known, listed, datetime.now(UTC), self.young_days, self.old_every_days):
            self.stats.inc_value(STAT + "not_due")
            raise NotDue(f"not due for a recheck: {request.url}")
        capture = self._capture(known)
        if capture is None:
            return None
        etag, modified = header_value(capture.headers, "ETag"), header_value(capture.headers, "Last-Modified")
        if not etag and not modified:
            return None
        if etag:
            request.headers[b"If-None-Match"] = etag.encode("latin-1")
        if modified:
            request.headers[b"If-Modified-Since"] = modified.encode("latin-1")
        request.meta[_CAPTURE_KEY] = capture
        request.meta[NOT_MODIFIED_OF_KEY] = Original(capture.url, capture.date, capture.ref.record_id)
        self.stats.inc_value(STAT + "conditional")
        return None

    def _capture(self, known: Known) -> ArchivedResponse | None:
        assert known.ref is not None
        path = self.directory / known.ref.filename
        if not path.is_file():
            return None
        try:
            capture = read_capture_at(path, known.ref.offset)
        except Exception as exc:  # a moved or damaged file costs the shortcut, never the document
            logger.info("no validators for %s from %s: %s", known.url, path, exc)
            return None
        return capture if capture.record_type == "response" and capture.status == 200 else None

    def process_response(self, request: Request, response: Response) -> Response:
        capture: ArchivedResponse | None = request.meta.pop(_CAPTURE_KEY, None)
        if capture is None or response.status != 304:
            return response
        self.stats.inc_value(STAT + "not_modified")
        served = archived_response(as_archived(capture), request)
        return served.replace(flags=[NOT_MODIFIED_FLAG])
