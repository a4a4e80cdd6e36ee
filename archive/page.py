"""The one reader of a page: what an HTTP exchange is, and its report or its links.

The crawl's extraction workers, `govarchive extract` and `govarchive reprocess` all call `read_page`
with the exchange (URL, status, headers, body, fetch time, WARC record) and what is known of the page's
context (a start URL, a list's record link, page 2..N of an article, a site profile's hints), so the same
bytes in the same context give the same answer whenever and however they are read. Recognition
(`archive.recognize`), challenge detection (`archive.challenge`), withdrawal detection
(`archive.withdrawal`), list links (`archive.discover`), extraction (`archive.extract`) and a file's text
(`archive.filetext`) each live in their own module; this one only puts them in order.

Nothing raises out of `read_page`: a page that cannot be read is a reading of kind FAILED with a named
failure kind, so a crawl records it and a reprocess counts it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from parsel import Selector

from archive import challenge, recognize, withdrawal
from archive.discover import Discovery, Link, discover, list_source, looks_like_shell
from archive.endpoints import Endpoint, read_endpoint
from archive.extract import ExtractionError, extract
from archive.extract.classify import MAX_PAGE_BYTES, check_bytes
from archive.extract.decode import decode_body
from archive.extract.extractor import EXTRACTOR_VERSION
from archive.extract.multipage import continuation_urls
from archive.filetext import FileText, read_file_text
from archive.headers import header_value, header_values
from archive.report import Report, WarcRef
from archive.store.documents import fingerprint_ahead
from archive.store.search_index import tokenize_ahead, tokenize_file_ahead

logger = logging.getLogger(__name__)

# What a page is.
LIST, DETAIL, OTHER = recognize.LIST, recognize.DETAIL, recognize.OTHER
CHALLENGE, WITHDRAWN, FILE, FAILED = "challenge", "withdrawn", "file", "failed"
FILE_MESSAGE = "not an HTML page: a file (attachment, image or document)"
# The failure kinds a reading names (the crawl's download failures: crawler/failures.py).
EXTRACTION, ANTIBOT, BINARY, TOO_LARGE = "extraction", "antibot", "binary", "too-large"
# Why it was fetched (request.meta["role"] in a crawl; rebuilt from archived lists in a reprocess).
START, PAGE, RECORD, SUBPAGE, ATTACHMENT = "start", "page", "record", "subpage", "attachment"

# OTHER's reason for a single-page app's shell: only a browser can tell what it lists (crawler/browser).
SHELL = "shell"
# A column of one or two records (or none) looks like a short article with a prev/next link: without a
# list's context it is a list, as a list's record it is that record.
WEAK_LIST_REASONS = frozenset({"few-dated-items", "empty-list"})
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/json",
               "text/json", "application/javascript", "text/javascript")
_LOOKS_LIKE_MARKUP = re.compile(rb"^\s*(?:\xef\xbb\xbf\s*)?(?:<[!?a-zA-Z]|[{\[])")


@dataclass
class Fetched:
    """One HTTP exchange as the reader needs it; plain data, so it crosses to worker processes."""

    url: str
    status: int
    headers: list[tuple[str, str]]  # (name, value), values decoded as latin-1; repeated names kept
    body: bytes  # content-decoded payload
    fetched_at: str | None = None  # ISO 8601 UTC (archive.clock.iso_utc)
    warc: WarcRef | None = None

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    def header_values(self, name: str) -> list[str]:
        return header_values(self.headers, name)


@dataclass(frozen=True)
class PageContext:
    """What is known of a page before it is read."""

    role: str = PAGE
    column: str | None = None  # the column of the list that named this page
    kind_hint: str | None = None  # LIST or DETAIL from a site profile's URL patterns
    item_xpath: tuple[str, ...] = ()  # site profiles' selectors (archive.discover)
    next_xpath: tuple[str, ...] = ()
    column_xpath: tuple[str, ...] = ()
    link: Link | None = None  # the link that was followed (an endpoint's method and body, for its next pages)
    fragment: str | None = None  # the start URL's #… (a gkmlpt category), which never reaches the server
    force_detail: bool = False  # extract whatever it looks like (`govarchive extract --any`)
    encoding: str | None = None  # the charset, when a person knows better than the bytes
    endpoint: Endpoint | None = None  # a site profile's declared list endpoint this page is an answer of
    endpoint_page: int = 0


@dataclass
class PageReading:
    kind: str
    reasons: tuple[str, ...] = ()
    report: Report | None = None  # DETAIL
    continuations: list[str] = field(default_factory=list)  # DETAIL: pages 2..N of a split article
    links: Discovery | None = None  # LIST
    failure_kind: str | None = None  # FAILED / CHALLENGE: what the crawl records
    message: str = ""  # FAILED / CHALLENGE / WITHDRAWN / OTHER: why, for a person
    redirect: str | None = None  # OTHER: where a script-only redirect stub sends the browser
    file_text: FileText | None = None  # FILE: what the file says (archive.filetext)


def is_file_response(content_type: str | None, content_disposition: str | None, head: bytes) -> bool:
    """A downloaded file (attachment, image, document), not a page to read: Content-Disposition
    attachment, a type that is not markup, or no type and bytes that are not markup."""
    if content_disposition and content_disposition.strip().lower().startswith("attachment"):
        return True
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime.startswith(_PAGE_TYPES):
        return False
    if mime and mime not in ("text/plain", "application/octet-stream"):
        return True
    return not _LOOKS_LIKE_MARKUP.match(head[:512])  # untyped, or typed as anything: judged by its bytes


def read_page(fetched: Fetched, context: PageContext = PageContext()) -> PageReading:
    """What the exchange is, with its report (a detail page) or its links (a list page)."""
    try:
        return _read(fetched, context)
    except Exception as exc:  # a bug or a parser crash on hostile bytes must cost this page only
        logger.warning("reading %s failed: %s: %s", fetched.url, type(exc).__name__, exc)
        return PageReading(FAILED, failure_kind=EXTRACTION, message=f"{type(exc).__name__}: {exc}")


def status_reading(status: int) -> PageReading | None:
    """The reading a status alone decides: a challenge (412/521) or a withdrawal (404/410)."""
    if reason := challenge.challenge_reason(status, (), None):
        return _challenge(reason)
    if reason := withdrawal.status_reason(status):
        return PageReading(WITHDRAWN, message=reason)
    return None


def challenge_reading(fetched: Fetched) -> PageReading | None:
    """The CHALLENGE reading of an exchange that is one (by its status, cookies or stub), else None: for a
    page whose DOM was rendered by a browser, its document as the server first sent it decides."""
    text, _ = decode_body(fetched.body, fetched.header("Content-Type"))
    reason = challenge.challenge_reason(fetched.status, fetched.header_values("Set-Cookie"), text,
                                        lambda: _visible_chars(Selector(text=text)))
    return _challenge(reason) if reason else None


def quick_reading(fetched: Fetched, context: PageContext = PageContext(), max_bytes: int = 0) -> PageReading | None:
    """The reading the cheap checks decide, before anything decodes or parses the body (a crawl runs them
    before a page crosses to an extraction worker): the status (challenge, withdrawal, other answers),
    a file, an empty body, a body of `max_bytes` or more (0: no limit), binary bytes. None: read the page."""
    status = fetched.status
    if decided := status_reading(status):
        return decided
    if status >= 300:
        return PageReading(OTHER, (f"HTTP {status}",), message=f"HTTP {status}")
    body = fetched.body
    if context.role == ATTACHMENT or is_file_response(fetched.header("Content-Type"),
                                                      fetched.header("Content-Disposition"), body):
        return PageReading(FILE, message=FILE_MESSAGE)
    if not body.strip():
        return PageReading(FAILED, failure_kind=EXTRACTION, message="empty response body: nothing to read")
    try:  # size and binary: nothing decodes or parses a body they reject
        check_bytes(body, max_bytes or MAX_PAGE_BYTES)
    except ExtractionError as exc:
        return PageReading(FAILED, failure_kind=exc.kind, message=str(exc))
    return None


def file_reading(fetched: Fetched) -> PageReading:
    """A file's reading with what it says (archive/filetext): not cheap, so read where pages are read."""
    text = read_file_text(fetched.body, fetched.header("Content-Type"), fetched.url)
    return PageReading(FILE, message=FILE_MESSAGE, file_text=tokenize_file_ahead(text))


