"""The Store facade: everything the crawler, the CLI and the tools keep or ask for.

Writes use SQLAlchemy Core in one transaction per call (per batch for reports, see `saving`):
two crawls writing into one PostgreSQL database never duplicate a report or a version, and a
batch that loses a race is retried.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from archive.clock import iso_utc, now_iso
from archive.filetext import FileText
from archive.report import Report, WarcRef
from archive.store import documents, export, history, runs, saving, search_index
from archive.store.digest_index import StoreDigestIndex
from archive.store.engine import StoreError, make_engine, open_engine
from archive.store.filters import Filters
from archive.store.models import (
    Capture,
    CrawlRun,
    Failure,
    FileRow,
    ReportRow,
    ReportVersionRow,
)
from archive.store.saving import warc_cols
from archive.store.stored import StoredReport, merge_file_facts, stored_from_row

log = logging.getLogger(__name__)

RETRIES = 5  # a batch that collides with a concurrent writer (unique version, deadlock) is redone


class Store:
    """A govarchive database at any SQLAlchemy URL (SQLite file or PostgreSQL)."""

    def __init__(self, db_url: str, *, create: bool = True):
        """Open (with `create`, also create) the database; `created` says whether its schema was new.

        `create=False` is for commands that only read: a database that does not exist or has no
        govarchive schema is a StoreError naming the URL, and no file or directory is created."""
        self.db_url = db_url
        self.engine, self.created = open_engine(db_url, create=create)
        # SQLite readers use deferred transactions so they never wait behind a writer (WAL)
        sqlite_db = self.engine.dialect.name == "sqlite"
        self.read_engine = make_engine(db_url, writer=False, create=create) if sqlite_db else self.engine
        self._digests: StoreDigestIndex | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        if self._digests is not None:
            self._digests.close()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _insert(self, table):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # --- crawl runs, captures, files, failures ---------------------------------------------------

    def start_run(self, start_urls: list[str], site: str | None = None, settings: dict | None = None,
                  *, resumes: int | None = None) -> int:
        """Record the start of a crawl (this process, running); returns its run id."""
        import os

        started = now_iso()
        values = {
            "start_urls": json.dumps(list(start_urls), ensure_ascii=False),
            "site": site,
            "settings": json.dumps(settings or {}, ensure_ascii=False, default=str),
            "started_at": started,
            "status": runs.RUNNING,
            "pid": os.getpid(),
            "host": runs.this_host(),
            "heartbeat_at": started,
            "resumes": resumes,
        }
        with self.engine.begin() as conn:
            return conn.execute(insert(CrawlRun).values(values).returning(CrawlRun.id)).scalar_one()

    def finish_run(self, run_id: int, summary: dict) -> None:
        """Record the end of a crawl with its summary (counts, failures by kind, WARC files, seconds)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(finished_at=now_iso(), status=summary.get("status") or "finished", heartbeat_at=now_iso(),
                        summary=json.dumps(summary, ensure_ascii=False, default=str))
            )

    def heartbeat(self, run_id: int) -> None:
        """The crawl of this run is alive (its row is not a crash while this keeps being called)."""
        with self.engine.begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(heartbeat_at=now_iso()))

    def mark_crashed_runs(self, stale_seconds: float) -> list[int]:
        """Mark unfinished runs whose process died as crashed (archive.store.runs); their ids."""
        with self.engine.begin() as conn:
            return runs.mark_crashed(conn, runs.utcnow(), stale_seconds)

    def list_runs(self, *, site: str | None = None, limit: int | None = None) -> list[runs.RunInfo]:
        """Crawl runs, newest first (`site`: a profile name or a start URL's host)."""
        with self.read_engine.connect() as conn:
            return runs.list_runs(conn, site=site, limit=limit)

    def last_run(self, site: str, status: str | None = None) -> runs.RunInfo | None:
        """The newest run of a site profile (with that outcome, if given)."""
        with self.read_engine.connect() as conn:
            return runs.last_run(conn, site, status)

    def acquire_site_lock(self, site: str, lease_seconds: float) -> bool:
        """Take the crawl lock of a site (False: another live process holds it)."""
        try:
            with self.engine.begin() as conn:
                return runs.acquire_lock(conn, site, lease_seconds, runs.utcnow())
        except IntegrityError:
            return False

    def renew_site_lock(self, site: str, lease_seconds: float) -> bool:
        with self.engine.begin() as conn:
            return runs.renew_lock(conn, site, lease_seconds, runs.utcnow())

    def release_site_lock(self, site: str) -> None:
        with self.engine.begin() as conn:
            runs.release_lock(conn, site)

    def get_run(self, run_id: int) -> dict | None:
        with self.read_engine.connect() as conn:
            row = conn.execute(select(CrawlRun.__table__).where(CrawlRun.id == run_id)).first()
        if row is None:
            return None
        out = dict(row._mapping)
        for key in ("start_urls", "settings", "summary"):
            out[key] = json.loads(out[key]) if out[key] else None
        return out

    def save_file(
        self,
        url: str,
        *,
        content_type: str | None,
        size: int | None,
        sha256: str | None,
        ref: WarcRef | None,
        run_id: int | None,
        fetched_at: str | None = None,
    ) -> None:
        """Record a fetched attachment by URL (the newest fetch wins)."""
        self.save_files([{"url": url, "content_type": content_type, "size": size, "sha256": sha256, "ref": ref,
                          "run_id": run_id, "fetched_at": fetched_at}])

    def save_files(self, files: Iterable[dict]) -> None:
        """Batch form of save_file, one transaction: dicts with url, content_type, size, sha256, ref, run_id
        and fetched_at (default: now)."""
        now = now_iso()
        texts: dict[str, FileText | None] = {}
        rows = {}
        for f in files:
            found = texts[f["url"]] = f.get("text")
            rows[f["url"]] = {
                "url": f["url"],
                "content_type": f.get("content_type"),
                "size": f.get("size"),
                "sha256": f.get("sha256"),
                "fetched_at": iso_utc(f["fetched_at"]) if f.get("fetched_at") else now,
                "run_id": f.get("run_id"),
                **warc_cols(f.get("ref")),
                "text_status": found.status if found else None,
                "text_length": found.length if found else None,
                "text": (found.text or None) if found else None,
            }
        if not rows:
            return
        F = FileRow.__table__
        stmt = self._insert(F)
        columns = next(iter(rows.values())).keys()
        stmt = stmt.on_conflict_do_update(
            index_elements=["url"], set_={c: stmt.excluded[c] for c in columns if c != "url"}
        ).returning(F.c.id, F.c.url)
        with self.engine.begin() as conn:
            ids = {row.url: row.id for row in conn.execute(stmt, list(rows.values()))}
            search_index.write_files(conn, [(ids[url], texts[url]) for url in sorted(ids)])
            documents.link_files(conn, sorted(ids))

    def record_capture(
        self, url: str, *, status: int | None, ref: WarcRef | None, run_id: int | None, kind: str
    ) -> None:
        """Record one WARC response record (page, list, robots.txt, file, error page …)."""
        self.record_captures([{"url": url, "status": status, "ref": ref, "run_id": run_id, "kind": kind}])

    def record_captures(self, captures: Iterable[dict]) -> None:
        """Batch form of record_capture: dicts with url, status, ref, run_id, kind."""
        at = now_iso()
        rows = [
            {
                "url": c["url"],
                "status": c.get("status"),
                "run_id": c.get("run_id"),
                "kind": c["kind"],
                "captured_at": at,
                **warc_cols(c.get("ref")),
            }
            for c in captures
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(Capture), rows)

    def record_failure(self, run_id: int | None, url: str, kind: str, detail: str) -> None:
        """Record a permanent failure (http_404, timeout, extraction, antibot …)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(Failure).values(run_id=run_id, url=url, kind=kind, detail=detail, failed_at=now_iso())
            )

    def failures(self, run_id: int | None = None) -> list[dict]:
        stmt = select(Failure.__table__).order_by(Failure.id)
        if run_id is not None:
            stmt = stmt.where(Failure.run_id == run_id)
        with self.read_engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def captures(self, run_id: int | None = None) -> list[dict]:
        stmt = select(Capture.__table__).order_by(Capture.id)
        if run_id is not None:
            stmt = stmt.where(Capture.run_id == run_id)
        with self.read_engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def digest_index(self) -> StoreDigestIndex:
        """The persistent revisit index (archive.warc's DigestIndex protocol), shared by all crawls."""
        if self._digests is None:
            self._digests = StoreDigestIndex(self.engine, self._insert)
        return self._digests

    # --- reports -------------------------------------------------------------------------------

    def save_reports(self, reports: list[Report], run_id: int | None = None) -> list[str]:
        """Store a batch in one transaction; per report "new", "changed" or "unchanged".

        A new version is stored only when the cleaned content (content_hash) changes; an unchanged
        refetch only moves last_seen. (A withdrawal notice is no report: `mark_withdrawn` records it.)
        """
        if not reports:
            return []
        for r in reports:
            if not r.url:
                raise ValueError(f"cannot store a report with no URL (title {r.title!r})")
        for attempt in range(RETRIES):
            try:
                with self.engine.begin() as conn:
                    return saving.save_batch(conn, reports, run_id)
            except (IntegrityError, DBAPIError) as exc:
                if attempt == RETRIES - 1 or not saving.retryable(exc):
                    raise
                log.info("save_reports: concurrent writer, retrying batch (%s)", exc.__class__.__name__)
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def mark_withdrawn(self, url: str, seen_at: str | None = None, reason: str = "withdrawn") -> bool:
        """Flag a known report as withdrawn (never deleted); False if the URL is not a stored report."""
        with self.engine.begin() as conn:
            return history.mark_withdrawn(conn, url, iso_utc(seen_at) if seen_at else now_iso(), reason)

    # --- reading -------------------------------------------------------------------------------

    def _find(self, conn: Connection, id_or_url: int | str):
        R = ReportRow.__table__
        key = str(id_or_url).strip()
        cond = R.c.id == int(key) if key.isdigit() else R.c.url == key
        return conn.execute(select(R).where(cond)).first()

    def get_record(self, id_or_url: int | str) -> StoredReport | None:
        """The current version of a report with its state, or None."""
        with self.read_engine.connect() as conn:
            row = self._find(conn, id_or_url)
            if row is None:
                return None
            vrow = conn.execute(
                select(ReportVersionRow.__table__).where(
                    ReportVersionRow.report_id == row.id, ReportVersionRow.version == row.version
                )
            ).first()
            report = history.version_from_row(vrow).report
            merge_file_facts(conn, [report])
            record = stored_from_row(row, report)
            record.published_elsewhere = documents.published_elsewhere(conn, row.id, record.document_id)
        return record

    def get_report(self, id_or_url: int | str) -> Report | None:
        """The current version of a report (by id or URL), attachments merged with file facts."""
        rec = self.get_record(id_or_url)
        return None if rec is None else rec.report

    def versions(self, id_or_url: int | str) -> list[history.ReportVersion]:
        """Every stored version of a report, oldest first ([] for an unknown report)."""
        with self.read_engine.connect() as conn:
            row = self._find(conn, id_or_url)
            return [] if row is None else history.list_versions(conn, row.id)

    def diff(self, id_or_url: int | str, v1: int | None = None, v2: int | None = None) -> str:
        """Unified diff between two versions (default: the last two)."""
        versions = {v.version: v for v in self.versions(id_or_url)}
        if not versions:
            raise StoreError(f"no report {id_or_url!r} in the database")
        if v1 is None and v2 is None:
            nums = sorted(versions)
            if len(nums) < 2:
                raise StoreError(f"report {id_or_url!r} has only one version: nothing to compare")
            v1, v2 = nums[-2], nums[-1]
        for v in (v1, v2):
            if v not in versions:
                raise StoreError(f"report {id_or_url!r} has no version {v} (versions: {sorted(versions)})")
        return history.diff(versions[v1], versions[v2])

    def search(self, query: str, filters: Filters | None = None, limit: int = 20, *,
               distinct_documents: bool = False):
        """Full-text search (see archive.store.search); raises QueryError for an unusable query."""
        from archive.store.search import search

        with self.read_engine.connect() as conn:
            return search(conn, query, filters, limit, distinct_documents=distinct_documents)

    def count_hits(self, query: str, filters: Filters | None = None, *, distinct_documents: bool = False) -> int:
        """How many reports (or documents) match the query (all, not only the ones `search` returns)."""
        from archive.store.search import count

        with self.read_engine.connect() as conn:
            return count(conn, query, filters, distinct_documents=distinct_documents)

    def iter_records(self, filters: Filters | None = None, *, batch: int = 500) -> Iterator[StoredReport]:
        """Every matching report in id order, streamed with a server-side cursor."""
        return export.iter_records(self.read_engine, filters, batch=batch)

    def iter_reports(self, filters: Filters | None = None) -> Iterator[Report]:
        """Every matching report (current version), streamed in constant memory."""
        return (rec.report for rec in self.iter_records(filters))

    def rebuild_search_index(self, batch: int = 1000) -> int:
        """Re-index every report's current version (after a tokenizer change); returns the count.

        Needed because the SQLite index is contentless: removing a row takes the tokens it was
        indexed with, so the index must always match the tokenizer in use."""
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("INSERT INTO report_fts (report_fts) VALUES ('delete-all')")
            else:
                conn.exec_driver_sql("DELETE FROM report_search")
            F = FileRow.__table__
            files = conn.execute(select(F.c.id, F.c.text_status, F.c.text).where(F.c.text.is_not(None))).all()
            search_index.write_files(conn, [(row.id, FileText(row.text_status, row.text)) for row in files])
            items = []
            count = 0
            for rec in self.iter_records(batch=batch):
                items.append((rec.id, rec.report))
                if len(items) >= batch:
                    search_index.write(conn, items)
                    count, items = count + len(items), []
            search_index.write(conn, items)
            return count + len(items)

    def count_reports(self, filters: Filters | None = None) -> int:
        from sqlalchemy import func

        from archive.store.filters import apply

        with self.read_engine.connect() as conn:
            return conn.execute(apply(select(func.count()).select_from(ReportRow), filters)).scalar_one()


def open_existing_store(db_url: str) -> Store:
    """The Store of an existing govarchive database, for commands that only read (search, show,
    export, warc pack --db, serve): a StoreError naming the URL if it does not exist or has no
    govarchive schema; nothing is created."""
    return Store(db_url, create=False)
