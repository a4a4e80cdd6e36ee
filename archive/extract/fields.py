"""Report fields found around the body: title, publish time, source, breadcrumb and column.

Each field is a small function over the parsed page; a field that cannot be found is None, never an
exception, so a strange header never loses the page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from archive.extract.dom import Page, Token, class_id, tokens
from archive.extract.metadata import is_label
from archive.extract.text import (
    join_cjk,
    norm_space,
    parse_compact_date,
    parse_datetime,
    raw_text,
    squash,
)

# Headings shorter than this are column names or buttons, not document titles.
MIN_TITLE_CHARS = 4
MAX_TITLE_CHARS = 200
# A heading may contain the <title> text plus a little (a prefix like 【公示】), not a whole page.
TITLE_OVERLONG = 1.5
# A fallback heading (one that matches nothing) must look like a document title, not a column name.
MIN_FALLBACK_TITLE_CHARS = 8
MAX_FALLBACK_TITLE_CHARS = 80
# A heading inside the body container counts as its title only among its first few elements.
TOP_OF_BODY_ELEMENTS = 5
# Some templates print the date just above the title: this many text nodes before it are read too,
# after everything below it.
PRE_TITLE_TOKENS = 6
# How many text nodes after the title are read for the date/source info bar.
HEADER_TOKENS = 80
# How many text nodes below the body are read for an info bar placed under it.
TRAILER_TOKENS = 12

_TITLE_CLASS = re.compile(r"title|biaoti|(?:^|[\s_-])(?:bt|tit|wzbt|xxbt)(?:$|[\s_-])|headline|article-?head")
_NEWLINE_GAP = re.compile(r"(?<=[\u2e80-\u9fff\uff00-\uffef])[^\S\n]*\n\s*(?=[\u2e80-\u9fff\uff00-\uffef])")
_TITLE_SEP = r"\s*(?:[_|｜]|--?|——?|–)\s*"
_TITLE_TAIL = re.compile(rf"^(?P<rest>.+?){_TITLE_SEP}(?P<part>[^_|｜\-—–]+)$")
_TITLE_HEAD = re.compile(rf"^(?P<part>[^_|｜\-—–]+?){_TITLE_SEP}(?P<rest>.+)$")
_SITE_NAME = re.compile(
    r"(?:政府|人民政府|门户网站|网站|政府网|之窗|[局委办厅署院会部处所站馆室]|中心|平台|首页|网)$|^(?:www\.|http)"
)
# A <title> that is nothing but the site's name: a heading repeating it is the banner, not the document.
_SITE_ONLY = re.compile(r"(?:人民政府|政府门户网站|门户网站|政府网|政府网站)$")
# A title segment this short is a column name (通知公告, 政策文件), not part of a document title.
MAX_COLUMN_NAME_CHARS = 6
_TITLE_SPLIT = re.compile(r"(?<!\s)\s*(?:[_|｜]|\s[-—–]+\s|--|——)\s*")
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})

_PUBLISH_METAS = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "publishtime",
                  "dc.date.issued", "dcterms.issued")
_LABELLED_DATE = re.compile(
    r"(?<![成生印截施有止])(?:发布|发表|公开|上传|更新|信息|录入)?(?:日期|时间)\s*[:：]\s*(?P<rest>.{0,40})"
)
_NOT_PUBLISH_DATE = re.compile(
    r"(?:成文|生成|印发|发文|施行|截止|有效期?至?|实施|打印)(?:日期|时间)?\s*(?:[:：]\s*)?"
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2})?)?"
)
_URL_DATE = re.compile(r"/(?P<y>(?:19|20)\d{2})[/-]?(?P<m>\d{1,2})[/-](?P<d>\d{1,2})/")

_SOURCE_LABEL = re.compile(r"(?<![\u4e00-\u9fff])(?:信息|文章|稿件)?来源\s*[:：]\s*(?P<value>.*)")
_SOURCE_STOP = re.compile(
    r"(?<!\s)\s*(?:点击|浏览|阅读|访问|字号|字体|作者|责任编辑|编辑\s*[:：]|发布(?:时间|日期)|(?:时间|日期)\s*[:：]|【|\[|打印|"
    r"分享|\||\d{4}\s*[-/年])"
)
_CRUMB_MARKER = re.compile(r"^\s*(?:您现在的位置|您当前的位置|您所在的?位置|您的位置|当前所在位置|当前位置|所在位置|位置)\s*(?:是\s*)?[:：]?")
_CRUMB_CLASS = re.compile(r"crumb|bread|position|location|dqwz|mbx|weizhi|(?:^|[\s_-])loc(?:$|[\s_-])|(?:^|[\s_-])(?:path|curmbs)(?:$|[\s_-])")
_CRUMB_HOME = re.compile(r"^\s*(?:首页|网站首页|主页|门户首页)")
_CRUMB_SEP_AFTER_HOME = re.compile(r"^\s*(?:首页|网站首页|主页|门户首页)\s*(?:>|＞|»|›|→|-+>)")
_CRUMB_SEP_START = re.compile(r"^\s*(?:>|＞|»|›|→|-+>)")
_CRUMB_SPLIT = re.compile(r"\x1f|(?<!-)-*>|=>|＞|»|›|→|/|\s{2,}")
_CRUMB_TOOLBAR = re.compile(r"字号\s*[:：]|字体\s*[:：]|【\s*(?:打印|关闭|字体)|打印本页|分享到|扫一扫")
_PUNCTUATION_ONLY = re.compile(r"[\W_]+")
_CRUMB_END_WORDS = frozenset({"正文", "详情", "内容", "正文内容", "文章", "阅读文章", "浏览文章", "详细内容", "信息详情"})


def title_text(el: etree._Element) -> str:
    """A heading's text; lines broken with <br> or source newlines are joined without a gap between
    Chinese characters, a deliberate space inside a line (between two clauses) is kept."""
    return norm_space(_NEWLINE_GAP.sub("", raw_text(el)))


def strip_title_suffix(title_tag: str) -> str:
    """``关于…的通知_通知公告_某某市人民政府`` → ``关于…的通知``.

    Segments at either end that name a site or a column (``某某市人民政府``, ``中国政府网``, ``通知公告``)
    are dropped one by one; a hyphen inside the title (``2023-2025年``) stays because what follows it
    names no site.
    """
    title = norm_space(title_tag)
    while True:
        tail = _TITLE_TAIL.match(title)
        if tail and _is_site_or_column(tail["part"]):
            title = tail["rest"]
            continue
        head = _TITLE_HEAD.match(title)
        if head and _is_site_or_column(head["part"]):
            title = head["rest"]
            continue
        break
    parts = [p for p in _TITLE_SPLIT.split(title) if p]
    return join_cjk(max(parts, key=len)) if parts else ""


def _is_site_or_column(part: str) -> bool:
    part = part.strip()
    return bool(_SITE_NAME.search(part)) or len(part) <= MAX_COLUMN_NAME_CHARS


def _heading_candidates(root: etree._Element) -> list[tuple[str, etree._Element]]:
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in _HEADING_TAGS or (el.tag not in ("html", "body") and _TITLE_CLASS.search(class_id(el))):
            text = title_text(el)
            if MIN_TITLE_CHARS <= len(text) <= MAX_TITLE_CHARS:
                found.append((text, el))
    return found


def _matches(text: str, reference: str) -> bool:
    if not reference or len(text) < MIN_TITLE_CHARS:
        return False
    if text == reference:
        return True
    if len(text) < 6:
        return False
    return text in reference or (reference in text and len(text) <= len(reference) * TITLE_OVERLONG)


def find_headings(root: etree._Element) -> list[tuple[str, etree._Element]]:
    """Title-like elements (h1–h3, class/id with "title") in document order, before cleaning."""
    return _heading_candidates(root)


def matched_heading(page: Page, headings: list[tuple[str, etree._Element]]) -> tuple[str, etree._Element] | None:
    """The heading that agrees with the ArticleTitle meta or the <title>: the document's title."""
    meta = join_cjk(page.metas.get("articletitle", ""))
    stripped = strip_title_suffix(page.title_tag)
    full_tag = join_cjk(page.title_tag)
    for text, el in headings:
        if _matches(text, meta):
            return text, el
    site_only = not _TITLE_SPLIT.search(norm_space(page.title_tag)) and _SITE_ONLY.search(stripped)
    good = [(t, e) for t, e in headings if (_matches(t, stripped) or _matches(t, full_tag))
            and not (site_only and t == stripped)]  # <title> 某县人民政府 and a banner <h1> 某县人民政府
    return max(good, key=lambda pair: len(pair[0])) if good else None


