"""Atom feeds of what the archive newly holds: `/feeds/{site}.atom[?column=…&issuer=…]`.

Each stored version is one entry (version 1: a new report; a later one: a change, a withdrawal
notice included), and so is each withdrawal the crawler saw (the page answering 404/410), newest
first by when it was seen. The XML is built with
ElementTree, so every value is escaped; characters XML cannot carry are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response

from archive.store import Filters, browse
from archive.web.webarchive import Archive, NotFound

router = APIRouter()
ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
SUMMARY_CHARS = 300
KINDS = {"new": "新发布", "changed": "更新（第 {version} 版）", "withdrawn": "已撤销"}
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str | None) -> str:
    return XML_INVALID.sub("", value or "")


def _rfc3339(value: str | None) -> str | None:
    """Atom wants a full timestamp: a date alone becomes midnight in China (+08:00)."""
    if not value:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return f"{value}T00:00:00+08:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})", value):
        return value
    return None


@router.get(
    "/feeds/{site}.atom",
    summary="Atom feed of new and changed reports of a site",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, 404: {"description": "unknown site"}},
)
def site_feed(
    site: str,
    request: Request,
    archive: Archive,
    column: str | None = None,
    issuer: str | None = None,
) -> Response:
    """Newest versions first: a new report (version 1) or a change to one, optionally of one
    column (exact name) or issuer (contains)."""
    with archive.store.read_engine.connect() as conn:
        if not browse.site_exists(conn, site):
            raise NotFound(f"no reports of a site {site!r} in this archive")
        entries = browse.recent_changes(
            conn, Filters(site=site, column=column or None, issuer=issuer or None), limit=ENTRIES
        )
    base = str(request.base_url).rstrip("/")
    self_url = str(request.url)
    title = " · ".join(x for x in (site, column, issuer) if x)
    xml = build_feed(base, self_url, f"govarchive: {title}", entries)
    return Response(xml, media_type="application/atom+xml; charset=utf-8")


def build_feed(base: str, self_url: str, title: str, entries: list[browse.FeedEntry]) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", self_url)
    _sub(feed, "title", title)
    updated = max((_rfc3339(e.at) or "" for e in entries), default="") or "1970-01-01T00:00:00Z"
    _sub(feed, "updated", updated)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/", type="text/html")
    _sub(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "govarchive")
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "govarchive"
    for e in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        kind = KINDS[e.kind].format(version=e.version)
        _sub(entry, "id", f"{e.url}#govarchive-{e.kind}-{e.version}")
        _sub(entry, "title", f"{e.title or e.url}" + ("" if e.kind == "new" else f" [{kind}]"))
        _sub(entry, "updated", _rfc3339(e.at) or updated)
        published = _rfc3339(e.publish_time)
        if published:
            _sub(entry, "published", published)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html",
                      href=f"{base}/reports/{e.report_id}")
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=_text(e.url))
        ET.SubElement(entry, f"{{{ATOM}}}category", term=e.kind, label=kind)
        if e.column:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=_text(e.column))
        if e.issuer:
            _sub(ET.SubElement(entry, f"{{{ATOM}}}author"), "name", e.issuer)
        body = " ".join(e.body_text.split())
        summary = body[:SUMMARY_CHARS] + ("…" if len(body) > SUMMARY_CHARS else "")
        if e.kind == "withdrawn":
            summary = f"已撤销（{e.reason or 'withdrawn'}，{e.at or ''}）。" + summary
        _sub(entry, "summary", summary)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _sub(parent: ET.Element, name: str, text: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    node.text = _text(text)
    return node
