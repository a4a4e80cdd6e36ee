"""The JSON API: `/api/search` and `/api/reports/{id}`, mirroring the pages, described at /openapi.json.

Search takes the parameters of `/search` (plus `size`) and runs the same paged engine. A snippet
comes twice: `snippet` as HTML-safe text with `<mark>` around matches (the text escaped, so it can
be inserted into a page as it is), and `snippet_text` as plain text with `marks` spans.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from archive.store import QueryError, browse
from archive.web.pages import report_or_404
from archive.web.params import MAX_PAGE_SIZE, PAGE_SIZE, ParamError, SearchParams
from archive.web.templating import marked
from archive.web.webarchive import Archive, BadRequest

router = APIRouter(prefix="/api", tags=["api"])


class Error(BaseModel):
    error: str


class Result(BaseModel):
    id: int
    url: str
    title: str | None
    publish_time: str | None
    site: str | None
    column: str | None
    issuer: str | None
    doc_number: str | None
    withdrawn: bool
    score: float = Field(description="2: the title matches, 1: the report matches elsewhere, 0: no query")
    snippet: str = Field(description="HTML: escaped text with <mark> around matches")
    snippet_text: str
    marks: list[tuple[int, int]] = Field(description="[start, end) spans of snippet_text that matched")
    report: str = Field(description="path of the report page")


class FacetValue(BaseModel):
    value: str | None
    count: int


class SearchResponse(BaseModel):
    total: int = Field(description=f"matching reports; with total_capped, at least this many ({browse.COUNT_CAP:,})")
    total_capped: bool = Field(description="true: more reports match than `total` (counting stops there)")
    page: int
    size: int
    results: list[Result]
    facets: dict[str, list[FacetValue]]
    facet_sample: int | None = Field(
        description="set when the facets count only this many matches (the most recently archived)"
    )


@router.get("/search", response_model=SearchResponse, responses={400: {"model": Error}})
def api_search(
    request: Request,
    archive: Archive,
    q: str = Query("", description='query: words (AND), OR, NOT / -word, "phrases", (groups)'),
    site: str = Query("", description="host name, exact"),
    column: str = Query("", description="column (栏目), exact"),
    issuer: str = Query("", description="issuing body contains"),
    doc_number: str = Query("", description="document number (文号) contains"),
    since: str = Query("", description="published on or after (YYYY, YYYY-MM or YYYY-MM-DD)"),
    until: str = Query("", description="published on or before"),
    withdrawn: str = Query("", description="true: only withdrawn reports; false: only current ones"),
    page: str = Query("1", description="page number, from 1"),
    size: str = Query(str(PAGE_SIZE), description=f"results per page, at most {MAX_PAGE_SIZE}"),
) -> dict[str, Any]:
    """Full-text search with the query language of `govarchive search`; without `q`, every report
    matching the filters, newest first."""
    try:
        params = SearchParams.parse(request.query_params, sizable=True)
        with archive.store.read_engine.connect() as conn:
            result = browse.search_page(
                conn, params.q or None, params.filters(), limit=params.size, offset=params.offset,
                beside=archive.store.read_engine,
            )
    except (ParamError, QueryError, ValueError) as exc:
        raise BadRequest(str(exc)) from exc
    return {
        "total": result.total,
        "total_capped": result.total_capped,
        "page": params.page,
        "size": params.size,
        "results": [
            {
                **{k: v for k, v in vars(h).items() if k not in ("snippet", "marks")},
                "snippet": str(marked(h)),
                "snippet_text": h.snippet,
                "marks": h.marks,
                "report": f"/reports/{h.id}",
            }
            for h in result.hits
        ],
        "facets": {dim: [{"value": v, "count": n} for v, n in values] for dim, values in result.facets.items()},
        "facet_sample": result.facet_sample,
    }


@router.get("/reports/{report_id}", responses={404: {"model": Error}})
def api_report(report_id: str, archive: Archive) -> dict[str, Any]:
    """A report as `govarchive show --json` prints it, with its versions and the links to its
    page, archived original and attachments."""
    record = report_or_404(archive, report_id)
    data = record.to_dict()
    with archive.store.read_engine.connect() as conn:
        archived = browse.file_refs(conn, [a.url for a in record.report.attachments])
    for n, item in enumerate(data["attachments"], start=1):
        item["archived"] = item["url"] in archived
        item["download"] = f"/reports/{record.id}/attachments/{n}" if item["archived"] else None
    data["versions"] = [v.to_dict() for v in archive.store.versions(record.id)]
    data["links"] = {
        "page": f"/reports/{record.id}",
        "original": f"/reports/{record.id}/original" if record.report.warc else None,
        "versions": f"/reports/{record.id}/versions",
    }
    return data
