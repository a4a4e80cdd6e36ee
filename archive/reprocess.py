"""Rebuild reports from WARC files alone: the same bytes, in the same context, through the same reader
as a crawl (`archive.page.read_page`).

Works on any standard WARC (ours or another tool's). The crawl knew each page's context from the
list that linked it; a reprocess rebuilds it from the archive: every list page read gives its record
links (with the list's column) and its other pages, so a detail page recognisable only as a list's
record is still a report. A page read before any list named it, that turned out to be neither list
nor detail, is read again at the end if a later list named it. Revisits resolve to their originals
(`archive.warc.reader`). Withdrawals (404/410, notice pages) are applied after the reports before them
are saved, as in a crawl, with the date the archive saw them. An article split over pages becomes one
report with every page's body (`PageAssembler`). Pages that are neither lists nor details, challenges,
error pages and robots.txt never become reports.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from archive.clock import iso_utc
from archive.extract import PageAssembler
from archive.page import (
    CHALLENGE,
    DETAIL,
    FAILED,
    FILE,
    LIST,
    PAGE,
    RECORD,
    SUBPAGE,
    WITHDRAWN,
    Fetched,
    PageContext,
    PageReading,
    read_page,
)
from archive.report import Report
from archive.store import Store
from archive.warc.reader import ArchivedResponse, iter_responses, iter_warc_files, read_response_at

BATCH_SIZE = 200
ROBOTS_PATH = "/robots.txt"


@dataclass
class ReprocessSummary:
    responses: int = 0
    outcomes: Counter = field(default_factory=Counter)  # new / changed / unchanged
    files: int = 0
    withdrawn: int = 0
    lists: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    errors: list[str] = field(default_factory=list)
    damaged: int = 0  # places in the WARC files that could not be read (each one of the errors)
    status: str = "finished"  # "failed" when the reprocess stopped before the end (an error, Ctrl-C)
    finish_reason: str = "finished"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "finish_reason": self.finish_reason,
            "responses": self.responses,
            "reports": dict(self.outcomes),
            "files": self.files,
            "lists": self.lists,
            "withdrawn": self.withdrawn,
            "skipped": dict(self.skipped),
            "damaged": self.damaged,
            "errors": self.errors,
        }


class _Rebuild:
    """One reprocess: the context learnt so far, the batch, the articles being assembled."""

    def __init__(self, store: Store, summary: ReprocessSummary, run_id: int,
                 on_error: Callable[[str], None] | None) -> None:
        self.store, self.summary, self.run_id, self.on_error = store, summary, run_id, on_error
        self.context: dict[str, PageContext] = {}
        self.deferred: list[tuple[ArchivedResponse, Path]] = []
        self.articles = PageAssembler()
        self.batch: list[Report] = []
        self.files: list[dict] = []

    def error(self, message: str) -> None:
        self.summary.errors.append(message)
        if self.on_error:
            self.on_error(message)

    def handle(self, response: ArchivedResponse, path: Path | None, *, last_chance: bool = False) -> None:
        url = response.url
        if url.split("?", 1)[0].endswith(ROBOTS_PATH):
            self.summary.skipped["robots.txt"] += 1
            return
        fetched_at = iso_utc(response.date) if response.date else None
        fetched = Fetched(url, response.status, response.headers, response.payload, fetched_at, response.ref)
        context = PageContext(SUBPAGE) if self.articles.expects(url) else self.context.get(url, PageContext())
        reading = read_page(fetched, context)
        if reading.kind == DETAIL and reading.report is not None:
            self._add_reports(self.articles.add(reading.report, reading.continuations))
        elif reading.kind == LIST:
            self._learn(reading, context)
        elif reading.kind == FILE:
            self._add_file(response, fetched_at, reading)
        elif reading.kind == WITHDRAWN:
            self.flush()  # the reports read before it first, as a crawl saves them before it sees a 404
            if self.store.mark_withdrawn(url, fetched_at, reading.message):
                self.summary.withdrawn += 1
            self._add_reports(self.articles.skip(url))
        elif reading.kind == FAILED:
            self.summary.skipped["extraction failed"] += 1
            self.error(f"{url} ({response.ref.filename} at offset {response.ref.offset}): {reading.message}")
            self._add_reports(self.articles.skip(url))
        elif reading.kind == CHALLENGE:
            self.summary.skipped["challenge page"] += 1
        elif reading.redirect:  # a script-only redirect stub: the record is where it sends the browser
            self.context.setdefault(reading.redirect, PageContext(RECORD, column=context.column))
            self.summary.skipped["redirect stub"] += 1
        elif response.status >= 400 or last_chance or url in self.context or path is None \
                or response.record_type != "response":
            self.summary.skipped[f"status {response.status}" if response.status >= 400 else "other page"] += 1
        else:  # maybe a record of a list further on in the archive
            self.deferred.append((ArchivedResponse(url, response.status, [], b"", response.date, response.ref,
                                                   response.record_type), path))

    def _learn(self, reading: PageReading, context: PageContext) -> None:
        """A list page: its records and other pages get the context the crawl gave them."""
        self.summary.lists += 1
        links = reading.links
        if links is None:
            return
        column = links.column or context.column
        for link in links.records:
            self.context.setdefault(link.url, PageContext(RECORD, column=column))
        for link in links.pages:
            self.context.setdefault(link.url, PageContext(PAGE, column=column))

    def _add_reports(self, reports: list[Report]) -> None:
        self.batch.extend(reports)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def _add_file(self, response: ArchivedResponse, fetched_at: str | None, reading: PageReading) -> None:
        self.files.append({"url": response.url, "content_type": response.header("Content-Type"),
                           "size": len(response.payload), "sha256": hashlib.sha256(response.payload).hexdigest(),
                           "ref": response.ref, "run_id": self.run_id, "fetched_at": fetched_at,
                           "text": reading.file_text})
        self.summary.files += 1
        if len(self.files) >= BATCH_SIZE:
            self.flush()

    def retry_deferred(self) -> None:
        """Pages read as neither list nor detail before a list named them: read them again as records."""
        deferred, self.deferred = self.deferred, []
        for stub, path in deferred:
            if stub.url not in self.context:
                self.summary.skipped["other page"] += 1
                continue
            try:
                stub.payload, stub.headers = read_response_at(path, stub.ref.offset)
            except Exception as exc:
                self.summary.damaged += 1
                self.error(f"{path} at offset {stub.ref.offset}: cannot read the record again: {exc}")
                continue
            self.handle(stub, path, last_chance=True)

    def flush(self) -> None:
        if self.files:
            self.store.save_files(self.files)
            self.files = []
        if self.batch:
            self.summary.outcomes.update(self.store.save_reports(self.batch, self.run_id))
            self.batch = []


def reprocess_warcs(
    paths: Iterable[Path], store: Store, on_error: Callable[[str], None] | None = None
) -> ReprocessSummary:
    """Read every response in the WARC files under `paths` as a crawl would and store the results.

    The run row is always closed: with status "failed" (and the reason) when anything, Ctrl-C included,
    stops the reprocess before the end; the reports of whole batches stored until then stay."""
    summary = ReprocessSummary()
    paths = list(paths)
    located = {p.name: p for p in iter_warc_files(paths)}

    def record_error(path: Path, exc: Exception) -> None:
        summary.damaged += 1
        rebuild.error(f"{path}: {exc}")

    run_id = store.start_run([str(p) for p in paths], None, {"mode": "reprocess"})
    rebuild = _Rebuild(store, summary, run_id, on_error)
    try:
        for response in iter_responses(paths, on_error=record_error):
            summary.responses += 1
            rebuild.handle(response, located.get(response.ref.filename))
        rebuild.retry_deferred()
        rebuild.batch.extend(rebuild.articles.finish())
        rebuild.flush()
    except BaseException as exc:
        summary.status = "failed"
        summary.finish_reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else \
            f"{type(exc).__name__}: {exc}"
        store.finish_run(run_id, summary.as_dict())
        raise
    store.finish_run(run_id, summary.as_dict())
    return summary
