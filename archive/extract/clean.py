"""Remove page furniture: invisible parts, then furniture found by class/id and by its wording.

Removal is structural: a furniture phrase (点击数, 上一篇, 网站标识码, …) marks a text node, and the
largest enclosing block that is still short, not prose, and not the body is dropped. A phrase inside a
real sentence therefore stays: the sentence is prose (it ends with 。 or is full of punctuation).
"""

from __future__ import annotations

import re

from lxml import etree

from archive.extract.dom import class_id
from archive.extract.text import SKIP_TAGS, norm_space, punct_count

_INVISIBLE_TAGS = SKIP_TAGS | {"iframe", "object", "embed", "svg", "canvas", "button", "input", "map", "audio"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# class/id words of furniture containers (header, nav, footer, share bars, related links, …).
_FURNITURE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:header|footer|foot|nav|navbar|menu|crumbs?|breadcrumbs?|position|location|dqwz|"
    r"bdshare|share|fenxiang|print|qrcode|erweima|ewm|copyright|banquan|related|relate|xglj|xgwz|xgxx|"
    r"prevnext|pre-next|sxp|sxpian|toolbar|sidebar|gotop|backtop|friendlinks?|yqlj|skip|topbar|wza|barrier)"
    r"(?:$|[\s_-]|\d)"
)

# Phrases that only furniture contains. A match marks its text node for structural removal.
_FURNITURE_PHRASE = re.compile(
    r"网站支持\s*IPV6|无障碍(?:浏览|阅读|通道)?$|^\s*(?:简|繁|简体|繁體|EN|English)\s*$|当前位置\s*[:：>＞]|"
    r"(?:您现在|您当前|您|当前|现在)?(?:的|所在)?位置\s*[:：]|点击(?:数|量|率|次数)|浏览(?:次数|量)|阅读(?:次数|量)|"
    r"访问(?:量|次数)|(?<!文)字号\s*[:：]|【\s*字体|字体\s*[:：]|【\s*打印|打印本页|打印此页|打印文章|"
    r"【\s*关闭|关闭窗口|关闭本页|分享到|扫一扫|扫描二维码|手机扫描|我要纠错|网站标识码|ICP\s*备|ICP\s*证|"
    r"公网安备|^\s*(?:上一篇|下一篇|上一条|下一条)|^\s*(?:相关链接|相关文章|相关稿件|相关新闻|相关阅读|相关信息|相关文件)"
    r"|^\s*(?:【\s*)?(?:打印|关闭|收藏|返回顶部|返回|大|中|小|默认)\s*(?:】\s*)?$|责任编辑\s*[:：]|"
    r"(?:上一页|下一页|尾页|首页)\s*$|^\s*共\s*\d+\s*页|\{\{[^{}]*\}\}|"
    r"(?:发布|发表|更新|信息)(?:时间|日期)\s*[:：]|^\s*(?:信息|文章)?来源\s*[:：]|"
    r"^\s*(?:[\[【]\s*)?(?:索\s*引\s*号|发文字号|主题分类|发布机构|发文机关|发文机构|成文日期)",
    re.IGNORECASE,
)
# Site identity lines never occur in body prose, so they are removed even next to a full stop.
_SITE_IDENTITY = re.compile(r"网站标识码|ICP\s*备|ICP\s*证|公网安备|版权所有|主办单位", re.IGNORECASE)
# Labels of the 信息公开 metadata block: a short block with two of them is that block (already read).
_METADATA_LABEL = re.compile(
    r"(索\s*引\s*号|发文字号|文\s*号|主题分类|信息分类|发布机构|发文机关|发文机构|成文日期|生成日期|有\s*效\s*性|"
    r"关\s*键\s*词|主\s*题\s*词)\s*(?:[:：]|[\]】])"
)
METADATA_BLOCK_MAX_CHARS = 600
# Section headings whose following link list is furniture.
_LINK_SECTION = re.compile(r"^(?:相关链接|相关文章|相关稿件|相关新闻|相关阅读|相关信息|延伸阅读|推荐阅读)\s*[:：]?$")

