"""Reading the archive a page at a time: one page of hits with the total and facets, an overview,
and the newest versions for feeds. Used by the web interface (`govarchive serve`).

Search pages run the query engine of `archive.store.search` (the same parse, compiled MATCH or
tsquery, filters, tiered order and snippets as `govarchive search`), paged in SQL: the title tier,
then the rest of the matches minus the title tier, each with LIMIT/OFFSET, so page N is exactly
what `search(limit=N*size)` would list at those positions, and no full result list is ever built.

Totals and facets look at the set of matching ids (`id IN (full-text match)` plus the filters),
which lets the database drive from whichever side is smaller; joining the other way round made
SQLite probe the full-text index once per row of a filtered column (0.75 s at 100k reports).
Facets count the FACET_SAMPLE most recently archived matches, which is every match for most
queries; for a one-character query matching 90,000 reports exact facets cost 0.1 s per dimension,
so beyond the sample the page says the counts are of that sample, while the total stays exact.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

from sqlalchemy import (
    Connection,
    Engine,
    case,
    func,
    literal,
    select,
    union_all,
)

from archive.report import WarcRef
from archive.store import filters as filters_mod
from archive.store import search as engine
from archive.store.filters import Filters
from archive.store.models import Capture, CrawlRun, FileRow, ReportRow, ReportVersionRow, Site
from archive.store.query import Node, parse
from archive.store.search import Hit

FACETS = ("site", "column", "issuer", "year", "withdrawn")
FACET_SAMPLE = 2000  # facets count at most this many matches, the most recently archived ones
SKIP_TITLE_TIER = 200  # up to this many title hits, the second tier is the newest matches minus them
MAX_OFFSET = 10_000  # deeper pages cost a sort past everything before them; nobody reads page 500


@dataclass
class SearchPage:
    """One page of results: `hits` at `offset`, the `total` matching, facet counts per dimension."""

    total: int
    offset: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)
    facet_sample: int | None = None  # set when facets count only the newest this-many matches


def search_page(
    conn: Connection,
    query: str | None,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
    beside: Engine | None = None,
) -> SearchPage:
    """Hits `offset`..`offset+limit` of a query (or, without one, of all reports newest first).

    With `beside` (an engine of the same database), the total and the facets are counted on a
    second connection while `conn` finds the hits: both backends run two queries at once, so the
    page costs the slower of the two rather than their sum.
    Raises QueryError for an unusable query and ValueError for an offset beyond MAX_OFFSET.
    """
    limit = max(1, min(int(limit), engine.MAX_LIMIT))
    offset = max(0, int(offset))
    if offset > MAX_OFFSET:
        raise ValueError(f"results beyond the first {MAX_OFFSET:,} cannot be paged to; narrow the search")
    node = parse(query) if query and query.strip() else None
    pending = _POOL.submit(_summary_on, beside, node, filters, facets) if beside is not None else None
    if node is None:
        rows = conn.execute(_listing(filters).limit(limit).offset(offset)).all()
        hits = [engine._hit(r, 0.0) for r in rows]
    else:
        hits = _tiered(conn, node, filters, limit, offset)
    _snippets(conn, hits, node)
    total, counts, sample = pending.result() if pending is not None else _summary(conn, node, filters, facets)
    return SearchPage(total, offset, hits, counts, sample)


_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="govarchive-facets")


def _summary_on(db: Engine, node: Node | None, filters: Filters | None, facets: bool):
    with db.connect() as conn:
        return _summary(conn, node, filters, facets)


def _summary(conn: Connection, node: Node | None, filters: Filters | None, facets: bool):
    """(total, facets, facet sample size or None): one query when the matches fit the sample."""
    if not facets:
        return _count(conn, node, filters), {}, None
    counts, seen = _facets(conn, node, filters)
    if seen < FACET_SAMPLE:
        return seen, counts, None  # the sample is every match: its size is the total
    total = _count(conn, node, filters)
    return total, counts, FACET_SAMPLE if total > seen else None


def _listing(filters: Filters | None):
    R = ReportRow.__table__
    cols = [R.c.id, R.c.url, R.c.title, R.c.site, R.c.column, R.c.publish_time, R.c.issuer,
            R.c.doc_number, R.c.withdrawn, R.c.document_id]
    return filters_mod.apply(select(*cols).order_by(*engine.RECENCY), filters)


def _match_ids(conn: Connection, node: Node):
    """The ids of the reports matching the query, with the engine's compiled query (the same set
    as its `_select(title=False)`, without the join)."""
    return engine.match_ids(conn, node)


def _matching(conn: Connection, node: Node | None, filters: Filters | None, *cols):
    """`cols` of the reports matching the query and the filters."""
    R = ReportRow.__table__
    stmt = select(*cols).select_from(R)
    if node is not None:
        stmt = stmt.where(R.c.id.in_(_match_ids(conn, node)))
    return filters_mod.apply(stmt, filters)


def _unfiltered(filters: Filters | None) -> bool:
    return filters is None or all(getattr(filters, f.name) is None for f in dataclass_fields(filters))


def _tiered(conn: Connection, node: Node, filters: Filters | None, limit: int, offset: int) -> list[Hit]:
    """The engine's order (title tier, then the rest; newest first in each), cut at offset/limit."""
    rows = _newest(conn, node, filters, title=True, limit=limit, offset=offset)
    hits = [engine._hit(r, engine.TITLE_SCORE) for r in rows]
    if len(hits) == limit:
        return hits
    # the title tier ends on this page or before it: its size tells where the rest starts
    if hits or offset == 0:
        in_title = offset + len(hits)
    else:
        title = engine._select(conn, node, filters, title=True).order_by(None)
        in_title = conn.execute(select(func.count()).select_from(title.subquery())).scalar_one()
    start = max(offset, in_title)
    skip, take = start - in_title, offset + limit - start
    if in_title <= SKIP_TITLE_TIER:
        # as engine.search does: the newest matches of any kind, leaving out the title tier's few ids
        if hits or offset == 0:
            title_ids = {h.id for h in hits}
            if offset:
                older = _newest(conn, node, filters, title=True, limit=offset, offset=0)
                title_ids |= {r.id for r in older}
        else:
            title_ids = {r.id for r in _newest(conn, node, filters, title=True, limit=in_title, offset=0)}
        rows = _newest(conn, node, filters, limit=skip + take + len(title_ids), offset=0)
        rows = [r for r in rows if r.id not in title_ids][skip : skip + take]
    else:  # a big title tier: ask for its complement directly
        rows = _newest(conn, node, filters, rest=True, limit=take, offset=skip)
    return hits + [engine._hit(r, engine.TEXT_SCORE) for r in rows]


