"""Build WARC/1.1 records from an `Exchange`, byte for byte.

The HTTP header blocks are assembled from the raw header bytes, not through warcio's
`StatusAndHeaders` (which percent-encodes non-ASCII values): a GBK file name in Content-Disposition
must reach the WARC unchanged. Reading, checking and indexing use warcio.

Rules (DESIGN.md, "WARC rules"):
- request and response share WARC-Date (the fetch start, UTC) and WARC-Target-URI (query kept);
  the request carries WARC-Concurrent-To the response;
- the body is stored as received; `Transfer-Encoding` is renamed to
  `X-Archive-Orig-Transfer-Encoding` because the body beside it is already de-chunked;
- header names and values are bytes; repeated headers are kept in order.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from archive.headers import header_value
from archive.warc.digests import Original
from archive.warc.exchange import Exchange

WARC_VERSION = b"WARC/1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
HTTP_REQUEST_TYPE = "application/http;msgtype=request"
HTTP_RESPONSE_TYPE = "application/http;msgtype=response"
RENAMED_PREFIX = b"X-Archive-Orig-"
# Hop-by-hop framing the HTTP client has already undone: the stored body no longer matches it.
RENAMED_HEADERS = frozenset({b"transfer-encoding"})
CONDITIONAL_HEADERS = frozenset({b"if-modified-since", b"if-none-match"})
GZIP_LEVEL = 6  # zlib's default: ~3x faster than 9 for a few percent larger files


@dataclass
class Record:
    """A WARC record ready to serialise: named WARC headers, then the block."""

    headers: list[tuple[str, str]]
    block: bytes

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    @property
    def record_id(self) -> str:
        return self.header("WARC-Record-ID") or ""

    def to_bytes(self) -> bytes:
        lines = [WARC_VERSION]
        lines += [f"{name}: {value}".encode() for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.block)}".encode())
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.block + b"\r\n\r\n"

    def to_gzip_member(self) -> bytes:
        """One gzip member per record (mtime 0, so equal input gives equal bytes)."""
        return gzip.compress(self.to_bytes(), compresslevel=GZIP_LEVEL, mtime=0)


def warc_date(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds (WARC/1.1 allows sub-second precision)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha1_digest(data: bytes) -> str:
    return digest_label(hashlib.sha1(data))


def digest_label(sha1: Any) -> str:
    """A finished SHA-1 as WARC writes it: `sha1:` and the base32 digest."""
    return "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")


def target_uri(url: str) -> str:
    """The URL as fetched, with its query and without a fragment (never sent to the server)."""
    return url.split("#", 1)[0]


def request_target(url: str) -> bytes:
    """Path and query for the request line; non-ASCII is percent-encoded as a client would send it."""
    parts = urlsplit(target_uri(url))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe="".join(chr(c) for c in range(0x21, 0x7F))).encode("ascii")


def _clean(value: bytes) -> bytes:
    """A header line must not break the block: CR or LF inside a value become spaces."""
    return value.replace(b"\r", b" ").replace(b"\n", b" ")


def _header_lines(headers: list[tuple[bytes, bytes]], renamed: frozenset[bytes] = frozenset()) -> bytes:
    out = bytearray()
    for name, value in headers:
        name = _clean(name).strip()
        if name.lower() in renamed:
            name = RENAMED_PREFIX + name
        out += name + b": " + _clean(value) + b"\r\n"
    return bytes(out)


def status_line(ex: Exchange) -> bytes:
    reason = ex.reason
    if not reason:
        try:
            reason = http.HTTPStatus(ex.status).phrase.encode("ascii")
        except ValueError:
            reason = b"Unknown"
    return f"{ex.protocol} {ex.status} ".encode("ascii") + _clean(reason) + b"\r\n"


def request_block(ex: Exchange) -> bytes:
    """The request as sent: request line with path and query, headers (Host added if missing), body."""
    headers = list(ex.request_headers)
    if not any(name.lower() == b"host" for name, _ in headers):
        host = urlsplit(ex.url).netloc.encode("idna") if ex.url else b""
        headers.insert(0, (b"Host", host))
    line = (
        ex.method.upper().encode("ascii") + b" " + request_target(ex.url) + b" " + ex.protocol.encode("ascii")
    )
    return line + b"\r\n" + _header_lines(headers) + b"\r\n" + ex.request_body


def response_head(ex: Exchange) -> bytes:
    """Status line and headers of the response, ending with the blank line."""
    return status_line(ex) + _header_lines(ex.response_headers, RENAMED_HEADERS) + b"\r\n"


def is_not_modified(ex: Exchange) -> bool:
    """A 304 answering a conditional request: recorded as a server-not-modified revisit."""
    return ex.status == 304 and any(name.lower() in CONDITIONAL_HEADERS for name, _ in ex.request_headers)


def _common(record_type: str, record_id: str, ex: Exchange) -> list[tuple[str, str]]:
    headers = [
        ("WARC-Type", record_type),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(ex.started_at)),
        ("WARC-Target-URI", target_uri(ex.url)),
    ]
    if ex.ip_address:
        headers.append(("WARC-IP-Address", ex.ip_address))
    return headers


def build_request(ex: Exchange, record_id: str, concurrent_to: str) -> Record:
    block = request_block(ex)
    headers = _common("request", record_id, ex)
    headers += [
        ("WARC-Concurrent-To", concurrent_to),
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Type", HTTP_REQUEST_TYPE),
    ]
    return Record(headers, block)


def build_response(ex: Exchange, record_id: str) -> Record:
    block = response_head(ex) + ex.body
    headers = _common("response", record_id, ex)
    headers += [
        ("WARC-Payload-Digest", sha1_digest(ex.body)),
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Type", HTTP_RESPONSE_TYPE),
    ]
    return Record(headers, block)


def build_revisit(
    ex: Exchange,
    record_id: str,
    *,
    profile: str,
    original: Original | None,
) -> Record:
    """A revisit: the response head only; the payload lives in the original record.

    identical-payload-digest revisits carry the payload digest; server-not-modified ones (a 304)
    have no payload and refer to the last capture of the URL when the writer knows it.
    """
    block = response_head(ex)
    headers = _common("revisit", record_id, ex)
    headers.append(("WARC-Profile", profile))
    if original is not None:
        headers += [
            ("WARC-Refers-To-Target-URI", original.uri),
            ("WARC-Refers-To-Date", original.date),
            ("WARC-Refers-To", original.record_id),
        ]
    if profile == PROFILE_IDENTICAL:
        headers.append(("WARC-Payload-Digest", sha1_digest(ex.body)))
    headers += [
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Type", HTTP_RESPONSE_TYPE),
    ]
    return Record(headers, block)


def build_warcinfo(filename: str, fields: dict[str, str], date: str, record_id: str) -> Record:
    """The record opening every file: who wrote it and under which crawl settings."""
    block = b"".join(f"{name}: {_one_line(value)}\r\n".encode() for name, value in fields.items())
    headers = [
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", date),
        ("WARC-Filename", filename),
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Type", "application/warc-fields"),
    ]
    return Record(headers, block)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
