"""No network attempt but the crawl's own: Scrapy's cookie middleware reads the public-suffix list
through tldextract, which by default downloads the newest list from the internet on first use (a
traceback per try on a machine without internet, and a request the project promises never to make).
This points it at the snapshot tldextract ships instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares import cookies
from tldextract import TLDExtract

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class OfflineSuffixListExtension:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineSuffixListExtension:
        cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
        return cls()
