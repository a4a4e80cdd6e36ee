"""Crawl runs as an operator sees them, crash detection, and the per-site lock of scheduled crawls.

A run row is written when a crawl starts (status "running", the process id and host, a heartbeat the
crawl refreshes) and completed when it ends (finished / interrupted / failed, with its summary). A
process killed with `kill -9`, or a machine that lost power, never completes its row: the next run
marks it "crashed" when its process is gone (same host) or its heartbeat is older than the stale
limit (another host, or a pid reused by another program).

A site lock is a row per site with an expiry: taken by inserting it (the primary key makes two takers
impossible), renewed by its holder while its crawl runs, and taken over when it expired or its holder
process is gone.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from archive.clock import iso_utc
from archive.store.models import CrawlRun, SiteLock
from archive.urls import site_of

RUNNING = "running"
CRASHED = "crashed"


def this_host() -> str:
    return socket.gethostname()


def process_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this machine (one we may not signal still counts)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _iso(moment: datetime) -> str:
    return iso_utc(moment)


def holder_gone(pid: int | None, host: str | None, heartbeat: str | None, now: datetime, stale: float) -> bool:
    """A run or lock whose process is dead: gone from this host, or silent for longer than `stale` seconds."""
    if host == this_host() and not process_alive(pid):
        return True
    if heartbeat is None:
        return host != this_host()
    try:
        last = datetime.fromisoformat(heartbeat)
    except ValueError:
        return True
    return (now - last).total_seconds() > stale


def mark_crashed(conn: Connection, now: datetime, stale_seconds: float) -> list[int]:
    """Mark every unfinished run whose process died as crashed; their ids."""
    C = CrawlRun.__table__
    rows = conn.execute(select(C.c.id, C.c.pid, C.c.host, C.c.heartbeat_at, C.c.started_at)
                        .where(C.c.finished_at.is_(None), (C.c.status.is_(None)) | (C.c.status == RUNNING))).all()
    crashed = [r.id for r in rows
               if holder_gone(r.pid, r.host, r.heartbeat_at or r.started_at, now, stale_seconds)]
    if crashed:
        conn.execute(update(C).where(C.c.id.in_(crashed)).values(status=CRASHED))
    return crashed


@dataclass
class RunInfo:
    """One crawl run as `govarchive runs` shows it."""

    id: int
    site: str | None
    start_urls: list[str]
    started_at: str
    finished_at: str | None
    last_seen: str | None  # the last heartbeat (for a crashed run: about when it died)
    outcome: str
    summary: dict
    resumes: int | None

    def as_dict(self) -> dict:
        s = self.summary
        return {
            "id": self.id, "site": self.site, "start_urls": self.start_urls, "started_at": self.started_at,
            "finished_at": self.finished_at, "last_seen": self.last_seen, "outcome": self.outcome,
            "finish_reason": s.get("finish_reason"), "resumes": self.resumes,
            "pages": s.get("pages", 0), "reports_new": s.get("reports_new", 0),
            "reports_changed": s.get("reports_changed", 0), "reports_unchanged": s.get("reports_unchanged", 0),
            "failures": s.get("failures", {}), "requests": s.get("requests", 0), "bytes": s.get("bytes", 0),
            "not_modified": s.get("not_modified", 0), "not_due": s.get("not_due", 0),
            "from_archive": s.get("from_archive", 0),
            "warc_files": s.get("warc_files", []), "warc_bytes": s.get("warc_bytes", 0),
        }


def list_runs(conn: Connection, *, site: str | None = None, limit: int | None = None) -> list[RunInfo]:
    """Crawl runs, newest first; `site` matches the profile name or a start URL's host."""
    C = CrawlRun.__table__
    stmt = select(C).order_by(C.c.id.desc())
    out: list[RunInfo] = []
    for row in conn.execute(stmt):
        urls = json.loads(row.start_urls or "[]")
        if site and not _matches(site, row.site, urls):
            continue
        summary = json.loads(row.summary) if row.summary else {}
        if row.status and row.status != RUNNING:
            outcome = row.status
        elif row.finished_at is not None:
            outcome = summary.get("status") or "finished"
        else:
            outcome = RUNNING
        out.append(RunInfo(row.id, row.site, urls, row.started_at, row.finished_at, row.heartbeat_at, outcome,
                           summary, row.resumes))
        if limit is not None and len(out) >= limit:
            break
    return out


def _matches(site: str, name: str | None, urls: list[str]) -> bool:
    wanted = site.strip().lower()
    names = [n.strip().lower() for n in (name or "").split(",")]
    return wanted in names or any(site_of(u) == wanted for u in urls)


def last_run(conn: Connection, site: str, status: str | None = None) -> RunInfo | None:
    """The newest run of a site profile (with that outcome, if given)."""
    for run in list_runs(conn, site=site):
        if status is None or run.outcome == status:
            return run
    return None


# --- site locks -----------------------------------------------------------------------------------


def acquire_lock(conn: Connection, site: str, lease_seconds: float, now: datetime) -> bool:
    """Take the lock of `site` for this process, taking over an expired one or one whose holder died."""
    L = SiteLock.__table__
    row = conn.execute(select(L).where(L.c.site == site)).first()
    if row is not None:
        expired = datetime.fromisoformat(row.expires_at) <= now
        dead = row.host == this_host() and not process_alive(row.pid)
        if not (expired or dead):
            return False
        conn.execute(delete(L).where(L.c.site == site, L.c.pid == row.pid, L.c.host == row.host,
                                     L.c.expires_at == row.expires_at))
    # a concurrent taker makes this an IntegrityError, which the caller's transaction turns into False
    conn.execute(insert(L).values(site=site, pid=os.getpid(), host=this_host(), acquired_at=_iso(now),
                                  expires_at=_iso(now + timedelta(seconds=lease_seconds))))
    return True


def renew_lock(conn: Connection, site: str, lease_seconds: float, now: datetime) -> bool:
    """Extend our lease; False when the lock is no longer ours."""
    L = SiteLock.__table__
    result = conn.execute(update(L).where(L.c.site == site, L.c.pid == os.getpid(), L.c.host == this_host())
                          .values(expires_at=_iso(now + timedelta(seconds=lease_seconds))))
    return bool(result.rowcount)


def release_lock(conn: Connection, site: str) -> None:
    L = SiteLock.__table__
    conn.execute(delete(L).where(L.c.site == site, L.c.pid == os.getpid(), L.c.host == this_host()))


def utcnow() -> datetime:
    return datetime.now(UTC)
