"""Archived HTML shown inside the interface: an allow-list of plain document markup, nothing else.

A report's `body_html` comes from a site we do not control. It is cleaned with nh3 (the ammonia
sanitiser) down to text structure — paragraphs, headings, lists, tables, emphasis, links — so no
script, handler, style, form, frame or embedded object survives, and links can only be http(s).
Images are dropped: they would be fetched from the original site (the page's CSP blocks them anyway).
"""

from __future__ import annotations

import nh3
from markupsafe import Markup, escape

TAGS = {
    "p", "br", "div", "span", "section", "article", "blockquote", "pre", "code", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "b", "em", "i", "u", "s", "sub", "sup", "small",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col",
    "a",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"}


def clean_body(body_html: str | None, body_text: str | None = None) -> Markup:
    """Safe markup for a report's body: cleaned body_html, or body_text as paragraphs without it."""
    if body_html and body_html.strip():
        return Markup(
            nh3.clean(
                body_html,
                tags=TAGS,
                clean_content_tags=DROP_WITH_CONTENT,
                attributes=ATTRIBUTES,
                url_schemes={"http", "https"},
                link_rel="noopener noreferrer nofollow",
                strip_comments=True,
            )
        )
    return paragraphs(body_text or "")


def paragraphs(text: str) -> Markup:
    """Plain text, escaped, one <p> per line."""
    return Markup("").join(Markup("<p>{}</p>").format(line) for line in text.splitlines() if line.strip())


__all__ = ["clean_body", "escape", "paragraphs"]
