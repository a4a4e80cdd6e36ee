"""What a list page, or a list endpoint's answer, leads to: the one place that says it.

`discover` reads an HTML page, a Hanweb `<datastore>` XML, a JSON document or an HTML fragment an endpoint
answered, and gives its document links (records), the column's other list pages and endpoint calls (pages,
every one computable from the totals stated), the 更多 links of hub blocks, and the names of what found them.
Recognition of items stays in archive/recognize.py, pagination schemes in archive/pagination.py, script
reading in archive/scripts.py, JSON shapes in archive/jsonlist.py, per-platform facts in archive/platforms/;
this module puts them together:

- records: the page's list items (their script-opened links resolved through the page's own functions), the
  `<datastore>` CDATA, the records of a JSON answer (those carrying only an id get their URL from the template
  the list page's scripts build, which the endpoint's link carries: `Link.record_urls`);
- pages: every pagination handler's pages; a site profile's next-page links; pagers run by script
  (`javascript:goPage(3)` → the URL the function builds, for every page up to 共N页); on-site frames; paged
  endpoints the inline scripts call at load (`$.post`, `$.ajax`, `fetch`, `axios`, XMLHttpRequest), as POST
  or GET with the body and headers the script sends; for an endpoint's answer, the same request with its
  page field set to every other page the answer's total states; a platform's API pages (gkmlpt);
- notes: `empty-column` (暂无信息), `shell` (an app shell only a browser can render: see looks_like_shell),
  `records-without-urls` (a JSON answer's records carry only ids and no script of the list page builds their
  links: the crawl summary says so).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from parsel import Selector

from archive import jsonlist, pagination, platforms, recognize
from archive.extract.decode import decode_body
from archive.linktypes import LIST, RECORD, Discovery, Link
from archive.scripts import Fetch, Open, Scripts
from archive.urls import absolute, host_of

__all__ = ["LIST", "RECORD", "Discovery", "Link", "discover", "list_source", "looks_like_shell", "frame_sources"]

# Substrings of a page whose inline scripts may call an endpoint (the scripts are parsed only then).
_ENDPOINT_HINTS = ("$.post", "$.get", "$.ajax", "jQuery.", ".load(", "fetch(", "axios", "XMLHttpRequest")
# Frames that never hold a list: players, maps, blank placeholders.
_NOT_A_LIST_FRAME = (".swf", ".mp4", ".pdf", "map.", "/map", "player", "about:", "javascript:")
# Ids of the element a single-page app mounts into.
_MOUNT_IDS = ("app", "root", "__nuxt", "__next", "q-app", "vue-app", "main-app")
# A shell shows (almost) no text of its own besides furniture loaded with it.
SHELL_MAX_TEXT_CHARS = 200
_VISIBLE_TEXT = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def discover(url: str, body: bytes | str, content_type: str | None = None, sel: Selector | None = None, *,
             item_xpath: str | Sequence[str] | None = None, next_xpath: str | Sequence[str] | None = None,
             fragment: str | None = None, request: Link | None = None) -> Discovery:
    """Everything the page at `url` leads to.

    `sel` is the page's parsed tree when the caller has one; `item_xpath`/`next_xpath` a site profile's
    record and next-page selectors (they replace the generic record finder / add to the pagination
    handlers); `fragment` the start URL's `#…` (it never reaches the server); `request` the Link that
    fetched this answer, so that an endpoint's further pages repeat its method, body and headers.
    """
    text = body if isinstance(body, str) else decode_body(body, content_type)[0]
    if _looks_like_json(text, content_type) and (data := jsonlist.parse(text)) is not None:
        return _json_list(url, data, request)
    if sel is None:
        sel = Selector(text=text)
    found = _Found(url)
    if (platform := platforms.discover(url, text, fragment)) is not None:
        found.merge(platform)
    scripts = _LazyScripts(sel)
    base = recognize.base_url(url, sel)
    lowered = text.lower()
    scripted = "javascript:" in lowered or "onclick" in lowered
    resolve = _script_href(scripts) if scripted else None
    for xpath in _as_list(item_xpath) or [None]:
        for link in recognize.list_links(url, sel, xpath, resolve):
            found.record(Link(link.url, RECORD, title=link.title or None, date=link.date,
                              via="profile" if xpath else "list-items"))
    for record in pagination.datastore_links(url, text):
        found.record(Link(record, RECORD, via="datastore"))
    for more in recognize.more_links(url, sel):
        found.more.append(Link(more, LIST, via="more"))
    for handler, page in pagination.pages_by_handler(url, text, sel):
        found.page(Link(page, LIST, via=handler))
    for xpath in _as_list(next_xpath):
        for a in sel.xpath(xpath):
            if href := absolute(base, a.attrib.get("href")):
                found.page(Link(href, LIST, via="profile"))
    if scripted:
        for effect in pagination.script_pages(text, sel, scripts.call_number):
            found.page(_effect_link(base, effect, "script-pager", scripts))
    for frame in frame_sources(url, sel):
        found.page(Link(frame, LIST, via="frame"))
    for call in _list_endpoints(text, scripts):
        found.page(_effect_link(base, call, "script-endpoint", scripts))
    if request is not None and (total := pagination.stated_total_pages(text)):
        for page in _request_pages(request, total):
            found.page(page)
    result = found.result()
    if "<html" in lowered[:2000]:
        result.column = result.column or recognize.column_name(sel)
    if not result.records:
        if recognize.says_empty(text):
            result.handlers.append("empty-column")
        elif not result.pages and looks_like_shell(text, sel):
            result.handlers.append("shell")
    return result


def list_source(url: str, text: str, sel: Selector) -> str | None:
    """Where a page without records of its own gets its list: "frame" (an on-site frame) or
    "script-endpoint" (a paged endpoint its inline script calls at load); None if neither."""
    if frame_sources(url, sel):
        return "frame"
    if _list_endpoints(text, _LazyScripts(sel)):
        return "script-endpoint"
    return None


def looks_like_shell(text: str, sel: Selector) -> bool:
    """A single-page app's shell: an empty mount element (or one holding only `{{ template }}` text),
    script bundles, (almost) no text, no records, and nothing a static reader can follow (no frame, no
    endpoint in the inline scripts, no platform that knows it). Only a browser can tell what it lists."""
    if not sel.root.xpath("//script[@src]"):
        return False
    mounts = [el for el in sel.root.iter() if isinstance(el.tag, str) and (el.get("id") in _MOUNT_IDS
                                                                          or el.get("data-v-app") is not None)]
    empty = any(len(el) == 0 and (not (el.text or "").strip() or "{{" in (el.text or "")) for el in mounts)
    if not empty:
        return False
    visible = sum(len(t.strip()) for t in sel.root.xpath(_VISIBLE_TEXT))
    if visible > SHELL_MAX_TEXT_CHARS or recognize.has_list_items(sel) or "<datastore" in text:
        return False
    if platforms.recognise("", text) or sel.root.xpath("//iframe[@src]|//frame[@src]"):
        return False
    return not _list_endpoints(text, _LazyScripts(sel))


def frame_sources(url: str, sel: Selector) -> list[str]:
    """On-site `<iframe>`/`<frame>` pages (a 信息公开目录 page whose list sits in a frame)."""
    base = recognize.base_url(url, sel)
    host = host_of(url)
    found = []
    for el in sel.root.iter("iframe", "frame"):
        src = (el.get("src") or "").strip()
        if not src or any(word in src.lower() for word in _NOT_A_LIST_FRAME):
            continue
        target = absolute(base, src)
        if target and host_of(target) == host and target != url:
            found.append(target)
    return list(dict.fromkeys(found))


# --- JSON answers --------------------------------------------------------------------------------------

def _json_list(url: str, data: Any, request: Link | None) -> Discovery:
    found = _Found(url)
    records = jsonlist.records(data, request.record_urls if request is not None else ())
    for record in records:
        if target := absolute(url, record.url):
            found.record(Link(target, RECORD, title=record.title, date=record.date, via="json-list"))
    request = request or Link(url, LIST)
    first = _page_value(request) in ("", "0", "1", None)
    # a page size read off the records is only the size on a full page: count pages from the first one
    total = jsonlist.total_pages(data, len(records) if first else 0)
    if total and total > 1:
        for page in _request_pages(request, total):
            found.page(page)
    result = found.result()
    classify = data.get("classify") if isinstance(data, dict) else None
    if isinstance(classify, dict) and isinstance(classify.get("name"), str):
        result.column = classify["name"]
    if not records:
        result.handlers.append("records-without-urls" if jsonlist.unlinked(data) else
                               "empty-column" if _has_empty_array(data) else "no-records")
    return result


def _has_empty_array(data: Any) -> bool:
    if isinstance(data, dict):
        return any(v == [] or _has_empty_array(v) for v in data.values())
    return False


def _looks_like_json(text: str, content_type: str | None) -> bool:
    start = text.lstrip("\ufeff \t\r\n")[:1]
    return start in ("{", "[") or bool(content_type and "json" in content_type.lower() and start)


# --- a request's own page field ------------------------------------------------------------------------

def _request_pages(request: Link, total: int) -> list[Link]:
    """The request for every other page: its page field (query, form body or JSON body) set to each."""
    parts = urlsplit(request.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found: list[Link] = []
    if (name := _page_name(k for k, _ in query)) is not None:
        current = dict(query)[name]
        for n in pagination.page_numbers(current, total):
            paged = urlencode([(k, str(n) if k == name else v) for k, v in query])
            found.append(Link(urlunsplit(parts._replace(query=paged)), LIST, request.method, request.body,
                              request.headers, via="request-pages", record_urls=request.record_urls))
        return found
    if request.body is None:
        return found
    form, data = _body_fields(request)
    if form is not None and (name := _page_name(k for k, _ in form)) is not None:
        for n in pagination.page_numbers(dict(form)[name], total):
            body = urlencode([(k, str(n) if k == name else v) for k, v in form]).encode("ascii")
            found.append(Link(request.url, LIST, request.method, body, request.headers, via="request-pages",
                              record_urls=request.record_urls))
    elif isinstance(data, dict) and (name := _page_name(data)) is not None:
        for n in pagination.page_numbers(str(data[name]), total):
            body = json.dumps({**data, name: n}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            found.append(Link(request.url, LIST, request.method, body, request.headers, via="request-pages",
                              record_urls=request.record_urls))
    return found


def _page_value(request: Link) -> str | None:
    query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
    if (name := _page_name(k for k, _ in query)) is not None:
        return dict(query)[name]
    if request.body is None:
        return None
    form, data = _body_fields(request)
    if form is not None and (name := _page_name(k for k, _ in form)) is not None:
        return dict(form)[name]
    if isinstance(data, dict) and (name := _page_name(data)) is not None:
        return str(data[name])
    return None


def _body_fields(request: Link) -> tuple[list[tuple[str, str]] | None, Any]:
    """(form fields, None) for a form body, (None, parsed value) for a JSON body."""
    body = (request.body or b"").decode("utf-8", "replace")
    ctype = dict((k.lower(), v) for k, v in request.headers).get("content-type", "")
    if "json" in ctype or body.lstrip()[:1] in ("{", "["):
        try:
            return None, json.loads(body)
        except ValueError:
            return None, None
    return parse_qsl(body, keep_blank_values=True), None


def _page_name(names: Any) -> str | None:
    paging = [n for n in names if pagination.is_page_field(n)]
    return paging[0] if len(paging) == 1 else None


# --- scripts -------------------------------------------------------------------------------------------

class _LazyScripts:
    """The page's scripts, parsed on first use (most list pages never need them)."""

    def __init__(self, sel: Selector) -> None:
        self._sel = sel
        self._scripts: Scripts | None = None

    def get(self) -> Scripts:
        if self._scripts is None:
            self._scripts = Scripts.of(self._sel)
        return self._scripts

    def call_number(self, name: str, n: int) -> list[Open | Fetch]:
        return self.get().call(name, [n])

    def record_urls(self, base: str) -> tuple[str, ...]:
        """The record URL templates the scripts build, absolute against the page (a template that is only
        a field, `{link}`, stays as it is: the record's own URL under another name)."""
        found = []
        for template in self.get().record_templates():
            if template.startswith("{"):
                if template.endswith("}") and template.count("{") == 1:
                    found.append(template)
            elif target := absolute(base, template):
                found.append(target)
        return tuple(dict.fromkeys(found))