def heading_from_text(stream: list[Token], page: Page) -> tuple[str, etree._Element] | None:
    """An element of any tag or class whose whole text is the ArticleTitle or the stripped <title>."""
    wanted = {t for t in (join_cjk(page.metas.get("articletitle", "")), strip_title_suffix(page.title_tag))
              if len(t) >= MIN_FALLBACK_TITLE_CHARS}
    for token in stream:
        if token.text and not token.in_link and token.owner is not None and join_cjk(token.text) in wanted:
            text = title_text(token.owner)
            if text in wanted:
                return text, token.owner
    return _split_heading(stream, {squash(t) for t in wanted})


def _split_heading(stream: list[Token], wanted: set[str]) -> tuple[str, etree._Element] | None:
    """The title shown broken over lines (``委员会<br>关于…<br>的决议``): an element whose text, whitespace
    aside, is the <title>'s. Its rendering is the title: the <title> may carry a stray space."""
    for token in stream:
        first = squash(token.text)
        if len(first) < MIN_TITLE_CHARS or token.in_link or token.owner is None:
            continue
        if any(w.startswith(first) and w != first for w in wanted):
            text = title_text(token.owner)
            if squash(text) in wanted:
                return text, token.owner
    return None


def nearest_heading(headings: list[tuple[str, etree._Element]], order: dict,
                    body_index: int) -> tuple[str, etree._Element] | None:
    """The heading closest above the body (or at the very top of it) when none matches <title>."""
    best = None
    for text, el in headings:
        index = order.get(el, -1)
        if index < 0 or not MIN_FALLBACK_TITLE_CHARS <= len(text) <= MAX_FALLBACK_TITLE_CHARS or "。" in text:
            continue
        if index > body_index + TOP_OF_BODY_ELEMENTS:
            break
        best = (text, el)
        if index >= body_index:
            break
    return best


