"""Guangdong's 政府信息公开目录管理平台 (`gkmlpt`), used by every government site in the province.

Facts (from public crawlers of it):
- The column page `…/gkmlpt/index` is a Vue shell. The category is in the URL fragment (`…/gkmlpt/index#721`),
  which never reaches the server: the shell as fetched names none, so every category is listed unless the
  caller passes the start URL's fragment. Its inline script sets `window._CONFIG = {SID: '…', TREE: [{id,
  name, children, post_count, jump_url…}], …}`: the site id and the category tree (a node with `jump_url`
  links to another site's catalogue; a node with children lists them).
- Lists: `GET …/gkmlpt/api/all/{category}?page=N&sid={SID}` answers JSON `{total, classify: {post_count},
  articles: [{id, title, url, post_url, created_at, document_number, identifier, publisher, attachment…}]}`;
  category 0 is every category. The answer is read like any JSON list (archive/jsonlist.py): its records by
  shape, its other pages from `total` and the request's `page`.
- Articles: `…/gkmlpt/content/0/963/post_963149.html`. The visible DOM holds only furniture; the document
  sits in `window._CONFIG.DETAIL = {title, content (escaped HTML), publisher, document_number, created_at,
  identifier, attachment…}`: a detail page, read by extraction.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import chompjs

from archive.linktypes import LIST, Discovery, Link

NAME = "gkmlpt"
ALL_CATEGORIES = 0
_CONFIG = re.compile(r"(?:window\.)?_CONFIG\s*=\s*(?=\{)")
_DETAIL = re.compile(r"_CONFIG\.DETAIL\s*=\s*\{|_CONFIG\s*=\s*\{[^<]{0,200}\bDETAIL\s*:")


def recognise(url: str, text: str) -> str | None:
    """"list" for the catalogue shell, "detail" for an article page, None for pages of other platforms."""
    if "_CONFIG" not in text:
        return None
    if _DETAIL.search(text):
        return "detail"
    config = _config(text)
    return "list" if config and "SID" in config and "TREE" in config else None


def discover(url: str, text: str, fragment: str | None = None) -> Discovery | None:
    """The first API page of every category the shell lists (or of the one its URL fragment names)."""
    if "_CONFIG" not in text or "/gkmlpt/" not in urlsplit(url).path + "/":
        return None
    config = _config(text)
    if not config or "SID" not in config or _DETAIL.search(text):
        return None
    tree = config.get("TREE") if isinstance(config.get("TREE"), list) else []
    names = {str(node.get("id")): node.get("name") for node in _nodes(tree)}
    wanted = (fragment or "").strip().lstrip("#")
    if wanted.isdigit():
        categories, column = [wanted], names.get(wanted)
    else:
        categories, column = [str(c) for c in _leaves(tree)] or [str(ALL_CATEGORIES)], None
    parts = urlsplit(url)
    root = parts.path.split("/gkmlpt/", 1)[0] + "/gkmlpt/api/all/"
    pages = [Link(urlunsplit(parts._replace(path=root + c, query=urlencode({"page": 1, "sid": config["SID"]}),
                                            fragment="")), LIST, title=names.get(c), via=NAME)
             for c in categories]
    return Discovery(pages=pages, handlers=[NAME], column=column)


def _config(text: str) -> dict[str, Any] | None:
    m = _CONFIG.search(text)
    if m is None:
        return None
    try:
        value = chompjs.parse_js_object(text[m.end():])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _nodes(tree: list[Any]) -> list[dict[str, Any]]:
    found = []
    for node in tree:
        if isinstance(node, dict):
            found.append(node)
            found += _nodes(node.get("children") or [])
    return found


def _leaves(tree: list[Any]) -> list[Any]:
    """Categories that hold posts themselves: nodes without children, less links to other catalogues."""
    found = []
    for node in tree:
        if not isinstance(node, dict) or node.get("jump_url") or "id" not in node:
            continue
        children = [c for c in node.get("children") or [] if isinstance(c, dict)]
        found += _leaves(children) if children else [node["id"]]
    return found
