"""What list discovery hands the crawler: links (GET or POST, with the headers a page's script sends) and
the `Discovery` of one list page. Defined apart from archive/discover.py so platform handlers can build them."""

from __future__ import annotations

from dataclasses import dataclass, field

RECORD, LIST = "record", "list"


@dataclass(frozen=True)
class Link:
    """A request the crawler is to make: a document page (RECORD) or another page of records (LIST)."""

    url: str
    kind: str  # RECORD | LIST
    method: str = "GET"
    body: bytes | None = None  # POST body (form-encoded or JSON) as the page's script sends it
    headers: tuple[tuple[str, str], ...] = ()
    title: str | None = None
    date: str | None = None
    via: str = ""  # the handler that found it (crawl --explain, the crawl summary)
    # an endpoint's: the URL templates (absolute, `…/detail.html?id={id}`) the list page's scripts build for
    # records that carry only an id, carried on to every page of the endpoint (archive/jsonlist.py)
    record_urls: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, bytes | None]:
        """What makes two links one request (title, date and handler do not)."""
        return self.url, self.method, self.body


@dataclass
class Discovery:
    """What one list page (or one list endpoint's answer) leads to."""

    records: list[Link] = field(default_factory=list)  # document links
    pages: list[Link] = field(default_factory=list)  # the column's other list pages and endpoint calls
    more: list[Link] = field(default_factory=list)  # "更多" links of hub blocks (followed from start pages)
    handlers: list[str] = field(default_factory=list)  # what found something, and notes (empty-column, shell)
    column: str | None = None  # the column name the page shows
