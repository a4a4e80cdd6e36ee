"""Find the element that holds the document's body.

Known CMS containers first (Hanweb ContentStart/ContentEnd markers, TRS ``TRS_Editor``, UCAP
``#UCAP-CONTENT``, ``#zoom``, gov.cn ``.pages_content``); otherwise a structural search: every element
gets a weight from the text it holds outside links (characters, plus a bonus per sentence punctuation
mark, plus a bonus per image) and the search descends from ``<body>`` into the child that holds the
dominant share of the weight, stopping where the weight splits over several blocks (the paragraphs).
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from archive.extract.dom import Page, class_id
from archive.extract.text import BLOCK_TAGS, CELL_TAGS, SENTENCE_PUNCT, SKIP_TAGS

# Containers of the common CMS families, most specific first.
_KNOWN_CLASS_ID = (
    re.compile(r"(?:^|\s)(?:trs_editor|trs_ueditor)(?:\s|$)"),
    re.compile(r"(?:^|\s)ucap-content(?:\s|$)"),
    re.compile(r"(?:^|\s)zoom(?:\s|$)"),
    re.compile(r"(?:^|\s)(?:pages_content|article-content|wp_articlecontent|xxgk_content|art_content)(?:\s|$)"),
)
# A known container must hold at least this much text (or an image/link) to be trusted: templates
# sometimes carry an empty TRS_Editor for a summary while the article sits elsewhere.
KNOWN_MIN_CHARS = 10

# Weights: a punctuation mark is worth many characters because prose is punctuated and menus are not.
PUNCT_WEIGHT = 8
IMAGE_WEIGHT = 40
CHAR_WEIGHT = 1
# Descend into a child holding at least this share of its parent's weight…
DOMINANT_SHARE = 0.6
# …as long as no sibling is a real competitor (another part of the body).
COMPETITOR_SHARE = 0.2
# At a split, the branch holding the title heading is followed if it holds this share of the weight.
ANCHOR_MIN_SHARE = 0.3
# A child whose weight is mostly its own inline text is a paragraph: the body is its parent.
PARAGRAPH_SHARE = 0.5
# A block of inline text broken into lines with <br> is a text container, not a paragraph.
MIN_BREAKS_FOR_CONTAINER = 2
_DESCEND_TAGS = BLOCK_TAGS | CELL_TAGS | {"font", "span"}
_TABLE_INNER = {"tbody", "thead", "tfoot", "tr"}
_WORDS = re.compile(r"[\w\u4e00-\u9fff]")


def known_container(page: Page) -> etree._Element | None:
    """The body container a known CMS template names, if it holds content."""
    if page.content_markers is not None:
        between = _between_markers(*page.content_markers)
        if _has_content(between):
            return between
    found: list[list[etree._Element]] = [[] for _ in _KNOWN_CLASS_ID]
    for el in page.root.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body"):
            continue
        key = class_id(el)
        if not key.strip():
            continue
        for i, pattern in enumerate(_KNOWN_CLASS_ID):
            if pattern.search(key):
                found[i].append(el)
                break
    for group in found:
        best = max(group, key=lambda e: len(e.text_content()), default=None)
        if best is not None and _has_content(best):
            return best
    return None


def _has_content(el: etree._Element) -> bool:
    text = el.text_content()
    if len(_WORDS.findall(text)) >= KNOWN_MIN_CHARS:
        return True
    return any(True for _ in el.iter("img", "a"))


def _between_markers(start: etree._Element, end: etree._Element) -> etree._Element:
    """Move the nodes between the ContentStart and ContentEnd metas into a detached <div>."""
    box = lxml.html.Element("div")
    box.text = start.tail
    start.tail = None
    node = start.getnext()
    while node is not None and node is not end:
        following = node.getnext()
        box.append(node)
        node = following
    parent = end.getparent()
    end.addprevious(box)
    box.tail = None
    if parent is not None:
        parent.remove(start)
    return box


def _weigh(root: etree._Element) -> tuple[dict[etree._Element, float], dict[etree._Element, float]]:
    """Total weight and own inline weight of every element, in one bottom-up pass."""
    total: dict[etree._Element, float] = {}
    own: dict[etree._Element, float] = {}
    for el in reversed(list(root.iter())):
        tag = el.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS:
            total[el] = own[el] = 0.0
            continue
        inline = 0.0 if tag == "a" else _text_weight(el.text)
        block = 0.0
        for child in el:
            weight = total.get(child, 0.0)
            if isinstance(child.tag, str) and child.tag in _DESCEND_TAGS and child.tag not in ("span", "font"):
                block += weight
            else:
                inline += weight
            inline += _text_weight(child.tail)
        if tag == "img":
            inline += IMAGE_WEIGHT
        total[el] = inline + block
        own[el] = inline
    return total, own


def _text_weight(text: str | None) -> float:
    if not text:
        return 0.0
    return len(_WORDS.findall(text)) * CHAR_WEIGHT + len(SENTENCE_PUNCT.findall(text)) * PUNCT_WEIGHT


def structural_container(root: etree._Element, anchor: etree._Element | None = None) -> etree._Element:
    """The element the weight concentrates in (see the module docstring).

    Where the weight splits (an article column beside a sidebar that has prose of its own), the branch
    holding the title heading (`anchor`) is followed if it carries a fair share of the weight.
    """
    body = root.find("body")
    node = body if body is not None else root
    total, own = _weigh(node)
    above_anchor = set(anchor.iterancestors()) | {anchor} if anchor is not None else set()
    while True:
        nxt = _next_step(node, total, own, above_anchor)
        if nxt is None:
            break
        node = nxt
    while node.tag in _TABLE_INNER and node.getparent() is not None:
        node = node.getparent()
    return node


def _next_step(node: etree._Element, total: dict, own: dict, above_anchor: set) -> etree._Element | None:
    weight = total.get(node, 0.0)
    if weight <= 0 or own.get(node, 0.0) >= COMPETITOR_SHARE * weight:
        return None
    children = sorted((c for c in node if isinstance(c.tag, str) and total.get(c, 0.0) > 0),
                      key=lambda c: total[c], reverse=True)
    if not children:
        return None
    best = children[0]
    share = total[best] / weight
    rival = total[children[1]] / weight if len(children) > 1 else 0.0
    if share < DOMINANT_SHARE or rival >= COMPETITOR_SHARE:
        return _anchor_branch(children, total, weight, above_anchor)
    if best.tag not in _DESCEND_TAGS:
        return None
    is_paragraph = own.get(best, 0.0) >= PARAGRAPH_SHARE * total[best]
    if is_paragraph and best.tag not in CELL_TAGS and _line_breaks(best) < MIN_BREAKS_FOR_CONTAINER:
        return None
    return best


def _anchor_branch(children: list, total: dict, weight: float, above_anchor: set) -> etree._Element | None:
    """The child holding the title heading (but not the heading itself), if it carries enough weight."""
    for child in children:
        if child in above_anchor:
            holds_more = any(grandchild in above_anchor or total.get(grandchild, 0.0) > 0 for grandchild in child)
            if child.tag in _DESCEND_TAGS and total[child] / weight >= ANCHOR_MIN_SHARE and holds_more \
                    and not _is_anchor(child, above_anchor):
                return child
            return None
    return None


def _is_anchor(el: etree._Element, above_anchor: set) -> bool:
    """True when `el` is the heading itself (no child of it leads to the heading)."""
    return not any(child in above_anchor for child in el)


def _line_breaks(el: etree._Element) -> int:
    return sum(1 for child in el if child.tag == "br")


def find_body(page: Page, known: etree._Element | None, anchor: etree._Element | None = None) -> etree._Element:
    return known if known is not None else structural_container(page.root, anchor)
