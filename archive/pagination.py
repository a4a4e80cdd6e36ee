"""Pagination handlers: one small pure function per scheme, each `(url, text, sel) -> [page URLs]`.

Every handler computes *all* remaining pages it can from the totals the page states (page count,
record count, 尾页 link), so the crawl reaches the last page without walking a chain of 下一页 links.
`next_pages` runs them all; the spider's duplicate filter drops pages already seen.

Two schemes need more than the page's text: pagers whose controls call a page function (`script_pages`,
given the function as archive/scripts.py reads it) and endpoints paged by their own request field
(`page_numbers`: page=N in a query, currpage=N in a POST form, pageNo in a JSON body); archive/discover.py
applies them.

Hanweb/大汉 columns keep their records as CDATA inside `<datastore>` (inline in the list page and in the
`dataproxy.jsp` XML answers): `datastore_links` reads the record links out of either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from archive.recognize import base_url
from archive.urls import absolute

Handler = Callable[[str, str, Selector], list[str]]
T = TypeVar("T")

# No site has this many list pages in one column; a bigger number is a misparse or a trap.
MAX_PAGES = 5000
# Hanweb jpage default when the page does not say (records per dataproxy call).
HANWEB_DEFAULT_PER_PAGE = 15

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_PAGE_CALL = re.compile(r"""\b(?P<fn>\w+)\s*\(\s*(?P<total>\w+)\s*,\s*\w+\s*,\s*["'](?P<name>[\w-]+)["']\s*,"""
                        r"""\s*["'](?P<ext>s?html?)["']\s*\)""")
_ARG_STRING = re.compile(r"""^\s*(["'])(.*)\1\s*$""")
_PAGE_FILE = re.compile(r"^(?P<name>[\w-]+?)(?:_(?P<n>\d+))?\.(?P<ext>s?html?|jsp|asp|aspx|php)$", re.IGNORECASE)
_TOTAL_PAGES_TEXT = re.compile(r"共\s*(\d{1,5})\s*页|(?<!\d)(?:\d+|\d+\s*/\s*)\s*/\s*(\d{1,5})\s*页"
                               r"|页次\s*(?:[:：]\s*)?\d{1,5}\s*/\s*(\d{1,5})")
_CURRENT_PAGE_TEXT = re.compile(r"当前第\s*(\d{1,5})\s*页|第\s*(\d{1,5})\s*/\s*\d{1,5}\s*页"
                                r"|页次\s*(?:[:：]\s*)?(\d{1,5})\s*/|第\s*(\d{1,5})\s*页")
_JS_PAGE_COUNT = re.compile(
    r"\b(?:countPage|totalPage|totalPages|pageCount|page_count|pageTotal|maxPage)\s*[=:]\s*[\"']?(\d{1,5})")
_JS_NAME = re.compile(r"""["']([\w-]+)["']\s*\+\s*["']_["']""")
_JS_EXT = re.compile(r"""["']\.["']\s*\+\s*["'](s?html?)|["']\.(s?html?)\\?["']""")
# A page file written by script: "index_" + i + ".htm", with plain or escaped (\") quotes.
_JS_FILE = re.compile(r"""(?<![\w-])([\w-]+)_\\?["']\s*\+\s*[\w.()\s+-]{1,40}?\+\s*\\?["']\.(s?html?)\b""")
_NEXT_LAST_XPATH = (
    "//a[@href][contains(., '下一页') or contains(., '下页') or contains(., '后页') or contains(., '尾页')"
    " or contains(., '末页') or contains(., '最后一页') or normalize-space(.)='>' or normalize-space(.)='>>'"
    " or contains(translate(., 'NEXTLAS', 'nextlas'), 'next') or contains(translate(., 'LAST', 'last'), 'last')]"
)
# Number links from this value up are years (2019 2020 … tabs of a 年报 column), not pages.
MIN_YEAR_LABEL = 1900
# Without 共N页, page-number links count as a pager only as a window near the start: 2 3 4 … 10.
MAX_WINDOW_START = 10
MAX_WINDOW = 20
_NUMBER_LINK_XPATH = "//a[@href][string-length(normalize-space(.)) <= 7][translate(normalize-space(.), '0123456789[]【】 ', '') = '']"
_PAGE_FIELD = re.compile(r"^(?:page|pageNo|pageIndex|pageNum|pageNumber|curPage|currentPage|currPage|cpage|pn|p"
                         r"|page_no|page_index)$",
                         re.IGNORECASE)
_NON_FIELD_INPUTS = frozenset({"submit", "button", "image", "reset", "checkbox", "radio", "file"})
_JS_PAGE_ARG = re.compile(r"""href\s*=\s*["']javascript:\s*\w+\(\s*["']?(\d{1,5})["']?\s*\)""", re.IGNORECASE)
_LAST_WORDS = ("尾页", "末页", "最后一页", "last", ">>")
_DIGITS = re.compile(r"\d+")

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.IGNORECASE | re.DOTALL)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_JPAGE_NUM = {k: re.compile(rf"\b{k}\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
              for k in ("totalRecord", "perPage", "groupSize")}
_XML_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_PROXY_URL = re.compile(r"""proxyUrl\s*:\s*["']([^"']+)["']""")
_AJAX_PARAM = re.compile(r"ajaxParam\s*:\s*\{([^{}]*)\}")
_JS_PAIR = re.compile(r"""(?<!\w)(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,\s}]+))""")
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.IGNORECASE | re.DOTALL)
HANWEB_PROXY = "/module/web/jpage/dataproxy.jsp"


