"""What templates may call: highlighting that escapes first, labels, sizes and dates.

Templates autoescape everything; the only markup made here is `<mark>` around matched text and
`<ins>/<del>`-style diff lines, built from escaped pieces.
"""

from __future__ import annotations

import re

from jinja2 import Environment
from markupsafe import Markup, escape

from archive.store.search import Hit

METADATA_LABELS = {
    "index_no": "索引号",
    "doc_number": "文号",
    "issuer": "发布机构",
    "written_date": "成文日期",
    "topic": "主题分类",
    "validity": "有效性",
    "keywords": "关键词",
}
FACET_LABELS = {"site": "站点", "column": "栏目", "issuer": "发布机构", "year": "年份", "withdrawn": "状态"}
FILTER_LABELS = {**FACET_LABELS, "doc_number": "文号", "since": "起始日期", "until": "截止日期"}


def marked(hit: Hit) -> Markup:
    """The hit's snippet with <mark> around each match; the text itself escaped."""
    out, last = [], 0
    for a, b in hit.marks:
        out += [escape(hit.snippet[last:a]), Markup("<mark>"), escape(hit.snippet[a:b]), Markup("</mark>")]
        last = b
    out.append(escape(hit.snippet[last:]))
    return Markup("").join(out)


def highlight(text: str | None, pattern: re.Pattern | None) -> Markup:
    """`text` escaped, with <mark> around what `pattern` finds (the query's terms)."""
    text = text or ""
    if pattern is None:
        return escape(text)
    out, last = [], 0
    for m in pattern.finditer(text):
        if m.end() > m.start():
            out += [escape(text[last : m.start()]), Markup("<mark>"), escape(m.group()), Markup("</mark>")]
            last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def when(value: str | None) -> str:
    """An ISO timestamp as a reader wants it: `2024-02-29 17:29` (dates stay dates)."""
    if not value:
        return ""
    m = re.match(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?", value)
    if not m:
        return value
    return m.group(1) + (f" {m.group(2)}" if m.group(2) else "")


def facet_value(dim: str, value: str | None) -> str:
    if dim == "withdrawn":
        return "已撤销" if value == "true" else "现行有效"
    return value if value not in (None, "") else "（未知）"


def diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    if ": " in line and " -> " in line:
        return "field"
    return ""


def install(env: Environment) -> None:
    env.filters.update(marked=marked, highlight=highlight, size=size, when=when, diff_class=diff_class)
    env.globals.update(
        METADATA_LABELS=METADATA_LABELS,
        FACET_LABELS=FACET_LABELS,
        FILTER_LABELS=FILTER_LABELS,
        facet_value=facet_value,
    )
