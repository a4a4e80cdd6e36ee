"""Lists delivered as JSON: the records and the page count, found by the document's shape.

A list endpoint's answer holds, somewhere, an array of objects each with a URL-like field and a title-like
field (`{articles: [{url, title, created_at}]}`, `{data: {list: [{link, name, publishTime}]}}`), and near the
top a stated total: the number of pages (`pageCount`, `totalPage`…) or of records (`total`, `count`…). Field
names vary by platform, so records are found by shape: the first arrays (from the top) whose objects mostly
carry both kinds of field; arrays inside a record (its attachments) are the record's, not more records.

Records that carry only an id (`{id: "8800", title, pubDate}`) get their URL from a template the list page's
own scripts build (`…/detail.html?id={id}`, archive/scripts.py: Scripts.record_templates); without one they
are `unlinked`, and the list says so rather than giving nothing silently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Field names are matched whatever their case (TRS WCM answers in capitals: DOCTITLE, DOCPUBURL, DOCRELTIME).
URL_KEYS = ("url", "post_url", "link", "href", "detail_url", "detailUrl", "link_url", "linkUrl", "articleUrl",
            "article_url", "docUrl", "doc_url", "pageUrl", "htmlUrl", "visitUrl", "jumpUrl", "docPubUrl", "pubUrl")
TITLE_KEYS = ("title", "name", "docTitle", "doc_title", "articleTitle", "article_title", "subject", "showTitle")
DATE_KEYS = ("created_at", "publish_time", "publishTime", "publish_date", "publishDate", "pub_date", "pubDate",
             "pubdate", "date", "release_time", "releaseTime", "createTime", "create_time", "created", "time",
             "updated_at", "docDate", "fbrq", "docRelTime", "docPubTime", "pubTime", "fbsj")
PAGE_TOTAL_KEYS = ("pageCount", "page_count", "totalPage", "totalPages", "total_page", "total_pages", "pageTotal",
                   "pages", "maxPage", "pagecount", "totalpage")
RECORD_TOTAL_KEYS = ("total", "totalCount", "total_count", "count_total", "totalRecord", "totalRecords",
                     "recordCount", "totalElements", "totalNum", "totalRows", "totalSize", "count", "post_count")
PAGE_SIZE_KEYS = ("pageSize", "page_size", "perPage", "per_page", "pagesize", "limit", "size", "rows")
# Totals sit near the top: {total, data: {list}} or {data: {total, pageCount, list}}; deeper numbers are fields.
MAX_TOTAL_DEPTH = 3
_URL_LIKE = re.compile(r"^(?:https?:)?//|^\.{0,2}/|^[\w.~%-]+(?:/[\w.~%-]*)*\.\w{2,5}(?:[?#]|$)|^[\w-]+/[\w./-]+")
_URL_NAMES = tuple(dict.fromkeys(k.lower() for k in URL_KEYS))
_TITLE_NAMES = tuple(dict.fromkeys(k.lower() for k in TITLE_KEYS))
_DATE_NAMES = tuple(dict.fromkeys(k.lower() for k in DATE_KEYS))
_FIELD = re.compile(r"\{(\w+)\}")
_JSONP = re.compile(r"^\s*[\w$.]+\s*\(\s*(?P<body>[\[{].*[\]}])\s*\)\s*(?:;\s*)?$", re.DOTALL)


@dataclass(frozen=True)
class JsonRecord:
    url: str
    title: str
    date: str | None


def parse(text: str) -> Any | None:
    """The JSON document `text` holds (also a JSONP `callback({...})` answer), or None."""
    candidate = text.lstrip("\ufeff \t\r\n")
    if not candidate:
        return None
    if candidate[0] not in "[{":
        jsonp = _JSONP.match(candidate)
        if jsonp is None:
            return None
        candidate = jsonp.group("body")
    try:
        return json.loads(candidate)
    except ValueError:
        return None


def records(data: Any, templates: Sequence[str] = ()) -> list[JsonRecord]:
    """Every record of the first record arrays from the top of `data`, in document order; a record without
    a URL field gets the first of `templates` (`…/detail.html?id={id}`) whose fields it has."""
    found: list[JsonRecord] = []
    for array in _record_arrays(data, lambda o: _record(o, templates) is not None):
        for item in array:
            if isinstance(item, dict) and (record := _record(item, templates)):
                found.append(record)
    return found


def unlinked(data: Any) -> list[dict[str, Any]]:
    """The records of `data` that have a title but no URL field (only an id and their other fields)."""
    found: list[dict[str, Any]] = []
    for array in _record_arrays(data, lambda o: _title(o) is not None and len(o) > 1):
        found += [item for item in array if isinstance(item, dict) and _title(item)]
    return found


def fill(template: str, item: dict[str, Any]) -> str | None:
    """`template` with each `{field}` replaced by the record's value (the field named so, else the one whose
    name differs only in case); None when one is missing."""
    lowered = {k.lower(): v for k, v in item.items()}
    values: dict[str, str] = {}
    for name in _FIELD.findall(template):
        value = item.get(name, lowered.get(name.lower()))
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            return None
        values[name] = str(value).strip()
    return _FIELD.sub(lambda m: values[m.group(1)], template)


def _record_arrays(data: Any, is_record: Callable[[dict[str, Any]], bool]) -> Iterator[list[Any]]:
    if isinstance(data, list):
        objects = [v for v in data if isinstance(v, dict)]
        if objects and sum(1 for o in objects if is_record(o)) * 2 >= len(objects):
            yield data
            return
        for item in data:
            yield from _record_arrays(item, is_record)
    elif isinstance(data, dict):
        for value in data.values():
            yield from _record_arrays(value, is_record)


def _record(item: dict[str, Any], templates: Sequence[str] = ()) -> JsonRecord | None:
    title = _title(item)
    if not title:
        return None
    fields = _lowered(item)
    url = next((v.strip() for k in _URL_NAMES if isinstance(v := fields.get(k), str) and _URL_LIKE.match(v.strip())),
               None)
    url = url or next((filled for t in templates if (filled := fill(t, item))), None)
    if not url:
        return None
    date = next((v.strip() for k in _DATE_NAMES if isinstance(v := fields.get(k), str) and v.strip()), None)
    return JsonRecord(url, title, date)


def _title(item: dict[str, Any]) -> str | None:
    fields = _lowered(item)
    return next((" ".join(v.split()) for k in _TITLE_NAMES if isinstance(v := fields.get(k), str) and v.strip()), None)


def _lowered(item: dict[str, Any]) -> dict[str, Any]:
    """The record's fields by lower-case name (the first of two that differ only in case)."""
    found: dict[str, Any] = {}
    for key, value in item.items():
        found.setdefault(key.lower() if isinstance(key, str) else key, value)
    return found


def total_pages(data: Any, on_page: int) -> int | None:
    """How many pages the list has: a stated page count, else the stated record count over the page size
    (stated, else the records on this page, `on_page`)."""
    pages = _stated(data, PAGE_TOTAL_KEYS)
    if pages:
        return pages
    total = _stated(data, RECORD_TOTAL_KEYS)
    size = _stated(data, PAGE_SIZE_KEYS) or on_page
    if not total or not size:
        return None
    return math.ceil(total / size)


def _stated(data: Any, keys: tuple[str, ...]) -> int | None:
    """The first whole number under one of `keys`, breadth first from the top."""
    level = [data]
    for _ in range(MAX_TOTAL_DEPTH):
        following: list[Any] = []
        for node in level:
            if not isinstance(node, dict):
                continue
            for key in keys:
                value = node.get(key)
                if isinstance(value, str) and value.strip().isdigit():
                    value = int(value)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value
            following += [v for v in node.values() if isinstance(v, dict)]
        level = following
    return None