def _newest(
    conn: Connection, node: Node, filters: Filters | None, *, limit: int, offset: int,
    title: bool = False, rest: bool = False,
):
    """As engine._newest, with an offset: on PostgreSQL the window of newest reports answers when
    it holds the whole page (everything outside it is older)."""
    if conn.dialect.name == "postgresql" and offset + limit <= engine.RECENT_WINDOW:
        stmt = engine._select(conn, node, filters, title=title, rest=rest, window=engine.RECENT_WINDOW)
        rows = conn.execute(stmt.limit(limit).offset(offset)).all()
        if len(rows) == limit:
            return rows
    stmt = engine._select(conn, node, filters, title=title, rest=rest)
    return conn.execute(stmt.limit(limit).offset(offset)).all()


def _snippets(conn: Connection, hits: list[Hit], node: Node | None) -> None:
    if node is not None:
        engine._add_snippets(conn, hits, node)
        return
    bodies = _bodies(conn, [h.id for h in hits]) if hits else {}
    for hit in hits:
        hit.snippet, hit.marks = engine.snippet(bodies.get(hit.id, ""), None)


def _bodies(conn: Connection, ids: list[int]) -> dict[int, str]:
    V, R = ReportVersionRow.__table__, ReportRow.__table__
    rows = conn.execute(
        select(V.c.report_id, V.c.data)
        .select_from(V.join(R, (R.c.id == V.c.report_id) & (R.c.version == V.c.version)))
        .where(R.c.id.in_(ids))
    )
    return {row.report_id: json.loads(row.data).get("body_text") or "" for row in rows}


def _count(conn: Connection, node: Node | None, filters: Filters | None) -> int:
    if node is not None and _unfiltered(filters):  # the full-text index alone knows how many match
        return conn.execute(select(func.count()).select_from(_match_ids(conn, node).subquery())).scalar_one()
    return conn.execute(_matching(conn, node, filters, func.count())).scalar_one()


