"""List, detail or other: recognise a page by its structure, never by which site it is.

- A **list** page (栏目页) holds a repeated container (`ul > li`, `table > tr`, `div > div`, `div > a`)
  of same-shaped small items, each one link (or a script opening one) plus a date; or a Hanweb
  `<datastore>`; often pagination. Summaries inside the items are not running text.
- A **detail** page (文章页) holds one dominant block of long text paragraphs (outside links and list
  items); article markers (`ArticleTitle`/`ContentStart` metas, TRS_Editor, #zoom, #UCAP-CONTENT) and
  URL shapes (`t20240229_123.html`, `art_1_2.html`, `content_1.htm`) are supporting hints only.
- A hub (信息公开 home, parent column) showing blocks of a few dated records each is a list too; its
  blocks' "更多" links (`more_links`) lead to the columns' full lists.
- A short notice whose 相关文章 list is longer than its text is a detail page when a heading repeats the
  document title of `<title>` and another marker agrees (URL shape, ArticleTitle, …).
- A column page with only one or two dated records (a single-document column, the last page of a column
  whose pager says no 下一页) is a list when it shows that it is a column (breadcrumb, ColumnName meta) and
  nothing marks it as an article; so is an empty column (暂无信息).
- A page whose list lives elsewhere is a list too: a JSON answer holding records, a platform's catalogue
  shell (archive/platforms), a page loading its list from an on-site frame or a paged endpoint its script
  calls (archive/discover.py says which).
- Anything else (portal, search, login, error page) is **other**. (Challenge pages are
  `archive.challenge`'s to tell.)

Everything works on the selector Scrapy already parsed (one lxml tree per response) plus cheap
regexes on the decoded text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parsel import Selector

from archive import jsonlist, platforms
from archive.extract.page_links import page_base
from archive.urls import absolute

LIST, DETAIL, OTHER = "list", "detail", "other"

# A text node this long outside links/list items is running text, not furniture (labels, menus).
MIN_PARAGRAPH_CHARS = 30
# Running text a detail page has at least (the footer's 主办单位/网站标识码 lines stay under it).
DETAIL_MIN_CHARS = 300
# With two or more article markers a short notice (一句话公示) is a detail page from this much text.
DETAIL_MIN_MARKED_CHARS = 40
# Per dated list item, how much running text a page needs before the text, not the list, dominates.
CHARS_PER_LIST_ITEM = 40
# Dated items in one container that make a list page (fewer suffice when pagination is present).
MIN_LIST_ITEMS = 3
# A hub page (信息公开 home, parent column) shows blocks of a column's latest records, two or more each.
MIN_BLOCK_ITEMS = 2
# Items without dates count only in bigger containers with title-length link texts (document titles
# run 15-40 characters; menu entries such as 政府信息公开指南 stay under 12).
MIN_UNDATED_ITEMS = 5
MIN_TITLE_CHARS = 12
# An item is small: a title link or three (title, column tag, download) and a date, not a layout cell.
MAX_ITEM_LINKS = 3
MAX_ITEM_CHARS = 300

ITEM_TAGS = ("li", "tr", "dd", "div", "p", "dl", "dt")
_DATE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*(?:[-/.月]\s*\d{1,2}\s*日?)?"
    r"|(?<![\d-])(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\d-])"
    r"|(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"
    r"|(?<!\d)(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12]\d|3[01])日"  # (3月1日) in news lists without the year
)
_LONG_TEXT = f"//text()[string-length(normalize-space(.)) >= {MIN_PARAGRAPH_CHARS}]"
# Text under these is not running text: links, list items, code, form controls, the head.
_NOT_RUNNING_TEXT = frozenset({"a", "script", "style", "li", "option", "select", "head", "textarea", "title"})
_ARTICLE_MARKERS = (
    ("meta:ArticleTitle", re.compile(r"""<meta\s+name=["']?ArticleTitle""", re.IGNORECASE)),
    ("meta:ContentStart", re.compile(r"""<meta\s+name=["']?ContentStart|<!--\s*ZJEG_RSS\.content\.begin""",
                                     re.IGNORECASE)),
    ("body-container", re.compile(r"""class=["'][^"']*\bTRS_Editor\b|id=["'](?:UCAP-CONTENT|zoom|fontzoom)["']""",
                                  re.IGNORECASE)),
)
_DETAIL_URL = re.compile(r"/t\d{8}_\d+\.s?html?$|/art_\d+_\d+\.html$|/content_\d+\.s?html?$|/\d{6}/\w*\d{5,}\.s?html?$"
                         r"|/(?:19|20)\d{2}[-/]?\d{1,2}/\d{1,2}/\w*\d+\.s?html?$",  # /xxgk/2024/03/01/123.shtml
                         re.IGNORECASE)
