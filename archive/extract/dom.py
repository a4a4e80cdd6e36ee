"""Parse once, and index what later steps need so that none of them walks the whole tree again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from archive.extract.text import BLOCK_TAGS, CELL_TAGS, SKIP_TAGS

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False)
BOUNDARY_TAGS = BLOCK_TAGS | CELL_TAGS | {"br"}


@dataclass(slots=True)
class Token:
    """One text node in document order, or a block boundary (text is None)."""

    text: str | None
    owner: etree._Element | None = None
    in_link: bool = False


# Only this much of a `<title>` is read: real ones stay under ~200 characters, and the title rules (a site
# suffix stripped segment by segment) cost the square of the length on a title of thousands of segments.
MAX_TITLE_TAG_CHARS = 400


@dataclass
class Page:
    root: lxml.html.HtmlElement
    url: str
    metas: dict[str, str] = field(default_factory=dict)
    title_tag: str = ""
    content_markers: tuple[etree._Element, etree._Element] | None = None
    # Every element's Python proxy, held for the page's lifetime: lxml.html builds a proxy through a
    # Python-level class lookup each time an element without a live one is visited, and the steps walk
    # the tree several times.
    elements: list[etree._Element] = field(default_factory=list)


def parse(text: str, url: str) -> Page:
    """Parse repaired text into a Page with its <meta> values and Hanweb content markers."""
    text = _XML_DECL.sub("", text, count=1)
    root = lxml.html.document_fromstring(text, parser=_PARSER, base_url=url)
    page = Page(root=root, url=url, elements=list(root.iter()))
    start = end = None
    for meta in root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        if name == "contentstart":
            start = start if start is not None else meta
        elif name == "contentend":
            end = meta
        elif name and name not in page.metas:
            page.metas[name] = (meta.get("content") or "").strip()
    if start is not None and end is not None and start.getparent() is end.getparent():
        page.content_markers = (start, end)
    title = root.find(".//title")
    if title is not None:
        page.title_tag = title.text_content()[:MAX_TITLE_TAG_CHARS]
    return page


def tokens(root: etree._Element) -> list[Token]:
    """Text nodes of `root` in document order with block boundaries between them."""
    out: list[Token] = []
    link_depth = 0
    skip_depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in SKIP_TAGS or not tag:
                skip_depth += 1
                continue
            if skip_depth:
                continue
            if tag in BOUNDARY_TAGS:
                out.append(Token(None))
            if tag == "a":
                link_depth += 1
            if el.text and el.text.strip():
                out.append(Token(el.text, el, link_depth > 0))
            continue
        if tag in SKIP_TAGS or not tag:
            skip_depth -= 1
        elif not skip_depth:
            if tag == "a":
                link_depth -= 1
            if tag in BOUNDARY_TAGS:
                out.append(Token(None))
        if not skip_depth and el.tail and el.tail.strip() and el is not root:
            out.append(Token(el.tail, el.getparent(), link_depth > 0))
    return out


def class_id(el: etree._Element) -> str:
    """The element's class and id attributes as one lowercase string."""
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()