def _list_endpoints(text: str, scripts: _LazyScripts) -> list[Fetch]:
    """Endpoints the inline scripts call at load that return a list: those sent with a page field."""
    if not any(hint in text for hint in _ENDPOINT_HINTS):
        return []
    return [e for e in scripts.get().on_load if isinstance(e, Fetch) and _page_value(
        Link(e.url, LIST, e.method, e.body, e.headers)) is not None]


def _script_href(scripts: _LazyScripts) -> Callable[[Any], str | None]:
    """For an item element: the page its `javascript:` href or onclick opens, as the page's functions build it."""
    def resolve(el: Any) -> str | None:
        if el.tag == "script":
            return None
        href = (el.get("href") or "").strip()
        for code in (href if href.lower().startswith("javascript:") else "", el.get("onclick") or ""):
            if code:
                for effect in scripts.get().run(code):
                    if isinstance(effect, Open):
                        return effect.url
        return None
    return resolve


def _effect_link(base: str, effect: Open | Fetch, via: str, scripts: _LazyScripts) -> Link | None:
    target = absolute(base, effect.url)
    if target is None:
        return None
    if isinstance(effect, Open):
        return Link(target, LIST, via=via)
    return Link(target, LIST, effect.method, effect.body, effect.headers, via=via,
                record_urls=scripts.record_urls(base))


# --- collecting ------------------------------------------------------------------------------------------

class _Found:
    """Links in order, each once; the handlers that found something, in the order they did."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.records: dict[str, Link] = {}
        self.pages: dict[tuple[str, str, bytes | None], Link] = {}
        self.more: list[Link] = []
        self.handlers: list[str] = []
        self.column: str | None = None

    def record(self, link: Link) -> None:
        if link.url not in self.records:
            self.records[link.url] = link
            self._note(link.via)

    def page(self, link: Link | None) -> None:
        if link is None or link.key in self.pages or (link.url == self.url and link.method == "GET"):
            return
        self.pages[link.key] = link
        self._note(link.via)

    def merge(self, other: Discovery) -> None:
        for link in other.records:
            self.record(link)
        for link in other.pages:
            self.page(link)
        self.more += other.more
        for name in other.handlers:
            self._note(name)
        self.column = self.column or other.column

    def _note(self, name: str) -> None:
        if name and name not in self.handlers:
            self.handlers.append(name)

    def result(self) -> Discovery:
        if self.more:
            self._note("more")
        more = list({link.url: link for link in self.more}.values())
        return Discovery(list(self.records.values()), list(self.pages.values()), more, self.handlers, self.column)


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
