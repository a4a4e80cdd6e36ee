"""What the spider hands to the pipelines: plain dataclass items, one per kind of outcome."""

from __future__ import annotations

from dataclasses import dataclass

from archive.filetext import FileText
from archive.report import Report, WarcRef


@dataclass
class ReportItem:
    """A detail page turned into a report (fetched_at, status and warc already filled)."""

    report: Report


@dataclass
class FileItem:
    """A fetched attachment: its facts are joined to every report that links it by URL."""

    url: str
    report_url: str | None
    content_type: str | None
    size: int
    sha256: str
    ref: WarcRef | None
    fetched_at: str | None = None
    text: FileText | None = None  # what it says (None: GOVARCHIVE_ATTACHMENT_TEXT off)


@dataclass
class FailureItem:
    """A permanent failure: the URL could not be fetched or turned into a report."""

    url: str
    kind: str  # e.g. "http_404", "dns", "timeout", "extraction", "antibot"
    detail: str


@dataclass
class WithdrawnItem:
    """A page that was a report and now answers 404/410 or a withdrawal notice."""

    url: str
    seen_at: str
    reason: str
