"""Zip-based documents read as XML: DOCX (WordprocessingML paragraphs) and OFD (GB/T 33190: each page's
Content.xml, its TextObject/TextCode runs). Only the parts that hold text are inflated, and only while
their declared sizes stay under MAX_EXPANDED_BYTES: a zip bomb dressed as a DOCX is `too large`."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator

from lxml import etree

from archive.filetext.result import DAMAGED, MAX_EXPANDED_BYTES, TOO_LARGE, FileText, TextCollector

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# DOCX parts with text, in reading order: the body, then footnotes and endnotes (headers/footers are furniture).
DOCX_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")


class TooLarge(Exception):
    pass


class BoundedZip:
    """A zip whose members are inflated only within a total budget of declared (= maximum) sizes."""

    def __init__(self, body: bytes, budget: int = MAX_EXPANDED_BYTES) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(body))
        self.budget = budget
        self.names = {info.filename: info for info in self.zip.infolist()}

    def find(self, name: str) -> str | None:
        """The member's name as stored (OFD writers vary the case and add leading slashes)."""
        wanted = name.lstrip("/").lower()
        return next((n for n in self.names if n.lstrip("/").lower() == wanted), None)

    def open(self, name: str):
        info = self.names[name]
        if info.file_size > self.budget:
            raise TooLarge(f"{name} expands to {info.file_size:,} bytes, past the {MAX_EXPANDED_BYTES:,} read")
        self.budget -= info.file_size
        return self.zip.open(info)


def _parser_args() -> dict:
    # no entity expansion, no network, no DTD: hostile XML gets no billion laughs
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def read_docx(body: bytes) -> FileText:
    try:
        archive = BoundedZip(body)
        out = TextCollector()
        for part in DOCX_PARTS:
            if part not in archive.names:
                continue
            with archive.open(part) as stream:
                for line in _docx_paragraphs(stream):
                    out.add(line)
                    if out.full:
                        return out.result("docx")
        return out.result("docx")
    except TooLarge as exc:
        return FileText(TOO_LARGE, kind="docx", detail=str(exc))
    except etree.XMLSyntaxError as exc:
        return FileText(DAMAGED, kind="docx", detail=f"XML: {exc}"[:500])


def _docx_paragraphs(stream) -> Iterator[str]:
    """Each w:p's text (w:t runs, tabs and breaks as spaces), streamed so a large body stays small."""
    pieces: list[str] = []
    for _event, element in etree.iterparse(stream, events=("end",), **_parser_args()):
        tag = element.tag
        if tag == f"{W}t":
            pieces.append(element.text or "")
        elif tag in (f"{W}tab", f"{W}br"):
            pieces.append(" ")
        elif tag == f"{W}p":
            yield "".join(pieces)
            pieces = []
            element.clear()


def read_ofd(body: bytes) -> FileText:
    try:
        archive = BoundedZip(body)
        out = TextCollector()
        pages = _ofd_pages(archive)
        for name in pages:
            with archive.open(name) as stream:
                for line in _ofd_lines(stream):
                    out.add(line)
            if out.full:
                break
        return out.result("ofd")
    except TooLarge as exc:
        return FileText(TOO_LARGE, kind="ofd", detail=str(exc))
    except etree.XMLSyntaxError as exc:
        return FileText(DAMAGED, kind="ofd", detail=f"XML: {exc}"[:500])


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml(archive: BoundedZip, name: str):
    with archive.open(name) as stream:
        return etree.parse(stream, etree.XMLParser(**_parser_args())).getroot()


def _ofd_pages(archive: BoundedZip) -> list[str]:
    """Page Content.xml members in page order: OFD.xml → DocRoot → Document.xml's Pages/Page@BaseLoc;
    when that chain is broken, every */Content.xml under a Pages folder in name order."""
    pages: list[str] = []
    root_name = archive.find("OFD.xml")
    if root_name:
        for doc_root in (e for e in _xml(archive, root_name).iter() if _local(e.tag) == "DocRoot"):
            doc_name = archive.find((doc_root.text or "").strip())
            if not doc_name:
                continue
            base = posixpath.dirname(doc_name.lstrip("/"))
            for page in (e for e in _xml(archive, doc_name).iter() if _local(e.tag) == "Page"):
                loc = (page.get("BaseLoc") or "").strip()
                name = archive.find(loc if loc.startswith("/") else posixpath.join(base, loc))
                if name and name not in pages:
                    pages.append(name)
    if not pages:
        pages = sorted(n for n in archive.names if n.lower().endswith("content.xml") and "/pages/" in n.lower())
    return pages


def _ofd_lines(stream) -> Iterator[str]:
    """A page's text: TextCode runs of one TextObject make a piece; pieces on the same baseline (the
    TextObject's Boundary y) join into one line, as a line set in several runs reads."""
    line: list[str] = []
    line_y: str | None = None
    for _event, element in etree.iterparse(stream, events=("end",), **_parser_args()):
        if _local(element.tag) != "TextObject":
            continue
        text = "".join(code.text or "" for code in element.iter() if _local(code.tag) == "TextCode")
        boundary = (element.get("Boundary") or "").split()
        y = boundary[1] if len(boundary) > 1 else None
        if line and y != line_y:
            yield "".join(line)
            line = []
        line.append(text)
        line_y = y
        element.clear()
    if line:
        yield "".join(line)