def _read(fetched: Fetched, context: PageContext) -> PageReading:
    url, status = fetched.url, fetched.status
    if decided := quick_reading(fetched, context):
        return file_reading(fetched) if decided.kind == FILE else decided
    content_type = fetched.header("Content-Type")
    text, codec = decode_body(fetched.body, content_type, context.encoding)
    tree: list[Selector] = []

    def sel() -> Selector:
        if not tree:
            tree.append(Selector(text=text))
        return tree[0]

    cookies = fetched.header_values("Set-Cookie")
    if reason := challenge.challenge_reason(status, cookies, text, lambda: _visible_chars(sel())):
        return _challenge(reason)

    if context.endpoint is not None:
        return PageReading(LIST, ("profile endpoint",),
                           links=read_endpoint(context.endpoint, context.endpoint_page, url, text))
    kind, reasons = _kind(url, text, sel, context, content_type)
    if kind == LIST:
        links = discover(url, text, content_type, None if reasons == ("json",) else sel(),
                         item_xpath=list(context.item_xpath), next_xpath=list(context.next_xpath),
                         fragment=context.fragment, request=context.link)
        links.column = _profile_column(sel(), context.column_xpath) or links.column
        return PageReading(LIST, reasons, links=links)
    if kind != DETAIL:
        if looks_like_shell(text, sel()):
            return PageReading(OTHER, (*reasons, SHELL), message="an app shell: only a browser can render it")
        return PageReading(OTHER, reasons, message="neither a list nor a detail page",
                           redirect=recognize.script_redirect(url, text))
    return _detail(fetched, context, text, codec, content_type, reasons, sel)