# --- TRS WCM: createPageHTML(total, current, "index", "html") ---------------------------------------

def trs_create_page_html(url: str, text: str, sel: Selector) -> list[str]:
    """index.html, index_1.html … index_{total-1}.html beside the current page.

    Also the same call under other names (`createPage(5, 0, "index", "shtml")`, `showPage(…)`): any
    function with "page" in its name called as (total, current, "name", "ext").
    """
    pages: list[str] = []
    for match in _PAGE_CALL.finditer(text):
        if match["fn"] != "createPageHTML" and "page" in match["fn"].lower():
            total = int(match["total"]) if match["total"].isdigit() else _js_number(match["total"], text)
            if total:
                pages.extend(_numbered_pages(base_url(url, sel), match["name"], match["ext"], min(total, MAX_PAGES)))
    if "createPageHTML" not in text:
        return pages
    for match in _CREATE_PAGE.finditer(text):
        args = [a.strip() for a in match.group(1).split(",")]
        numbers = [int(a) if a.isdigit() else _js_number(a, text) for a in args if a.isdigit() or a.isidentifier()]
        numbers = [n for n in numbers if n is not None]
        strings = [m.group(2) for a in args if (m := _ARG_STRING.match(a))]
        if not numbers:
            continue  # the function's own definition, or a call with variables
        total = min(numbers[0], MAX_PAGES)
        name, ext = (strings[-2], strings[-1]) if len(strings) >= 2 else ("index", "html")
        pages.extend(_numbered_pages(base_url(url, sel), name, ext, total))
    return pages


def _js_number(name: str, text: str) -> int | None:
    """The value a script assigns to variable `name` (`var countPage = 12;`), if it is a number."""
    m = re.search(rf"\b{re.escape(name)}\s*=\s*[\"']?(\d{{1,5}})\b", text)
    return int(m.group(1)) if m else None


def _numbered_pages(url: str, name: str, ext: str, total: int, start: int = 0) -> list[str]:
    """`name.ext` (page 0) and `name_N.ext` for N < total, resolved against `url`'s directory."""
    return [urljoin(url, f"{name}.{ext}" if n == 0 else f"{name}_{n}.{ext}") for n in range(start, total)]


# --- JS page-count variables: var countPage = 5 / totalPage: 5 ---------------------------------------

