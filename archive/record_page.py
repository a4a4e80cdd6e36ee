"""A record link's page read in one go, the way the crawler's extraction workers read it.

Everything a crawl needs from a detail page's bytes happens here, in the worker process rather than on
the crawl's event loop: decoding, the check that the page is not a list after all, extraction, the
URLs of the article's other pages, and the search tokens the store will index. The crawl process only
routes what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsel import Selector

from archive import recognize
from archive.extract import extract
from archive.extract.decode import decode_body
from archive.extract.multipage import continuation_urls
from archive.report import Report
from archive.store.search_index import tokenize_ahead


@dataclass
class RecordPage:
    """What a record link led to: a LIST (the caller reads its links) or a DETAIL with its report."""

    kind: str
    report: Report | None = None
    continuations: list[str] = field(default_factory=list)  # pages 2..N of a split article


def read_record(body: bytes, url: str, *, content_type: str | None = None, status: int | None = None,
                recognise: bool = True) -> RecordPage:
    """The report of the page at `url`; with `recognise`, first make sure it is not a list page.

    Raises ExtractionError (empty, binary, challenge, no-content) as `extract` does.
    """
    text, codec = decode_body(body, content_type)
    if recognise and not recognize.looks_like_article(url, text) \
            and recognize.recognize(url, text, Selector(text=text)).kind == recognize.LIST:
        return RecordPage(recognize.LIST)
    report = extract(body, url, content_type=content_type, encoding=codec, status=status)
    return RecordPage(recognize.DETAIL, tokenize_ahead(report), continuation_urls(text, url))