# Headings whose text is the document title the <title> starts with (a list's headings name its column).
_HEADING_XPATH = "//h1|//h2|//h3|//*[contains(@class, 'title') or contains(@class, 'tit')][not(self::html or self::body)]"
_TITLE_SPLIT = re.compile(r"(?<!\s)\s*(?:[_|｜]|[-—–]+)\s*")
# A document title is this long at least (column names such as 政府信息公开年报 stay under it).
MIN_DOCUMENT_TITLE_CHARS = 10
_PAGINATION_MARKERS = re.compile(
    r"createPageHTML|countPage|totalPage|共\s*\d+\s*页|下一页|上一页|尾页|末页|[?&](?:page|pageNo|pageIndex|curPage|p)=\d"
    r"|index_\d+\.s?html?",
    re.IGNORECASE,
)
_BREADCRUMB_WORDS = ("当前位置", "您现在的位置", "您的位置", "所在位置", "当前栏目")
# What an empty column says instead of records.
_EMPTY_LIST = re.compile(r"暂无(?:相关)?(?:信息|数据|记录|内容|文章|文件)|没有(?:相关|找到)?(?:信息|记录|数据)")
_COLUMN_SIGNAL = re.compile("|".join(_BREADCRUMB_WORDS) + r"""|<meta\s+name=["']?ColumnName""", re.IGNORECASE)


@dataclass(frozen=True)
class ListLink:
    url: str
    title: str
    date: str | None


@dataclass(frozen=True)
class Recognition:
    kind: str  # LIST | DETAIL | OTHER
    list_items: int  # dated items in the biggest repeated container (-1: not counted)
    body_chars: int  # running text outside links and list items
    reasons: tuple[str, ...] = field(default=())


def recognize(url: str, text: str, sel: Selector,
              list_source: Callable[[str, str, Selector], str | None] | None = None) -> Recognition:
    """Classify one HTML (or Hanweb XML, or JSON) page. `text` is the decoded body, `sel` its parsed tree.

    `list_source` says where a page without records of its own gets its list (an on-site frame, an
    endpoint its script calls): `archive.discover.list_source`, passed in by the reader because
    discovery builds on this module; without it such a page is other.
    """
    if "<datastore" in text and ("<record" in text or "<totalrecord" in text.lower()):
        return Recognition(LIST, 0, 0, ("datastore",))
    if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") and (data := jsonlist.parse(text)) is not None:
        found = len(jsonlist.records(data))
        return Recognition(LIST, found, 0, ("json-records",)) if found else Recognition(OTHER, 0, 0, ("json",))
    if known := platforms.recognise(url, text):
        return Recognition(known[0], -1, 0, (f"platform:{known[1]}",))
    body_chars = running_text_chars(sel)
    markers = tuple(name for name, pattern in _ARTICLE_MARKERS if pattern.search(text))
    if _DETAIL_URL.search(url.split("?", 1)[0]):
        markers += ("url-shape",)
    paginated = bool(_PAGINATION_MARKERS.search(text))
    if body_chars >= DETAIL_MIN_CHARS and markers and not paginated:  # the common case, without the item scan
        return Recognition(DETAIL, -1, body_chars, ("running-text", *markers))
    groups = _item_groups(sel)
    dated = max((g.dated for g in groups), default=0)
    if dated and body_chars >= DETAIL_MIN_CHARS:
        # Summaries inside dated items (新闻列表 with 摘要) are part of the list, not running text.
        body_chars = running_text_chars(sel, exclude={el for g in groups if g.dated for el in g.elements})
    if dated and not paginated and _has_title_heading(sel):
        markers += ("title-heading",)
        if len(markers) >= 2:  # a short notice followed by its 相关文章 list: the notice is the page
            return Recognition(DETAIL, dated, body_chars, ("short-text", *markers))
    if body_chars >= DETAIL_MIN_CHARS and body_chars >= CHARS_PER_LIST_ITEM * dated:
        return Recognition(DETAIL, dated, body_chars, ("running-text",))
    if dated >= MIN_LIST_ITEMS or (dated >= 1 and paginated):
        return Recognition(LIST, dated, body_chars, ("dated-items", *(("pagination",) if paginated else ())))
    blocks = [g.dated for g in groups if g.dated >= MIN_BLOCK_ITEMS]
    if len(blocks) >= 2 and sum(blocks) >= 2 * MIN_LIST_ITEMS:  # 信息公开 home: a few records per column
        return Recognition(LIST, dated, body_chars, ("dated-blocks",))
    if len(markers) >= 2 and body_chars >= DETAIL_MIN_MARKED_CHARS:
        return Recognition(DETAIL, dated, body_chars, ("short-text", *markers))
    if any(g.titled >= MIN_UNDATED_ITEMS for g in groups):
        return Recognition(LIST, dated, body_chars, ("titled-items",))
    if not markers and body_chars < DETAIL_MIN_CHARS and _COLUMN_SIGNAL.search(text):
        if dated:  # a single-document column, or a last page of one or two records without 下一页
            return Recognition(LIST, dated, body_chars, ("few-dated-items",))
        if _EMPTY_LIST.search(text):
            return Recognition(LIST, 0, body_chars, ("empty-list",))
    if list_source is not None and body_chars < DETAIL_MIN_CHARS and (source := list_source(url, text, sel)):
        return Recognition(LIST, dated, body_chars, (source,))
    return Recognition(OTHER, dated, body_chars, ())


