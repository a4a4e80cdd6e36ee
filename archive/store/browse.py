"""Reading the archive a page at a time: one page of hits with the total and facets, an overview,
and the newest versions for feeds. Used by the web interface (`govarchive serve`).

Search pages run the query engine of `archive.store.search` (the same parse, compiled MATCH or
tsquery, filters, tiered order and snippets as `govarchive search`), paged in SQL: the title tier,
then the rest of the matches minus the title tier, each with LIMIT/OFFSET, so page N is exactly
what `search(limit=N*size)` would list at those positions, and no full result list is ever built.

On SQLite each tier's match of an unfiltered query is evaluated once per page into a temporary
table of ids (`archive.store.matchset`), which the hits, the total and the facets read. Otherwise totals
and facets look at the set of matching ids (`id IN (full-text match)` plus the filters), which lets the
database drive from whichever side is smaller.
Totals are exact up to COUNT_CAP (as far as pages can go), beyond it marked as capped. Facets count
the FACET_SAMPLE most recently archived matches, which is every match for most queries; for a
one-character query matching 90,000 reports exact facets cost 0.1 s per dimension, so beyond the
sample the page says the counts are of that sample.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

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
from archive.store import matchset
from archive.store import search as engine
from archive.store.filters import Filters
from archive.store.models import Capture, CrawlRun, FileRow, ReportRow, ReportVersionRow, Site
from archive.store.query import Node, parse
from archive.store.search import Hit
from archive.urls import site_of

FACETS = ("site", "column", "issuer", "year", "withdrawn")
FACET_SAMPLE = 2000  # facets count at most this many matches, the most recently archived ones
SKIP_TITLE_TIER = 200  # up to this many title hits, the second tier is the newest matches minus them
MAX_OFFSET = 10_000  # deeper pages cost a sort past everything before them; nobody reads page 500
COUNT_CAP = MAX_OFFSET  # totals are exact up to this, beyond it "more than 10,000" (as far as pages go)


@dataclass
class SearchPage:
    """One page of results: `hits` at `offset`, the `total` matching, facet counts per dimension."""

    total: int
    offset: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)
    facet_sample: int | None = None  # set when facets count only the newest this-many matches
    total_capped: bool = False  # True: there are more than `total` (COUNT_CAP) matches


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

    On SQLite a query without filters is evaluated at most once per tier into temporary tables
    (`matchset`) and the hits, total and facets read from them. Otherwise, with `beside` (an engine of the same database), the
    total and the facets are counted on a second connection while `conn` finds the hits, so the page
    costs the slower of the two rather than their sum.
    Totals count up to COUNT_CAP; `total_capped` says there are more.
    Raises QueryError for an unusable query and ValueError for an offset beyond MAX_OFFSET.
    """
    limit = max(1, min(int(limit), engine.MAX_LIMIT))
    offset = max(0, int(offset))
    if offset > MAX_OFFSET:
        raise ValueError(f"results beyond the first {MAX_OFFSET:,} cannot be paged to; narrow the search")
    node = parse(query) if query and query.strip() else None
    if node is not None and conn.dialect.name == "sqlite" and filters_mod.is_empty(filters):
        with matchset.evaluated(conn, node) as matches:
            hits = matches.hits(limit, offset)
            _snippets(conn, hits, node)
            counts, seen = _facet_counts(conn, matches.sample(FACET_SAMPLE)) if facets else ({}, None)
            n = seen if seen is not None and seen < FACET_SAMPLE else matches.count_upto(COUNT_CAP)
        return _page(n, offset, hits, counts, seen)
    pending = _POOL.submit(_summary_on, beside, node, filters, facets) if beside is not None else None
    if node is None:
        rows = conn.execute(_listing(filters).limit(limit).offset(offset)).all()
        hits = [engine._hit(r, 0.0) for r in rows]
    else:
        hits = _tiered(conn, node, filters, limit, offset)
    _snippets(conn, hits, node)
    n, counts, seen = pending.result() if pending is not None else _summary(conn, node, filters, facets)
    return _page(n, offset, hits, counts, seen)