def js_page_count(url: str, text: str, sel: Selector) -> list[str]:
    """Pages name_N.ext up to the count a script variable states (UCAP/gov.cn, many TRS skins)."""
    match = _JS_PAGE_COUNT.search(text)
    if not match or trs_create_page_html(url, text, sel):
        return []  # no count, or a createPageHTML call that names the files exactly
    total = min(int(match.group(1)), MAX_PAGES)
    if total <= 1:
        return []
    name, ext = _page_file_parts(url, text)
    if name is None:
        return []
    return _numbered_pages(base_url(url, sel), name, ext, total)


def _page_file_parts(url: str, text: str) -> tuple[str | None, str]:
    """(name, ext) of the numbered page files, from the URL's last segment or else the script."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    if (m := _PAGE_FILE.match(last)) and not urlsplit(url).query:
        return m.group("name"), m.group("ext")
    if last and "." in last:
        return None, ""  # list.asp?page=N and the like: numbered files do not apply
    if m := _JS_FILE.search(text):
        return m.group(1), m.group(2)
    name = m.group(1) if (m := _JS_NAME.search(text)) else "index"
    ext = next((g for g in m.groups() if g), "html") if (m := _JS_EXT.search(text)) else "html"
    return name, ext


# --- 下一页 / 尾页 links, ?page=N, index_N.htm, 共N页 ----------------------------------------------------

def next_last_links(url: str, text: str, sel: Selector) -> list[str]:
    """Follow 下一页; when 尾页 (or 共N页) gives the last number, every page between as well."""
    nexts: list[str] = []
    lasts: list[str] = []
    base = base_url(url, sel)
    for a in sel.xpath(_NEXT_LAST_XPATH):
        href = absolute(base, a.attrib.get("href"))
        if not href or href == url:
            continue
        label = " ".join(a.xpath(".//text()").getall()).strip().lower()
        (lasts if any(w in label for w in _LAST_WORDS) else nexts).append(href)
    pages = nexts + lasts
    for nxt in nexts:
        for last in lasts:
            pages.extend(_range_between(nxt, last))
    if nexts and not lasts and (total := stated_total_pages(text)):
        pages.extend(_range_to_total(url, nexts[0], total, text))
    return pages


def stated_total_pages(text: str) -> int | None:
    m = _TOTAL_PAGES_TEXT.search(text)
    if not m:
        return None
    return min(int(next(g for g in m.groups() if g)), MAX_PAGES)


def _template(a: str, b: str) -> tuple[str, str, int, int] | None:
    """(prefix, suffix, number in a, number in b) when a and b differ only in one run of digits."""
    runs_a, runs_b = list(_DIGITS.finditer(a)), list(_DIGITS.finditer(b))
    if len(runs_a) != len(runs_b):
        return None
    diff = [(x, y) for x, y in zip(runs_a, runs_b, strict=True) if x.group() != y.group()]
    if len(diff) != 1:
        return None
    x, y = diff[0]
    if a[:x.start()] != b[:y.start()] or a[x.end():] != b[y.end():]:
        return None
    return a[:x.start()], a[x.end():], int(x.group()), int(y.group())


def _range_between(first: str, last: str) -> list[str]:
    t = _template(first, last)
    if t is None:
        return []
    prefix, suffix, lo, hi = t
    if hi <= lo or hi - lo > MAX_PAGES:
        return []
    return [f"{prefix}{n}{suffix}" for n in range(lo, hi + 1)]


def _range_to_total(url: str, nxt: str, total: int, text: str) -> list[str]:
    """Pages from `nxt` to the last one when only 共N页 states the end.

    The number of the last page depends on how the site counts: `index_1` is page 2 (zero-based
    suffix) but `page=2` is page 2 (one-based). The current page's own number and 当前第N页 tell which.
    """
    t = _template(url, nxt)
    if t is not None:
        prefix, suffix, current_value, next_value = t
        current_page = _stated_current_page(text)
        if current_page is None:
            return []
        offset = current_value - current_page
    else:  # the first page carries no number: the next page is page 2
        runs = list(_DIGITS.finditer(nxt))
        if not runs:
            return []
        m = runs[-1]
        prefix, suffix, next_value = nxt[:m.start()], nxt[m.end():], int(m.group())
        offset = next_value - 2
    last_value = total + offset
    if last_value - next_value > MAX_PAGES:
        return []
    return [f"{prefix}{n}{suffix}" for n in range(next_value, last_value + 1)]


def _stated_current_page(text: str) -> int | None:
    m = _CURRENT_PAGE_TEXT.search(text)
    return int(next(g for g in m.groups() if g)) if m else None


def numbered_index_links(url: str, text: str, sel: Selector) -> list[str]:
    """index_N.htm links beside the current page: fill in every number up to the highest (or 共N页)."""
    name, ext = _page_file_parts(url, text)
    if name is None:
        return []
    pattern = re.compile(rf"(?:^|/){re.escape(name)}_(\d+)\.{re.escape(ext)}$")
    highest = 0
    base = base_url(url, sel)
    for href in sel.xpath("//a/@href").getall():
        full = absolute(base, href)
        if full and full.rsplit("/", 1)[0] == url.rsplit("/", 1)[0] and (m := pattern.search(full)):
            highest = max(highest, int(m.group(1)))
    if not highest:
        return []
    total = stated_total_pages(text)
    last = max(highest, total - 1) if total else highest
    return _numbered_pages(url, name, ext, min(last, MAX_PAGES) + 1, start=1)


def numbered_page_links(url: str, text: str, sel: Selector) -> list[str]:
    """Page-number links (`<a href="list.jsp?pageNo=3">3</a>`): every page up to 共N页 or the highest.

    Pagers often link only a window of numbers (1 2 3 … and a script-driven 下一页); the number in the
    URL that follows the label (label = value, or value + 1 for zero-based `index_1.htm` = page 2)
    gives the URL of every page. With 共N页 one numbered link suffices; without it only a window of two
    or more numbers near the start counts. Numbers in the host and year links (2019 2020 …) never count.
    """
    numbered: list[tuple[int, str]] = []
    base = base_url(url, sel)
    for a in sel.xpath(_NUMBER_LINK_XPATH):
        label = "".join(a.xpath(".//text()").getall()).strip().strip("[]【】 ")
        if not label.isdigit() or not 2 <= int(label) < MIN_YEAR_LABEL:
            continue
        href = absolute(base, a.attrib.get("href"))
        if href and href != url:
            numbered.append((int(label), href))
    if not numbered:
        return []
    templates: dict[tuple[str, str, int], list[int]] = {}
    for label, href in numbered:
        start = len(urlsplit(href)._replace(path="", query="", fragment="").geturl())  # past scheme://host
        for m in reversed(list(_DIGITS.finditer(href, start))):
            offset = int(m.group()) - label
            if offset in (0, -1):
                templates.setdefault((href[:m.start()], href[m.end():], offset), []).append(label)
                break
    total = stated_total_pages(text)
    pages: list[str] = []
    for (prefix, suffix, offset), labels in templates.items():
        if not total and (len(labels) < 2 or min(labels) > MAX_WINDOW_START or max(labels) - min(labels) > MAX_WINDOW):
            continue  # without a stated total only a pager's window of numbers counts
        last = min(total or max(labels), MAX_PAGES)
        pages.extend(f"{prefix}{label + offset}{suffix}" for label in range(2, last + 1))
    return pages


def form_pages(url: str, text: str, sel: Selector) -> list[str]:
    """Pagers driven by script (`javascript:toPage(3)`) that submit a GET form with a page field.

    `<form action="list.jsp"><input type="hidden" name="pageIndex" value="1">…` plus 共N页 (or the highest
    number the script links pass) gives every page: the form's fields with the page field set to 2..N
    (1..N-1 when the field counts from 0). POST forms are left alone: they change nothing a GET shows.
    """
    if "<form" not in text and "<FORM" not in text:
        return []
    total = stated_total_pages(text) or max((int(n) for n in _JS_PAGE_ARG.findall(text)), default=0)
    if total < 2:
        return []
    base = base_url(url, sel)
    pages: list[str] = []
    for form in sel.root.iter("form"):
        if (form.get("method") or "get").strip().lower() != "get":
            continue
        fields = [(i.get("name"), i.get("value") or "") for i in form.iter("input")
                  if i.get("name") and (i.get("type") or "text").lower() not in _NON_FIELD_INPUTS]
        paging = [name for name, _ in fields if _PAGE_FIELD.match(name)]
        if len(paging) != 1:
            continue
        action = absolute(base, form.get("action")) or urlunsplit(urlsplit(url)._replace(query=""))
        zero_based = dict(fields)[paging[0]].strip() == "0"
        values = range(1, min(total, MAX_PAGES)) if zero_based else range(2, min(total, MAX_PAGES) + 1)
        others = [(name, value) for name, value in fields if name != paging[0]]
        target = action.split("?", 1)[0] + "?"
        pages.extend(target + urlencode([*others, (paging[0], str(n))]) for n in values)
    return pages


# --- Hanweb/大汉 jpage: inline <datastore> + dataproxy.jsp windows ---------------------------------------

def datastore_links(url: str, text: str) -> list[str]:
    """Record links inside `<datastore>` CDATA (list page inline block or dataproxy XML answer)."""
    if "<record" not in text and "<RECORD" not in text:
        return []
    links = []
    for record in _RECORD.finditer(text):
        for href in _HREF.findall(record.group(1)):
            if full := absolute(url, href.replace("&amp;", "&")):
                links.append(full)
    return links


def hanweb_dataproxy(url: str, text: str, sel: Selector) -> list[str]:
    """dataproxy.jsp?startrecord=…&endrecord=… for every record window past the inline ones."""
    if "datastore" not in text:
        return []
    query = dict(parse_qsl(urlsplit(url).query))
    if "startrecord" in query and (m := _XML_TOTAL.search(text)):  # a dataproxy answer
        per_call = int(query.get("endrecord", 0) or 0) - int(query["startrecord"] or 0) + 1
        total, first_new = int(m.group(1)), int(query.get("endrecord", 0) or 0) + 1
        params = {k: v for k, v in query.items() if k not in ("startrecord", "endrecord")}
        proxy = urlunsplit(urlsplit(url)._replace(query=""))
        return _windows(proxy, params, first_new, total, max(per_call, 1))
    inline = _DATASTORE.search(text)
    if inline is None:
        return []
    numbers = {k: int(m.group(1)) for k, p in _JPAGE_NUM.items() if (m := p.search(text))}
    total = numbers.get("totalRecord") or (int(m.group(1)) if (m := _XML_TOTAL.search(text)) else 0)
    per_page = numbers.get("perPage") or HANWEB_DEFAULT_PER_PAGE
    per_call = per_page * max(numbers.get("groupSize", 1), 1)
    inline_count = len(_RECORD.findall(inline.group(0)))
    if total <= inline_count:
        return []
    proxy_path, params = _hanweb_params(text)
    params["perpage"] = str(per_page)
    return _windows(urljoin(url, proxy_path), params, inline_count + 1, total, per_call)


def _hanweb_params(text: str) -> tuple[str, dict[str, str]]:
    params: dict[str, str] = {}
    proxy = HANWEB_PROXY
    if m := _NEXTGROUP.search(text):
        if (href := _HREF.search(m.group(1))) is not None:
            target = href.group(1).replace("&amp;", "&")
            proxy = urlsplit(target).path or proxy
            params.update((k, v) for k, v in parse_qsl(urlsplit(target).query) if k != "page")
    if m := _PROXY_URL.search(text):
        proxy = m.group(1)
    if m := _AJAX_PARAM.search(text):
        for key, single, double, bare in _JS_PAIR.findall(m.group(1)):
            params[key] = single or double or bare
    return proxy, params


def _windows(proxy: str, params: dict[str, str], first: int, total: int, size: int) -> list[str]:
    urls = []
    for start in range(first, min(total, first + size * MAX_PAGES) + 1, size):
        query = {"startrecord": str(start), "endrecord": str(min(start + size - 1, total)), **params}
        urls.append(proxy + "?" + urlencode(query))
    return urls


# --- pagers run by script: javascript:goPage(3), onclick="search(2)" ----------------------------------------

# What a pager control says: a page number, 下一页/上一页/首页/尾页, arrows, GO.
_PAGER_LABEL = re.compile(r"^[\[【]?\d{1,5}[\]】]?$|^(?:下一?页|上一?页|前页|后页|首页|尾页|末页|最后一页|第一页|跳转|确定"
                          r"|[<>«»‹›]{1,2}|next|prev(?:ious)?|first|last|go)$", re.IGNORECASE)
# A handler that is one call with a page number: goPage(3), search('2'); return false;
_PAGER_CALL = re.compile(r"""^\s*(?:javascript\s*:\s*)?([A-Za-z_$][\w$]*)\s*\(\s*(["']?)(\d{1,5})\2\s*\)\s*(?:;\s*)?"""
                         r"""(?:return\s+false\s*(?:;\s*)?)?$""", re.IGNORECASE)
_SCRIPTED_XPATH = "//*[@onclick or starts-with(translate(normalize-space(@href), 'JAVSCRIPT', 'javscript'), 'javascript:')]"


def script_pages(text: str, sel: Selector, call: Callable[[str, int], list[T]]) -> list[T]:
    """Every page of a pager whose controls call a page function (`javascript:goPage(3)`), as `call(name, n)`
    gives it (the page function read by archive/scripts.py: the URL it opens or the request it sends).

    The pages run from the first to 共N页, or to the highest number the controls pass when the page states no
    total; a pager that passes 0 counts from 0.
    """
    numbers: dict[str, set[int]] = {}
    for el in sel.root.xpath(_SCRIPTED_XPATH):
        label = "".join(el.itertext()).strip() or (el.get("value") or el.get("title") or "").strip()
        if not _PAGER_LABEL.match("".join(label.split())):
            continue
        for code in (el.get("href") or "", el.get("onclick") or ""):
            if m := _PAGER_CALL.match(code):
                numbers.setdefault(m.group(1), set()).add(int(m.group(3)))
    total = stated_total_pages(text)
    found: list[T] = []
    for name, seen in numbers.items():
        first = 0 if 0 in seen else 1
        last = total - 1 + first if total else max(seen)
        for n in range(first, min(last, MAX_PAGES) + 1):
            found.extend(call(name, n))
    return found


# --- a request's own page field: page=N in the query, currpage=N in a POST form, {"pageNo": N} in JSON ------

def is_page_field(name: str) -> bool:
    return bool(_PAGE_FIELD.match(name))


def page_numbers(current: str, total: int) -> list[int]:
    """The other pages' values of a page field now holding `current` ('' is page 1; '0' counts from 0)."""
    current = current.strip()
    if current and not current.isdigit():
        return []
    start = 0 if current == "0" else 1
    now = int(current) if current else 1
    return [n for n in range(start, min(total, MAX_PAGES) + start) if n != now]


HANDLERS: tuple[Handler, ...] = (
    trs_create_page_html,
    hanweb_dataproxy,
    js_page_count,
    next_last_links,
    numbered_index_links,
    numbered_page_links,
    form_pages,
)


def next_pages(url: str, text: str, sel: Selector, handlers: tuple[Handler, ...] = HANDLERS) -> list[str]:
    """Every other list page of the column the page at `url` belongs to, in order, without duplicates."""
    return [page for _, page in pages_by_handler(url, text, sel, handlers)]


def pages_by_handler(url: str, text: str, sel: Selector,
                     handlers: tuple[Handler, ...] = HANDLERS) -> list[tuple[str, str]]:
    """next_pages with the name of the handler that found each page first."""
    seen = {url}
    pages: list[tuple[str, str]] = []
    for handler in handlers:
        for page in handler(url, text, sel):
            if page not in seen:
                seen.add(page)
                pages.append((handler.__name__, page))
    return pages
