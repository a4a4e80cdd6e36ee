"""What the store knows of documents already archived, for incremental crawls: where each one's last
capture is (its validators and bytes are in that WARC record), how old it is and when it was last seen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from archive.report import WarcRef
from archive.store.models import FileRow, ReportRow, ReportVersionRow


@dataclass(frozen=True)
class Known:
    url: str
    ref: WarcRef | None  # the response record of the current version (report) or of the file
    publish_date: str | None  # YYYY-MM-DD (reports only)
    last_seen: str | None  # ISO UTC: when the document was last fetched (or confirmed unchanged)


def known_documents(conn: Connection) -> dict[str, Known]:
    """URL -> what is known of every stored report (not withdrawn) and fetched attachment."""
    R, V, F = ReportRow.__table__, ReportVersionRow.__table__, FileRow.__table__
    found: dict[str, Known] = {}
    stmt = (select(R.c.url, R.c.publish_date, R.c.last_seen, V.c.warc_filename, V.c.warc_offset, V.c.warc_length,
                   V.c.warc_record_id)
            .join(V, and_(V.c.report_id == R.c.id, V.c.version == R.c.version))
            .where(R.c.withdrawn.is_(False)))
    for row in conn.execute(stmt):
        found[row.url] = Known(row.url, _ref(row), row.publish_date, row.last_seen)
    for row in conn.execute(select(F.c.url, F.c.fetched_at, F.c.warc_filename, F.c.warc_offset, F.c.warc_length,
                                   F.c.warc_record_id)):
        found.setdefault(row.url, Known(row.url, _ref(row), None, row.fetched_at))
    return found


def _ref(row) -> WarcRef | None:
    if not row.warc_filename or row.warc_offset is None:
        return None
    return WarcRef(row.warc_filename, row.warc_offset, row.warc_length or 0, row.warc_record_id or "")
