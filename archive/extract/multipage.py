"""Articles split over several pages (分页): find the continuation pages, merge their reports.

TRS WCM and many other CMSs split a long article into `t20240301_777.html`, `t20240301_777_1.html`,
`t20240301_777_2.html` …, linked by a page nav inside the article (`上一页 1 2 3 下一页`) or written by
`createPageHTML(3, 0, "t20240301_777", "html")`. The report of the first page carries the body text of
all pages, in order; each page stays a capture of its own in the WARC.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from archive.report import Report

# More sub-pages than this is a misparse (no real article is split into hundreds of pages).
MAX_SUBPAGES = 100
# index_1.html beside index.html is a column's next list page, never an article's second page.
_LIST_STEMS = frozenset({"index", "default", "list", "home", "main"})
_HREF = re.compile(r"""href\s*=\s*["']([^"'#]+)""", re.IGNORECASE)
# The field a query-paged article (show.asp?id=77&page=2) puts its page number in.
_PAGE_FIELD = re.compile(r"^(?:page|p|pn|pageno|pageindex|pagenum|articlepage|curpage|cpage)$", re.IGNORECASE)
_FILE = re.compile(r"^(?P<stem>[\w-]+)\.(?P<ext>s?html?|jsp|aspx?|php)$", re.IGNORECASE)


def continuation_urls(html: str, url: str) -> list[str]:
    """URLs of pages 2..N of the article at `url`, in order; [] for a one-page article or a sub-page.

    A continuation is `STEM_N.EXT` beside the page `STEM.EXT`, named by a link or a page script. A
    sub-page itself (`STEM_1.EXT`) has no `STEM_1_N.EXT` continuations, so only the first page merges.
    """
    parts = urlsplit(url)
    if parts.query:
        return _query_continuations(html, url)
    m = _FILE.match(parts.path.rsplit("/", 1)[-1])
    if not m:
        return []
    stem, ext = m["stem"], m["ext"]
    scripted = "createPageHTML" in html
    if stem.lower() in _LIST_STEMS or (stem + "_" not in html and not scripted):
        return []
    numbers = {int(n) for n in re.findall(rf"(?<![\w-]){re.escape(stem)}_(\d{{1,3}})\.{re.escape(ext)}\b", html)}
    script = scripted and re.search(rf"""createPageHTML\(\s*(\d+)\s*,\s*\d+\s*,\s*["']{re.escape(stem)}["']""", html)
    if script:
        numbers.update(range(1, int(script.group(1))))
    found = sorted(n for n in numbers if 1 <= n <= MAX_SUBPAGES)
    return [urljoin(url, f"{stem}_{n}.{ext}") for n in found]


def _query_continuations(html: str, url: str) -> list[str]:
    """`show.asp?id=77&page=2`-style pages of the article `show.asp?id=77`: the same path and query plus a
    page field (which the first page itself does not carry)."""
    parts = urlsplit(url)
    own = parse_qsl(parts.query, keep_blank_values=True)
    if any(_PAGE_FIELD.match(k) for k, _ in own):
        return []  # a continuation page itself
    name = parts.path.rsplit("/", 1)[-1]
    if not name or name not in html:
        return []
    found: dict[int, str] = {}
    for href in _HREF.findall(html):
        if name not in href and not href.startswith("?"):
            continue
        target = urlsplit(urljoin(url, unescape(href)))
        if target.path != parts.path or target.netloc != parts.netloc:
            continue
        query = parse_qsl(target.query, keep_blank_values=True)
        extra = [(k, v) for k, v in query if (k, v) not in own]
        if len(extra) == 1 and len(query) == len(own) + 1 and _PAGE_FIELD.match(extra[0][0]) \
                and extra[0][1].isdigit() and 2 <= int(extra[0][1]) <= MAX_SUBPAGES + 1:
            found.setdefault(int(extra[0][1]), urlunsplit(target._replace(fragment="")))
    return [found[n] for n in sorted(found)]


def merge_pages(first: Report, following: list[Report]) -> Report:
    """`first` with the bodies, attachments and images of `following` appended in order."""
    texts = [first.body_text, *(r.body_text for r in following)]
    first.body_text = "\n".join(t for t in texts if t)
    first.body_html = "".join([first.body_html, *(r.body_html for r in following)])
    seen = {a.url for a in first.attachments}
    for report in following:
        for attachment in report.attachments:
            if attachment.url not in seen:
                seen.add(attachment.url)
                first.attachments.append(attachment)
        first.images.extend(i for i in report.images if i not in first.images)
    first.content_hash = first.compute_content_hash()
    return first


class PageAssembler:
    """Merge multi-page articles from a stream of read pages: the crawl's (pages 2..N requested once
    page 1 was read) and a reprocess's (pages in archive order).

    `add(report, continuations)` returns the reports that are complete: a one-page article at once, a
    first page once all its continuation pages were added or skipped, nothing for a continuation page.
    `skip(url)` is a continuation that could not be read: the article goes on without it. `finish()`
    returns the articles whose remaining pages never came, merged with the pages that did.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[Report, list[str], dict[str, Report | None]]] = {}
        self._owner: dict[str, str] = {}

    def expects(self, url: str) -> bool:
        """True for a continuation page of an article already added: it is a page, whatever it looks like."""
        return url in self._owner

    def add(self, report: Report, continuations: list[str]) -> list[Report]:
        if report.url in self._owner:
            return self._arrived(report.url, report)
        following = [u for u in continuations if u != report.url and u not in self._owner]
        if not following:
            return [report]
        self._waiting[report.url] = (report, following, {})
        self._owner.update((u, report.url) for u in following)
        return []

    def skip(self, url: str) -> list[Report]:
        return self._arrived(url, None) if url in self._owner else []

    def _arrived(self, url: str, report: Report | None) -> list[Report]:
        owner = self._owner.pop(url)
        first, pending, pages = self._waiting[owner]
        pages[url] = report
        if len(pages) < len(pending):
            return []
        del self._waiting[owner]
        return [merge_pages(first, [p for u in pending if (p := pages[u]) is not None])]

    def finish(self) -> list[Report]:
        done = [merge_pages(first, [p for u in pending if (p := pages.get(u)) is not None])
                for first, pending, pages in self._waiting.values()]
        self._waiting.clear()
        self._owner.clear()
        return done
