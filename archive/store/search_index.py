"""Writing reports into the full-text index: FTS5 on SQLite, a tsvector table on PostgreSQL.

Three fields are indexed: title (weighted highest), meta (document number, issuer, source, keywords)
and body. Attachments' text has an index of its own, one row per file (`write_files`): a file is fetched
after the report that links it and may be linked by several, and search joins the two. Each is turned into tokens by `archive.store.tokens`; the backends only store them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from archive.filetext import FileText
from archive.report import Report
from archive.store.tokens import MAX_TOKEN_CHARS, index_tokens

# PostgreSQL: each field's token string goes through to_tsvector('simple'), whose parser only splits
# it on the spaces we put there (tokens are letters, digits and CJK). `||` continues positions right
# after the previous field, so a separator lexeme ends each field: 101 characters, longer than any
# token a query can produce (tokens.MAX_TOKEN_CHARS), it keeps phrases from spanning two fields.
PG_FIELD_END = "q" * (MAX_TOKEN_CHARS + 1)
PG_TSVECTOR_SQL = (
    "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :meta), 'B')"
    " || to_tsvector('simple', :body)"
)


# Where tokenize_ahead leaves a report's tokens: an attribute outside the dataclass fields, so it travels
# with the report through pickling (from an extraction worker) but never into its JSON or equality.
_AHEAD = "_search_tokens"


def fields_of(report: Report) -> tuple[str, str, str]:
    md = report.metadata
    meta = " ".join(v for v in (md.doc_number, md.issuer, md.index_no, md.keywords, report.source) if v)
    return report.title or "", meta, report.body_text or ""


def indexed_fields(report: Report) -> tuple[str, str, str]:
    """The token strings of title, meta and body as they are indexed; those tokenize_ahead computed
    are reused only while the fields still hold the text they were computed from."""
    fields = fields_of(report)
    ahead = getattr(report, _AHEAD, None)
    if ahead is not None and ahead[0] == fields:
        return ahead[1]
    return tuple(" ".join(index_tokens(f)) for f in fields)  # type: ignore[return-value]


def tokenize_ahead(report: Report) -> Report:
    """Compute the report's index tokens now (in an extraction worker, off the crawl's event loop)."""
    setattr(report, _AHEAD, (fields_of(report), indexed_fields(report)))
    return report


def file_tokens(text: FileText) -> str:
    """The token string of a file's text as indexed (computed by tokenize_file_ahead when it was)."""
    ahead = getattr(text, _AHEAD, None)
    if ahead is not None and ahead[0] == len(text.text):
        return ahead[1]
    return " ".join(index_tokens(text.text))


def tokenize_file_ahead(text: FileText) -> FileText:
    """As tokenize_ahead, for a file's text (in the extraction worker that read it)."""
    if text.text:
        setattr(text, _AHEAD, (len(text.text), " ".join(index_tokens(text.text))))
    return text


def write_files(conn: Connection, items: Sequence[tuple[int, FileText | None]]) -> None:
    """Index (file id, text) pairs, replacing what was indexed for those files before."""
    if not items:
        return
    ids = [fid for fid, _ in items]
    rows = [{"id": fid, "text": file_tokens(t)} for fid, t in items if t is not None and t.text]
    if conn.dialect.name == "sqlite":
        conn.execute(text("DELETE FROM file_fts WHERE rowid = :id"), [{"id": fid} for fid in ids])
        if rows:
            conn.execute(text("INSERT INTO file_fts (rowid, text) VALUES (:id, :text)"), rows)
    else:
        for k in range(0, len(ids), 500):
            conn.execute(text("DELETE FROM file_search WHERE file_id = ANY(:ids)"), {"ids": ids[k:k + 500]})
        if rows:
            conn.execute(text("INSERT INTO file_search (file_id, tsv) VALUES (:id, to_tsvector('simple', :text))"),
                         rows)


def write(
    conn: Connection, items: Sequence[tuple[int, Report]], *, old: Sequence[tuple[int, Report]] = ()
) -> None:
    """Index (report id, report) pairs; `old` are the indexed contents they replace.

    The SQLite table is contentless, so removing a row means handing FTS5 the exact tokens that
    were indexed: the previous version's fields, which the store reads back for changed reports.
    """
    if not items:
        return
    if conn.dialect.name == "sqlite":
        if old:
            conn.execute(
                text(
                    "INSERT INTO report_fts (report_fts, rowid, title, meta, body) "
                    "VALUES ('delete', :id, :title, :meta, :body)"
                ),
                [_fts_row(rid, r) for rid, r in old],
            )
        conn.execute(
            text("INSERT INTO report_fts (rowid, title, meta, body) VALUES (:id, :title, :meta, :body)"),
            [_fts_row(rid, r) for rid, r in items],
        )
    else:
        rows = []
        for rid, report in items:
            title, meta, body = indexed_fields(report)
            rows.append(
                {
                    "id": rid,
                    "title": f"{title} {PG_FIELD_END}",
                    "meta": f"{meta} {PG_FIELD_END}",
                    "body": body,
                }
            )
        conn.execute(
            text(
                f"INSERT INTO report_search (report_id, tsv, title_tsv) "
                f"VALUES (:id, {PG_TSVECTOR_SQL}, to_tsvector('simple', :title)) "
                "ON CONFLICT (report_id) DO UPDATE SET tsv = EXCLUDED.tsv, title_tsv = EXCLUDED.title_tsv"
            ),
            rows,
        )


def _fts_row(rid: int, report: Report) -> dict:
    title, meta, body = indexed_fields(report)
    return {"id": rid, "title": title, "meta": meta, "body": body}
