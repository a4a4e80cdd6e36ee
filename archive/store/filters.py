"""Filters shared by search and export: which reports a user is asking about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_

from archive.identity import doc_number_query
from archive.store.models import ReportRow


@dataclass
class Filters:
    """site and column match exactly; issuer and doc_number match a part (`国办发` finds
    `国办发〔2024〕12号`; a 文号 matches however it is written: `[2024]12号` finds it too); since/until are inclusive dates (YYYY-MM-DD, or YYYY / YYYY-MM) on the
    publish date; withdrawn None means both."""

    site: str | None = None
    column: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    since: str | None = None
    until: str | None = None
    withdrawn: bool | None = None

    def __post_init__(self) -> None:
        self.since = normalise_date(self.since, end=False)
        self.until = normalise_date(self.until, end=True)


def normalise_date(value: str | date | None, *, end: bool) -> str | None:
    """`2024` → 2024-01-01 (or 2024-12-31 as an end), `2024-3` → 2024-03-01; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    m = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?", value.strip())
    if not m:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD, YYYY-MM or YYYY)")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    if mo is None:
        return f"{y:04d}-12-31" if end else f"{y:04d}-01-01"
    if d is None:
        if end:
            nxt = date(y + (int(mo) == 12), int(mo) % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1).isoformat()
        return date(y, int(mo), 1).isoformat()
    return date(y, int(mo), int(d)).isoformat()


def is_empty(f: Filters | None) -> bool:
    """True when `f` asks for nothing: every report passes."""
    return f is None or all(getattr(f, name) is None for name in f.__dataclass_fields__)


def _contains(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def apply(stmt: Select, f: Filters | None) -> Select:
    """Add the filters to a select over `reports`; every value is a bound parameter."""
    if f is None:
        return stmt
    r = ReportRow
    if f.site:
        stmt = stmt.where(r.site == f.site.lower())
    if f.column:
        stmt = stmt.where(r.column == f.column)
    if f.issuer:
        stmt = stmt.where(r.issuer.like(_contains(f.issuer), escape="\\"))
    if f.doc_number:  # as written, or in any writing: the canonical forms (archive.identity)
        stmt = stmt.where(or_(r.doc_number.like(_contains(f.doc_number), escape="\\"),
                              r.doc_number_key.like(_contains(doc_number_query(f.doc_number)), escape="\\")))
    if f.since:
        stmt = stmt.where(r.publish_date >= f.since)
    if f.until:
        stmt = stmt.where(r.publish_date <= f.until)
    if f.withdrawn is not None:
        stmt = stmt.where(r.withdrawn.is_(f.withdrawn))
    return stmt
