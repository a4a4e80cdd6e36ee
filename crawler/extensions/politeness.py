"""Politeness checks when a crawl starts: what an operator overrode is said out loud.

The defaults (crawler/settings.py) are polite; this extension only warns, once per crawl, when a
crawl of a real site (not a loopback host) runs without them: robots.txt not obeyed (only an explicit
ROBOTSTXT_OBEY=False does that, and it is logged and written in every warcinfo record), more than
MAX_PER_HOST requests at once to one host, or the User-Agent left at its default, which names no
contact a site's operator could write to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals

from crawler.extensions.crawl_run import start_urls
from crawler.middlewares.loopback import is_loopback

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

MAX_PER_HOST = 2  # requests in flight to one government server


def politeness_warnings(settings: BaseSettings, urls: list[str], default_user_agent: str) -> list[str]:
    """What is impolite about crawling `urls` with `settings`, one sentence each."""
    remote = sorted({host for u in urls if (host := urlsplit(u).hostname) and not is_loopback(host)})
    if not remote:
        return []
    hosts = ", ".join(remote)
    found = []
    if not settings.getbool("ROBOTSTXT_OBEY"):
        found.append(f"robots.txt is NOT obeyed on {hosts} (ROBOTSTXT_OBEY=False, an explicit override)")
    per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    if per_host > MAX_PER_HOST:
        found.append(f"{per_host} requests at once per host on {hosts} (CONCURRENT_REQUESTS_PER_DOMAIN; "
                     f"government servers get at most {MAX_PER_HOST})")
    if (settings.get("USER_AGENT") or "") == default_user_agent:
        found.append("the User-Agent is govarchive's default and names no contact: set one with an address "
                     "the site's operator can write to, e.g. -s USER_AGENT='govarchive/0.1 (+mailto:you@example.org)'")
    return found


class PolitenessExtension:
    def __init__(self, crawler: Crawler) -> None:
        import crawler.settings as project

        self.settings = crawler.settings
        self.stats = crawler.stats
        self.default_user_agent: str = project.USER_AGENT

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        for warning in politeness_warnings(self.settings, start_urls(spider), self.default_user_agent):
            logger.warning("politeness: %s", warning)
            self.stats.inc_value("govarchive/politeness_warnings")
