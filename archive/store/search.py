"""Chinese full-text search over stored reports, the same on SQLite (FTS5) and PostgreSQL (tsvector).

The query is parsed by `archive.store.query` and compiled for the backend; both indexes hold the
tokens of `archive.store.tokens`, so a query matches the same reports on both. Ranking is by tier —
the title alone satisfies the query, else the report matches anywhere — with the newer publish date,
then the newer id, breaking ties: the same order on both backends, and fast at 100k reports where
bm25 / ts_rank over every match was not (README, "Search": the measurements). Snippets
are cut from the body text in Python and mark every occurrence of the query's terms.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from sqlalchemy import (
    Connection,
    bindparam,
    cast,
    column,
    func,
    nulls_last,
    select,
    table,
    text,
    tuple_,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from archive.store import filters as filters_mod
from archive.store.filters import Filters
from archive.store.models import FileRow, ReportAttachment, ReportRow, ReportVersionRow
from archive.store.query import Node, QueryError, Term, has_not, parse, positive_terms, to_fts5, to_tsquery
from archive.store.tokens import runs

__all__ = ["Hit", "QueryError", "count", "match_spans", "search", "snippet"]

MAX_LIMIT = 1000
SNIPPET_CHARS = 120
TITLE_SCORE, TEXT_SCORE = 2.0, 1.0
RECENT_WINDOW = 2000  # PostgreSQL: newest reports checked one by one before asking the GIN index
RECENCY = (nulls_last(ReportRow.publish_date.desc()), ReportRow.id.desc())
MARK = ("<mark>", "</mark>")


@dataclass
class Hit:
    id: int
    url: str
    title: str | None
    site: str | None
    column: str | None
    publish_time: str | None
    issuer: str | None
    doc_number: str | None
    withdrawn: bool
    score: float
    snippet: str = ""
    marks: list[tuple[int, int]] = field(default_factory=list)  # spans of the snippet that matched
    attachment: str | None = None  # the attachment (its name, else URL) the snippet was cut from
    document_id: int | None = None  # reports of one document share it (archive.identity)

    def marked_snippet(self, open_: str = MARK[0], close: str = MARK[1]) -> str:
        out, last = [], 0
        for a, b in self.marks:
            out += [self.snippet[last:a], open_, self.snippet[a:b], close]
            last = b
        return "".join(out) + self.snippet[last:]

    def to_dict(self) -> dict:
        """The hit's JSON: `attachment` only when the snippet is an attachment's (the keys of a hit
        from the report itself stay as they were); the document id is for collapsing, not shown."""
        data = asdict(self)
        data.pop("marks")
        data.pop("document_id")
        if data["attachment"] is None:
            del data["attachment"]
        data["snippet"] = self.marked_snippet()
        return data


def search(conn: Connection, query: str, filters: Filters | None = None, limit: int = 20, *,
           distinct_documents: bool = False) -> list[Hit]:
    """Run a user query; QueryError (a ValueError with a readable message) if it cannot be run.

    Ranking: reports whose title alone satisfies the query come first (score 2), then reports that
    match anywhere (score 1); within each tier the newer publish date, then the newer id, wins.
    With `distinct_documents`, only the best-ranked report of each document (archive.identity).
    """
    if distinct_documents:
        return _distinct(conn, query, filters, limit)
    node = parse(query)
    limit = max(1, min(int(limit), MAX_LIMIT))
    hits = [_hit(r, TITLE_SCORE) for r in _newest(conn, node, filters, title=True, limit=limit)]
    if len(hits) < limit:
        # the title tier is complete; fill up from all matches, skipping the ones already taken
        seen = {h.id for h in hits}
        rows = _newest(conn, node, filters, title=False, limit=limit + len(hits))
        hits += [_hit(r, TEXT_SCORE) for r in rows if r.id not in seen][: limit - len(hits)]
    _add_snippets(conn, hits, node)
    return hits


def _distinct(conn: Connection, query: str, filters: Filters | None, limit: int) -> list[Hit]:
    """`limit` hits of distinct documents: asks for more hits until enough documents (or all hits) are in."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    asked = limit
    while True:
        hits = search(conn, query, filters, min(asked, MAX_LIMIT))
        kept = list({h.document_id: h for h in reversed(hits)}.values())[::-1]  # the first hit of each
        if len(kept) >= limit or len(hits) < asked or asked >= MAX_LIMIT:
            return kept[:limit]
        asked *= 4


def count(conn: Connection, query: str, filters: Filters | None = None, *, distinct_documents: bool = False) -> int:
    """The number of reports (or documents) the query matches, whatever the limit of `search`."""
    matches = _select(conn, parse(query), filters, title=False).order_by(None).subquery()
    what = func.count(func.distinct(func.coalesce(matches.c.document_id, matches.c.id))) if distinct_documents \
        else func.count()
    return conn.execute(select(what).select_from(matches)).scalar_one()


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Spans of `text` (a title, say) where the query's terms occur, as snippets mark them."""
    pattern = term_pattern(positive_terms(parse(query)))
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()] if pattern else []


