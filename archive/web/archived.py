"""Archived bytes: a report's page as the site served it, and its attachments, from the WARC records.

These bytes are untrusted. They are served with `Content-Security-Policy: sandbox` (no script, no
forms, an opaque origin, nothing loaded), `nosniff`, none of the site's own headers (no cookie, no
redirect) but its Content-Type, and attachments as downloads, so nothing archived can act in the
interface's origin. The payload is streamed from the file, never read whole into memory.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from archive.report import WarcRef
from archive.store import browse
from archive.web.pages import report_or_404
from archive.web.security import ARCHIVED_CSP
from archive.web.warcfiles import ArchivedRecord, RecordUnavailable
from archive.web.webarchive import Archive, NotFound, WebArchive

router = APIRouter(include_in_schema=False)
MEDIA_TYPE_RE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.-]+=(\"[^\"]*\"|[\w.-]+))*$")


@router.get("/reports/{report_id}/original")
def original(report_id: str, request: Request, archive: Archive) -> StreamingResponse:
    """The page exactly as archived (`?version=N` for an earlier version's capture)."""
    record = report_or_404(archive, report_id)
    ref = record.report.warc
    version = (request.query_params.get("version") or "").strip()
    if version:
        found = {str(v.version): v for v in archive.store.versions(record.id)}
        if version not in found:
            raise NotFound(f"report {record.id} has no version {version!r} (versions: {', '.join(found)})")
        ref = found[version].warc
    if ref is None:
        raise NotFound(f"report {record.id} has no archived record (it was not captured to a WARC file)")
    archived = _read(archive, ref)
    media_type = _media_type(archived.header("Content-Type"), default="text/html")
    headers = {
        "Content-Security-Policy": ARCHIVED_CSP,
        "X-Archived-URL": quote(archived.target_uri, safe=":/?&=#%+,;@"),
        "X-Archived-Date": archived.date,
        "Cache-Control": "private, max-age=3600",
    }
    replay = archive.replay.url_for(record.report.url, record.report.fetched_at)
    if replay:
        headers["Link"] = f'<{quote(replay, safe=":/?&=#%+,;@")}>; rel="alternate"; title="pywb replay"'
    return StreamingResponse(archive.warcs.payload(archived), media_type=media_type, headers=headers)


@router.get("/reports/{report_id}/attachments/{n}")
def attachment(report_id: str, n: str, archive: Archive) -> StreamingResponse:
    """Attachment n (counting from 1, in the order the report lists them), by its archived bytes."""
    record = report_or_404(archive, report_id)
    items = record.report.attachments
    if not n.isdigit() or not 1 <= int(n) <= len(items):
        raise NotFound(f"report {record.id} has {len(items)} attachment(s); there is no attachment {n!r}")
    item = items[int(n) - 1]
    with archive.store.read_engine.connect() as conn:
        ref = browse.file_refs(conn, [item.url]).get(item.url)
    if ref is None:
        raise NotFound(f"attachment {n} of report {record.id} ({item.url}) was not archived")
    archived = _read(archive, ref)
    if not 200 <= archived.status < 300:
        raise NotFound(f"the site answered {archived.status} for attachment {n}; no file was archived")
    media_type = _media_type(item.content_type or archived.header("Content-Type"), default="application/octet-stream")
    headers = {
        "Content-Security-Policy": ARCHIVED_CSP,
        "Content-Disposition": content_disposition(item.name, item.url),
        "Cache-Control": "private, max-age=3600",
    }
    if item.sha256:
        headers["X-Content-SHA256"] = item.sha256
    return StreamingResponse(archive.warcs.payload(archived), media_type=media_type, headers=headers)


def _read(archive: WebArchive, ref: WarcRef) -> ArchivedRecord:
    """The response record behind `ref`; a revisit is followed to the record holding its payload."""
    try:
        record = archive.warcs.record(ref)
        if record.record_type == "revisit":
            target = None
            if record.refers_to:
                with archive.store.read_engine.connect() as conn:
                    target = browse.capture_by_record_id(conn, record.refers_to)
            if target is None:
                raise RecordUnavailable("the capture is a revisit whose original record is not in this archive")
            original = archive.warcs.record(target)
            # the revisit's own headers describe this fetch; the payload (and its encoding) is the original's
            record = original
        return record
    except RecordUnavailable as exc:
        raise NotFound(str(exc)) from exc


def _media_type(value: str | None, *, default: str) -> str:
    """The archived Content-Type if it is a well-formed media type, else `default`."""
    value = (value or "").strip()
    return value if value and MEDIA_TYPE_RE.match(value) else default


def content_disposition(name: str | None, url: str) -> str:
    """`attachment` with the attachment's own name (UTF-8, RFC 6266) and an ASCII fallback."""
    path_name = PurePosixPath(unquote(urlsplit(url).path)).name
    query_name = re.search(r"(?:^|&)(?:file)?name=([^&]+)", urlsplit(url).query)
    from_url = unquote(query_name.group(1)) if query_name else path_name
    suffix = PurePosixPath(from_url).suffix
    chosen = re.sub(r"[\x00-\x1f\x7f/\\\"]+", "_", (name or "").strip()) or from_url or "attachment"
    if suffix and not chosen.lower().endswith(suffix.lower()):
        chosen += suffix
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", from_url or "attachment").strip("_") or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(chosen, safe='')}"
