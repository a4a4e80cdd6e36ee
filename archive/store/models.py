"""The database schema (SQLAlchemy 2.0 declarative). Migrations in `migrations/` create it.

The full-text index is not a model: it is a SQLite FTS5 table (`report_fts`) or a PostgreSQL table
with a tsvector column (`report_search`), created by the migrations and maintained by `search_index`;
attachments' text likewise (`file_fts` / `file_search`, one row per file).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite wants INTEGER for an alias of rowid


class Base(DeclarativeBase):
    pass


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    first_seen: Mapped[str] = mapped_column(String(40))
    last_seen: Mapped[str] = mapped_column(String(40))


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    site: Mapped[str | None] = mapped_column(String(255))
    start_urls: Mapped[str] = mapped_column(Text)  # JSON list
    settings: Mapped[str] = mapped_column(Text)  # JSON object
    started_at: Mapped[str] = mapped_column(String(40))
    finished_at: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)  # JSON object
    # running (no finished_at yet) | finished | interrupted | failed | crashed (archive/store/runs.py)
    status: Mapped[str | None] = mapped_column(String(20))
    pid: Mapped[int | None] = mapped_column(Integer)  # the crawling process, to tell a crash from a long run
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[str | None] = mapped_column(String(40))  # refreshed while the crawl runs
    resumes: Mapped[int | None] = mapped_column(Integer)  # the run `crawl --resume` carried on


class SiteLock(Base):
    """One crawl of a site at a time, across processes and hosts: a lease its holder renews."""

    __tablename__ = "site_locks"

    site: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[str] = mapped_column(String(40))


class ReportRow(Base):
    """The current state of one report URL; its content lives in `report_versions`."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    site: Mapped[str | None] = mapped_column(String(255), index=True)
    column: Mapped[str | None] = mapped_column(String(500), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    publish_time: Mapped[str | None] = mapped_column(String(40))
    publish_date: Mapped[str | None] = mapped_column(String(10), index=True)  # YYYY-MM-DD, for filters
    issuer: Mapped[str | None] = mapped_column(String(500))
    doc_number: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[str] = mapped_column(String(40))
    last_seen: Mapped[str] = mapped_column(String(40))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    withdrawn_at: Mapped[str | None] = mapped_column(String(40))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    # document identity (archive.identity): the canonical 文号, the body's SimHash, and the id of the
    # first report of the same document (itself when there is no other)
    doc_number_key: Mapped[str | None] = mapped_column(String(200), index=True)
    body_simhash: Mapped[str | None] = mapped_column(String(16))
    document_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class ReportVersionRow(Base):
    """One distinct content of a report, with the fetch and the WARC record it came from."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "version", name="uq_report_versions_report_version"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # Report JSON without fetch facts
    fetched_at: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(20))  # new | changed | re-extracted (same capture)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    warc_filename: Mapped[str | None] = mapped_column(String(500))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(String(100))


class ReportAttachment(Base):
    """A link from a report's current version to a file, by URL (file facts join on `files.url`)."""

    __tablename__ = "report_attachments"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), index=True)
    name: Mapped[str | None] = mapped_column(Text)


class FileRow(Base):
    """A fetched attachment, by URL: what it was and where its bytes are archived."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    warc_filename: Mapped[str | None] = mapped_column(String(500))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(String(100))
    # what the file says (archive.filetext): a status, and the text when there is some
    text_status: Mapped[str | None] = mapped_column(String(40))
    text_length: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)


class DocumentKey(Base):
    """What links a report to the other reports of its document (archive.identity.document_keys):
    `doc:` canonical 文号 and issuer, `simN:` a band of the body's SimHash, `file:` an attachment's digest."""

    __tablename__ = "document_keys"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class Capture(Base):
    """Every response record written to the WARC files (pages, lists, robots.txt, files, errors)."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    captured_at: Mapped[str] = mapped_column(String(40))
    warc_filename: Mapped[str | None] = mapped_column(String(500))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(String(100))


class Failure(Base):
    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[str] = mapped_column(String(40))


class PayloadDigest(Base):
    """The revisit index: the first record seen with each payload digest, across all crawls."""

    __tablename__ = "payload_digests"

    digest: Mapped[str] = mapped_column(String(100), primary_key=True)
    uri: Mapped[str] = mapped_column(String(2000))
    date: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(100))


Index("ix_captures_url", Capture.url)
Index("ix_captures_warc_record_id", Capture.warc_record_id)  # revisits followed to their original
Index("ix_reports_site_column", ReportRow.site, ReportRow.column)  # the overview's counts
Index("ix_failures_kind", Failure.kind)
Index("ix_document_keys_key", DocumentKey.key)