def _newest(conn: Connection, node: Node, filters: Filters | None, *, title: bool, limit: int) -> list:
    """The `limit` newest matching reports.

    PostgreSQL first looks only at the RECENT_WINDOW newest reports (walking the recency index and
    checking each tsvector): a common word is found there at once, whereas the GIN route would
    re-check every one of its many matches for phrases and NOT. If the window holds enough matches
    they are the answer (everything outside it is older); otherwise the GIN route is cheap, since
    the matches are few.
    """
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            _select(conn, node, filters, title=title, window=RECENT_WINDOW).limit(limit)
        ).all()
        if len(rows) >= limit:
            return rows
    return conn.execute(_select(conn, node, filters, title=title).limit(limit)).all()


def _select(
    conn: Connection, node: Node, filters: Filters | None, *, title: bool, window: int | None = None,
    rest: bool = False,
):
    """Reports matching the query (in the title only, if `title`), newest first; with `rest`, the
    matches that are not in the title tier (the second tier alone, for paging past the first)."""
    R = ReportRow.__table__
    cols = hit_columns()
    if conn.dialect.name == "sqlite":
        fts = table("report_fts", column("rowid"))
        matches = text("report_fts MATCH :q").bindparams(
            bindparam("q", fts5_match(node, title=title, rest=rest), unique=True))
        if title:
            stmt = select(*cols).select_from(fts.join(R, R.c.id == fts.c.rowid)).where(matches)
        else:  # the report's own fields, or one of its attachments' text
            matched = select(fts.c.rowid).where(matches)
            in_files = _sqlite_file_matches(fts5_match(node))
            if rest:
                in_title = select(fts.c.rowid).where(text("report_fts MATCH :tq").bindparams(
                    bindparam("tq", fts5_match(node, title=True), unique=True)))
                in_files = in_files.where(ReportAttachment.report_id.not_in(in_title))
            stmt = select(*cols).where(R.c.id.in_(union(matched, in_files)))
    else:
        s = table("report_search", column("report_id"), column("tsv"), column("title_tsv"))
        fs = table("file_search", column("file_id"), column("tsv"))
        tsq = cast(bindparam("q", to_tsquery(node)), TSQUERY)
        cond = s.c.tsv.op("@@")(tsq)
        if title:
            title_cond = s.c.title_tsv.op("@@")(tsq)
            cond = (title_cond & cond) if has_not(node) else title_cond
        if rest:
            cond = cond & ~s.c.title_tsv.op("@@")(tsq)
        tier = "title" if title else "rest" if rest else "all"
        # MATERIALIZED fences keep the planner from swapping the two routes (its tsquery estimates
        # are poor): either the window of newest reports, or every match from the GIN index.
        if window:
            recent = filters_mod.apply(select(R.c.id).order_by(*RECENCY), filters).limit(window)
            recent = recent.cte(f"recent_{tier}").prefix_with("MATERIALIZED")

            # per-row lookups by primary key (scalar subqueries), never a scan of the whole index
            def vec(c):
                return select(c).where(s.c.report_id == R.c.id).scalar_subquery()

            cond = vec(s.c.tsv).op("@@")(tsq)
            if title:
                title_cond = vec(s.c.title_tsv).op("@@")(tsq)
                cond = (title_cond & cond) if has_not(node) else title_cond
            else:  # or one of its attachments' text
                in_files = _linking(fs.c.file_id).where(ReportAttachment.report_id == R.c.id)
                cond = cond | in_files.where(fs.c.tsv.op("@@")(tsq)).exists()
            if rest:
                cond = cond & ~vec(s.c.title_tsv).op("@@")(tsq)
            stmt = select(*cols).select_from(recent.join(R, R.c.id == recent.c.id)).where(cond)
        else:
            # a name per tier, so one statement can hold two tiers
            found = select(s.c.report_id).where(cond)
            if not title:  # or one of its attachments' text
                in_files = _linking(fs.c.file_id).where(fs.c.tsv.op("@@")(tsq))
                if rest:
                    in_files = in_files.where(ReportAttachment.report_id.not_in(
                        select(s.c.report_id).where(s.c.title_tsv.op("@@")(tsq))))
                found = union(found, in_files)
            found = found.cte(f"found_{tier}")
            found = found.prefix_with("MATERIALIZED")
            stmt = select(*cols).select_from(found.join(R, R.c.id == found.c.report_id))
    return filters_mod.apply(stmt.order_by(*RECENCY), filters)


def hit_columns() -> list:
    """The columns of `reports` a Hit is made of (see `_hit`)."""
    R = ReportRow.__table__
    return [R.c.id, R.c.url, R.c.title, R.c.site, R.c.column, R.c.publish_time, R.c.issuer, R.c.doc_number,
            R.c.withdrawn, R.c.document_id]