def first_plausible_heading(headings: list[tuple[str, etree._Element]], root: etree._Element) -> etree._Element | None:
    """The first heading still in the cleaned page that reads like a document title."""
    for text, el in headings:
        if MIN_FALLBACK_TITLE_CHARS <= len(text) <= MAX_FALLBACK_TITLE_CHARS and "。" not in text:
            if root in el.iterancestors() and el.find(".//a") is None and el.tag != "a":
                return el
    return None


def extract_title(page: Page, labelled: dict[str, str], heading: tuple[str, etree._Element] | None) -> str | None:
    """The document's own title: ArticleTitle meta, the page heading, the metadata 标题, the <title>."""
    meta = join_cjk(page.metas.get("articletitle", ""))
    if meta == join_cjk(page.metas.get("sitename", "")):
        meta = ""
    stripped = strip_title_suffix(page.title_tag)
    shown = heading[0] if heading else ""
    official = join_cjk(labelled.get("title", ""))
    if len(official) >= MIN_FALLBACK_TITLE_CHARS and len(shown) <= MAX_COLUMN_NAME_CHARS:
        shown = ""  # the heading is a column name (政策文件); the metadata block names the document
    for choice in (meta, shown, official, stripped):
        if len(choice) >= MIN_TITLE_CHARS or (choice and choice == stripped):
            return choice
    return None


