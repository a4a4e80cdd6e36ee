"""robots.txt obeyed by every request, those that arrive while it is still being fetched included.

Scrapy's RobotsTxtMiddleware (2.13 and later, scrapy/scrapy#6802) hands the pending robots.txt Deferred
to each waiting request through `Deferred.asFuture`, which consumes the Deferred's result: the first
waiter gets the parser, every later one gets None and goes out unchecked. A crawl starting with three
or more URLs, or a frontier worker joining a full queue, fetched and stored pages robots.txt
disallows. Scrapy stores the parser (or None after an error) in `_parsers` before it fires the
Deferred, so a waiter reads the settled value from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        settled = self._parsers.get(urlparse_cached(request).netloc, parser)
        return parser if isinstance(settled, Deferred) else settled
