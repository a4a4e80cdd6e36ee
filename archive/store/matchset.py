"""A query's matches evaluated at most once per tier (SQLite), for a page of results, its total and facets.

The full-text match is the costly part of a search page (a phrase of seven common bigrams compares
seven long position lists: 60-70 ms at 100k reports), and a page needs it for the hits, the total and
the facets. Here each tier's match of a query without filters runs once, into a temporary table of ids:

- the title tier first; a page inside it is read from that table, and then the total and the facet
  sample come from the full-text index in its own order, which stops early: the FACET_SAMPLE highest
  ids (the most recently archived matches) and a count that stops past COUNT_CAP;
- a page reaching past the title tier evaluates every match into a second table: the total is its
  size, the facet sample its highest ids, the other matches its complement. Every match includes the
  reports whose attachments' text matches (`file_fts`): when any does, the second table is filled at once.

(Filtered searches take the engine's own queries, `browse._tiered`: reading tens of thousands of
matches to apply a filter cost more than the engine's joins, measured with bench/web.py.)

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
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, column, exists, func, insert, select, table, text

from archive.store import search as engine
from archive.store.models import ReportRow
from archive.store.query import Node

ALL, TITLE = "ga_match_all", "ga_match_title"
# Walking the recency index costs a step per report passed; looking a table up by id and sorting
# it, a step (dearer: a row read) per id. Walk when the expected steps are fewer than this many
# times the table's size.
WALK_FACTOR = 4


@dataclass
class MatchSet:
    """The matches of one query on one connection. `in_title`: the size of the title tier; `total`:
    of every match, once evaluated (None before); `span`: the highest report id (how long a walk of
    the whole recency index is)."""

    conn: Connection
    node: Node
    in_title: int
    span: int
    in_files: bool = False  # some attachment's text matches: the full-text index alone is not every match
    total: int | None = None
    tables: list[str] = field(default_factory=list)

    def hits(self, limit: int, offset: int) -> list[engine.Hit]:
        """Hits offset..offset+limit in the engine's order: the title tier, then the rest; every
        match is evaluated only when the page reaches past the title tier."""
        rows = []
        if offset < self.in_title:
            rows = [engine._hit(r, engine.TITLE_SCORE) for r in self._newest(True, limit, offset)]
        if len(rows) < limit:
            self.evaluate()
        take, skip = limit - len(rows), max(0, offset - self.in_title)
        if take > 0 and self.total is not None and self.total > self.in_title:
            rows += [engine._hit(r, engine.TEXT_SCORE) for r in self._newest(False, take, skip)]
        return rows

    def evaluate(self) -> None:
        """Every match into the ALL table; `total` is then exact."""
        if self.total is None:
            self.conn.execute(insert(_create(self, ALL)).from_select(["id"], engine.match_ids(self.conn, self.node)))
            self.total = self.conn.execute(select(func.count()).select_from(_table(ALL))).scalar_one()

    def sample(self, size: int):
        """A select over `reports` of the `size` most recently archived matches (highest ids)."""
        R = ReportRow.__table__
        if self.in_files:
            self.evaluate()
        if self.total is not None:
            A = _table(ALL)
            return select(R.c.id).where(R.c.id.in_(select(A.c.id).order_by(A.c.id.desc()).limit(size)))
        newest = _fts_ids(engine.fts5_match(self.node)).order_by(text("rowid DESC")).limit(size)
        return select(R.c.id).where(R.c.id.in_(newest))

    def count_upto(self, cap: int) -> int:
        """The number of matches, or cap + 1 if there are more than cap."""
        if self.in_files:
            self.evaluate()
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
def evaluated(conn: Connection, node: Node) -> Iterator[MatchSet]:
    """The matches of `node` on a SQLite connection, for the time of the block; the title tier is
    evaluated at once, every match when needed."""
    span = conn.execute(select(func.max(ReportRow.__table__.c.id))).scalar_one() or 0
    files = table("file_fts", column("rowid"))
    in_files = conn.execute(select(files.c.rowid).where(text("file_fts MATCH :q").bindparams(
        bindparam("q", engine.fts5_match(node), unique=True))).limit(1)).first() is not None
    matches = MatchSet(conn, node, in_title=0, span=span, in_files=in_files)
    try:
        _fill(matches, TITLE, engine.fts5_match(node, title=True))
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
    """The ids the FTS5 expression matches into the temp table `name`."""
    matches.conn.execute(insert(_create(matches, name)).from_select(["id"], _fts_ids(match)))


def _table(name: str):
    return table(name, column("id"), schema="temp")


def _fts_ids(match: str):
    """The ids (`rowid`) of the reports an FTS5 expression matches, in the index's own order."""
    fts = table("report_fts", column("rowid"))
    return select(fts.c.rowid).where(text("report_fts MATCH :q").bindparams(bindparam("q", match, unique=True)))
