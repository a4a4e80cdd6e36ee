"""Saving a batch of reports: upsert by URL, change detection, versions, attachments, search index.

One call is one transaction (the Store wraps it and retries a batch that lost a race). Reports are
upserted with INSERT … ON CONFLICT (url) DO NOTHING; existing rows are read FOR UPDATE on PostgreSQL in
URL order, so two crawls writing into one database serialise per report and never deadlock; the
version number is unique per report.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, and_, bindparam, case, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from archive.clock import iso_utc, now_iso
from archive.report import Report, WarcRef
from archive.store import documents, search_index
from archive.store.models import ReportAttachment, ReportRow, ReportVersionRow, Site

IN_CHUNK = 500  # bound parameters per IN (...) list


def dialect_insert(conn: Connection, table):
    """INSERT with ON CONFLICT support for the connection's dialect."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def publish_date(publish_time: str | None) -> str | None:
    if publish_time and len(publish_time) >= 10 and publish_time[4] == "-" and publish_time[7] == "-":
        return publish_time[:10]
    return None


def warc_cols(ref: WarcRef | None) -> dict:
    if ref is None:
        return {"warc_filename": None, "warc_offset": None, "warc_length": None, "warc_record_id": None}
    return {
        "warc_filename": ref.filename,
        "warc_offset": ref.offset,
        "warc_length": ref.length,
        "warc_record_id": ref.record_id,
    }


def save_batch(conn: Connection, reports: list[Report], run_id: int | None) -> list[str]:
    """Save one batch inside the caller's transaction; per report "new", "changed" or "unchanged".

    First and last seen are the reports' own fetch times (now for a report without one), so a
    reprocess of old WARCs dates its reports as the crawl did.
    """
    now = now_iso()
    seen_at = [iso_utc(r.fetched_at) if r.fetched_at else now for r in reports]
    outcomes: list[str] = [""] * len(reports)
    touch_sites(conn, {r.site.lower(): at for r, at in zip(reports, seen_at, strict=True) if r.site})
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
        items = [(rnd[url], reports[rnd[url]], seen_at[rnd[url]]) for url in sorted(rnd)]
        for idx, outcome in save_round(conn, items, run_id).items():
            outcomes[idx] = outcome
    return outcomes


def touch_sites(conn: Connection, seen: dict[str, str]) -> None:
    if not seen:
        return
    S = Site.__table__
    stmt = dialect_insert(conn, S)
    stmt = stmt.on_conflict_do_update(
        index_elements=["host"],
        set_={"last_seen": case((S.c.last_seen < stmt.excluded.last_seen, stmt.excluded.last_seen),
                                else_=S.c.last_seen)},
    )
    conn.execute(stmt, [{"host": h, "first_seen": at, "last_seen": at} for h, at in sorted(seen.items())])