def header_tokens(stream: list[Token], title_el: etree._Element | None, body_set: set) -> list[Token]:
    """The text nodes between the title heading and the body: where the info bar lives."""
    start = first = 0
    hits: list[int] = []
    if title_el is not None:
        inside = set(title_el.iter())
        hits = [i for i, t in enumerate(stream) if t.owner in inside]
        start = hits[-1] + 1 if hits else 0
        first = hits[0] if hits else 0
    region = []
    for token in stream[start:]:
        if token.owner is not None and token.owner in body_set:
            break
        if token.text is not None:
            region.append(token)
    trailer = _trailer(stream, body_set)
    if title_el is None:
        return region[-HEADER_TOKENS:] + trailer
    above = [t for t in stream[max(0, first - PRE_TITLE_TOKENS):first] if t.text is not None] if hits else []
    return region[:HEADER_TOKENS] + above + trailer


def _trailer(stream: list[Token], body_set: set) -> list[Token]:
    """Labelled dates and sources just below the body: some templates put the info bar there. Only
    labelled ones (发布日期：…, 来源：…), so that a signature date or a related-links date never counts."""
    last = max((i for i, t in enumerate(stream) if t.owner is not None and t.owner in body_set), default=None)
    if last is None:
        return []
    following = [t for t in stream[last + 1:] if t.text is not None and not t.in_link][:TRAILER_TOKENS]
    kept: list[Token] = []
    for i, token in enumerate(following):
        if _LABELLED_DATE.search(token.text) or _SOURCE_LABEL.search(token.text):
            kept.append(token)
            if token.text.rstrip().endswith((":", "：")) and i + 1 < len(following):
                kept.append(following[i + 1])  # the value in the next node: 发布日期：<span>2024-04-02</span>
    return kept


def _region_date(region: list[Token]) -> str | None:
    text = " ".join(t.text for t in region if t.text and not t.in_link)
    text = _NOT_PUBLISH_DATE.sub(" ", text)
    for match in _LABELLED_DATE.finditer(text):
        value = parse_datetime(match["rest"])
        if value:
            return value
    return parse_datetime(text)


def _url_date(url: str) -> str | None:
    path = urlsplit(url).path
    match = _URL_DATE.search(path)
    if match:
        return parse_datetime(f"{match['y']}-{match['m']}-{match['d']}")
    name = path.rsplit("/", 1)[-1]
    return parse_compact_date(name) if name.startswith(("t", "art_", "content_")) or name[:1].isdigit() else None


def extract_publish_time(page: Page, labelled: dict[str, str], region: list[Token]) -> str | None:
    """The publish time in ISO form; the first source wins, a later one may add the time of day.

    What the page shows (the metadata block's 发布日期, then the info bar) comes before the PubDate-style
    metas: on real pages PubDate is sometimes the page-generation stamp while the page shows the date.
    """
    candidates = [parse_datetime(labelled.get("publish")), _region_date(region)]
    candidates += [parse_datetime(page.metas.get(name)) for name in _PUBLISH_METAS]
    candidates.append(_url_date(page.url))
    found = [c for c in candidates if c]
    if not found:
        return None
    best = found[0]
    if "T" not in best:
        for other in found[1:]:
            if "T" in other and other.startswith(best):
                return other
    return best


def _clean_source(value: str | None) -> str | None:
    if not value:
        return None
    value = _SOURCE_STOP.split(norm_space(value), maxsplit=1)[0].strip(" :：,，;；|")
    return value or None


def _shown_source(region: list[Token]) -> str | None:
    texts = [t.text for t in region if t.text]
    for i, text in enumerate(texts):
        match = _SOURCE_LABEL.search(text)
        if match:
            value = match["value"] if match["value"].strip() else " ".join(texts[i + 1:i + 2])
            if _SOURCE_LABEL.search(value or "") or is_label(value):
                return None  # 来源： followed by the next label: shown empty
            return _clean_source(value)
    return None


