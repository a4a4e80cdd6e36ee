"""`crawl --resume`: requests the resumed runs already archived are answered from their WARC records.

Built only when GOVARCHIVE_RESUME_RUN names a run (`archive.resume` says how the archive of that run
and of the runs it resumed is found). Placed just below the WARC capture middleware (950): its
process_request runs after every other one and returns the archived response, so the request never
reaches the downloader, and the capture middleware, whose process_request did not run, does not
archive it twice. Its process_response (after the capture's) gives the response the WARC-Date and
record of the original, so the report read from it is the one the interrupted crawl would have
stored. The decoded payload is served without its Content-Encoding; a 3xx is followed by the
redirect middleware as it was the first time. Everything else (robots.txt, POST endpoint calls, what
was in flight) goes to the network.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.http.response.html import HtmlResponse
from scrapy.responsetypes import responsetypes

from archive.challenge import CHALLENGE_STATUSES
from archive.resume import Archived, archived_index, run_chain, run_files
from archive.store import Store
from crawler.extensions.crawl_run import ARCHIVED_FLAG
from crawler.middlewares.warc_capture import STARTED_KEY, WARC_REF_KEY

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

logger = logging.getLogger(__name__)

ARCHIVED_STAT = "govarchive/resume/from_archive"
ARCHIVED_BYTES_STAT = "govarchive/resume/from_archive_bytes"
_ARCHIVED_KEY = "govarchive_archived"


def is_archived(response: Response) -> bool:
    return ARCHIVED_FLAG in response.flags


def archived_response(entry: Archived, request: Request) -> Response:
    """A Scrapy response carrying the archived payload, as the downloader would have returned it."""
    headers = Headers()
    for name, value in entry.headers:
        headers.appendlist(name.encode("latin-1"), value.encode("latin-1"))
    cls = responsetypes.from_args(headers=headers, url=entry.url, body=entry.payload[:1024])
    if cls is Response and entry.payload.lstrip()[:1] == b"<":
        cls = HtmlResponse
    return cls(url=entry.url, status=entry.status, headers=headers, body=entry.payload, request=request,
               flags=[ARCHIVED_FLAG])


class FromArchiveMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.run_id = settings.getint("GOVARCHIVE_RESUME_RUN")
        if self.run_id <= 0:
            raise NotConfigured  # not resuming a run
        self.stats = crawler.stats
        self.db_url: str = settings["GOVARCHIVE_DB"]
        self.directory = Path(settings["GOVARCHIVE_WARC_DIR"])
        # transient answers and challenges are asked again, as a retry would have
        self.refetch = frozenset(settings.getlist("RETRY_HTTP_CODES", [])) | CHALLENGE_STATUSES
        self._index: dict[str, Archived] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FromArchiveMiddleware:
        return cls(crawler)

    def index(self) -> dict[str, Archived]:
        """Built at the first request, after the capture middleware repaired the files of a killed crawl."""
        if self._index is None:
            store = Store(self.db_url)
            try:
                runs = run_chain(store, self.run_id)
            finally:
                store.close()
            files = run_files(self.directory, runs)
            self._index = archived_index(files, frozenset(int(s) for s in self.refetch))
            logger.warning("resuming crawl run %s: %d responses archived in %d WARC file(s) are read from there",
                           self.run_id, len(self._index), len(files))
            self.stats.set_value("govarchive/resume/archived", len(self._index))
        return self._index

    def process_request(self, request: Request) -> Response | None:
        if request.method != "GET":
            return None
        entry = self.index().get(request.url)
        if entry is None:
            return None
        request.meta[_ARCHIVED_KEY] = entry
        request.meta.pop(STARTED_KEY, None)  # copied by a redirect: the capture must not write this answer
        self.stats.inc_value(ARCHIVED_STAT)
        self.stats.inc_value(ARCHIVED_BYTES_STAT, len(entry.payload))
        return archived_response(entry, request)

    def process_response(self, request: Request, response: Response) -> Response:
        entry: Archived | None = request.meta.pop(_ARCHIVED_KEY, None)
        if entry is not None and is_archived(response):
            request.meta[STARTED_KEY] = datetime.fromisoformat(entry.date.replace("Z", "+00:00"))
            request.meta[WARC_REF_KEY] = entry.ref
        return response
