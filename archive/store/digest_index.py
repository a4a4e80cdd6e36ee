"""The persistent revisit index: archive.warc's DigestIndex protocol backed by `payload_digests`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from archive.store.models import PayloadDigest
from archive.warc.digests import Original

_table = PayloadDigest.__table__
# The driver's placeholder for one positional parameter, by DB-API paramstyle.
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1", "named": ":digest"}


class StoreDigestIndex:
    """lookup(payload_digest) -> Original | None; add(payload_digest, Original).

    On the crawl's hot path (one lookup per response), so new digests are kept in memory and written
    in batches of `FLUSH_EVERY`, and lookups reuse one connection. A crash loses at most the unflushed
    batch: the next crawl then writes full responses where it could have written revisits, never wrong ones.
    Lookups run on the driver's own cursor of one autocommit connection (each reads the latest rows and
    holds no snapshot): through SQLAlchemy's execution layer a lookup cost ten times the query itself.
    """

    FLUSH_EVERY = 200
    # Digests kept in memory, newest first to stay: a long crawl's memory must not grow with the site.
    # An evicted digest is looked up in the table again; one not yet flushed is still in `_pending`.
    CACHE_MAX = 100_000

    def __init__(self, engine: Engine, insert_factory):
        self.engine = engine
        self._insert = insert_factory
        self._cache: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}
        self._conn = None
        self._cursor = None
        self._named = engine.dialect.paramstyle == "named"
        placeholder = _PLACEHOLDERS[engine.dialect.paramstyle]
        self._sql = f"SELECT uri, date, record_id FROM {_table.name} WHERE digest = {placeholder}"

    def lookup(self, payload_digest: str):
        hit = self._cache.get(payload_digest) or self._pending.get(payload_digest)
        if hit is not None:
            return hit
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self._cursor is None:
            self._cursor = self._conn.connection.dbapi_connection.cursor()
        self._cursor.execute(self._sql, {"digest": payload_digest} if self._named else (payload_digest,))
        row = self._cursor.fetchone()
        if row is None:
            return None
        hit = Original(*row)
        self._keep(payload_digest, hit)
        return hit

    def _keep(self, payload_digest: str, original) -> None:
        self._cache[payload_digest] = original
        if len(self._cache) > self.CACHE_MAX:
            del self._cache[next(iter(self._cache))]  # the oldest: dicts keep insertion order

    def add(self, payload_digest: str, original) -> None:
        """Remember the first record with this digest (a later add of the same digest is ignored)."""
        if payload_digest in self._cache or payload_digest in self._pending:
            return
        self._pending[payload_digest] = original
        self._keep(payload_digest, original)
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the digests added since the last flush (first capture wins across concurrent crawls)."""
        if not self._pending:
            return
        rows = [
            {"digest": digest, "uri": o.uri, "date": o.date, "record_id": o.record_id}
            for digest, o in self._pending.items()
        ]
        stmt = self._insert(_table).on_conflict_do_nothing(index_elements=["digest"])
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __contains__(self, payload_digest: str) -> bool:
        return self.lookup(payload_digest) is not None
