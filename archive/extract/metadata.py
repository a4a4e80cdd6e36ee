"""The 信息公开 metadata block, in every layout: table cells, th/td pairs, ul/li, dl, and label：value runs.

The page is read as a stream of text nodes with block boundaries (see dom.tokens). A label either
stands alone or is followed by a colon and its value inside the same text node. A label standing alone
in a cell (``td``/``th``/``dt``) takes its value from the next cell of the row (or the ``dd``) and from
nowhere else; elsewhere its value is the text that follows, in the same block or the next one. Labels
may have spaces inside (``索 引 号``, ``文　　号``). A label is never a value: a label followed by another
label (known or not: a header cell, ``公文种类：``) has no value.
"""

from __future__ import annotations

import re

from lxml import etree

from archive.extract.dom import Token
from archive.extract.text import element_text, norm_space

# Label → field. "title", "publish" and "source" feed the report's own fields.
LABELS: dict[str, str] = {
    "索引号": "index_no",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "发文文号": "doc_number",
    "文件编号": "doc_number",
    "文件字号": "doc_number",
    "发布机构": "issuer",
    "发布单位": "issuer",
    "发文机关": "issuer",
    "发文单位": "issuer",
    "发文机构": "issuer",
    "发布机关": "issuer",
    "制发机关": "issuer",
    "成文机关": "issuer",
    "公开主体": "issuer",
    "成文日期": "written_date",
    "生成日期": "written_date",
    "发文日期": "written_date",
    "印发日期": "written_date",
    "主题分类": "topic",
    "信息分类": "topic",
    "公开类别": "topic",
    "信息类别": "topic",
    "所属主题": "topic",
    "组配分类": "topic",
    "分类": "topic",
    "有效性": "validity",
    "时效性": "validity",
    "效力状态": "validity",
    "是否有效": "validity",
    "关键词": "keywords",
    "主题词": "keywords",
    "关键字": "keywords",
    "标题": "title",
    "文件名称": "title",
    "名称": "title",
    "发布日期": "publish",
    "发布时间": "publish",
    "公开日期": "publish",
    "来源": "source",
    "信息来源": "source",
    "文章来源": "source",
    "稿件来源": "source",
}
_GAP = r"[\s\u3000\xa0]*"
_ALTERNATION = "|".join(
    _GAP.join(re.escape(ch) for ch in label) for label in sorted(LABELS, key=len, reverse=True)
)
# A label starts a node or follows a non-Chinese character: 资金来源 or 发文字号 never match 来源/文号.
_LABEL_AT = rf"(?<![\u4e00-\u9fff])(?P<label>{_ALTERNATION})"
_OPEN = r"[\[【(（]"
_CLOSE = r"[\]】)）]"
# No two whitespace runs are ever next to each other (`{_GAP}{_CLOSE}?{_GAP}` backtracks cubically on a
# label followed by thousands of &nbsp;): each optional bracket or colon carries the gap after it.
_LABEL_ONLY = re.compile(
    rf"^{_GAP}(?:{_OPEN}{_GAP})?(?:{_ALTERNATION}){_GAP}(?:{_CLOSE}{_GAP})?(?:[:：]{_GAP})?$"
)
# label：value, or a bracketed label ([ 索 引 号 ] value) as some portals write it.
_LABEL_COLON = re.compile(
    rf"(?:{_OPEN}{_GAP}(?P<bracketed>{_ALTERNATION}){_GAP}{_CLOSE}{_GAP}[:：]?|{_LABEL_AT}{_GAP}[:：])"
)
_SPACES = re.compile(r"[\s\u3000\xa0]+")
# Values longer than this are prose that happened to follow a label, not metadata.
MAX_VALUE_CHARS = 200


# Any short run of Chinese ending with a colon is a label, whether this module knows it or not.
_ANY_LABEL = re.compile(
    rf"^{_GAP}(?:{_OPEN}{_GAP})?[\u4e00-\u9fff][\u4e00-\u9fff\s\u3000\xa0]{{0,9}}(?:{_CLOSE}{_GAP})?[:：]{_GAP}$"
)
# A text opening with a short label and a colon (公文种类：通知) is another pair, never the value before it.
_LABEL_PREFIX = re.compile(r"^[\s\u3000\xa0]*[\u4e00-\u9fff][\u4e00-\u9fff\s\u3000\xa0]{1,7}[:：]")
_LABEL_CELLS = frozenset({"th", "dt"})
_CELLS = frozenset({"td", "th", "dt", "dd"})
_VALUE_CELLS = frozenset({"td", "dd"})


def is_label(text: str | None) -> bool:
    """True for a text that is a label (``发文字号``, ``公文种类：``), which can never be a value."""
    return bool(text) and bool(_LABEL_ONLY.match(text) or _ANY_LABEL.match(text))


def _field(label: str) -> str:
    return LABELS[_SPACES.sub("", label).strip("[]【】()（）:：")]


def _cell(el: etree._Element | None) -> etree._Element | None:
    """The table cell, dt or dd holding `el`, if any."""
    while el is not None and isinstance(el.tag, str):
        if el.tag in _CELLS:
            return el
        if el.tag in ("tr", "table", "dl", "body"):
            return None
        el = el.getparent()
    return None


def _next_cell_value(cell: etree._Element) -> str:
    """The value cell right after a label cell: empty when it is missing or itself a label."""
    nxt = cell.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    if nxt is None or nxt.tag not in _VALUE_CELLS:
        return ""
    value = element_text(nxt)
    return "" if is_label(value) else value


def _collect(stream: list[Token], i: int) -> str:
    """The value after the label-only token at index i."""
    cell = _cell(stream[i].owner)
    if cell is not None:
        rest = []
        for token in stream[i + 1:]:
            if token.text is None:
                continue
            if _cell(token.owner) is not cell:
                break
            rest.append(token.text)
        value = norm_space("".join(rest))
        if value:
            return "" if is_label(value) else value
        return _next_cell_value(cell)
    parts: list[str] = []
    j = i + 1
    while j < len(stream) and stream[j].text is None:
        j += 1
    while j < len(stream):
        text = stream[j].text
        if text is None:
            if parts:
                break
        elif not stream[j].in_link and (is_label(text) or _LABEL_COLON.match(text.lstrip()) or _LABEL_PREFIX.match(text)
                                        or _cell(stream[j].owner) is not None
                                        and _cell(stream[j].owner).tag in _LABEL_CELLS):
            break
        else:
            parts.append(text)
        j += 1
    return norm_space("".join(parts))


def _inline(text: str) -> list[tuple[str, str]]:
    """label：value pairs inside one text node."""
    matches = list(_LABEL_COLON.finditer(text))
    pairs = []
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        pairs.append((_field(match["label"] or match["bracketed"]), norm_space(text[match.end():end])))
    return pairs


def extract_labelled(stream: list[Token]) -> dict[str, str]:
    """First value of every known label in the page, keyed by field name."""
    found: dict[str, str] = {}
    for i, token in enumerate(stream):
        text = token.text
        if text is None or token.in_link:
            continue
        if _LABEL_ONLY.match(text):
            name = _field(text)
            value = _collect(stream, i)
            if value and name not in found and len(value) <= MAX_VALUE_CHARS:
                found[name] = value
            continue
        for name, value in _inline(text):
            if not value:
                value = _collect(stream, i) if text.rstrip().endswith((":", "：")) else ""
            if value and name not in found and len(value) <= MAX_VALUE_CHARS:
                found[name] = value
    return found