# A furniture block is short: the longest info bars and footers stay under this many characters.
FURNITURE_MAX_CHARS = 300
# …unless it is mostly links (a related-links list can be long).
LINKY_SHARE = 0.6
# Prose: this much sentence punctuation outside links means real text, never furniture.
PROSE_MIN_PUNCT = 4
_SENTENCE_END = re.compile(r"[。！？]")


# document.write("2024-03-01 10:20") / var s = "市财政局"; document.write(s): info bars written by script.
_WRITE = re.compile(r"document\.write(?:ln)?\s*\(")
_JS_STRING = re.compile(r"""(["'])((?:(?!\1)[^\\<>{}%;=])*)\1""")
# What such a script may write: a date, a time, a short name — never markup, URLs or code.
_READABLE = re.compile(r"[\u4e00-\u9fff]|(?:19|20)\d{2}\s*[-/.年]")
_WRITTEN_TEXT = re.compile(r"^[\w\u3000-\u303f\u4e00-\u9fff\uff00-\uffef :：/.\-（）()、]{2,40}$")


def _written_text(script: etree._Element) -> str | None:
    """The text a small inline script writes into the page, when it is plain literal text."""
    code = script.text or ""
    if script.get("src") or len(code) > 300 or "<" in code or not _WRITE.search(code):
        return None  # external, long, or writing markup: not an info-bar value
    literals = [m.group(2).strip() for m in _JS_STRING.finditer(code) if m.group(2).strip()]
    if not literals or not all(_WRITTEN_TEXT.match(text) and _READABLE.search(text) for text in literals):
        return None
    return " ".join(literals)


def strip_invisible(root: etree._Element) -> None:
    """Drop scripts, styles, embedded objects, form controls and hidden elements; a script that only
    writes a literal (an info bar's date or source) leaves that text in its place, as a browser shows it."""
    doomed = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "script" and (written := _written_text(el)) is not None:
            el.tag, el.text = "span", written
            el.attrib.clear()
            continue
        if el.tag in _INVISIBLE_TAGS or el.get("hidden") is not None:
            doomed.append(el)
        else:
            style = el.get("style")
            if style and _HIDDEN_STYLE.search(style):
                doomed.append(el)
    for el in doomed:
        if el.tag not in ("html", "body") and el.getparent() is not None:
            el.drop_tree()


class _Stats:
    """Text length, link text length and prose signals of elements, cached for one cleaning pass."""

    def __init__(self) -> None:
        self._cache: dict[etree._Element, tuple[int, int, int, bool, str]] = {}

    def get(self, el: etree._Element) -> tuple[int, int, int, bool, str]:
        hit = self._cache.get(el)
        if hit is None:
            text = norm_space(el.text_content())
            links = [norm_space(a.text_content()) for a in el.iter("a")]
            punct = punct_count(text) - sum(punct_count(t) for t in links)
            ends = len(_SENTENCE_END.findall(text)) - sum(len(_SENTENCE_END.findall(t)) for t in links)
            hit = (len(text), sum(len(t) for t in links), punct, ends > 0, text)
            self._cache[el] = hit
        return hit


def _is_furniture_block(el: etree._Element, stats: _Stats, guarded: set) -> bool:
    if el.tag in ("html", "body") or el in guarded:
        return False
    length, link_len, punct, sentence, text = stats.get(el)
    if _SITE_IDENTITY.search(text) and length <= FURNITURE_MAX_CHARS:
        return punct < PROSE_MIN_PUNCT * 2 and len(_SENTENCE_END.findall(text)) <= 1
    if len(set(_METADATA_LABEL.findall(text))) >= 2 and len(_SENTENCE_END.findall(text)) <= 1:
        return length <= METADATA_BLOCK_MAX_CHARS  # the 信息公开 block, not a short body sharing its parent
    if punct >= PROSE_MIN_PUNCT or sentence:
        return False
    return length <= FURNITURE_MAX_CHARS or (length > 0 and link_len / length >= LINKY_SHARE)


