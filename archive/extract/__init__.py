"""Extraction and cleaning: detail-page bytes → a clean Report.

Steps, one module each: repair (stray </html>), decode (charset from the bytes), classify (binary,
anti-bot, withdrawal), dom (parse once), metadata (信息公开 block), fields (title, time, source,
breadcrumb), clean (furniture), body (main content), links (attachments, images), content (body
text/HTML). `extractor.extract` runs them in order; multipage merges articles split over pages.
"""

from archive.extract.classify import is_challenge
from archive.extract.errors import ExtractionError
from archive.extract.extractor import extract, is_withdrawal_notice
from archive.extract.multipage import PageAssembler, continuation_urls, merge_pages

__all__ = ["ExtractionError", "PageAssembler", "continuation_urls", "extract", "is_challenge", "is_withdrawal_notice", "merge_pages"]
