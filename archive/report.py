"""The report: the structured record a detail page becomes (DESIGN.md, "Report fields").

One dataclass shared by extraction, storage, the CLI and the crawler, so the JSON a user sees is
built in exactly one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ATTACHMENT_TEXT_KEYS = ("text_status", "text_length", "text")


@dataclass
class Metadata:
    """The 信息公开 block of a disclosure page; every value is optional."""

    index_no: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    written_date: str | None = None
    topic: str | None = None
    validity: str | None = None
    keywords: str | None = None


# The metadata keys in their JSON order: the dataclass above is their one definition.
METADATA_KEYS = tuple(f.name for f in fields(Metadata))


@dataclass
class Attachment:
    """A file linked from a report. Size, type, hash and text (archive.filetext) are known once the file
    was fetched; until then the text fields are left out of the JSON."""

    url: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    text_status: str | None = None  # archive.filetext's statuses: "text", "no text layer", "damaged" …
    text_length: int | None = None
    text: str | None = None


@dataclass
class WarcRef:
    """Where the record behind a report lives: enough to read it back without an index."""

    filename: str
    offset: int
    length: int
    record_id: str


@dataclass
class Report:
    url: str
    site: str | None = None
    column: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    title: str | None = None
    publish_time: str | None = None
    source: str | None = None
    metadata: Metadata = field(default_factory=Metadata)
    body_text: str = ""
    body_html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    content_hash: str | None = None
    fetched_at: str | None = None
    status: int | None = None
    version: int | None = None
    warc: WarcRef | None = None
    extractor_version: str | None = None  # archive.extract.extractor.EXTRACTOR_VERSION that made it

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for attachment in data["attachments"]:
            if attachment["text_status"] is None:  # not fetched (yet): nothing is known of its text
                for key in ATTACHMENT_TEXT_KEYS:
                    del attachment[key]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["metadata"] = Metadata(**{k: (data.get("metadata") or {}).get(k) for k in METADATA_KEYS})
        values["attachments"] = [Attachment(**a) for a in data.get("attachments") or []]
        if data.get("warc"):
            values["warc"] = WarcRef(**data["warc"])
        return cls(**values)

    def compute_content_hash(self) -> str:
        """Hash of the cleaned content only.

        Fetch time, status, WARC position and attachment facts learnt later are left out, so a
        refetch of an unchanged page (new visit counter, new generation stamp) gives the same hash.
        """
        cleaned = {
            "title": self.title,
            "publish_time": self.publish_time,
            "source": self.source,
            "metadata": asdict(self.metadata),
            "body_text": self.body_text,
            "attachments": sorted((a.url, a.name or "") for a in self.attachments),
            "images": sorted(self.images),
        }
        blob = json.dumps(cleaned, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()
