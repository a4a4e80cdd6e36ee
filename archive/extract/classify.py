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
# Bytes inspected to decide "binary": NULs and control bytes are rare in real HTML but not absent (a
# stray NUL from a CMS template, a form feed), so it takes a share of them, not one, to call it binary.
SNIFF_BYTES = 2048
MAX_CONTROL_SHARE = 0.02
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))

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


def check_binary(body: bytes, content_type: str | None) -> None:
    """Raise ExtractionError when `body` is empty or clearly not an HTML document."""
    if not body or not body.strip().removeprefix(b"\xef\xbb\xbf").strip():
        raise ExtractionError("empty response body: nothing to extract", kind="empty")
    if reason := binary_reason(body):
        raise ExtractionError(reason, kind="binary")
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime.startswith(_DOCUMENT_TYPES):
            raise ExtractionError(f"not an HTML page: Content-Type is {mime}", kind="binary")


def check_markup(text: str) -> None:
    """Raise ExtractionError when decoded text has no HTML in it at all."""
    if not _HTML_HINT.search(text[:SNIFF_BYTES * 4]):
        raise ExtractionError("not an HTML page: no HTML markup found", kind="binary")
