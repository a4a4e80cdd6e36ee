"""Streaming reports out: iter_records (server-side cursor, constant memory) and JSONL/CSV writers.

Reports are read in id order in batches: the cursor streams rows (PostgreSQL: a named cursor;
SQLite: rows stepped on demand), and each batch's attachment facts come from one query on a
second connection. Memory stays flat however many reports there are.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy import Engine, and_, select

from archive.report import METADATA_KEYS
from archive.store.filters import Filters, apply
from archive.store.history import version_from_row
from archive.store.models import ReportRow, ReportVersionRow
from archive.store.stored import StoredReport, merge_file_facts, stored_from_row

CSV_COLUMNS = (
    ["id", "url", "site", "column", "breadcrumb", "title", "publish_time", "source"]
    + list(METADATA_KEYS)
    + [
        "body_text",
        "attachments",
        "attachment_count",
        "images",
        "content_hash",
        "fetched_at",
        "status",
        "version",
        "warc_filename",
        "warc_offset",
        "warc_length",
        "warc_record_id",
        "withdrawn",
        "withdrawn_at",
        "withdrawn_reason",
        "first_seen",
        "last_seen",
        "doc_number_key",
        "document_id",
    ]
)
FORMATS = ("jsonl", "csv")


def iter_records(
    engine: Engine, filters: Filters | None = None, *, batch: int = 500
) -> Iterator[StoredReport]:
    """Every report matching the filters (current version), in id order, batch rows at a time."""
    R, V = ReportRow.__table__, ReportVersionRow.__table__
    stmt = apply(
        select(
            R,
            V.c.data,
            V.c.fetched_at,
            V.c.status,
            V.c.reason,
            V.c.run_id,
            V.c.warc_filename,
            V.c.warc_offset,
            V.c.warc_length,
            V.c.warc_record_id,
            V.c.version.label("v_version"),
            V.c.content_hash.label("v_hash"),
        ).select_from(R.join(V, and_(V.c.report_id == R.c.id, V.c.version == R.c.version))),
        filters,
    ).order_by(R.c.id)
    with engine.connect() as conn, engine.connect() as facts_conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
        for rows in result.partitions(batch):
            records = []
            for row in rows:
                report = version_from_row(_VersionView(row)).report
                records.append(stored_from_row(row, report))
            merge_file_facts(facts_conn, [r.report for r in records])
            facts_conn.rollback()  # end the read transaction between batches
            yield from records


class _VersionView:
    """A joined row seen as a report_versions row."""

    def __init__(self, row):
        self.data, self.fetched_at, self.status, self.reason, self.run_id = (
            row.data,
            row.fetched_at,
            row.status,
            row.reason,
            row.run_id,
        )
        self.version, self.content_hash = row.v_version, row.v_hash
        self.warc_filename, self.warc_offset = row.warc_filename, row.warc_offset
        self.warc_length, self.warc_record_id = row.warc_length, row.warc_record_id


def write_jsonl(records: Iterable[StoredReport], out: IO[str], *, attachment_text: bool = False) -> int:
    """One JSON object per line (Report.to_dict() plus id, withdrawal state and document identity;
    attachments' text only with `attachment_text`); returns the count."""
    n = 0
    for rec in records:
        out.write(json.dumps(rec.to_dict(attachment_text=attachment_text), ensure_ascii=False) + "\n")
        n += 1
    return n


def csv_row(rec: StoredReport, *, attachment_text: bool = False) -> dict:
    """A flat row: metadata fields as columns, lists joined by newlines, attachments as JSON."""
    r = rec.report
    attachments = rec.to_dict(attachment_text=attachment_text)["attachments"]
    row = {
        "id": rec.id,
        "url": r.url,
        "site": r.site,
        "column": r.column,
        "breadcrumb": " > ".join(r.breadcrumb),
        "title": r.title,
        "publish_time": r.publish_time,
        "source": r.source,
        "body_text": r.body_text,
        "attachments": json.dumps(attachments, ensure_ascii=False)
        if r.attachments
        else "",
        "attachment_count": len(r.attachments),
        "images": "\n".join(r.images),
        "content_hash": r.content_hash,
        "fetched_at": r.fetched_at,
        "status": r.status,
        "version": r.version,
        "withdrawn": "true" if rec.withdrawn else "false",
        "withdrawn_at": rec.withdrawn_at,
        "withdrawn_reason": rec.withdrawn_reason,
        "first_seen": rec.first_seen,
        "last_seen": rec.last_seen,
        "doc_number_key": rec.doc_number_key,
        "document_id": rec.document_id,
    }
    row.update({k: getattr(r.metadata, k) for k in METADATA_KEYS})
    for k in ("filename", "offset", "length", "record_id"):
        row[f"warc_{k}"] = getattr(r.warc, k) if r.warc else None
    return row


def write_csv(records: Iterable[StoredReport], out: IO[str], *, bom: bool = False,
              attachment_text: bool = False) -> int:
    """UTF-8 CSV with a header row; `bom` prefixes U+FEFF so Excel opens Chinese text correctly.

    Open `out` with newline="" (the csv module writes \\r\\n row endings itself)."""
    if bom:
        out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for rec in records:
        writer.writerow(csv_row(rec, attachment_text=attachment_text))
        n += 1
    return n


def export(records: Iterable[StoredReport], out: IO[str], fmt: str = "jsonl", *, bom: bool = False,
           attachment_text: bool = False) -> int:
    if fmt == "jsonl":
        return write_jsonl(records, out, attachment_text=attachment_text)
    if fmt == "csv":
        return write_csv(records, out, bom=bom, attachment_text=attachment_text)
    raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")
