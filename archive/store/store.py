"""The Store facade (INTERFACES.md): everything the crawler, the CLI and the tools keep or ask for.

Writes use SQLAlchemy Core in one transaction per call (per batch for reports). Reports are
upserted on their unique URL with INSERT … ON CONFLICT, and the version number is unique per
report, so two crawls writing into one PostgreSQL database never duplicate a report or a version;
a batch that loses a race is retried.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from archive.report import Attachment, Report, WarcRef
from archive.store import history, search_index
from archive.store.digests import StoreDigestIndex
from archive.store.engine import StoreError, ensure_schema, make_engine
from archive.store.filters import Filters
from archive.store.models import (
    Capture,
    CrawlRun,
    Failure,
    FileRow,
    ReportAttachment,
    ReportRow,
    ReportVersionRow,
    Site,
)

log = logging.getLogger(__name__)

RETRIES = 5  # a batch that collides with a concurrent writer (unique version, deadlock) is redone
IN_CHUNK = 500  # bound parameters per IN (...) list


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def publish_date(publish_time: str | None) -> str | None:
    if publish_time and len(publish_time) >= 10 and publish_time[4] == "-" and publish_time[7] == "-":
        return publish_time[:10]
    return None


def _warc_cols(ref: WarcRef | None) -> dict:
    if ref is None:
        return {"warc_filename": None, "warc_offset": None, "warc_length": None, "warc_record_id": None}
    return {
        "warc_filename": ref.filename,
        "warc_offset": ref.offset,
        "warc_length": ref.length,
        "warc_record_id": ref.record_id,
    }


def _warc_ref(row) -> WarcRef | None:
    if not row.warc_filename:
        return None
    return WarcRef(row.warc_filename, row.warc_offset, row.warc_length, row.warc_record_id)


@dataclass
class StoredReport:
    """A report as stored: the Report users see plus its database state."""

    id: int
    report: Report
    withdrawn: bool
    withdrawn_at: str | None
    withdrawn_reason: str | None
    first_seen: str
    last_seen: str

    def to_dict(self) -> dict:
        """Report.to_dict() plus the state keys (Report.from_dict ignores them)."""
        return {
            "id": self.id,
            **self.report.to_dict(),
            "withdrawn": self.withdrawn,
            "withdrawn_at": self.withdrawn_at,
            "withdrawn_reason": self.withdrawn_reason,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


class Store:
    """A govarchive database at any SQLAlchemy URL (SQLite file or PostgreSQL)."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.engine = make_engine(db_url)
        try:
            ensure_schema(self.engine)
        except StoreError:
            self.engine.dispose()
            raise
        except DBAPIError as exc:
            self.engine.dispose()
            raise StoreError(
                f"cannot open the database {self.engine.url.render_as_string()}: {exc.orig}"
            ) from exc
        # SQLite readers use deferred transactions so they never wait behind a writer (WAL)
        sqlite_db = self.engine.dialect.name == "sqlite"
        self.read_engine = make_engine(db_url, writer=False) if sqlite_db else self.engine
        self._digests: StoreDigestIndex | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
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

    def start_run(self, start_urls: list[str], site: str | None = None, settings: dict | None = None) -> int:
        """Record the start of a crawl; returns its run id."""
        values = {
            "start_urls": json.dumps(list(start_urls), ensure_ascii=False),
            "site": site,
            "settings": json.dumps(settings or {}, ensure_ascii=False, default=str),
            "started_at": now_iso(),
        }
        with self.engine.begin() as conn:
            return conn.execute(insert(CrawlRun).values(values).returning(CrawlRun.id)).scalar_one()

    def finish_run(self, run_id: int, summary: dict) -> None:
        """Record the end of a crawl with its summary (counts, failures by kind, WARC files, seconds)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(finished_at=now_iso(), summary=json.dumps(summary, ensure_ascii=False, default=str))
            )

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
    ) -> None:
        """Record a fetched attachment by URL (the newest fetch wins)."""
        values = {
            "url": url,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "fetched_at": now_iso(),
            "run_id": run_id,
            **_warc_cols(ref),
        }
        stmt = self._insert(FileRow.__table__).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["url"], set_={k: v for k, v in values.items() if k != "url"}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

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
                **_warc_cols(c.get("ref")),
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
        refetch only moves last_seen. A withdrawal notice is stored as a version and flags the report.
        """
        if not reports:
            return []
        for r in reports:
            if not r.url:
                raise ValueError(f"cannot store a report with no URL (title {r.title!r})")
        for attempt in range(RETRIES):
            try:
                with self.engine.begin() as conn:
                    return self._save_batch(conn, reports, run_id)
            except (IntegrityError, DBAPIError) as exc:
                if attempt == RETRIES - 1 or not _retryable(exc):
                    raise
                log.info("save_reports: concurrent writer, retrying batch (%s)", exc.__class__.__name__)
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _save_batch(self, conn: Connection, reports: list[Report], run_id: int | None) -> list[str]:
        at = now_iso()
        outcomes: list[str] = [""] * len(reports)
        self._touch_sites(conn, {r.site.lower() for r in reports if r.site}, at)
        # duplicates of one URL inside a batch go into successive rounds, in input order
        rounds: list[dict[str, int]] = []
        for i, r in enumerate(reports):
            for rnd in rounds:
                if r.url not in rnd:
                    rnd[r.url] = i
                    break
            else:
                rounds.append({r.url: i})
        for rnd in rounds:
            # sorted by URL: concurrent writers lock rows in the same order and cannot deadlock
            items = [(rnd[url], reports[rnd[url]]) for url in sorted(rnd)]
            for idx, outcome in self._save_round(conn, items, run_id, at).items():
                outcomes[idx] = outcome
        return outcomes

    def _touch_sites(self, conn: Connection, hosts: set[str], at: str) -> None:
        if not hosts:
            return
        stmt = self._insert(Site.__table__).on_conflict_do_update(
            index_elements=["host"], set_={"last_seen": at}
        )
        conn.execute(stmt, [{"host": h, "first_seen": at, "last_seen": at} for h in sorted(hosts)])

    def _save_round(
        self, conn: Connection, items: list[tuple[int, Report]], run_id, at: str
    ) -> dict[int, str]:
        R = ReportRow.__table__
        prepared = []
        for idx, r in items:
            notice = history.is_withdrawal_notice(r)
            prepared.append((idx, r, r.content_hash or r.compute_content_hash(), notice))
        rows = [
            self._report_values(r, h, notice, at) | {"version": 1, "first_seen": at}
            for _, r, h, notice in prepared
        ]
        stmt = self._insert(R).on_conflict_do_nothing(index_elements=["url"]).returning(R.c.id, R.c.url)
        inserted = {row.url: row.id for row in conn.execute(stmt, rows)}

        rest = [p[1].url for p in prepared if p[1].url not in inserted]
        existing = {}
        for k in range(0, len(rest), IN_CHUNK):
            q = (
                select(R.c.id, R.c.url, R.c.content_hash, R.c.version, R.c.withdrawn)
                .where(R.c.url.in_(rest[k : k + IN_CHUNK]))
                .order_by(R.c.url)
            )
            if self.dialect == "postgresql":
                q = q.with_for_update()
            existing.update({row.url: row for row in conn.execute(q)})

        outcomes: dict[int, str] = {}
        new_items, changed_items, touched = [], [], []
        for idx, r, h, notice in prepared:
            if r.url in inserted:
                outcomes[idx] = "new"
                new_items.append((inserted[r.url], 1, r, h))
                continue
            old = existing[r.url]
            if old.content_hash == h:
                outcomes[idx] = "unchanged"
                touched.append({"b_id": old.id, "b_withdrawn": old.withdrawn and notice})
            else:
                outcomes[idx] = "changed"
                changed_items.append((old.id, old.version + 1, r, h, notice, old.withdrawn))

        if touched:
            # an unchanged refetch moves last_seen; a page served normally again is no longer withdrawn
            conn.execute(
                update(R)
                .where(R.c.id == bindparam("b_id"))
                .values(
                    last_seen=at,
                    withdrawn=bindparam("b_withdrawn"),
                    withdrawn_at=_keep_if(R.c.withdrawn_at, "b_withdrawn"),
                    withdrawn_reason=_keep_if(R.c.withdrawn_reason, "b_withdrawn"),
                ),
                touched,
            )
        if changed_items:
            params = []
            for rid, version, r, h, notice, was_withdrawn in changed_items:
                values = self._report_values(r, h, notice, at)
                if notice and was_withdrawn:
                    values.pop("withdrawn_at")
                    values.pop("withdrawn_reason")
                    values.pop("withdrawn")
                params.append({"b_id": rid, **{f"b_{k}": v for k, v in values.items()}, "b_version": version})
            # rows differ in which withdrawal keys they carry: run one statement per key set
            by_keys: dict[tuple, list] = {}
            for p in params:
                by_keys.setdefault(tuple(sorted(p)), []).append(p)
            for keys, group in by_keys.items():
                cols = {k[2:]: bindparam(k) for k in keys if k != "b_id"}
                conn.execute(update(R).where(R.c.id == bindparam("b_id")).values(**cols), group)
        versions = [(rid, v, r, h) for rid, v, r, h in new_items] + [
            (c[0], c[1], c[2], c[3]) for c in changed_items
        ]
        if versions:
            conn.execute(
                insert(ReportVersionRow),
                [self._version_values(rid, v, r, h, run_id) for rid, v, r, h in versions],
            )
            self._write_attachments(conn, versions, replace_ids=[c[0] for c in changed_items])
            search_index.write(conn, [(rid, r) for rid, _, r, _ in new_items])
            if changed_items:
                old = self._load_versions(conn, [(c[0], c[1] - 1) for c in changed_items])
                search_index.write(conn, [(c[0], c[2]) for c in changed_items], old=old)
        return outcomes

    @staticmethod
    def _load_versions(conn: Connection, keys: list[tuple[int, int]]) -> list[tuple[int, Report]]:
        """(report id, Report) for the given (report id, version) pairs."""
        V = ReportVersionRow.__table__
        out = []
        for k in range(0, len(keys), IN_CHUNK):
            q = select(V.c.report_id, V.c.data).where(
                tuple_(V.c.report_id, V.c.version).in_(keys[k : k + IN_CHUNK])
            )
            out += [(row.report_id, Report.from_dict(json.loads(row.data))) for row in conn.execute(q)]
        return out

    @staticmethod
    def _report_values(r: Report, content_hash: str, notice: bool, at: str) -> dict:
        return {
            "url": r.url,
            "site": (r.site or "").lower() or None,
            "column": r.column,
            "title": r.title,
            "publish_time": r.publish_time,
            "publish_date": publish_date(r.publish_time),
            "issuer": r.metadata.issuer,
            "doc_number": r.metadata.doc_number,
            "content_hash": content_hash,
            "last_seen": at,
            "withdrawn": notice,
            "withdrawn_at": at if notice else None,
            "withdrawn_reason": history.NOTICE_REASON if notice else None,
        }

    @staticmethod
    def _version_values(report_id: int, version: int, r: Report, content_hash: str, run_id) -> dict:
        data = report_data(r)
        data["content_hash"] = content_hash
        return {
            "report_id": report_id,
            "version": version,
            "content_hash": content_hash,
            "data": json.dumps(data, ensure_ascii=False),
            "fetched_at": r.fetched_at,
            "status": r.status,
            "run_id": run_id,
            **_warc_cols(r.warc),
        }

    @staticmethod
    def _write_attachments(conn: Connection, versions, replace_ids: list[int]) -> None:
        A = ReportAttachment.__table__
        for k in range(0, len(replace_ids), IN_CHUNK):
            conn.execute(delete(A).where(A.c.report_id.in_(replace_ids[k : k + IN_CHUNK])))
        rows = [
            {"report_id": rid, "position": pos, "url": a.url, "name": a.name}
            for rid, _, r, _ in versions
            for pos, a in enumerate(r.attachments)
        ]
        if rows:
            conn.execute(insert(A), rows)

    def mark_withdrawn(self, url: str, seen_at: str | None = None, reason: str = "withdrawn") -> bool:
        """Flag a known report as withdrawn (never deleted); False if the URL is not a stored report."""
        with self.engine.begin() as conn:
            return history.mark_withdrawn(conn, url, seen_at or now_iso(), reason)

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
        return stored_from_row(row, report)

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

    def search(self, query: str, filters: Filters | None = None, limit: int = 20):
        """Full-text search (see archive.store.search); raises QueryError for an unusable query."""
        from archive.store.search import search

        with self.read_engine.connect() as conn:
            return search(conn, query, filters, limit)

    def iter_records(self, filters: Filters | None = None, *, batch: int = 500) -> Iterator[StoredReport]:
        """Every matching report in id order, streamed with a server-side cursor."""
        from archive.store.export import iter_records

        return iter_records(self.read_engine, filters, batch=batch)

    def iter_reports(self, filters: Filters | None = None) -> Iterator[Report]:
        """Every matching report (current version), streamed in constant memory."""
        return (rec.report for rec in self.iter_records(filters))

    def count_reports(self, filters: Filters | None = None) -> int:
        from sqlalchemy import func

        from archive.store.filters import apply

        with self.read_engine.connect() as conn:
            return conn.execute(apply(select(func.count()).select_from(ReportRow), filters)).scalar_one()