def has_list_items(sel: Selector) -> bool:
    """Whether the page shows any dated record items or a list of document titles."""
    return any(g.dated or g.titled >= MIN_UNDATED_ITEMS for g in _item_groups(sel))


def says_empty(text: str) -> bool:
    """Whether the page says its list is empty (暂无信息, 暂无数据, 没有记录)."""
    return bool(_EMPTY_LIST.search(text))


def _has_title_heading(sel: Selector) -> bool:
    """A heading (not a link) repeats a document-title-long segment of the page's <title>."""
    title = " ".join((sel.xpath("//title/text()").get() or "").split())
    # Every segment between separators, and the whole: a hyphen may be part of the title (2023-2025年).
    wanted = {p.replace(" ", "") for p in [title, *_TITLE_SPLIT.split(title)] if len(p) >= MIN_DOCUMENT_TITLE_CHARS}
    if not wanted:
        return False
    for el in sel.root.xpath(_HEADING_XPATH):
        if el.tag != "a" and el.find(".//a") is None and "".join(el.text_content().split()) in wanted:
            return True
    return False


def looks_like_article(url: str, text: str) -> bool:
    """Cheap test on the text alone for a record link's page: two article markers and no list machinery.

    Lets the spider hand typical detail pages straight to extraction without building its own tree.
    """
    if "<datastore" in text or "createPageHTML(" in text:
        return False
    found = sum(1 for _, pattern in _ARTICLE_MARKERS if pattern.search(text))
    if found < 2 and _DETAIL_URL.search(url.split("?", 1)[0]):
        found += 1
    return found >= 2


def running_text_chars(sel: Selector, exclude: set[Any] | frozenset[Any] = frozenset()) -> int:
    """Characters of long text nodes outside links, list items, scripts, the head and `exclude`."""
    total = 0
    for node in sel.root.xpath(_LONG_TEXT):
        parent = node.getparent()
        if node.is_tail and parent is not None:  # text after an element belongs to that element's parent
            parent = parent.getparent()
        while parent is not None and parent.tag not in _NOT_RUNNING_TEXT and parent not in exclude:
            parent = parent.getparent()
        if parent is None:
            total += len(node.strip())
    return total


@dataclass
class _Group:
    items: list[tuple[Any, str, str | None]] = field(default_factory=list)  # (anchor, title, date)
    elements: list[Any] = field(default_factory=list)  # the item elements themselves
    dated: int = 0
    titled: int = 0


def _item_groups(sel: Selector) -> list[_Group]:
    """Small link items grouped by their parent: the repeated containers of the page."""
    groups: dict[Any, _Group] = {}
    for item in sel.root.iter(*ITEM_TAGS, "a"):
        if item.tag == "a":  # an anchor is an item when it wraps a whole record (title and date blocks)
            parent = item.getparent()
            if len(item) and item.get("href") and parent is not None \
                    and sum(1 for c in parent if c.tag == "a") >= MIN_BLOCK_ITEMS:
                _add_item(groups, item, [item])
            continue
        anchors = []
        for a in item.iter("a"):
            if a.get("href") or a.get("onclick"):
                anchors.append(a)
                if len(anchors) > MAX_ITEM_LINKS:
                    break
        if not anchors and item.get("onclick") and item.tag in ("li", "tr", "dd", "div"):
            anchors = [item]  # a row that opens its record by script: <tr onclick="window.open('show.asp?id=1')">
        if not anchors and item.tag in ("li", "tr", "dd", "dt"):
            anchors = [sc for sc in item.iter("script") if sc.text and _SCRIPT_URL.search(sc.text)][:1]
            if anchors:  # TRS catalogues: <li><script>var url = "./2024…html"; document.write("<a …")</script>
                _add_item(groups, item, anchors, _script_item_text(item))
                continue
        if not anchors or len(anchors) > MAX_ITEM_LINKS:
            continue
        content = item.text_content()
        if item.tag == "dt" and (dd := item.getnext()) is not None and dd.tag == "dd" and dd.find(".//a") is None:
            content += " " + dd.text_content()  # <dt><a>title</a></dt><dd>2024-03-01</dd>: one record
        if len(content) > MAX_ITEM_CHARS:
            continue
        if item.tag in ("div", "p", "dl", "tr") and next(item.iterdescendants("li", "tr", "dd", "dt"), None) is not None \
                and not (item.tag == "dl" and len(anchors) == 1):
            continue  # a wrapper around a (short) list (a layout table's row), not one of its items
        _add_item(groups, item, anchors, content)
    return list(groups.values())


