"""The HTML pages: the overview, search results, a report, and its versions.

Each handler reads through the Store (search through `archive.store.browse`, which runs the engine
of `govarchive search`), then renders a template; nothing here writes.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from archive.store import QueryError, StoredReport, StoreError, browse
from archive.store.query import parse, positive_terms
from archive.store.search import term_pattern
from archive.web.params import ParamError, SearchParams
from archive.web.sanitize import clean_body
from archive.web.webarchive import Archive, BadRequest, NotFound, WebArchive

router = APIRouter(include_in_schema=False)
FACET_SHOWN = 12
MAX_ID_DIGITS = 18  # larger numbers are no row id (and would overflow a 64-bit column)


@router.get("/", response_class=HTMLResponse)
def index(archive: Archive) -> HTMLResponse:
    with archive.store.read_engine.connect() as conn:
        sites = browse.overview(conn)
    total = sum(s.reports for s in sites)
    return archive.render("index.html", sites=sites, total=total, q="")


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, archive: Archive) -> HTMLResponse:
    try:
        params = SearchParams.parse(request.query_params)
    except ParamError as exc:
        raw = SearchParams(q=(request.query_params.get("q") or "").strip())
        return archive.render("search.html", 400, params=raw, result=None, error=str(exc), q=raw.q)
    try:
        with archive.store.read_engine.connect() as conn:
            result = browse.search_page(
                conn, params.q or None, params.filters(), limit=params.size, offset=params.offset,
                beside=archive.store.read_engine,
            )
    except (QueryError, ValueError) as exc:
        return archive.render("search.html", 400, params=params, result=None, error=str(exc), q=params.q)
    pattern = term_pattern(positive_terms(parse(params.q))) if params.q else None
    pages = max(1, math.ceil(min(result.total, browse.MAX_OFFSET + params.size) / params.size))
    return archive.render(
        "search.html",
        params=params,
        result=result,
        pattern=pattern,
        pages=pages,
        page_window=_window(params.page, pages),
        facet_shown=FACET_SHOWN,
        error=None,
        q=params.q,
    )


def _window(page: int, pages: int, width: int = 4) -> list[int]:
    return list(range(max(1, page - width), min(pages, page + width) + 1))


def report_or_404(archive: WebArchive, report_id: str) -> StoredReport:
    """The report with this id; NotFound for anything else (a URL, a word, a number with no row)."""
    if not report_id.isdigit() or len(report_id) > MAX_ID_DIGITS:
        raise NotFound(f"no report {report_id!r}: report ids are numbers")
    record = archive.store.get_record(int(report_id))
    if record is None:
        raise NotFound(f"no report {report_id} in this archive")
    return record


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report(report_id: str, archive: Archive) -> HTMLResponse:
    record = report_or_404(archive, report_id)
    r = record.report
    with archive.store.read_engine.connect() as conn:
        versions = browse.version_count(conn, record.id)
        archived = browse.file_refs(conn, [a.url for a in r.attachments])
    attachments = [
        {"n": n, "item": a, "archived": a.url in archived} for n, a in enumerate(r.attachments, start=1)
    ]
    replay = archive.replay.url_for(r.url, r.fetched_at) if r.warc else None
    return archive.render(
        "report.html",
        record=record,
        r=r,
        metadata=[(k, v) for k, v in vars(r.metadata).items() if v],
        body=clean_body(r.body_html, r.body_text),
        attachments=attachments,
        versions=versions,
        replay=replay,
        has_original=r.warc is not None and archive.warcs.available,
        q="",
    )


@router.get("/reports/{report_id}/versions", response_class=HTMLResponse)
def versions(report_id: str, request: Request, archive: Archive) -> HTMLResponse:
    record = report_or_404(archive, report_id)
    found = archive.store.versions(record.id)
    numbers = [v.version for v in found]
    v1, v2 = _pair(request, numbers)
    diff = None
    if v1 is not None and v2 is not None:
        try:
            diff = archive.store.diff(record.id, v1, v2).splitlines()
        except StoreError as exc:
            raise BadRequest(str(exc)) from exc
    return archive.render(
        "versions.html", record=record, r=record.report, versions=found, v1=v1, v2=v2, diff=diff, q=""
    )


def _pair(request: Request, numbers: list[int]) -> tuple[int | None, int | None]:
    """The two versions to compare: ?v1=&v2= if given, else the last two."""
    chosen = []
    for name in ("v1", "v2"):
        raw = (request.query_params.get(name) or "").strip()
        if raw:
            if not raw.isdigit() or int(raw) not in numbers:
                raise BadRequest(f"{name}={raw!r}: this report has versions {numbers}")
            chosen.append(int(raw))
        else:
            chosen.append(None)
    if chosen[0] is None and chosen[1] is None:
        return (numbers[-2], numbers[-1]) if len(numbers) >= 2 else (None, None)
    if None in chosen:
        raise BadRequest("give both v1 and v2 to compare two versions")
    return chosen[0], chosen[1]
