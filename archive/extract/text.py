"""Text helpers shared by the steps: whitespace, Chinese punctuation, dates, rendering a subtree."""

from __future__ import annotations

import re

from lxml import etree

_SPACE = re.compile(r"[\s\u3000\xa0\u200b\u200c\u200d\ufeff\u2002\u2003\u2009]+")
_TEMPLATE_VAR = re.compile(r"\{\{[^{}]{0,60}\}\}")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
# Sentence punctuation: dense in prose, rare in menus, footers and link lists. The colon is left
# out on purpose: label：value furniture (来源：, 电话：) is full of it.
SENTENCE_PUNCT = re.compile(r"[，。；、！？“”（）《》,;]")

BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr table tbody thead tfoot section article header "
    "footer nav aside main blockquote pre center form hr caption figure figcaption address "
    "fieldset legend details summary".split()
)
CELL_TAGS = frozenset({"td", "th"})
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "select", "option", "textarea"})


def norm_space(text: str | None) -> str:
    """Collapse every kind of whitespace (incl. U+3000, nbsp, zero-width) to one space; strip."""
    if not text:
        return ""
    return _SPACE.sub(" ", text).strip()


def squash(text: str | None) -> str:
    """Remove all whitespace: for comparing labels such as ``索 引 号`` or ``文　　号``."""
    return _SPACE.sub("", text or "")


def join_cjk(text: str) -> str:
    """Normalise whitespace and drop the spaces a line break left between two Chinese characters."""
    return _CJK_GAP.sub("", norm_space(text))


def _walk(el: etree._Element, out: list[str]) -> None:
    tag = el.tag
    if not isinstance(tag, str) or tag in SKIP_TAGS:
        if el.tail:
            out.append(el.tail)
        return
    if tag == "br":
        out.append("\n")
    elif tag in BLOCK_TAGS:
        out.append("\n")
    elif tag in CELL_TAGS:
        out.append(" ")
    if el.text:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    if tag in BLOCK_TAGS:
        out.append("\n")
    elif tag in CELL_TAGS:
        out.append(" ")
    if el.tail:
        out.append(el.tail)


def raw_text(el: etree._Element) -> str:
    """The text of `el` with a newline for every line break and block boundary, not normalised."""
    out: list[str] = []
    if el.text and isinstance(el.tag, str) and el.tag not in SKIP_TAGS:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    return "".join(out)


def render_lines(el: etree._Element) -> list[str]:
    """The visible text of `el` as a browser lays it out: one block per line, whitespace normalised."""
    out: list[str] = []
    if el.text and isinstance(el.tag, str) and el.tag not in SKIP_TAGS:
        out.append(el.text)
    for child in el:
        _walk(child, out)
    lines = (norm_space(_TEMPLATE_VAR.sub("", line)) for line in "".join(out).split("\n"))
    return [line for line in lines if line]


def element_text(el: etree._Element) -> str:
    """All text of `el` on one line (for short elements: labels, headings, bars)."""
    return norm_space(" ".join(render_lines(el)))


_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*(?:日\s*)?"
    r"(?:(?:[-T]\s*)?(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_COMPACT_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
CHINA_OFFSET = "+08:00"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９：－／", "0123456789:-/")


def _valid(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31


def parse_datetime(text: str | None, *, date_only: bool = False) -> str | None:
    """The first date in `text` as ISO: ``2024-02-29T17:29:00+08:00`` with a time, else ``2024-02-29``."""
    if not text:
        return None
    for match in _DATE.finditer(text.translate(_FULLWIDTH_DIGITS)):
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
        if not _valid(y, m, d):
            continue
        day = f"{y:04d}-{m:02d}-{d:02d}"
        if date_only or match["H"] is None:
            return day
        hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return day
        return f"{day}T{hour:02d}:{minute:02d}:{second:02d}{CHINA_OFFSET}"
    return None


def parse_compact_date(text: str) -> str | None:
    """A ``YYYYMMDD`` date as found in article URLs (``t20240229_123.html``)."""
    for match in _COMPACT_DATE.finditer(text):
        y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
        if _valid(y, m, d):
            return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def punct_count(text: str) -> int:
    return len(SENTENCE_PUNCT.findall(text))