def _add_item(groups: dict[Any, _Group], item: Any, anchors: list[Any], content: str | None = None) -> None:
    """Add `item` (its main link, title and date) to the group of its parent."""
    content = item.text_content() if content is None else content
    if len(content) > MAX_ITEM_CHARS:
        return
    main = max(anchors, key=lambda a: len(_anchor_title(a)))
    title = _anchor_title(main)
    date = _DATE.search(content)
    if main is item and date:  # the date sits inside the anchor: keep it out of the title
        title = " ".join(t for t in (" ".join(c.text_content().split()) for c in item) if t and not _DATE.fullmatch(t))
    group = groups.setdefault(item.getparent(), _Group())
    group.items.append((main, title, date.group(0).strip() if date else None))
    group.elements.append(item)
    if date:
        group.dated += 1
    if len(title) >= MIN_TITLE_CHARS:
        group.titled += 1


# A record opened by script: <a href="javascript:void(0)" onclick="window.open('/art/…')">, href="javascript:
# openUrl('./202403/t…html')". The first quoted string that looks like a page path is the record's URL.
_SCRIPT_URL = re.compile(r"""["']((?:https?:)?(?:/|\./|\.\./)?[\w./%?&=:-]*?[\w%-]+\.(?:s?html?|jsp|aspx?|php)"""
                         r"""(?:\?[^"'\s]*)?)["']""", re.IGNORECASE)


_CJK = re.compile(r"[\u4e00-\u9fff]")
_JS_LITERAL = re.compile(r"""(["'])((?:(?!\1).){1,300}?)\1""")


def _script_item_text(item: Any) -> str:
    """An item's text with each script replaced by its string literals (the title and date it writes)."""
    parts, literals = [item.text or ""], []
    for child in item.iterdescendants():
        if child.tag == "script":
            literals += [m.group(2) for m in _JS_LITERAL.finditer(child.text or "")]
        elif child.text:
            parts.append(child.text)
        if child.tail:
            parts.append(child.tail)
    return " ".join(parts + literals)  # the visible text (its date) first


def anchor_href(a: Any) -> str | None:
    """The URL an anchor leads to: its href, or the page path a javascript: href/onclick opens (for a
    `<script>` standing in for the anchor, the page path its code names)."""
    if a.tag == "script":
        m = _SCRIPT_URL.search(a.text or "")
        return m.group(1) if m else None
    href = (a.get("href") or "").strip()
    if href and not href.lower().startswith("javascript:") and href != "#":
        return href
    script = (href + " " + (a.get("onclick") or "")).strip()
    m = _SCRIPT_URL.search(script)
    return m.group(1) if m else None


def _anchor_title(a: Any) -> str:
    if a.tag == "script":  # the longest literal that is not the URL: the title it writes
        literals = [" ".join(m.group(2).split()) for m in _JS_LITERAL.finditer(a.text or "")]
        return max((t for t in literals if "<" not in t and _CJK.search(t)), key=len, default="")
    text = " ".join(a.text_content().split())
    title = (a.get("title") or "").strip()
    return title if len(title) > len(text) else text


def base_url(url: str, sel: Selector) -> str:
    """What relative links of the page resolve against: its `<base href>`, else its own URL."""
    return page_base(sel.root, url)


