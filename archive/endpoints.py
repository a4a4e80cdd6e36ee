"""List endpoints a site profile declares: where zero-config cannot know, the profile says it as data.

    endpoints:
      - url: /api/articles?column=5&page={page}     # {page}: the page number
        method: POST                                # GET (default) or POST
        body: "column=5&pageNo={page}"              # POST form body, {page} filled in too
        first_page: 1                               # default 1
        pages: 12                                   # how many; default: the total the first answer states
        records: data.list                          # dotted path to the array of records
        url_field: link                             # the record's URL field (default url), or /art/{id}.html
        title: title                                # optional field names
        date: pubDate
        column: 通知公告                             # optional: the column its records belong to

The first page is requested with the start URLs; its answer gives its records and, once, every other
page. Each answer is read by `read_endpoint` through the one reader (`archive.page`), so a declared
endpoint and a discovered one end the same way: RECORD links and LIST pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archive import jsonlist
from archive.linktypes import LIST, RECORD, Discovery, Link
from archive.urls import absolute

FORM = (("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"), ("X-Requested-With", "XMLHttpRequest"))
MAX_PAGES = 5000  # no column has more; a larger stated total is a misparse


@dataclass(frozen=True)
class Endpoint:
    url: str  # absolute, with {page}
    records: str  # dotted path
    record_url: str  # a field name, or a template with {field}
    method: str = "GET"
    body: str | None = None
    first_page: int = 1
    pages: int | None = None
    title: str | None = None
    date: str | None = None
    column: str | None = None


def endpoint_link(endpoint: Endpoint, page: int) -> Link:
    """The request for one page of the endpoint."""
    body = endpoint.body.replace("{page}", str(page)).encode("utf-8") if endpoint.body is not None else None
    return Link(endpoint.url.replace("{page}", str(page)), LIST, method=endpoint.method, body=body,
                headers=FORM if body is not None else (), via="profile-endpoint")


def read_endpoint(endpoint: Endpoint, page: int, url: str, text: str) -> Discovery:
    """The records of one answer and, for the first page, every other page."""
    found = Discovery(handlers=["profile-endpoint"], column=endpoint.column)
    data = jsonlist.parse(text)
    items = _at(data, endpoint.records) if data is not None else None
    if not isinstance(items, list):
        found.handlers.append("no-records")
        return found
    for item in items:
        if isinstance(item, dict) and (target := absolute(url, _record_url(endpoint.record_url, item))):
            found.records.append(Link(target, RECORD, title=_text(item.get(endpoint.title or "")),
                                      date=_text(item.get(endpoint.date or "")), via="profile-endpoint"))
    if page == endpoint.first_page:
        last = endpoint.pages and endpoint.first_page + endpoint.pages - 1
        if not last and (stated := jsonlist.total_pages(data, len(items))):
            last = endpoint.first_page + stated - 1
        last = min(last or page, endpoint.first_page + MAX_PAGES - 1)
        found.pages = [endpoint_link(endpoint, n) for n in range(page + 1, last + 1)]
    return found


def _at(data: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def _record_url(template: str, item: dict[str, Any]) -> str | None:
    if "{" not in template:
        value = item.get(template)
        return value.strip() if isinstance(value, str) and value.strip() else None
    return jsonlist.fill(template, item)


def _text(value: Any) -> str | None:
    return " ".join(str(value).split()) or None if value not in (None, "") else None