def _kind(url: str, text: str, sel, context: PageContext, content_type: str | None) -> tuple[str, tuple[str, ...]]:
    """LIST, DETAIL or OTHER for this page in this context.

    Pages 2..N of an article are details whatever their page nav looks like; a list's record link is
    extracted unless it turns out to be a list itself (a sub-column), because a one-line notice or a
    withdrawal notice has too little text to look like an article but is still that record.
    """
    if context.force_detail or context.role == SUBPAGE:
        return DETAIL, (context.role,)
    if context.kind_hint:
        return context.kind_hint, ("profile pattern",)
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if "json" in mime or text.lstrip()[:1] in ("{", "["):
        return LIST, ("json",)
    if mime.endswith("javascript"):  # a page's script (archived beside it by a browser), not a document
        return OTHER, ("script",)
    if context.role == RECORD and recognize.looks_like_article(url, text):
        return DETAIL, ("article markers",)
    found = recognize.recognize(url, text, sel(), list_source)
    if context.role == RECORD and (found.kind != LIST or set(found.reasons) <= WEAK_LIST_REASONS):
        return DETAIL, ("record link", *found.reasons)
    return found.kind, found.reasons


def _detail(fetched: Fetched, context: PageContext, text: str, codec: str, content_type: str | None,
            reasons: tuple[str, ...], sel: Callable[[], Selector]) -> PageReading:
    url = fetched.url
    try:
        report = extract(fetched.body, url, content_type=content_type, encoding=codec)
    except ExtractionError as exc:
        redirect = recognize.script_redirect(url, text) if exc.kind == "no-content" else None
        if redirect:
            return PageReading(OTHER, ("script redirect",), message=str(exc), redirect=redirect)
        if exc.kind == "no-content" and not context.force_detail and looks_like_shell(text, sel()):
            # a record drawn by its app's scripts: a browser can read it
            return PageReading(OTHER, (*reasons, SHELL), message=str(exc))
        return PageReading(FAILED, reasons, failure_kind=EXTRACTION, message=str(exc))
    if not context.force_detail and (reason := withdrawal.notice_reason(report)):
        return PageReading(WITHDRAWN, reasons, message=reason)
    report.fetched_at = fetched.fetched_at
    report.status = fetched.status
    report.warc = fetched.warc
    report.column = report.column or context.column
    report.extractor_version = EXTRACTOR_VERSION
    following = [] if context.role == SUBPAGE else continuation_urls(text, url)
    return PageReading(DETAIL, reasons, report=fingerprint_ahead(tokenize_ahead(report)), continuations=following)


def _challenge(reason: str) -> PageReading:
    return PageReading(CHALLENGE, failure_kind=ANTIBOT, message=reason)


def _profile_column(sel: Selector, xpaths: tuple[str, ...]) -> str | None:
    """The column name a site profile's `selectors.column_name` picks out of the page."""
    for xpath in xpaths:
        for node in sel.xpath(xpath):
            value = node.root if isinstance(node.root, str) else node.xpath("string()").get("")
            if name := " ".join(value.split()):
                return name
    return None


def _visible_chars(sel: Selector) -> int:
    return sum(len(t.strip()) for t in sel.root.xpath("//body//text()[not(ancestor::script or ancestor::style)]"))
