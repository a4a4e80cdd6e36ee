"""attachment text, its full-text index, and document identity (canonical 文号, body SimHash, document id)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("text_status", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("text_length", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("doc_number_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("body_simhash", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("document_id", sa.BigInteger(), nullable=True))
        batch.create_index(batch.f("ix_reports_doc_number_key"), ["doc_number_key"], unique=False)
        batch.create_index(batch.f("ix_reports_document_id"), ["document_id"], unique=False)
    op.create_table(
        "document_keys",
        sa.Column("report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("report_id", "key"),
    )
    op.create_index("ix_document_keys_key", "document_keys", ["key"], unique=False)
    create_file_index()
    backfill_doc_number_keys()


def backfill_doc_number_keys() -> None:
    """The canonical 文号 of the reports already stored, so `--doc-number` finds every writing at once
    (their document links come as they are saved again, or from a reprocess)."""
    from archive.identity import doc_number_key

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, doc_number FROM reports WHERE doc_number IS NOT NULL")).all()
    updates = [{"k": doc_number_key(row.doc_number), "i": row.id} for row in rows]
    if updates:
        conn.execute(sa.text("UPDATE reports SET doc_number_key = :k WHERE id = :i"), updates)


def create_file_index() -> None:
    """Attachments' text in the tokens of archive.store.tokens, one row per file (rowid / file_id is
    files.id). SQLite: an FTS5 table like report_fts, but keeping its token text (a file's text is
    replaced when it is fetched again, and removing a row then needs no copy of the old tokens).
    PostgreSQL: a GIN-indexed tsvector per file."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE file_fts USING fts5(text, tokenize = 'ascii', prefix = '1', columnsize = 0)")
    else:
        op.create_table(
            "file_search",
            sa.Column("file_id", sa.BigInteger(), sa.ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
            sa.Column("tsv", postgresql.TSVECTOR(), nullable=False),
        )
        op.create_index("ix_file_search_tsv", "file_search", ["tsv"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_document_keys_key", table_name="document_keys")
    op.drop_table("document_keys")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS file_fts")
    else:
        op.drop_table("file_search")
    with op.batch_alter_table("reports") as batch:
        batch.drop_index(batch.f("ix_reports_document_id"))
        batch.drop_index(batch.f("ix_reports_doc_number_key"))
        batch.drop_column("document_id")
        batch.drop_column("body_simhash")
        batch.drop_column("doc_number_key")
    with op.batch_alter_table("files") as batch:
        batch.drop_column("text")
        batch.drop_column("text_length")
        batch.drop_column("text_status")