def list_links(url: str, sel: Selector, item_xpath: str | None = None,
               script_href: Callable[[Any], str | None] | None = None) -> list[ListLink]:
    """The record links of a list page: every item of each dated container (or of undated
    title lists when there is no dated one). `item_xpath` (a site profile's) selects the links instead.
    `script_href` resolves an item that opens its record by script (`javascript:openArticle('12')`) by
    reading the page's functions; without it (or when it cannot tell) the URL literal in the code counts."""
    url = base_url(url, sel)
    if item_xpath:
        found = []
        for a in sel.xpath(item_xpath):
            href = absolute(url, a.attrib.get("href"))
            if href:
                found.append(ListLink(href, " ".join(a.xpath("string()").get("").split()), None))
        return found
    groups = _item_groups(sel)
    chosen = [g for g in groups if g.dated]
    undated_ok = False
    if not chosen:
        chosen = [g for g in groups if g.titled >= MIN_UNDATED_ITEMS]
        undated_ok = True
    links: list[ListLink] = []
    seen: set[str] = set()
    for group in chosen:
        # An undated item of a dated list counts only in a clearly dated list (a record without its date);
        # in a small mixed group it is furniture (a breadcrumb beside the last page's one record).
        keep_undated = undated_ok or (group.dated >= MIN_LIST_ITEMS and group.dated * 2 >= len(group.items))
        for anchor, title, date in group.items:
            if date is None and not keep_undated:
                continue
            href = absolute(url, (script_href(anchor) if script_href else None) or anchor_href(anchor))
            if href and href not in seen:
                seen.add(href)
                links.append(ListLink(href, title, date))
    return links


# "更多" links of a block: the full list of the column whose latest records the block shows.
_MORE_TEXT = re.compile(r"^(?:[>»+＋]{1,3}|(?:查看|浏览)?更多(?:信息|内容|>>|»|\+|＋)?|more\s*(?:>>|»|\+)?)$", re.IGNORECASE)
# How far above a "更多" link its block may start (a.more → div.title → div.block).
MORE_BLOCK_LEVELS = 4


def more_links(url: str, sel: Selector) -> list[str]:
    """The "更多>>" links of blocks that show a column's latest dated records (a parent column or the
    信息公开 home page): each leads to that column's full list.

    A link belongs to a block when the nearest of its ancestors (up to MORE_BLOCK_LEVELS) that holds a
    dated list holds exactly one: the block's own.
    """
    holders: dict[Any, int] = {}
    for group in _item_groups(sel):
        if group.dated and group.elements:
            node = group.elements[0].getparent()
            for _ in range(MORE_BLOCK_LEVELS):
                if node is None or node.tag in ("body", "html"):
                    break
                holders[node] = holders.get(node, 0) + 1
                node = node.getparent()
    found: list[str] = []
    base = base_url(url, sel)
    for a in sel.root.iter("a"):
        text = "".join(a.text_content().split()) or (a.get("title") or "").strip()
        if not text or not _MORE_TEXT.match(text):
            continue
        node = a.getparent()
        for _ in range(MORE_BLOCK_LEVELS):
            if node is None or node in holders:
                break
            node = node.getparent()
        if node is not None and holders.get(node) == 1 and (href := absolute(base, anchor_href(a))) and href != url:
            found.append(href)
    return list(dict.fromkeys(found))


_SCRIPT_REDIRECT = re.compile(
    r"""(?:window\.|document\.|self\.|top\.)?location(?:\.href)?\s*(?:=|\.replace\(|\.assign\()\s*["']([^"'\s]+)["']""")
# A redirect stub is a page with (almost) nothing to read besides the script.
REDIRECT_MAX_TEXT_CHARS = 200


def script_redirect(url: str, text: str) -> str | None:
    """Where a script-only redirect page (`<script>window.location.href = "/art/…"</script>`) sends the
    browser; None for a page with content of its own."""
    m = _SCRIPT_REDIRECT.search(text)
    if not m:
        return None
    visible = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]+>", " ", text)
    if len("".join(visible.split())) > REDIRECT_MAX_TEXT_CHARS:
        return None
    target = absolute(url, m.group(1))
    return target if target and target != url else None


def column_name(sel: Selector) -> str | None:
    """The 栏目 a list page shows: ColumnName meta, else the breadcrumb's last link, else the title."""
    meta = sel.xpath("//meta[@name='ColumnName' or @name='columnname']/@content").get()
    if meta and meta.strip():
        return meta.strip()
    for word in _BREADCRUMB_WORDS:
        crumbs = sel.xpath(f"//*[contains(text(), '{word}')][1]")
        if crumbs:
            names = [" ".join(t.split()) for t in crumbs[0].xpath(".//a//text()").getall() if t.strip()]
            if names:
                return names[-1]
    title = sel.xpath("//title/text()").get()
    if title:
        return re.split(r"[_|\-—－]", title.strip(), maxsplit=1)[0].strip() or None
    return None
