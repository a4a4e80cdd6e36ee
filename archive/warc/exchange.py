"""One HTTP fetch as the capture layer saw it, and what writing it produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from archive.report import WarcRef

Headers = list[tuple[bytes, bytes]]


@dataclass(kw_only=True)
class Exchange:
    """A request and its response, as raw as the HTTP client allows.

    `response_headers` are bytes in wire order with repeated names kept; `body` is the entity body as
    received: transfer-decoded (de-chunked) but still content-encoded (gzip stays gzip).
    `started_at` is when the fetch began (UTC); it becomes the WARC-Date of both records.
    """

    url: str
    method: str = "GET"
    request_headers: Headers = field(default_factory=list)
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    status: int
    reason: bytes | None = None
    response_headers: Headers = field(default_factory=list)
    body: bytes = b""
    started_at: datetime
    ip_address: str | None = None


@dataclass
class WrittenExchange:
    """Where an exchange went: `ref` points at the response (or revisit) record."""

    ref: WarcRef
    payload_digest: str  # "sha1:BASE32" of the body as received
    revisit: bool
