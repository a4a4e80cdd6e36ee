"""No politeness delays towards loopback hosts: they are the operator's own machine.

Local mirrors, test sites and replays on 127.0.0.0/8, localhost or ::1 have no one to be polite to, so
their requests share one download slot (`GOVARCHIVE_LOOPBACK_SLOT`, configured in DOWNLOAD_SLOTS with
no delay) that AutoThrottle leaves alone. Every real site keeps the polite defaults.
"""

from __future__ import annotations

import ipaddress

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.lower().strip("[]")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackSlotMiddleware:
    def __init__(self, slot: str) -> None:
        self.slot = slot

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LoopbackSlotMiddleware:
        if not crawler.settings.getbool("GOVARCHIVE_LOOPBACK_UNTHROTTLED"):
            raise NotConfigured
        return cls(crawler.settings.get("GOVARCHIVE_LOOPBACK_SLOT"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if "download_slot" not in request.meta and is_loopback(urlparse_cached(request).hostname):
            request.meta["download_slot"] = self.slot
            request.meta["autothrottle_dont_adjust_delay"] = True
