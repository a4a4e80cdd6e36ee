"""The persistent revisit index: archive.warc's DigestIndex protocol backed by `payload_digests`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from archive.store.models import PayloadDigest


def _original(uri: str, date: str, record_id: str) -> Any:
    try:
        from archive.warc.digests import Original
    except ImportError:  # the WARC side is not there yet: a look-alike with the same fields
        from collections import namedtuple

        Original = namedtuple("Original", "uri date record_id")  # noqa: N806
    return Original(uri, date, record_id)


class StoreDigestIndex:
    """lookup(payload_digest) -> Original | None; add(payload_digest, Original). Cached in memory."""

    def __init__(self, engine: Engine, insert_factory):
        self.engine = engine
        self._insert = insert_factory
        self._cache: dict[str, Any] = {}

    def lookup(self, payload_digest: str):
        hit = self._cache.get(payload_digest)
        if hit is not None:
            return hit
        with self.engine.connect() as conn:
            row = conn.execute(
                select(PayloadDigest.__table__).where(PayloadDigest.digest == payload_digest)
            ).first()
        if row is None:
            return None
        hit = self._cache[payload_digest] = _original(row.uri, row.date, row.record_id)
        return hit

    def add(self, payload_digest: str, original) -> None:
        """Remember the first record with this digest (a later add of the same digest is ignored)."""
        if payload_digest in self._cache:
            return
        stmt = self._insert(PayloadDigest.__table__).on_conflict_do_nothing(index_elements=["digest"])
        with self.engine.begin() as conn:
            conn.execute(
                stmt,
                {
                    "digest": payload_digest,
                    "uri": original.uri,
                    "date": original.date,
                    "record_id": original.record_id,
                },
            )
        self._cache[payload_digest] = original

    def __contains__(self, payload_digest: str) -> bool:
        return self.lookup(payload_digest) is not None
