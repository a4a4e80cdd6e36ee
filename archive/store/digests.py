"""The persistent revisit index: archive.warc's DigestIndex protocol backed by `payload_digests`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam, select

from archive.store.models import PayloadDigest


def _original(uri: str, date: str, record_id: str) -> Any:
    try:
        from archive.warc.digests import Original
    except ImportError:  # the WARC side is not there yet: a look-alike with the same fields
        from collections import namedtuple

        Original = namedtuple("Original", "uri date record_id")  # noqa: N806
    return Original(uri, date, record_id)


_table = PayloadDigest.__table__
# Built once: on the hot path, building and caching a statement per lookup cost more than running it.
_LOOKUP = select(_table.c.uri, _table.c.date, _table.c.record_id).where(_table.c.digest == bindparam("digest"))


class StoreDigestIndex:
    """lookup(payload_digest) -> Original | None; add(payload_digest, Original).

    On the crawl's hot path (one lookup per response), so new digests are kept in memory and written
    in batches of `FLUSH_EVERY`, and lookups reuse one connection. A crash loses at most the unflushed
    batch: the next crawl then writes full responses where it could have written revisits, never wrong ones.
    The lookup connection is in autocommit mode: each lookup reads the latest rows and holds no snapshot.
    """

    FLUSH_EVERY = 200

    def __init__(self, engine: Engine, insert_factory):
        self.engine = engine
        self._insert = insert_factory
        self._cache: dict[str, Any] = {}
        self._pending: dict[str, Any] = {}
        self._conn = None

    def lookup(self, payload_digest: str):
        hit = self._cache.get(payload_digest)
        if hit is not None:
            return hit
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        row = self._conn.execute(_LOOKUP, {"digest": payload_digest}).first()
        if row is None:
            return None
        hit = self._cache[payload_digest] = _original(row.uri, row.date, row.record_id)
        return hit

    def add(self, payload_digest: str, original) -> None:
        """Remember the first record with this digest (a later add of the same digest is ignored)."""
        if payload_digest in self._cache:
            return
        self._cache[payload_digest] = self._pending[payload_digest] = original
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
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __contains__(self, payload_digest: str) -> bool:
        return self.lookup(payload_digest) is not None
