"""Timestamps in one format everywhere: ISO 8601 UTC to the second, `2024-02-29T09:30:00+00:00`.

Fetch times, first/last seen, withdrawals and runs are compared as strings (and across a crawl and a
reprocess of its WARCs), so they must all be written the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


def iso_utc(value: datetime | str) -> str:
    """`value` (a datetime, or an ISO / WARC-Date string such as `2024-02-29T09:30:00.905322Z`) in the
    one format; a naive datetime is taken as UTC. A string that is no timestamp raises ValueError."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")
