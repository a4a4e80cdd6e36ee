"""Scope before fetch: a request off the crawl's site is dropped before it is sent, redirects included.

The spider follows only links its link policy allows, but a redirect target (3xx, meta refresh) comes
back through the downloader middlewares as a new request: this middleware checks every request against
the spider's `LinkPolicy` (allowed hosts from the site profiles' `allowed_hosts` or the start URLs, plus
sibling hosts of the same registrable domain) before robots.txt is fetched for it (it sits at 60, below
RobotsTxtMiddleware's 100), so no robots.txt, page or WARC record of another site is ever fetched.
A dropped redirect target is a `Rejected("offsite")` failure of the URL that redirected; every drop is
counted (`govarchive/scope/offsite`, the summary's `offsite_dropped`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crawler.failures import OFFSITE, Rejected

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

    from crawler.link_policy import LinkPolicy

logger = logging.getLogger(__name__)

OFFSITE_STAT = "govarchive/scope/offsite"


class ScopeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        policy: LinkPolicy | None = getattr(self.crawler.spider, "policy", None)
        if policy is None or policy.same_site(request.url):
            return
        self.crawler.stats.inc_value(OFFSITE_STAT)
        origin = (request.meta.get("redirect_urls") or [None])[0]
        if origin:
            message = f"redirected off the site: {origin} → {request.url} (not requested)"
        else:
            message = f"off the site, not requested: {request.url}"
        logger.info(message)
        raise Rejected(OFFSITE, message)
