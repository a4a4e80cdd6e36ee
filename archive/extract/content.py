"""Clean the body element itself and render it as text and HTML."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from archive.extract.clean import is_furniture_line
from archive.extract.page_links import is_attachment_link
from archive.extract.text import element_text, join_cjk, render_lines, squash

_ATTACH_LABEL = re.compile(
    r"^(?:附件|附件下载|相关附件|附件列表|附件[:：]?下载|下载附件|文件下载)\s*+(?:[:：]\s*+)?(?:\d++\s*+(?:[.、．:：]\s*+)?)*+$"
)
_KEEP_ATTRS = frozenset({"href", "src", "alt", "title", "colspan", "rowspan"})
_LINK_ATTRS = ("href", "src")
_TRIM_TAGS = ("p", "div", "li", "span", "h1", "h2", "h3", "h4", "h5", "h6", "td", "dd", "dt", "strong", "b", "font")


def _drop(el: etree._Element) -> None:
    if el.getparent() is not None:
        el.drop_tree()


def clean_body(body: etree._Element, title: str | None) -> None:
    """Remove attachment links, their 附件 labels and headings repeating the title from the body."""
    for a in [a for a in body.iter("a") if is_attachment_link(a)]:
        _drop(a)
    for el in list(body.iter(*_TRIM_TAGS)):
        if el is body or el.getparent() is None:
            continue
        text = element_text(el)
        if _ATTACH_LABEL.match(text) or (title and len(text) >= 4 and join_cjk(text) == title):
            _drop(el)
    if title:
        _drop_split_title(body, title)


def _drop_split_title(body: etree._Element, title: str) -> None:
    """Drop the leading blocks that together spell the title: a title set over several paragraphs
    (国务院关于在…先行区 / 暂时调整实施… / …的决定) at the top of the body."""
    target, spelled, blocks = squash(title), "", []
    for child in body:
        if not isinstance(child.tag, str):
            continue
        text = squash(element_text(child))
        if not text:
            continue
        spelled += text
        blocks.append(child)
        if spelled == target:
            for block in blocks:
                _drop(block)
            return
        if not target.startswith(spelled):
            return


def body_text(body: etree._Element) -> str:
    lines = [line for line in render_lines(body) if not is_furniture_line(line) and not _ATTACH_LABEL.match(line)]
    return "\n".join(lines)


def body_html(body: etree._Element, base: str) -> str:
    """The cleaned body as HTML: presentation attributes dropped, links absolute."""
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in list(el.attrib):
            if attr not in _KEEP_ATTRS:
                del el.attrib[attr]
        for attr in _LINK_ATTRS:
            value = el.get(attr)
            if value and not value.lower().startswith(("javascript:", "data:", "mailto:")):
                el.set(attr, urljoin(base, value.strip()))
    if body.tag in ("body", "html"):
        body.tag = "div"
    return lxml.html.tostring(body, encoding="unicode", method="html", with_tail=False).strip()
