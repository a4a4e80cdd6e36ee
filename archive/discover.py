"""What a list page leads to: its record links, the other pages of its column, its hub blocks' 更多 links.

The one place a list page (or a list endpoint's answer) is read for links, by the crawl, by
`reprocess` (which rebuilds the crawl's context from archived lists) and by `crawl --explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsel import Selector

from archive import pagination, recognize
from archive.extract.decode import decode_body
from archive.urls import absolute

RECORD, LIST = "record", "list"


@dataclass(frozen=True)
class Link:
    url: str
    kind: str  # RECORD (a document page) or LIST (another page of records)
    method: str = "GET"
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    title: str | None = None
    date: str | None = None


@dataclass
class Discovery:
    records: list[Link] = field(default_factory=list)
    pages: list[Link] = field(default_factory=list)
    more: list[Link] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    column: str | None = None


def discover(url: str, body: bytes | str, content_type: str | None = None, sel: Selector | None = None, *,
             item_xpath: str | None = None, next_xpath: str | None = None,
             column_xpath: str | None = None) -> Discovery:
    """The links of the list page at `url` (HTML, or a Hanweb `<datastore>` XML answer)."""
    text = body if isinstance(body, str) else decode_body(body, content_type)[0]
    sel = sel if sel is not None else Selector(text=text)
    found = Discovery()
    if "<html" in text[:2000].lower():
        found.column = _column(sel, column_xpath)
    records = [link for link in recognize.list_links(url, sel, item_xpath)]
    if records:
        found.handlers.append("profile selector" if item_xpath else "repeated items")
    datastore = pagination.datastore_links(url, text)
    if datastore:
        found.handlers.append("hanweb datastore")
    seen: set[str] = set()
    for link in [*(Link(r.url, RECORD, title=r.title or None, date=r.date) for r in records),
                 *(Link(u, RECORD) for u in datastore)]:
        if link.url not in seen:
            seen.add(link.url)
            found.records.append(link)
    found.more = [Link(u, LIST) for u in recognize.more_links(url, sel)]
    pages = pagination.next_pages(url, text, sel)
    if next_xpath:
        base = recognize.base_url(url, sel)
        pages += [h for a in sel.xpath(next_xpath) if (h := absolute(base, a.attrib.get("href")))]
    if pages:
        found.handlers.append("pagination")
    found.pages = [Link(u, LIST) for u in dict.fromkeys(pages) if u != url]
    return found


def _column(sel: Selector, column_xpath: str | None) -> str | None:
    if column_xpath:
        for node in sel.xpath(column_xpath):
            value = node.root if isinstance(node.root, str) else node.xpath("string()").get("")
            if name := " ".join(value.split()):
                return name
    return recognize.column_name(sel)
