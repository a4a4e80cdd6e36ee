"""Failure kinds: the one place that says what kind of failure an exception from a download is.

A middleware that refuses a request or a response for a reason the crawl must record (a body over the
size limit, a truncated gzip member, a redirect loop, a host that answers only challenges, a redirect
off the site) raises `Rejected` with its kind; the spider's errback records every failure through
`failure_kind`, so a URL that was scheduled is either fetched or has a failure row saying why not.
Plain `IgnoreRequest` (robots.txt, a duplicate) is by design and only counted.

Kinds: `dns`, `timeout`, `connection`, `truncated`, `too-large`, `binary`, `redirect`, `offsite`,
`antibot`, `http_NNN` (after retries), `extraction`, `download` (anything else).
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    StopDownload,
)
from twisted.internet import error as net_error
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed

from archive.page import ANTIBOT, BINARY, EXTRACTION, TOO_LARGE  # the kinds a page's reading names

__all__ = ["ANTIBOT", "BINARY", "DOWNLOAD", "EXTRACTION", "OFFSITE", "REDIRECT", "TOO_LARGE", "TRUNCATED",
           "Rejected", "SizeLimitReached", "failure_kind"]

TRUNCATED = "truncated"
REDIRECT = "redirect"
OFFSITE = "offsite"
DOWNLOAD = "download"

# Scrapy 2.19's own download exceptions first, then the Twisted ones older handlers (and tests) raise.
NETWORK_ERRORS: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    ("dns", (CannotResolveHostError, net_error.DNSLookupError)),
    ("timeout", (DownloadTimeoutError, net_error.TimeoutError, net_error.TCPTimedOutError)),
    (TRUNCATED, (ResponseDataLossError,)),
    ("connection", (DownloadConnectionRefusedError, DownloadFailedError, ResponseFailed,
                    net_error.ConnectionRefusedError, net_error.ConnectError, net_error.ConnectionLost,
                    net_error.ConnectionDone)),
)
# Scrapy cancels a download whose body passes DOWNLOAD_MAXSIZE (or the request's download_maxsize) with
# DownloadCancelledError and this in its message (scrapy.utils._download_handlers.get_maxsize_msg).
_MAXSIZE_MESSAGE = "larger than download max size"


class Rejected(IgnoreRequest):
    """A request not sent, or a response not read, for a reason recorded as a failure of `kind`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __reduce__(self):
        return (type(self), (self.kind, self.message))


class SizeLimitReached(StopDownload):
    """A download stopped as its body reached the size limit (Scrapy's own check is `>`, and its
    cancellation carries no message)."""

    def __init__(self, message: str) -> None:
        super().__init__(fail=True)
        self.message = message

    def __str__(self) -> str:
        return self.message


def failure_kind(failure: Failure) -> tuple[str, str] | None:
    """(kind, message) for a download failure, or None for an `IgnoreRequest` that is by design."""
    exc = failure.value
    if isinstance(exc, Rejected):
        return exc.kind, exc.message
    if isinstance(exc, SizeLimitReached):
        return TOO_LARGE, str(exc)
    if isinstance(exc, DownloadCancelledError) and _MAXSIZE_MESSAGE in str(exc):
        return TOO_LARGE, str(exc)
    if isinstance(exc, IgnoreRequest):
        return None
    kind = next((k for k, types in NETWORK_ERRORS if isinstance(exc, types)), DOWNLOAD)
    return kind, f"{type(exc).__name__}: {failure.getErrorMessage()}"
