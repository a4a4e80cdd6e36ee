"""Rebuild reports from WARC files alone: the same bytes through the same extraction as a crawl.

Works on any standard WARC (ours or another tool's): HTML detail pages become reports, other
successful payloads become file facts (so attachments link up), 404/410 answers mark known reports
withdrawn. List pages, robots.txt and error pages never become reports. An article split over pages
becomes one report with every page's body, as in a crawl (multipage.PageAssembler).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from parsel import Selector

from archive.extract import ExtractionError, PageAssembler, extract
from archive.extract.decode import decode_body
from archive.recognize import DETAIL, recognize
from archive.report import Report
from archive.store import Store
from archive.warc.reader import ArchivedResponse, iter_responses

BATCH_SIZE = 200
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class ReprocessSummary:
    responses: int = 0
    outcomes: Counter = field(default_factory=Counter)  # new / changed / unchanged
    files: int = 0
    withdrawn: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "responses": self.responses,
            "reports": dict(self.outcomes),
            "files": self.files,
            "withdrawn": self.withdrawn,
            "skipped": dict(self.skipped),
            "errors": self.errors,
        }


def _header(response: ArchivedResponse, name: str) -> str | None:
    lname = name.lower()
    for key, value in response.headers:
        if key.lower() == lname:
            return value
    return None


def _is_html(response: ArchivedResponse) -> bool:
    content_type = (_header(response, "Content-Type") or "").lower()
    if any(t in content_type for t in HTML_TYPES):
        return True
    head = response.payload[:512].lstrip().lower()
    return not content_type and (head.startswith(b"<!doctype html") or b"<html" in head)


def reprocess_warcs(
    paths: Iterable[Path], store: Store, on_error: Callable[[str], None] | None = None
) -> ReprocessSummary:
    """Extract and store every report found in the WARC files under `paths`."""
    summary = ReprocessSummary()
    paths = list(paths)

    def record_error(path: Path, exc: Exception) -> None:
        message = f"{path}: {exc}"
        summary.errors.append(message)
        if on_error:
            on_error(message)

    run_id = store.start_run([str(p) for p in paths], None, {"mode": "reprocess"})
    batch: list[Report] = []
    articles = PageAssembler()

    def flush() -> None:
        if batch:
            summary.outcomes.update(store.save_reports(batch, run_id))
            batch.clear()

    for response in iter_responses(paths, on_error=record_error):
        summary.responses += 1
        if response.status in (404, 410):
            if store.mark_withdrawn(response.url, response.date, f"HTTP {response.status}"):
                summary.withdrawn += 1
            continue
        if response.status != 200:
            summary.skipped[f"status {response.status}"] += 1
            continue
        if not _is_html(response):
            if response.url.endswith("/robots.txt"):
                summary.skipped["robots.txt"] += 1
                continue
            store.save_file(
                response.url,
                content_type=_header(response, "Content-Type"),
                size=len(response.payload),
                sha256=hashlib.sha256(response.payload).hexdigest(),
                ref=response.ref,
                run_id=run_id,
            )
            summary.files += 1
            continue
        extracted = _extract_report(response, summary, continuation=articles.expects(response.url))
        if extracted is not None:
            batch.extend(articles.add(*extracted))
            if len(batch) >= BATCH_SIZE:
                flush()
    batch.extend(articles.finish())
    flush()
    store.finish_run(run_id, summary.as_dict())
    return summary


def _extract_report(response: ArchivedResponse, summary: ReprocessSummary, *,
                    continuation: bool) -> tuple[Report, str] | None:
    """The page's report and decoded text (decoded once, for recognition, extraction and the article's
    other pages); a continuation page (page 2..N of an article) is extracted without recognition, as the
    crawl did: its page nav can make it look like a list."""
    content_type = _header(response, "Content-Type")
    text, codec = decode_body(response.payload, content_type)
    kind = DETAIL if continuation else recognize(response.url, text, Selector(text=text)).kind
    if kind != DETAIL:
        summary.skipped[f"{kind} page"] += 1
        return None
    try:
        report = extract(response.payload, response.url, content_type=content_type, encoding=codec)
    except ExtractionError as exc:
        summary.skipped["extraction failed"] += 1
        summary.errors.append(f"{response.url}: {exc}")
        return None
    report.fetched_at = response.date
    report.status = response.status
    report.warc = response.ref
    return report, text