def fts5_match(node: Node, *, title: bool = False, rest: bool = False) -> str:
    """The FTS5 MATCH expression of a query: every match, its title tier, or (`rest`) the matches
    outside the title tier."""
    expr = to_fts5(node)
    if rest:  # everything else the query matches: the title tier's complement within the matches
        return f"{expr} NOT {{title}} : {expr}"
    if title:  # with an excluded term the title tier must still exclude it everywhere, hence the AND
        return f"{{title}} : {expr}" + (f" AND {expr}" if has_not(node) else "")
    return expr


def match_ids(conn: Connection, node: Node):
    """SELECT the ids of the reports the query matches, in their own fields or their attachments' text."""
    if conn.dialect.name == "sqlite":
        expr = fts5_match(node)
        fts = table("report_fts", column("rowid"))
        own = select(fts.c.rowid).where(text("report_fts MATCH :q").bindparams(bindparam("q", expr, unique=True)))
        return union(own, _sqlite_file_matches(expr))
    s = table("report_search", column("report_id"), column("tsv"))
    fs = table("file_search", column("file_id"), column("tsv"))
    tsq = cast(bindparam("q", to_tsquery(node), unique=True), TSQUERY)
    return union(select(s.c.report_id).where(s.c.tsv.op("@@")(tsq)),
                 _linking(fs.c.file_id).where(fs.c.tsv.op("@@")(tsq)))


def _sqlite_file_matches(expr: str):
    files = table("file_fts", column("rowid"))
    return _linking(files.c.rowid).where(text("file_fts MATCH :fq").bindparams(bindparam("fq", expr, unique=True)))


def _linking(file_id):
    """SELECT report_id of the reports linking the files in the index table whose id column is `file_id`."""
    A, F = ReportAttachment.__table__, FileRow.__table__
    return select(A.c.report_id).select_from(A.join(F, F.c.url == A.c.url).join(
        file_id.table, file_id == F.c.id))


def _hit(r, score: float) -> Hit:
    return Hit(
        r.id,
        r.url,
        r.title,
        r.site,
        r.column,
        r.publish_time,
        r.issuer,
        r.doc_number,
        bool(r.withdrawn),
        score,
        document_id=r.document_id or r.id,
    )


def _add_snippets(conn: Connection, hits: list[Hit], node: Node) -> None:
    if not hits:
        return
    V, R = ReportVersionRow.__table__, ReportRow.__table__
    current = select(R.c.id, R.c.version).where(R.c.id.in_([h.id for h in hits]))
    bodies = {
        row.report_id: json.loads(row.data).get("body_text") or ""
        for row in conn.execute(
            select(V.c.report_id, V.c.data).where(tuple_(V.c.report_id, V.c.version).in_(current))
        )
    }
    pattern = term_pattern(positive_terms(node))
    for h in hits:
        h.snippet, h.marks = snippet(bodies.get(h.id, ""), pattern)
    unmarked = [h for h in hits if not h.marks]
    if pattern is None or not unmarked:
        return
    # the body does not show the match: one of the report's attachments does
    A, F = ReportAttachment.__table__, FileRow.__table__
    texts: dict[int, list[tuple[str, str]]] = {}
    for row in conn.execute(
        select(A.c.report_id, A.c.name, A.c.url, F.c.text).select_from(A.join(F, F.c.url == A.c.url))
        .where(A.c.report_id.in_([h.id for h in unmarked]), F.c.text.is_not(None))
        .order_by(A.c.report_id, A.c.position)
    ):
        texts.setdefault(row.report_id, []).append((row.name or row.url, row.text))
    for h in unmarked:
        for name, body in texts.get(h.id, []):
            cut, marks = snippet(body, pattern)
            if marks:
                h.snippet, h.marks, h.attachment = cut, marks, name
                break


def term_pattern(terms: list[Term]) -> re.Pattern | None:
    """A regex finding any of the terms in original text (pieces of a term may be split by punctuation)."""
    alts = []
    for t in sorted(terms, key=lambda t: -len(t.text)):
        pieces = [re.escape(r.text) for r in runs(t.text)]
        if pieces:
            alts.append(r"[\W_]{0,3}".join(pieces))
    return re.compile("|".join(alts), re.IGNORECASE) if alts else None


def snippet(
    body: str, pattern: re.Pattern | None, width: int = SNIPPET_CHARS
) -> tuple[str, list[tuple[int, int]]]:
    """A window of the body around the first match, on one line, with the spans of every match."""
    flat = " ".join(body.split())
    first = pattern.search(flat) if pattern else None
    if first is None:
        cut = flat[:width]
        return cut + ("…" if len(flat) > width else ""), []
    start = max(0, first.start() - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    prefix = "…" if start > 0 else ""
    window = flat[start:end]
    marks = [
        (m.start() + len(prefix), m.end() + len(prefix))
        for m in pattern.finditer(window)
        if m.end() > m.start()
    ]
    return prefix + window + ("…" if end < len(flat) else ""), marks