def extract_source(page: Page, labelled: dict[str, str], region: list[Token]) -> str | None:
    """来源 as the page shows it (info bar, then the metadata block), else the ContentSource meta, which
    on real pages often names the site rather than the document's source."""
    return (_shown_source(region) or _clean_source(labelled.get("source"))
            or _clean_source(page.metas.get("contentsource")))


def _crumb_container(stream: list[Token], root: etree._Element) -> etree._Element | None:
    for token in stream:
        if token.text and _CRUMB_MARKER.match(token.text) and len(token.text.strip()) < 60:
            owner = token.owner
            while owner is not None and not any(True for _ in owner.iter("a")) and owner.getparent() is not None:
                owner = owner.getparent()
            return owner
    shaped = _crumb_by_shape(stream)
    if shaped is not None:
        return shaped
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag not in ("html", "body") and _CRUMB_CLASS.search(class_id(el)):
            if any(True for _ in el.iter("a")) and len(el.text_content()) < CRUMB_MAX_CHARS:
                return el
    return None


# A breadcrumb trail is short; a box longer than this around the home link is the page's navigation.
CRUMB_MAX_CHARS = 300


def _crumb_by_shape(stream: list[Token]) -> etree._Element | None:
    """A run like ``首页 > 政务公开 > 通知公告`` without any label or class to name it."""
    texts = [t for t in stream if t.text and t.text.strip()]
    for i, token in enumerate(texts):
        if not _CRUMB_HOME.match(token.text):
            continue
        following = texts[i + 1].text if i + 1 < len(texts) else ""
        if _CRUMB_SEP_AFTER_HOME.match(token.text) or _CRUMB_SEP_START.match(following):
            owner = token.owner
            if owner is not None and owner.tag == "a" and owner.getparent() is not None:
                owner = owner.getparent()
            alone = not _CRUMB_SEP_AFTER_HOME.match(token.text)  # 首页 by itself, the trail in its siblings
            # the home link's own box (<li><a>首页</a></li>) holds no other crumb: the trail is its parent's
            while alone and owner is not None and owner.getparent() is not None and owner.getparent().tag not in ("body", "html") \
                    and norm_space(owner.text_content()) == norm_space(token.text) \
                    and len(owner.getparent().text_content()) < CRUMB_MAX_CHARS:
                owner = owner.getparent()
            return owner
    return None


def extract_breadcrumb(page: Page, stream: list[Token], title: str | None) -> tuple[list[str], etree._Element | None]:
    """当前位置：首页 > 政务公开 > 规划计划 → ["首页", "政务公开", "规划计划"], and the element showing it."""
    container = _crumb_container(stream, page.root)
    if container is None:
        return [], None
    texts = [t.text for t in tokens(container) if t.text]
    stop = next((i for i, text in enumerate(texts) if _CRUMB_TOOLBAR.search(text)), len(texts))
    raw = "\x1f".join(texts[:stop])  # a font-size/print bar nested in the breadcrumb's box is not a crumb
    raw = _CRUMB_MARKER.sub("", raw.lstrip("\x1f \u3000\xa0"))
    items = [join_cjk(part) for part in _CRUMB_SPLIT.split(raw)]
    items = [item.strip(" :：") for item in items]
    items = [item for item in items if item and not _CRUMB_MARKER.fullmatch(item) and len(item) <= 40
             and not _PUNCTUATION_ONLY.fullmatch(item)]
    while items and (items[-1] in _CRUMB_END_WORDS or (title and items[-1] == title)):
        items.pop()
    return items, container


def extract_column(page: Page, breadcrumb: list[str]) -> str | None:
    meta = norm_space(page.metas.get("columnname"))
    if meta:
        return meta
    return breadcrumb[-1] if breadcrumb else None