def _facets(
    conn: Connection, node: Node | None, filters: Filters | None
) -> tuple[dict[str, list[tuple[str | None, int]]], int]:
    """Counts per site, column, issuer, publish year and withdrawn state (biggest first, years newest
    first) over the FACET_SAMPLE most recently archived matches; and how many matches that was."""
    R = ReportRow.__table__
    if node is None:
        matches = filters_mod.apply(select(R.c.site).select_from(R), filters).order_by(R.c.id.desc())
    else:
        # newest archived first
        matches = engine._select(conn, node, filters, title=False).order_by(None).order_by(R.c.id.desc())
    sample = (
        matches.with_only_columns(
            R.c.site, R.c.column, R.c.issuer, func.substr(R.c.publish_time, 1, 4).label("year"),
            case((R.c.withdrawn.is_(True), "true"), else_="false").label("withdrawn"),  # one type for UNION
            maintain_column_froms=True,
        )
        .limit(FACET_SAMPLE)
        .cte("sample")
        .prefix_with("MATERIALIZED")
    )
    # five small GROUP BYs over the materialised sample: ~700 rows back instead of one per report
    parts = [
        select(literal(name).label("dim"), sample.c[name].label("value"), func.count().label("n")).group_by(
            sample.c[name]
        )
        for name in FACETS
    ]
    out: dict[str, list[tuple[str | None, int]]] = {name: [] for name in FACETS}
    for dim, value, n in conn.execute(union_all(*parts)):
        out[dim].append((value, n))
    seen = sum(n for _, n in out["withdrawn"])
    for name, values in out.items():
        if name == "year":
            values.sort(key=lambda v: v[0] or "", reverse=True)  # newest year first, unknown last
        else:
            values.sort(key=lambda v: (-v[1], v[0] or ""))
    return out, seen


# --- what the archive holds -------------------------------------------------------------------


@dataclass
class SiteSummary:
    host: str
    reports: int
    withdrawn: int
    last_seen: str | None  # last time a crawl stored or confirmed one of its reports
    columns: list[tuple[str | None, int]]
    last_run: dict | None  # the newest crawl run that started from this host: id, times, status


def overview(conn: Connection, *, runs: int = 500) -> list[SiteSummary]:
    """Every site with its report counts per column and its last crawl (by the newest `runs` runs)."""
    R = ReportRow.__table__
    per_site = conn.execute(
        select(R.c.site, func.count(), func.sum(case((R.c.withdrawn, 1), else_=0)), func.max(R.c.last_seen))
        .group_by(R.c.site)
        .order_by(R.c.site)
    ).all()
    columns: dict[str | None, list[tuple[str | None, int]]] = {}
    for site, name, n in conn.execute(
        select(R.c.site, R.c.column, func.count()).group_by(R.c.site, R.c.column).order_by(func.count().desc())
    ):
        columns.setdefault(site, []).append((name, n))
    seen = {row.host: row.last_seen for row in conn.execute(select(Site.host, Site.last_seen))}
    last_runs = _last_runs(conn, runs)
    return [
        SiteSummary(
            host=site or "",
            reports=n,
            withdrawn=int(w or 0),
            last_seen=seen.get(site) or last,
            columns=columns.get(site, []),
            last_run=last_runs.get(site),
        )
        for site, n, w, last in per_site
    ]


def _last_runs(conn: Connection, limit: int) -> dict[str, dict]:
    from urllib.parse import urlsplit

    C = CrawlRun.__table__
    found: dict[str, dict] = {}
    for row in conn.execute(
        select(C.c.id, C.c.site, C.c.start_urls, C.c.started_at, C.c.finished_at, C.c.summary)
        .order_by(C.c.id.desc())
        .limit(limit)
    ):
        try:
            urls = json.loads(row.start_urls or "[]")
            summary = json.loads(row.summary) if row.summary else {}
        except ValueError:
            continue
        status = (summary or {}).get("status") or ("running" if row.finished_at is None else "finished")
        info = {"id": row.id, "started_at": row.started_at, "finished_at": row.finished_at, "status": status}
        for url in urls if isinstance(urls, list) else []:
            host = (urlsplit(str(url)).hostname or "").lower()
            if host:
                found.setdefault(host, info)
    return found


