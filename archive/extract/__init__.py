"""Extraction and cleaning: detail-page bytes → a clean Report.

Steps, one module each: markup_repair (stray </html>), decode (charset from the bytes), classify (empty,
binary), dom (parse once), metadata (信息公开 block), fields (title, time, source,
breadcrumb), clean (furniture), body (main content), page_links (attachments, images), content (body
text/HTML). `extractor.extract` runs them in order; multipage merges articles split over pages.
"""

from archive.extract.errors import ExtractionError
from archive.extract.extractor import EXTRACTOR_VERSION, extract
from archive.extract.multipage import PageAssembler, continuation_urls, merge_pages

__all__ = ["EXTRACTOR_VERSION", "ExtractionError", "PageAssembler", "continuation_urls", "extract", "merge_pages"]