def report_data(r: Report) -> dict:
    """Report.to_dict() without the fetch facts (kept in their own columns); built by hand because
    dataclasses.asdict deep-copies every value and dominated the cost of saving a batch."""
    return {
        "url": r.url,
        "site": r.site,
        "column": r.column,
        "breadcrumb": list(r.breadcrumb),
        "title": r.title,
        "publish_time": r.publish_time,
        "source": r.source,
        "metadata": dict(vars(r.metadata)),
        "body_text": r.body_text,
        "body_html": r.body_html,
        "attachments": [dict(vars(a)) for a in r.attachments],
        "images": list(r.images),
        "content_hash": r.content_hash,
    }


def _keep_if(column, flag: str):
    from sqlalchemy import case

    return case((bindparam(flag, type_=ReportRow.__table__.c.withdrawn.type), column), else_=None)


def _retryable(exc: Exception) -> bool:
    """A lost race with another writer: unique violation, deadlock or serialization failure."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in ("23505", "40P01", "40001"):
        return True
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig)


def stored_from_row(row, report: Report) -> StoredReport:
    return StoredReport(
        row.id,
        report,
        bool(row.withdrawn),
        row.withdrawn_at,
        row.withdrawn_reason,
        row.first_seen,
        row.last_seen,
    )


def merge_file_facts(conn: Connection, reports: list[Report]) -> None:
    """Fill attachments' content_type/size/sha256 from the files table (joined by URL)."""
    urls = sorted({a.url for r in reports for a in r.attachments})
    facts = {}
    F = FileRow.__table__
    for k in range(0, len(urls), IN_CHUNK):
        q = select(F.c.url, F.c.content_type, F.c.size, F.c.sha256).where(F.c.url.in_(urls[k : k + IN_CHUNK]))
        facts.update({row.url: row for row in conn.execute(q)})
    for r in reports:
        merged = []
        for a in r.attachments:
            f = facts.get(a.url)
            if f is None:
                merged.append(a)
            else:
                merged.append(
                    Attachment(
                        a.url,
                        a.name,
                        f.content_type or a.content_type,
                        f.size if f.size is not None else a.size,
                        f.sha256 or a.sha256,
                    )
                )
        r.attachments = merged