def _page(n: int, offset: int, hits: list[Hit], counts: dict, seen: int | None) -> SearchPage:
    """A SearchPage from `n` matches (COUNT_CAP + 1: more than COUNT_CAP) of which the facets
    counted `seen` (None: no facets)."""
    sample = FACET_SAMPLE if seen is not None and n > seen else None
    return SearchPage(min(n, COUNT_CAP), offset, hits, counts, sample, total_capped=n > COUNT_CAP)


_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="govarchive-facets")


def _summary_on(db: Engine, node: Node | None, filters: Filters | None, facets: bool):
    with db.connect() as conn:
        return _summary(conn, node, filters, facets)


def _summary(conn: Connection, node: Node | None, filters: Filters | None, facets: bool):
    """(matches up to COUNT_CAP + 1, facets, how many matches the facets counted or None): one query
    when the matches fit the facet sample."""
    if not facets:
        return _count(conn, node, filters), {}, None
    counts, seen = _facets(conn, node, filters)
    if seen < FACET_SAMPLE:
        return seen, counts, seen  # the sample is every match: its size is the total
    return _count(conn, node, filters), counts, seen


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
    """The number of matches, counting no further than COUNT_CAP + 1."""
    R = ReportRow.__table__
    if node is None:
        ids = filters_mod.apply(select(R.c.id), filters)
    elif filters_mod.is_empty(filters):  # the full-text index alone knows how many match
        ids = _match_ids(conn, node)
    else:
        ids = _matching(conn, node, filters, R.c.id)
    return conn.execute(select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery())).scalar_one()


def _facets(
    conn: Connection, node: Node | None, filters: Filters | None
) -> tuple[dict[str, list[tuple[str | None, int]]], int]:
    """Counts per site, column, issuer, publish year and withdrawn state (biggest first, years newest
    first) over the FACET_SAMPLE most recently archived matches; and how many matches that was."""
    R = ReportRow.__table__
    if node is None:
        matches = filters_mod.apply(select(R.c.site).select_from(R), filters).order_by(R.c.id.desc())
    else:
        # newest archived first (own fields or an attachment's text: no one index to walk in order)
        matches = engine._select(conn, node, filters, title=False).order_by(None).order_by(R.c.id.desc())
    return _facet_counts(conn, matches.limit(FACET_SAMPLE))


def _facet_counts(conn: Connection, matches) -> tuple[dict[str, list[tuple[str | None, int]]], int]:
    """Counts per facet of the reports `matches` (a select over `reports`) gives, and their number."""
    R = ReportRow.__table__
    sample = (
        matches.with_only_columns(
            R.c.site, R.c.column, R.c.issuer, func.substr(R.c.publish_time, 1, 4).label("year"),
            case((R.c.withdrawn.is_(True), "true"), else_="false").label("withdrawn"),  # one type for UNION
            maintain_column_froms=True,
        )
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
    columns: dict[str | None, list[tuple[str | None, int]]] = {}
    # from the (site, column) index alone; the few withdrawn reports through their own index
    for site, name, n in conn.execute(select(R.c.site, R.c.column, func.count()).group_by(R.c.site, R.c.column)):
        columns.setdefault(site, []).append((name, n))
    withdrawn = dict(conn.execute(select(R.c.site, func.count()).where(R.c.withdrawn.is_(True)).group_by(R.c.site)).all())
    seen = {row.host: row.last_seen for row in conn.execute(select(Site.host, Site.last_seen))}
    unseen = [site for site in columns if site not in seen]
    if unseen:  # reports of a site the sites table does not know (not written by govarchive's store)
        seen.update(conn.execute(
            select(R.c.site, func.max(R.c.last_seen)).where(R.c.site.in_(unseen)).group_by(R.c.site)
        ).all())
    last_runs = _last_runs(conn, runs)
    return [
        SiteSummary(
            host=site or "",
            reports=sum(n for _, n in columns[site]),
            withdrawn=withdrawn.get(site, 0),
            last_seen=seen.get(site),
            columns=sorted(columns[site], key=lambda c: -c[1]),
            last_run=last_runs.get(site),
        )
        for site in sorted(columns, key=lambda s: (s is not None, s or ""))
    ]


def _last_runs(conn: Connection, limit: int) -> dict[str, dict]:
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
            host = site_of(str(url))
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