def _contains(el: etree._Element, other: etree._Element) -> bool:
    node: etree._Element | None = other
    while node is not None:
        if node is el:
            return True
        node = node.getparent()
    return False


def _guard(protect: list[etree._Element]) -> set:
    """Every protected element and all its ancestors: none of them may be removed."""
    guarded: set = set()
    for el in protect:
        node: etree._Element | None = el
        while node is not None and node not in guarded:
            guarded.add(node)
            node = node.getparent()
    return guarded


def _largest_furniture(el: etree._Element, stats: _Stats, guarded: set) -> etree._Element | None:
    if not _is_furniture_block(el, stats, guarded):
        return None
    best = el
    parent = el.getparent()
    while parent is not None and _is_furniture_block(parent, stats, guarded):
        best, parent = parent, parent.getparent()
    return best


def _drop_link_section(heading: etree._Element, stats: _Stats) -> None:
    """Drop a 相关链接-style heading and the link lists that follow it."""
    while heading.getnext() is None and heading.getparent() is not None and heading.getparent().tag != "body":
        parent = heading.getparent()
        if stats.get(parent)[0] > stats.get(heading)[0] + 2:
            break
        heading = parent
    following = heading.getnext()
    while following is not None:
        length, link_len, punct, _, _ = stats.get(following)
        nxt = following.getnext()
        if length and link_len / length < LINKY_SHARE:
            break
        following.drop_tree()
        following = nxt
    heading.drop_tree()


def remove_furniture(root: etree._Element, protect: list[etree._Element], known: list[etree._Element]) -> None:
    """Remove furniture containers and furniture-worded blocks, never a `protect`ed element or what
    contains it (the known body, the title heading, attachment links). `known` are furniture elements
    found by the field steps (the breadcrumb), removed when short."""
    stats = _Stats()
    guarded = _guard(protect)
    for el in known:
        if el not in guarded and el.getparent() is not None and stats.get(el)[0] <= FURNITURE_MAX_CHARS:
            el.drop_tree()
    by_class, by_phrase, sections = [], [], []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag not in ("html", "body") and _FURNITURE_CLASS.search(class_id(el)):
            by_class.append(el)
        if el.text and _LINK_SECTION.match(el.text.strip()) and len(el) == 0:
            sections.append(el)
        if el.text and _FURNITURE_PHRASE.search(el.text):
            by_phrase.append(el)
        if el.tail and el.getparent() is not None and _FURNITURE_PHRASE.search(el.tail):
            by_phrase.append(el.getparent())
    for el in by_class:
        if el.getparent() is not None and _class_removable(el, stats, guarded):
            el.drop_tree()
    for el in sections:
        if _attached(el, root):
            _drop_link_section(el, stats)
    for el in by_phrase:
        if not _attached(el, root):
            continue
        target = _largest_furniture(el, stats, guarded)
        if target is not None and target.getparent() is not None:
            target.drop_tree()


def _class_removable(el: etree._Element, stats: _Stats, guarded: set) -> bool:
    if el in guarded:
        return False
    length, link_len, punct, sentence, _ = stats.get(el)
    prose = punct >= PROSE_MIN_PUNCT and sentence
    return not prose or (length > 0 and link_len / length >= LINKY_SHARE)


def _attached(el: etree._Element, root: etree._Element) -> bool:
    return _contains(root, el)

# A rendered line this short that carries a furniture phrase is a leftover bar, not a sentence.
FURNITURE_LINE_MAX_CHARS = 80


def is_furniture_line(line: str) -> bool:
    """True for a short rendered line that is furniture (an info bar sitting directly in the body)."""
    if len(line) > FURNITURE_LINE_MAX_CHARS or _SENTENCE_END.search(line):
        return False
    return bool(_FURNITURE_PHRASE.search(line) or _INFO_LINE.search(line))


_INFO_LINE = re.compile(
    r"^(?:发布|发表|更新|信息)?(?:时间|日期)\s*[:：]\s*(?:19|20)\d{2}|^(?:信息|文章)?来源\s*[:：]"
)
