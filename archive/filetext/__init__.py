"""What an attachment says: the text of a PDF, Word, Excel, OFD or WPS file, or why there is none.

`read_file_text(body, content_type, url)` sniffs the format from the bytes (then the URL's extension and
the Content-Type), hands it to the reader of that format and returns a `FileText`: a status a person can
read (`text`, `no text layer`, `damaged` …) and the text, one line per paragraph or spreadsheet row. It
never raises: a file that cannot be read is a status with a detail. The crawl calls it in its extraction
workers (through `archive.page.read_page`), `reprocess` on the archived bytes, so the same file gives the
same text. Every reader is bounded in what it reads (`limits`); the worker's timeout bounds its time.
"""

from __future__ import annotations

from archive.filetext.formats import read_file_text, sniff
from archive.filetext.result import (
    DAMAGED,
    EMPTY,
    ENCRYPTED,
    FAILED,
    NO_TEXT_LAYER,
    NOT_A_DOCUMENT,
    NOT_EXTRACTABLE,
    TEXT,
    TOO_LARGE,
    FileText,
)

__all__ = ["DAMAGED", "EMPTY", "ENCRYPTED", "FAILED", "NOT_A_DOCUMENT", "NOT_EXTRACTABLE", "NO_TEXT_LAYER",
           "TEXT", "TOO_LARGE", "FileText", "read_file_text", "sniff"]
