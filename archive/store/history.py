"""A report's history: its versions, what changed between two of them, and withdrawals.

Versions are never deleted. A withdrawal (the page answers 404/410, or now shows a "该信息已撤销"
notice) only sets the report's `withdrawn` flag with the date it was seen and the reason.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from archive.report import Report, WarcRef
from archive.store.models import ReportRow, ReportVersionRow

DIFF_FIELDS = ("title", "publish_time", "source", "column")


@dataclass
class ReportVersion:
    """One stored content of a report and the fetch it came from."""

    version: int
    content_hash: str
    fetched_at: str | None
    status: int | None
    run_id: int | None
    warc: WarcRef | None
    report: Report
    reason: str | None = None  # new | changed | re-extracted

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "content_hash": self.content_hash,
            "fetched_at": self.fetched_at,
            "status": self.status,
            "run_id": self.run_id,
            "reason": self.reason,
            "warc": None if self.warc is None else vars(self.warc).copy(),
            "title": self.report.title,
        }


def version_from_row(row) -> ReportVersion:
    """A ReportVersion from a report_versions row (mapping with the table's columns)."""
    warc = None
    if row.warc_filename:
        warc = WarcRef(row.warc_filename, row.warc_offset, row.warc_length, row.warc_record_id)
    report = Report.from_dict(json.loads(row.data))
    report.version, report.fetched_at, report.status, report.warc = (
        row.version,
        row.fetched_at,
        row.status,
        warc,
    )
    return ReportVersion(row.version, row.content_hash, row.fetched_at, row.status, row.run_id, warc, report,
                         row.reason)


def list_versions(conn: Connection, report_id: int) -> list[ReportVersion]:
    """Every version of a report, oldest first."""
    rows = conn.execute(
        select(ReportVersionRow.__table__)
        .where(ReportVersionRow.report_id == report_id)
        .order_by(ReportVersionRow.version)
    )
    return [version_from_row(r) for r in rows]


def diff(old: ReportVersion, new: ReportVersion) -> str:
    """What changed: one line per changed field, then a unified diff of the body text."""
    a, b = old.report, new.report
    lines = []
    for name in DIFF_FIELDS:
        if getattr(a, name) != getattr(b, name):
            lines.append(f"{name}: {getattr(a, name)!r} -> {getattr(b, name)!r}")
    for name, va in vars(a.metadata).items():
        vb = getattr(b.metadata, name)
        if va != vb:
            lines.append(f"metadata.{name}: {va!r} -> {vb!r}")
    att_a = [(x.url, x.name) for x in a.attachments]
    att_b = [(x.url, x.name) for x in b.attachments]
    if att_a != att_b:
        for url, name in sorted(set(att_a) - set(att_b)):
            lines.append(f"attachment removed: {name or ''} {url}".replace("  ", " "))
        for url, name in sorted(set(att_b) - set(att_a)):
            lines.append(f"attachment added: {name or ''} {url}".replace("  ", " "))
    body = list(
        difflib.unified_diff(
            (a.body_text or "").splitlines(),
            (b.body_text or "").splitlines(),
            fromfile=f"version {old.version} ({old.fetched_at or '?'})",
            tofile=f"version {new.version} ({new.fetched_at or '?'})",
            lineterm="",
        )
    )
    if not lines and not body:
        return "no differences in the cleaned content\n"
    return "\n".join(lines + ([""] if lines and body else []) + body) + "\n"


def mark_withdrawn(conn: Connection, url: str, seen_at: str, reason: str) -> bool:
    """Flag a known report as withdrawn (first sighting's date is kept). False for an unknown URL."""
    r = ReportRow
    found = conn.execute(select(r.id, r.withdrawn).where(r.url == url)).first()
    if found is None:
        return False
    if not found.withdrawn:
        conn.execute(
            update(r)
            .where(r.id == found.id)
            .values(withdrawn=True, withdrawn_at=seen_at, withdrawn_reason=reason)
        )
    return True
