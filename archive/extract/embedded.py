"""Documents whose data lives in a script rather than in the DOM.

Guangdong's gkmlpt articles carry the document in ``window._CONFIG = {…, DETAIL: {title, content,
publisher, document_number, identifier, created_at, attachment: […]}}`` while the visible page is an
empty Vue shell (or in a separate ``window._CONFIG.DETAIL = {…}``); single-page apps do the same with ``__INITIAL_STATE__``, ``__NUXT__`` (when it is a
plain object literal, not the minified ``(function(a,b){…})(…)`` form), ``__NEXT_DATA__`` and other
``application/json`` scripts. The object literals are read with chompjs, JSON with json.

The document is found by shape, not by path: the object holding a title-like string and the longest
HTML or text content. Its body goes through the same cleaning and rendering as a DOM body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import chompjs
import lxml.html
from lxml import etree

from archive.extract import clean, content, page_links
from archive.extract.text import CHINA_OFFSET, join_cjk, norm_space, parse_datetime, squash
from archive.report import Attachment, Metadata, Report

_GLOBALS = r"_CONFIG|__INITIAL_STATE__|__NUXT__|__NEXT_DATA__|__PRELOADED_STATE__|__APP_DATA__"
_ASSIGNMENT = re.compile(
    rf"""(?:\bwindow\s*(?:\.\s*(?P<dotted>{_GLOBALS})|\[\s*["'](?P<indexed>{_GLOBALS})["']\s*\])"""
    rf"""|\b(?:var|let|const)\s+(?P<declared>{_GLOBALS}))(?:\s*\.\s*\w+)?\s*=\s*(?=[{{\[])"""
)
_JSON_TYPES = frozenset({"application/json", "application/ld+json"})
# Walking a state tree stops after this many containers: app states can be huge, documents are near the top.
MAX_NODES = 20000
# A content string counts as a document body when it holds this many word characters once tags are gone.
MIN_BODY_CHARS = 30
MIN_TITLE_CHARS = 4
MAX_TITLE_CHARS = 200
# A DOM body already showing the embedded text (server-side rendering) keeps the DOM's body: the
# embedded text's opening this long is looked for in it.
COVER_PROBE_CHARS = 30

_WORDS = re.compile(r"[\w\u4e00-\u9fff]")
_TAG = re.compile(r"<[^>]+>")
_HTML = re.compile(r"<(?:p|div|br|span|table|img|a|h\d|section|strong|font)\b", re.IGNORECASE)


def _key(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


# Field names seen in disclosure platforms and CMS front ends, normalised (lowercase, no _ or -),
# in order of preference.
_TITLE = ("title", "doctitle", "articletitle", "maintitle", "headline", "wzbt")
_BODY = ("content", "contenthtml", "htmlcontent", "articlecontent", "body", "bodyhtml", "html", "richtext",
         "text", "txt", "zw", "detail")
_PUBLISHED = ("publishtime", "publishdate", "pubdate", "pubtime", "releasetime", "releasedate", "firstpublishtime",
              "displaypublishtime", "fbsj", "fbrq", "date", "time", "createdat", "createtime", "createdate", "created",
              "ctime")
_SOURCE = ("source", "contentsource", "sourcename", "origin", "comefrom", "xxly", "laiyuan")
_METADATA = {
    "index_no": ("identifier", "indexno", "indexnumber", "indexcode", "syh"),
    "doc_number": ("documentnumber", "docnumber", "docno", "fileno", "filenum", "fwzh", "wenhao", "wh"),
    "issuer": ("publisher", "issuer", "publishorg", "publishunit", "publishdept", "fbjg", "fwjg", "department"),
    "written_date": ("writtendate", "writedate", "signdate", "cwrq"),
    "topic": ("topic", "theme", "classifyname", "classifymainname", "ztfl"),
    "validity": ("validity", "effectiveness", "timeliness", "yxx"),
    "keywords": ("keywords", "keyword", "tags", "gjc"),
}
_ATTACHMENTS = ("attachment", "attachments", "attachmentlist", "files", "filelist", "fj", "enclosure", "appendix")
_FILE_URL = ("url", "href", "link", "path", "fileurl", "downloadurl", "src")
_FILE_NAME = ("name", "title", "filename", "originalname", "displayname")


@dataclass
class EmbeddedDocument:
    """The document object found in a page's scripts, keyed by normalised field name."""

    fields: dict[str, Any]
    title: str

    def first(self, names: tuple[str, ...]) -> Any:
        for name in names:
            value = self.fields.get(name)
            if value not in (None, "", [], {}):
                return value
        return None


def find_document(root: etree._Element) -> EmbeddedDocument | None:
    """The document object of the page's scripts, if one has a title and a body. Call before the
    scripts are stripped."""
    best: tuple[int, EmbeddedDocument] | None = None
    for data in _script_data(root):
        for obj in _objects(data):
            found = _as_document(obj)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
    return best[1] if best else None


def _script_data(root: etree._Element):
    for script in root.iter("script"):
        code = script.text or ""
        if not code.strip():
            continue
        kind = (script.get("type") or "").strip().lower()
        if kind in _JSON_TYPES:
            try:
                yield json.loads(code)
            except ValueError:
                continue
            continue
        for match in _ASSIGNMENT.finditer(code):
            try:
                yield chompjs.parse_js_object(code[match.end():])
            except (ValueError, RecursionError):
                continue


def _objects(data: Any):
    """Every dict inside `data`, breadth first, at most MAX_NODES containers."""
    queue = [data]
    seen = 0
    while queue and seen < MAX_NODES:
        item = queue.pop(0)
        seen += 1
        if isinstance(item, dict):
            yield item
            queue.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            queue.extend(v for v in item if isinstance(v, (dict, list)))


def _as_document(obj: dict) -> tuple[int, EmbeddedDocument] | None:
    fields = {_key(k): v for k, v in obj.items() if isinstance(k, str)}
    title = next((join_cjk(v) for k in _TITLE if isinstance(v := fields.get(k), str) and v.strip()), "")
    if not MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS:
        return None
    body = next((v for k in _BODY if isinstance(v := fields.get(k), str) and v.strip()), "")
    chars = len(_WORDS.findall(_TAG.sub("", body)))
    if chars < MIN_BODY_CHARS:
        return None
    fields["__body__"] = body
    return chars, EmbeddedDocument(fields=fields, title=title)


def _timestamp(value: float) -> str:
    seconds = value / 1000 if value > 1e11 else value
    moment = datetime.fromtimestamp(seconds, timezone(timedelta(hours=8)))
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + CHINA_OFFSET


def _published(doc: EmbeddedDocument) -> str | None:
    for name in _PUBLISHED:
        value = doc.fields.get(name)
        if isinstance(value, bool) or value in (None, ""):
            continue
        if isinstance(value, (int, float)):
            return _timestamp(value)
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.isdigit() and len(stripped) in (10, 13):
                return _timestamp(int(stripped))
            parsed = parse_datetime(stripped)
            if parsed:
                return parsed
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if isinstance(v, (str, int)))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return norm_space(value) or None if isinstance(value, str) else None


def _metadata(doc: EmbeddedDocument) -> dict[str, str | None]:
    values = {name: _text(doc.first(keys)) for name, keys in _METADATA.items()}
    if values["written_date"]:
        values["written_date"] = parse_datetime(values["written_date"], date_only=True) or values["written_date"]
    return values


def _attachments(doc: EmbeddedDocument, base: str) -> list[Attachment]:
    listed = doc.first(_ATTACHMENTS)
    items = listed if isinstance(listed, list) else [listed] if listed else []
    found: list[Attachment] = []
    for item in items:
        if isinstance(item, str):
            href, name = item, None
        elif isinstance(item, dict):
            keyed = {_key(k): v for k, v in item.items() if isinstance(k, str)}
            href = next((v for k in _FILE_URL if isinstance(v := keyed.get(k), str) and v.strip()), "")
            name = next((norm_space(v) for k in _FILE_NAME if isinstance(v := keyed.get(k), str) and v.strip()), None)
        else:
            continue
        if href.strip():
            url = page_links.request_url(base, href)
            if all(a.url != url for a in found):
                found.append(Attachment(url=url, name=name or url.rsplit("/", 1)[-1]))
    return found


def _body_element(body: str) -> etree._Element:
    if _HTML.search(body):
        return lxml.html.fragment_fromstring(body, create_parent="div")
    box = lxml.html.Element("div")
    for line in body.splitlines():
        if line.strip():
            p = etree.SubElement(box, "p")
            p.text = line.strip()
    return box


@dataclass
class _Body:
    text: str
    html: str
    attachments: list[Attachment]
    images: list[str]


def _render(doc: EmbeddedDocument, base: str) -> _Body:
    """The body through the DOM body's own steps: invisible parts out, attachment links and title
    repeats out, then text and HTML rendering."""
    el = _body_element(doc.fields["__body__"])
    clean.strip_invisible(el)
    attachments = _attachments(doc, base)
    for found in page_links.extract_attachments(el, base):
        if all(a.url != found.url for a in attachments):
            attachments.append(found)
    content.clean_body(el, doc.title)
    images = page_links.extract_images(el, base)
    return _Body(content.body_text(el), content.body_html(el, base), attachments, images)


def _shown_in(dom_text: str, text: str) -> bool:
    probe = squash(text)[:COVER_PROBE_CHARS]
    return bool(probe) and probe in squash(dom_text)


def merge(report: Report, doc: EmbeddedDocument, base: str) -> Report:
    """The report with the embedded document folded in.

    When the DOM does not show the embedded body, the embedded document is the page's document if it
    is longer than what the DOM gave or its title agrees with the page's: its title, time, source, metadata and
    body replace the DOM's (DOM values stay where it has none). When the DOM already shows it (server-
    side rendering), the DOM's cleaned body stays and only fields the DOM lacked are filled in.
    """
    body = _render(doc, base)
    if not body.text:
        return report
    meta = _metadata(doc)
    published, source = _published(doc), _text(doc.first(_SOURCE))
    shown_title = report.title or ""
    same_title = bool(shown_title) and (doc.title in shown_title or shown_title in doc.title)
    if _shown_in(report.body_text, body.text):
        if not same_title:
            return report
        report.publish_time = report.publish_time or published
        report.source = report.source or source
        current = vars(report.metadata)
        report.metadata = Metadata(**{k: current[k] or meta[k] for k in current})
        return report
    if len(squash(body.text)) <= len(squash(report.body_text)) and not same_title:
        return report
    current = vars(report.metadata)
    report.title = doc.title
    report.publish_time = published or report.publish_time
    report.source = source or report.source
    report.metadata = Metadata(**{k: meta[k] or current[k] for k in current})
    report.body_text, report.body_html = body.text, body.html
    report.attachments = body.attachments + [a for a in report.attachments
                                             if all(a.url != b.url for b in body.attachments)]
    report.images = body.images
    return report