# --- what changed lately, for feeds ------------------------------------------------------------


@dataclass
class FeedEntry:
    """Something that happened to a report: "new" (version 1), "changed" (a later version) or
    "withdrawn" (the site took it down), at `at`."""

    report_id: int
    kind: str
    at: str | None
    version: int
    url: str
    title: str | None
    publish_time: str | None
    column: str | None
    issuer: str | None
    body_text: str
    reason: str | None = None


def site_exists(conn: Connection, site: str) -> bool:
    R = ReportRow.__table__
    return conn.execute(select(R.c.id).where(R.c.site == site.lower()).limit(1)).first() is not None


def recent_changes(conn: Connection, filters: Filters, *, limit: int = 50) -> list[FeedEntry]:
    """The newest events, newest first: each stored version, and each withdrawal with its date."""
    R, V = ReportRow.__table__, ReportVersionRow.__table__
    versions = (
        select(V.c.report_id, V.c.version, V.c.fetched_at, V.c.data, R.c.url)
        .select_from(V.join(R, R.c.id == V.c.report_id))
        .order_by(V.c.fetched_at.desc(), V.c.id.desc())
        .limit(limit)
    )
    entries = []
    for row in conn.execute(filters_mod.apply(versions, filters)):
        entries.append(_entry(row.report_id, "new" if row.version == 1 else "changed", row.fetched_at,
                              row.version, row.url, json.loads(row.data)))
    withdrawn = (
        select(R.c.id, R.c.version, R.c.url, R.c.withdrawn_at, R.c.withdrawn_reason, V.c.data)
        .select_from(R.join(V, (V.c.report_id == R.c.id) & (V.c.version == R.c.version)))
        .where(R.c.withdrawn.is_(True))
        .order_by(R.c.withdrawn_at.desc(), R.c.id.desc())
        .limit(limit)
    )
    for row in conn.execute(filters_mod.apply(withdrawn, filters)):
        entry = _entry(row.id, "withdrawn", row.withdrawn_at, row.version, row.url, json.loads(row.data))
        entry.reason = row.withdrawn_reason
        entries.append(entry)
    entries.sort(key=lambda e: (e.at or "", e.report_id, e.version, e.kind == "withdrawn"), reverse=True)
    return entries[:limit]


def _entry(report_id: int, kind: str, at: str | None, version: int, url: str, data: dict) -> FeedEntry:
    return FeedEntry(
        report_id=report_id,
        kind=kind,
        at=at,
        version=version,
        url=url,
        title=data.get("title"),
        publish_time=data.get("publish_time"),
        column=data.get("column"),
        issuer=(data.get("metadata") or {}).get("issuer"),
        body_text=data.get("body_text") or "",
    )


# --- where archived bytes are -------------------------------------------------------------------


def version_count(conn: Connection, report_id: int) -> int:
    V = ReportVersionRow.__table__
    return conn.execute(select(func.count()).where(V.c.report_id == report_id)).scalar_one()


def file_refs(conn: Connection, urls: list[str]) -> dict[str, WarcRef]:
    """The WARC record of each fetched file (attachment) by URL; unfetched ones are left out."""
    F = FileRow.__table__
    if not urls:
        return {}
    rows = conn.execute(
        select(F.c.url, F.c.warc_filename, F.c.warc_offset, F.c.warc_length, F.c.warc_record_id).where(
            F.c.url.in_(sorted(set(urls))), F.c.warc_filename.is_not(None)
        )
    )
    return {r.url: WarcRef(r.warc_filename, r.warc_offset, r.warc_length, r.warc_record_id or "") for r in rows}


def capture_by_record_id(conn: Connection, record_id: str) -> WarcRef | None:
    """A response record by its WARC-Record-ID (a revisit's WARC-Refers-To), from the captures table."""
    C = Capture.__table__
    row = conn.execute(
        select(C.c.warc_filename, C.c.warc_offset, C.c.warc_length, C.c.warc_record_id)
        .where(C.c.warc_record_id == record_id, C.c.warc_filename.is_not(None))
        .limit(1)
    ).first()
    return None if row is None else WarcRef(row.warc_filename, row.warc_offset, row.warc_length, row.warc_record_id)
