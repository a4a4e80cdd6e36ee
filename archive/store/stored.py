"""A report as stored (its database state beside the Report) and how it is read back from rows:
shared by the Store's lookups and the streaming export, so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from archive.report import Attachment, Report
from archive.store.models import FileRow
from archive.store.saving import IN_CHUNK


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
    doc_number_key: str | None = None  # the canonical 文号 (archive.identity)
    document_id: int | None = None  # shared by the reports of one document
    published_elsewhere: list[str] | None = None  # the other reports' URLs (looked up by `show`)

    def to_dict(self, *, attachment_text: bool = True) -> dict:
        """Report.to_dict() plus the state and identity keys (Report.from_dict ignores them); without
        `attachment_text`, attachments keep their text status and length but not the text."""
        data = {
            "id": self.id,
            **self.report.to_dict(),
            "withdrawn": self.withdrawn,
            "withdrawn_at": self.withdrawn_at,
            "withdrawn_reason": self.withdrawn_reason,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "doc_number_key": self.doc_number_key,
            "document_id": self.document_id,
        }
        if self.published_elsewhere is not None:
            data["published_elsewhere"] = self.published_elsewhere
        if not attachment_text:
            for attachment in data["attachments"]:
                attachment.pop("text", None)
        return data



def stored_from_row(row, report: Report) -> StoredReport:
    return StoredReport(
        row.id,
        report,
        bool(row.withdrawn),
        row.withdrawn_at,
        row.withdrawn_reason,
        row.first_seen,
        row.last_seen,
        row.doc_number_key,
        row.document_id or row.id,
    )


def merge_file_facts(conn: Connection, reports: list[Report]) -> None:
    """Fill attachments' content_type/size/sha256 and text from the files table (joined by URL)."""
    urls = sorted({a.url for r in reports for a in r.attachments})
    facts = {}
    F = FileRow.__table__
    for k in range(0, len(urls), IN_CHUNK):
        q = select(F.c.url, F.c.content_type, F.c.size, F.c.sha256, F.c.text_status, F.c.text_length,
                   F.c.text).where(F.c.url.in_(urls[k : k + IN_CHUNK]))
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
                        f.text_status,
                        f.text_length,
                        f.text,
                    )
                )
        r.attachments = merged
