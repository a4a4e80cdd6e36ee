"""Which format a file is, from its bytes first (servers send PDFs as application/octet-stream and
DOCX named .doc), then its URL's extension and Content-Type; and the dispatch to that format's reader."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from archive.filetext import legacy, pdf, sheets, zipdocs
from archive.filetext.result import DAMAGED, FAILED, MAX_FILE_BYTES, NOT_A_DOCUMENT, TOO_LARGE, FileText

logger = logging.getLogger(__name__)

OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGIC = b"PK\x03\x04"
# Bytes a PDF header may be preceded by (some generators write junk first; readers accept 1 KB of it).
PDF_HEADER_WINDOW = 1024
# OLE2 directory entries (UTF-16LE names) of an Excel workbook and of a Word/WPS document.
WORKBOOK_STREAM = "Workbook".encode("utf-16-le")
WORD_STREAM = "WordDocument".encode("utf-16-le")
EXCEL_TYPES = ("application/vnd.ms-excel", "application/x-xls", "application/x-excel", "application/et")
WPS_TYPES = ("application/kswps", "application/wps", "application/vnd.ms-works")

READERS: dict[str, Callable[[bytes], FileText]] = {
    "pdf": pdf.read_pdf,
    "docx": zipdocs.read_docx,
    "ofd": zipdocs.read_ofd,
    "xlsx": sheets.read_xlsx,
    "xls": sheets.read_xls,
    "doc": legacy.read_doc,
    "wps": legacy.read_wps,
}


def extension(url: str | None) -> str:
    """The lowercase extension of the URL's last path segment (or of a `filename=` query value)."""
    if not url:
        return ""
    parts = urlsplit(url)
    names = [unquote(parts.path.rsplit("/", 1)[-1])]
    names += [unquote(v.split("=", 1)[1]) for v in parts.query.split("&") if "=" in v]
    for name in reversed(names):
        if "." in name:
            return name.rsplit(".", 1)[-1].lower()
    return ""


def sniff(body: bytes, content_type: str | None = None, url: str | None = None) -> str | None:
    """pdf, docx, xlsx, ofd, xls, doc or wps; None for anything else (images, archives, unknown)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    ext = extension(url)
    if b"%PDF-" in body[:PDF_HEADER_WINDOW]:
        return "pdf"
    if body.startswith(ZIP_MAGIC):
        return _zip_kind(body)
    if body.startswith(OLE2_MAGIC):
        if ext in ("xls", "et") or mime in EXCEL_TYPES or (WORKBOOK_STREAM in body and WORD_STREAM not in body):
            return "xls"
        if ext == "wps" or mime in WPS_TYPES:
            return "wps"
        return "doc"
    return None


def _zip_kind(body: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names or "ofd.xml" in names:
        return "ofd"
    return None


def read_file_text(body: bytes, content_type: str | None = None, url: str | None = None) -> FileText:
    """The text of a downloaded file, or the status that says why there is none; never raises."""
    kind = sniff(body, content_type, url)
    if kind is None:
        return FileText(NOT_A_DOCUMENT, detail="not a PDF, Word, Excel, OFD or WPS file")
    if len(body) > MAX_FILE_BYTES:
        return FileText(TOO_LARGE, kind=kind, detail=f"{len(body):,} bytes, over the {MAX_FILE_BYTES:,} read")
    try:
        return READERS[kind](body)
    except MemoryError:
        return FileText(TOO_LARGE, kind=kind, detail="ran out of memory reading it")
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, IndexError, OSError) as exc:
        return FileText(DAMAGED, kind=kind, detail=f"{type(exc).__name__}: {exc}"[:500])
    except Exception as exc:  # a reader library's own error type on hostile bytes: this file only
        logger.info("reading the text of %s failed: %s: %s", url, type(exc).__name__, exc)
        return FileText(FAILED if kind in ("doc", "wps") else DAMAGED, kind=kind,
                        detail=f"{type(exc).__name__}: {exc}"[:500])
