"""Tell HTML pages from bodies that only arrive as responses: empty bodies and binaries.

(Anti-bot challenges are `archive.challenge`'s, withdrawal notices `archive.withdrawal`'s.)"""

from __future__ import annotations

import re

from archive.extract.errors import ExtractionError

# Magic numbers of the binaries a detail URL serves when it is really a download.
_MAGIC = (
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP/Office document"),
    (b"\xd0\xcf\x11\xe0", "legacy Office document"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7z archive"),
    (b"\x1f\x8b", "gzip data (still content-encoded)"),
)
# Bytes inspected to decide "binary": control bytes (NUL included) are rare in real HTML, but a stray one
# happens (a CMS template's NUL), so a share decides, never a single byte.
SNIFF_BYTES = 2048
MAX_CONTROL_SHARE = 0.02
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
# The largest page read. Reading is linear in the page's size, but a page this size already costs seconds
# and ~250 MiB at the peak (README, "Hostile pages"); the largest real disclosure page among the fixtures is
# 50 KB, and real ones rarely pass 1 MB: anything bigger is a recorded failure, never a multi-GiB parse.
MAX_PAGE_BYTES = 4 * 1024 * 1024  # the crawl's GOVARCHIVE_PAGE_MAXSIZE defaults to it

# Content types that are never a page. Anything else (including the application/octet-stream some
# servers send for HTML) is judged by its bytes.
_DOCUMENT_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip", "application/msword",
                   "application/vnd.", "application/x-rar", "application/x-7z", "application/ofd", "application/json",
                   "application/javascript", "text/css", "text/javascript")
_HTML_HINT = re.compile(r"<\s*(?:!doctype|html|head|body|div|p|table|meta|title)\b", re.IGNORECASE)


def binary_reason(body: bytes) -> str | None:
    """Why the bytes are not a page (a known file format, or too many control bytes), from the first
    SNIFF_BYTES alone: cheap enough to run before anything decodes or parses the body."""
    head = body[:SNIFF_BYTES].lstrip()
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"not an HTML page: the body is a {what}"
    sample = body[:SNIFF_BYTES]
    if sum(sample.count(c) for c in _CONTROL) > MAX_CONTROL_SHARE * len(sample):
        return "not an HTML page: the body is binary data"
    return None


def check_bytes(body: bytes, max_bytes: int = MAX_PAGE_BYTES) -> None:
    """The cheap checks, before anything decodes or parses: raise ExtractionError when `body` is
    `max_bytes` or larger, empty, or clearly not text (a known binary's magic number, control bytes)."""
    if max_bytes and len(body) >= max_bytes:
        raise ExtractionError(f"page too large to read: {len(body):,} bytes (the limit is {max_bytes:,})",
                              kind="too-large")
    if not body.strip().removeprefix(b"\xef\xbb\xbf").strip():
        raise ExtractionError("empty response body: nothing to extract", kind="empty")
    if reason := binary_reason(body):
        raise ExtractionError(reason, kind="binary")


def check_binary(body: bytes, content_type: str | None) -> None:
    """Raise ExtractionError when `body` is empty, too large, or clearly not an HTML document."""
    check_bytes(body)
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime.startswith(_DOCUMENT_TYPES):
            raise ExtractionError(f"not an HTML page: Content-Type is {mime}", kind="binary")


def check_markup(text: str) -> None:
    """Raise ExtractionError when decoded text has no HTML in it at all."""
    if not _HTML_HINT.search(text[:SNIFF_BYTES * 4]):
        raise ExtractionError("not an HTML page: no HTML markup found", kind="binary")
