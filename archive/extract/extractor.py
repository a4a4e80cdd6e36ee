"""The extraction pipeline: repair → decode → parse → fields → clean → body → report."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from itertools import islice
from typing import TypeVar

from lxml import etree

from archive.extract import body as body_step
from archive.extract import classify, clean, content, dom, embedded, fields, metadata, page_links
from archive.extract.decode import decode_body
from archive.extract.errors import ExtractionError
from archive.extract.markup_repair import repair_markup
from archive.extract.text import norm_space, parse_datetime
from archive.report import METADATA_KEYS, Metadata, Report
from archive.urls import site_of

logger = logging.getLogger(__name__)

# Bumped whenever a change to extraction can change a report from the same bytes: `reprocess` then
# stores the new content as a version with reason "re-extracted" (and only where the content changed).
EXTRACTOR_VERSION = "2"
T = TypeVar("T")
# A report needs a body of at least this many letters, digits or CJK characters, unless it has
# attachments or images (an attachment-only or image-only notice): the shortest real notices (a one-line
# 通知, "该信息已撤销") have six or more, while what a cut-off or garbled body leaves ("<", "&nbsp;",
# a few stray bytes) has next to none.
MIN_BODY_CHARS = 4
_WORD_CHAR = re.compile(r"\w")


def _metadata(labelled: dict[str, str]) -> Metadata:
    values = {name: norm_space(labelled.get(name)) or None for name in METADATA_KEYS}
    if values["written_date"]:
        values["written_date"] = parse_datetime(values["written_date"], date_only=True) or values["written_date"]
    return Metadata(**values)


def extract(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    encoding: str | None = None,
) -> Report:
    """Turn one detail page's bytes into a Report (DESIGN.md, "Report fields"). Raises ExtractionError.

    Whether the page is a detail page at all (not a list, a challenge, a withdrawal notice) is
    `archive.page.read_page`'s question; this function extracts what it is given.
    """
    classify.check_binary(body, content_type)
    text, _codec = decode_body(body, content_type, encoding)
    classify.check_markup(text)
    try:
        page = dom.parse(repair_markup(text), url)
    except (etree.ParserError, ValueError) as exc:  # e.g. a body of only "<!DOCTYPE html>"
        raise ExtractionError(f"no parsable HTML document: {exc}", kind="unparsable") from None
    scripted = embedded.find_document(page.root)
    clean.strip_invisible(page.root)

    known = body_step.known_container(page)
    stream = dom.tokens(page.root)
    labelled = metadata.extract_labelled(stream)
    headings = fields.find_headings(page.root)
    heading = fields.matched_heading(page, headings) or fields.heading_from_text(stream, page)
    breadcrumb, crumb_el = fields.extract_breadcrumb(page, stream, fields.extract_title(page, labelled, heading))
    order = {el: i for i, el in enumerate(page.root.iter())}
    base = page_links.page_base(page.root, url)

    protect = [el for el in (known, heading[1] if heading else None) if el is not None]
    protect += [a for a in page.root.iter("a") if page_links.is_attachment_link(a)]
    clean.remove_furniture(page.root, protect, [crumb_el] if crumb_el is not None else [])
    anchor = heading[1] if heading else fields.first_plausible_heading(headings, page.root)
    main = body_step.find_body(page, known, anchor)
    if heading is None:
        heading = fields.nearest_heading(headings, order, order.get(main, len(order)))
    title = fields.extract_title(page, labelled, heading)
    region = fields.header_tokens(stream, heading[1] if heading else None, set(main.iter()))
    attachments = page_links.extract_attachments(page.root, base)
    content.clean_body(main, title)
    images = page_links.extract_images(main, base)
    text_out = content.body_text(main)

    report = Report(
        url=url,
        site=site_of(url),
        column=_field("column", fields.extract_column, page, breadcrumb),
        breadcrumb=breadcrumb,
        title=title,
        publish_time=_field("publish_time", fields.extract_publish_time, page, labelled, region),
        source=_field("source", fields.extract_source, page, labelled, region),
        metadata=_field("metadata", _metadata, labelled) or Metadata(),
        body_text=text_out,
        body_html=content.body_html(main, base),
        attachments=attachments,
        images=images,
    )
    if scripted is not None:
        report = embedded.merge(report, scripted, base)
    if not (has_real_body(report.body_text) or report.attachments or report.images):
        raise ExtractionError(f"no recognisable content in page: {url}", kind="no-content")
    report.content_hash = report.compute_content_hash()
    return report


def has_real_body(text: str | None) -> bool:
    """Whether a body text is real content rather than the leftovers of a broken body."""
    return bool(text) and sum(1 for _ in islice(_WORD_CHAR.finditer(text), MIN_BODY_CHARS)) >= MIN_BODY_CHARS


def _field(name: str, function: Callable[..., T], *args: object) -> T | None:
    """One field's value, or None when its rule fails on this page: a failing field never loses the page."""
    try:
        return function(*args)
    except Exception as exc:
        logger.warning("extracting %s failed (%s: %s); the field is left empty", name, type(exc).__name__, exc)
        return None