def save_round(conn: Connection, items: list[tuple[int, Report, str]], run_id) -> dict[int, str]:
    R = ReportRow.__table__
    V = ReportVersionRow.__table__
    prepared = [(idx, r, r.content_hash or r.compute_content_hash(), at) for idx, r, at in items]
    rows = [report_values(r, h) | {"version": 1, "first_seen": at, "last_seen": at, "withdrawn": False}
            for _, r, h, at in prepared]
    stmt = dialect_insert(conn, R).on_conflict_do_nothing(index_elements=["url"]).returning(R.c.id, R.c.url)
    inserted = {row.url: row.id for row in conn.execute(stmt, rows)}

    rest = [p[1].url for p in prepared if p[1].url not in inserted]
    existing = {}
    for k in range(0, len(rest), IN_CHUNK):
        q = (
            select(R.c.id, R.c.url, R.c.content_hash, R.c.version, V.c.warc_record_id)
            .join(V, and_(V.c.report_id == R.c.id, V.c.version == R.c.version))
            .where(R.c.url.in_(rest[k : k + IN_CHUNK]))
            .order_by(R.c.url)
        )
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(of=R)
        existing.update({row.url: row for row in conn.execute(q)})

    outcomes: dict[int, str] = {}
    new_items, changed_items, touched = [], [], []
    for idx, r, h, at in prepared:
        if r.url in inserted:
            outcomes[idx] = "new"
            new_items.append((inserted[r.url], 1, r, h, "new"))
            continue
        old = existing[r.url]
        if old.content_hash == h:
            outcomes[idx] = "unchanged"
            touched.append({"b_id": old.id, "b_at": at})
            continue
        outcomes[idx] = "changed"
        # the same capture read again with another extractor, or a new fetch whose content changed
        reason = "re-extracted" if r.warc and r.warc.record_id == old.warc_record_id else "changed"
        changed_items.append((old.id, old.version + 1, r, h, reason))
        touched.append({"b_id": old.id, "b_at": at})

    if touched:
        # a fetch moves last_seen forward; a page served normally after its withdrawal was seen is back
        still_gone = and_(R.c.withdrawn, R.c.withdrawn_at >= bindparam("b_at"))
        conn.execute(
            update(R)
            .where(R.c.id == bindparam("b_id"))
            .values(
                last_seen=case((R.c.last_seen < bindparam("b_at"), bindparam("b_at")), else_=R.c.last_seen),
                withdrawn=case((still_gone, True), else_=False),
                withdrawn_at=case((still_gone, R.c.withdrawn_at), else_=None),
                withdrawn_reason=case((still_gone, R.c.withdrawn_reason), else_=None),
            ),
            touched,
        )
    if changed_items:
        params = [{"b_id": rid, **{f"b_{k}": v for k, v in report_values(r, h).items()}, "b_version": version}
                  for rid, version, r, h, _ in changed_items]
        cols = {k[2:]: bindparam(k) for k in params[0] if k != "b_id"}
        conn.execute(update(R).where(R.c.id == bindparam("b_id")).values(**cols), params)
    versions = new_items + changed_items
    if versions:
        conn.execute(
            insert(ReportVersionRow),
            [version_values(rid, v, r, h, run_id, reason) for rid, v, r, h, reason in versions],
        )
        write_attachments(conn, versions, replace_ids=[c[0] for c in changed_items])
        documents.link_reports(conn, [(rid, r) for rid, _, r, _, _ in versions])
        search_index.write(conn, [(rid, r) for rid, _, r, _, _ in new_items])
        if changed_items:
            old = load_versions(conn, [(c[0], c[1] - 1) for c in changed_items])
            search_index.write(conn, [(c[0], c[2]) for c in changed_items], old=old)
    return outcomes


def load_versions(conn: Connection, keys: list[tuple[int, int]]) -> list[tuple[int, Report]]:
    """(report id, Report) for the given (report id, version) pairs."""
    V = ReportVersionRow.__table__
    out = []
    for k in range(0, len(keys), IN_CHUNK):
        q = select(V.c.report_id, V.c.data).where(
            tuple_(V.c.report_id, V.c.version).in_(keys[k : k + IN_CHUNK])
        )
        out += [(row.report_id, Report.from_dict(json.loads(row.data))) for row in conn.execute(q)]
    return out


def report_values(r: Report, content_hash: str) -> dict:
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
    }


def version_values(report_id: int, version: int, r: Report, content_hash: str, run_id, reason: str) -> dict:
    data = report_data(r)
    data["content_hash"] = content_hash
    return {
        "report_id": report_id,
        "version": version,
        "content_hash": content_hash,
        "data": json.dumps(data, ensure_ascii=False),
        "fetched_at": iso_utc(r.fetched_at) if r.fetched_at else None,
        "status": r.status,
        "reason": reason,
        "run_id": run_id,
        **warc_cols(r.warc),
    }


def write_attachments(conn: Connection, versions, replace_ids: list[int]) -> None:
    A = ReportAttachment.__table__
    for k in range(0, len(replace_ids), IN_CHUNK):
        conn.execute(delete(A).where(A.c.report_id.in_(replace_ids[k : k + IN_CHUNK])))
    rows = [
        {"report_id": rid, "position": pos, "url": a.url, "name": a.name}
        for rid, _, r, _, _ in versions
        for pos, a in enumerate(r.attachments)
    ]
    if rows:
        conn.execute(insert(A), rows)


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
        "extractor_version": r.extractor_version,
    }


def retryable(exc: Exception) -> bool:
    """A lost race with another writer: unique violation, deadlock or serialization failure."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if code in ("23505", "40P01", "40001"):
        return True
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig)
