"""A query's matches evaluated at most once per tier (SQLite), for a page of results, its total and facets.

The full-text match is the costly part of a search page (a phrase of seven common bigrams compares
seven long position lists: 60-70 ms at 100k reports), and a page needs it for the hits, the total and
the facets. Here each tier's match runs once, into a temporary table of ids (the filters applied):

- the title tier first; a page inside it is read from that table, and then the total and the facet
  sample come from the full-text index in its own order, which stops early: the FACET_SAMPLE highest
  ids (the most recently archived matches) and a count that stops past COUNT_CAP;
- a page reaching past the title tier (or any filtered search) evaluates every match into a second
  table: the total is its size, the facet sample its highest ids, the other matches its complement.

A page of a table is read newest first (the engine's order, `archive.store.search`): when the table
holds a good part of the archive, by walking the publish-date index from the newest report and
keeping the ids in the table, stopping after `offset + limit` of them (40 hits of 44,000 matches: a
few hundred index entries); a small table is looked up by id and sorted. Either way no result list is
built outside the database.

Temporary tables live in the connection's own temp store (memory): nothing is written to the archive,
and a crawl writing at the same time is not waited for. They are dropped when the page is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, bindparam, column, exists, func, insert, select, table, text

from archive.store import filters as filters_mod
from archive.store import search as engine
from archive.store.filters import Filters
from archive.store.models import ReportRow
from archive.store.query import Node

ALL, TITLE, SCRATCH = "ga_match_all", "ga_match_title", "ga_match_scratch"
# Walking the recency index costs a step per report passed; looking a table up by id and sorting
# it, a step (dearer: a row read) per id. Walk when the expected steps are fewer than this many
# times the table's size.
WALK_FACTOR = 4
# With filters, over how many full-text matches to go through a filter's index rather than read
# every matching report.
DRIVE_FROM_INDEX_OVER = 2000


@dataclass
class MatchSet:
    """The matches of one query on one connection. `in_title`: the size of the title tier; `total`:
    of every match, once evaluated (None before); `span`: the highest report id (how long a walk of
    the whole recency index is)."""

    conn: Connection
    node: Node
    filters: Filters | None
    in_title: int
    span: int
    total: int | None = None
    tables: list[str] = field(default_factory=list)

    def hits(self, limit: int, offset: int) -> list[engine.Hit]:
        """Hits offset..offset+limit in the engine's order: the title tier, then the rest; every
        match is evaluated only when the page reaches past the title tier (or there are filters:
        their counts need it)."""
        rows = []
        if offset < self.in_title:
            rows = [engine._hit(r, engine.TITLE_SCORE) for r in self._newest(True, limit, offset)]
        if len(rows) < limit or not filters_mod.is_empty(self.filters):
            self.evaluate()
        take, skip = limit - len(rows), max(0, offset - self.in_title)
        if take > 0 and self.total is not None and self.total > self.in_title:
            rows += [engine._hit(r, engine.TEXT_SCORE) for r in self._newest(False, take, skip)]
        return rows

    def evaluate(self) -> None:
        """Every match (with the filters) into the ALL table; `total` is then exact."""
        if self.total is None:
            _fill(self, ALL, engine.fts5_match(self.node))
            self.total = self.conn.execute(select(func.count()).select_from(_table(ALL))).scalar_one()

    def sample(self, size: int):
        """A select over `reports` of the `size` most recently archived matches (highest ids)."""
        R = ReportRow.__table__
        if self.total is not None:
            A = _table(ALL)
            return select(R.c.id).where(R.c.id.in_(select(A.c.id).order_by(A.c.id.desc()).limit(size)))
        newest = _fts_ids(engine.fts5_match(self.node)).order_by(text("rowid DESC")).limit(size)
        return select(R.c.id).where(R.c.id.in_(newest))

    def count_upto(self, cap: int) -> int:
        """The number of matches, or cap + 1 if there are more than cap."""
        if self.total is not None:
            return min(self.total, cap + 1)
        found = _fts_ids(engine.fts5_match(self.node)).limit(cap + 1).subquery()
        return self.conn.execute(select(func.count()).select_from(found)).scalar_one()

    def _newest(self, title: bool, limit: int, offset: int) -> list:
        R, A, T = ReportRow.__table__, _table(ALL), _table(TITLE)
        size = self.in_title if title else (self.total or 0) - self.in_title
        stmt = select(*engine.hit_columns())
        if (offset + limit) * self.span <= WALK_FACTOR * size * size:
            # correlated EXISTS leaves the planner nothing to drive from but the ORDER BY's index
            if title:
                stmt = stmt.where(exists().where(T.c.id == R.c.id))
            else:
                stmt = stmt.where(exists().where(A.c.id == R.c.id), ~exists().where(T.c.id == R.c.id))
        elif title:
            stmt = stmt.where(R.c.id.in_(select(T.c.id)))
        else:
            stmt = stmt.where(R.c.id.in_(select(A.c.id)), R.c.id.not_in(select(T.c.id)))
        return self.conn.execute(stmt.order_by(*engine.RECENCY).limit(limit).offset(offset)).all()


@contextmanager
def evaluated(conn: Connection, node: Node, filters: Filters | None) -> Iterator[MatchSet]:
    """The matches of `node` (with `filters`) on a SQLite connection, for the time of the block; the
    title tier is evaluated at once, every match when needed (with filters: at once, and the title
    tier is taken from it)."""
    span = conn.execute(select(func.max(ReportRow.__table__.c.id))).scalar_one() or 0
    matches = MatchSet(conn, node, filters, in_title=0, span=span)
    try:
        if filters_mod.is_empty(filters):
            _fill(matches, TITLE, engine.fts5_match(node, title=True))
        else:  # every match is needed for the counts anyway; the title tier is the part of it that is
            matches.evaluate()
            title = _fts_ids(engine.fts5_match(node, title=True)).subquery()
            A = _table(ALL)
            conn.execute(insert(_create(matches, TITLE)).from_select(
                ["id"], select(title.c.rowid).where(exists().where(A.c.id == title.c.rowid))
            ))
        matches.in_title = conn.execute(select(func.count()).select_from(_table(TITLE))).scalar_one()
        yield matches
    finally:
        for name in matches.tables:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


def _create(matches: MatchSet, name: str):
    matches.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
    matches.conn.exec_driver_sql(f"CREATE TEMP TABLE {name} (id INTEGER PRIMARY KEY)")
    if name not in matches.tables:
        matches.tables.append(name)
    return _table(name)


def _fill(matches: MatchSet, name: str, match: str) -> None:
    """The ids the FTS5 expression matches, with the filters applied, into the temp table `name`."""
    target = _create(matches, name)
    if filters_mod.is_empty(matches.filters):
        matches.conn.execute(insert(target).from_select(["id"], _fts_ids(match)))
        return
    found = _create(matches, SCRATCH)
    matches.conn.execute(insert(found).from_select(["id"], _fts_ids(match)))
    matches.conn.execute(insert(target).from_select(["id"], _filtered(matches.conn, found, matches.filters)))
    matches.conn.exec_driver_sql(f"DROP TABLE temp.{SCRATCH}")
    matches.tables.remove(SCRATCH)


def _table(name: str):
    return table(name, column("id"), schema="temp")


def _fts_ids(match: str):
    """The ids (`rowid`) of the reports an FTS5 expression matches, in the index's own order."""
    fts = table("report_fts", column("rowid"))
    return select(fts.c.rowid).where(text("report_fts MATCH :q").bindparams(bindparam("q", match, unique=True)))


def _filtered(conn: Connection, found, filters: Filters):
    """The ids in `found` (a temp table) of reports passing the filters. With many of them, from the
    index of a filter (column, site, dates), checking each of its entries against `found` (the index
    alone answers, no report is read, for one such filter); with few, or with only `contains`
    filters (issuer, document number), by reading each found report."""
    R = ReportRow.__table__
    many = conn.execute(select(func.count()).select_from(found)).scalar_one() > DRIVE_FROM_INDEX_OVER
    if not many:
        return filters_mod.apply(select(R.c.id).where(R.c.id.in_(select(found.c.id))), filters)
    stmt = select(R.c.id).where(exists().where(found.c.id == R.c.id))
    if filters.withdrawn is False:  # nearly every report: an expression its index cannot serve
        stmt = stmt.where(func.coalesce(R.c.withdrawn, False).is_(False))
        filters = replace(filters, withdrawn=None)
    return filters_mod.apply(stmt, filters)
