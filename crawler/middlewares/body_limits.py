"""Decompression with a strict size limit and a completeness check, in place of Scrapy's own.

Scrapy's HttpCompressionMiddleware lets a body that inflates to exactly DOWNLOAD_MAXSIZE through (its
check is `>`), and its gunzip returns whatever it could inflate of a truncated member, swallowing the
error, so a page cut off mid-transfer became a report of `"<"`. This subclass (at the same order, 590)
decodes the same encodings but:

- rejects a body whose size, inflated or as sent, reaches the limit (`>=`): the request's
  `download_maxsize` (the spider sets GOVARCHIVE_PAGE_MAXSIZE on pages) or DOWNLOAD_MAXSIZE;
  inflation stops there, so a gzip bomb never costs more than the limit;
- rejects a gzip body whose last member does not end (truncated) or does not inflate (corrupt);
- stops a download as soon as the bytes received reach the limit (`SizeLimitReached`, through the
  `bytes_received` signal), so a 300 MB page is never buffered whole.

Both raise `Rejected` (`too-large`, `truncated`): the spider records the failure, nothing reads the
body. The WARC capture (950) has already written the exchange as received.
"""

from __future__ import annotations

import logging
import zlib
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils._compression import _DecompressionMaxSizeExceeded

from crawler.failures import TOO_LARGE, TRUNCATED, Rejected, SizeLimitReached

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

# Bytes inflated per step: the most one step can overshoot the limit by.
CHUNK_SIZE = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class TruncatedBody(ValueError):
    """A compressed body that ends before its compressed stream does, or does not inflate at all."""


def gunzip(data: bytes, limit: int = 0) -> bytes:
    """Every gzip member of `data` inflated; raises `_DecompressionMaxSizeExceeded` as soon as the output
    reaches `limit` bytes (0: no limit) and `TruncatedBody` when a member is cut off or corrupt."""
    if not data.startswith(_GZIP_MAGIC):  # labelled gzip but sent plain (it happens): as it is
        return data
    chunks: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        while pending:
            try:
                chunk = inflater.decompress(pending, CHUNK_SIZE)
            except zlib.error as exc:
                raise TruncatedBody(f"corrupt gzip data after {size} inflated bytes: {exc}") from None
            size += len(chunk)
            if limit and size >= limit:
                raise _DecompressionMaxSizeExceeded(size, limit)
            chunks.append(chunk)
            if inflater.eof:
                break
            pending = inflater.unconsumed_tail
        if not inflater.eof:
            raise TruncatedBody(f"gzip data ends mid-stream after {len(data)} bytes ({size} inflated)")
        rest = inflater.unused_data
        if not rest.startswith(_GZIP_MAGIC):  # the end, or padding after the last member
            return b"".join(chunks)


class BodyLimitsMiddleware(HttpCompressionMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyLimitsMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.received = WeakKeyDictionary()  # request -> body bytes received so far
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def bytes_received(self, data: bytes, request: Request, spider: Spider) -> None:
        """Stop a download as its body reaches the limit, as it arrives: a huge page costs the limit only."""
        limit = int(request.meta.get("download_maxsize", self._max_size) or 0)
        received = self.received[request] = self.received.get(request, 0) + len(data)
        if limit and received >= limit:
            if self.stats is not None:
                self.stats.inc_value(f"govarchive/body/{TOO_LARGE}")
            raise SizeLimitReached(f"{request.url}: stopped at {received} bytes, the size limit is {limit} bytes")

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        limit = int(request.meta.get("download_maxsize", self._max_size) or 0)
        if limit and len(response.body) >= limit:
            raise self._rejected(TOO_LARGE, f"{response.url}: body of {len(response.body)} bytes reaches the "
                                            f"size limit ({limit} bytes)")
        try:
            decoded = super().process_response(request, response)
        except TruncatedBody as exc:
            raise self._rejected(TRUNCATED, f"{response.url}: {exc}") from None
        except IgnoreRequest as exc:
            if isinstance(exc.__cause__, _DecompressionMaxSizeExceeded):
                raise self._rejected(TOO_LARGE, f"{response.url}: inflates to {exc.__cause__.decompressed_size}+ "
                                                f"bytes, the size limit is {limit} bytes") from None
            raise
        return decoded

    def _rejected(self, kind: str, message: str) -> Rejected:
        if self.stats is not None:
            self.stats.inc_value(f"govarchive/body/{kind}")
        logger.warning("not read (%s): %s", kind, message)
        return Rejected(kind, message)

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding in {b"gzip", b"x-gzip"}:
            return gunzip(body, max_size)
        # Scrapy's own for the others, made strict: its check is `size > max_size`
        return HttpCompressionMiddleware._decode(body, encoding, max_size - 1 if max_size > 1 else max_size)
