"""`govarchive crawl --explain URL`: what the crawler sees on one page, without crawling.

The page is fetched once (with the crawl's User-Agent, following redirects) and read by the same
`archive.page.read_page` a crawl uses, as a start URL: its kind and the reasons, and for a list its
record links, its other pages and endpoint calls, its 更多 links and the handlers that found them; for
a detail page the report's main fields; for anything else why it is not followed.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from archive.clock import now_iso
from archive.discover import Link
from archive.page import DETAIL, LIST, START, Fetched, PageContext, PageReading, read_page

# Links shown per group; the rest are counted.
SHOWN_LINKS = 15
FETCH_TIMEOUT = 30


def fetch(url: str, user_agent: str) -> Fetched:
    """One GET of `url` (decoded from gzip by urllib's opener only when the server sends identity)."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as answer:
            return Fetched(answer.geturl(), answer.status, list(answer.headers.items()), answer.read(), now_iso())
    except urllib.error.HTTPError as exc:
        return Fetched(url, exc.code, list(exc.headers.items()), exc.read(), now_iso())


def explain(fetched: Fetched) -> tuple[PageReading, list[str]]:
    """The reading of the page as a start URL, and the lines that tell a person about it."""
    context = PageContext(START, link=Link(fetched.url, "list"), fragment=urlsplit(fetched.url).fragment or None)
    reading = read_page(fetched, context)
    lines = [f"{fetched.url}  HTTP {fetched.status}  {fetched.header('Content-Type') or 'no Content-Type'}",
             f"kind: {reading.kind}" + (f"  ({', '.join(reading.reasons)})" if reading.reasons else "")]
    if reading.message:
        lines.append(f"why: {reading.message}")
    if reading.kind == LIST and reading.links is not None:
        found = reading.links
        lines.append(f"column: {found.column or '-'}")
        lines.append(f"found by: {', '.join(found.handlers) or 'nothing'}")
        lines += list(_links("records", found.records))
        lines += list(_links("pages and endpoint calls", found.pages))
        lines += list(_links("更多 links (followed from start pages)", found.more))
    elif reading.kind == DETAIL and reading.report is not None:
        report = reading.report
        for name, value in (("title", report.title), ("publish_time", report.publish_time),
                            ("source", report.source), ("doc_number", report.metadata.doc_number),
                            ("body", f"{len(report.body_text)} characters"),
                            ("attachments", len(report.attachments)), ("other pages", len(reading.continuations))):
            lines.append(f"{name}: {value if value not in (None, '') else '-'}")
    elif reading.redirect:
        lines.append(f"redirects by script to: {reading.redirect}")
    return reading, lines


def _links(title: str, links: list[Link]) -> Iterator[str]:
    yield f"{title}: {len(links)}"
    for link in links[:SHOWN_LINKS]:
        extra: list[Any] = [link.via] if link.via else []
        if link.method != "GET":
            extra.append(f"{link.method} {(link.body or b'').decode('utf-8', 'replace')[:80]}")
        if link.record_urls:  # the links the page's script builds for records that carry only an id
            extra.append("records at " + " | ".join(link.record_urls))
        yield f"  {link.url}" + (f"  [{'; '.join(map(str, extra))}]" if extra else "") + \
            (f"  {link.title}" if link.title else "")
    if len(links) > SHOWN_LINKS:
        yield f"  … and {len(links) - SHOWN_LINKS} more"
