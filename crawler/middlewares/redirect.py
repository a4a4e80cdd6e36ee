"""Scrapy's two redirect middlewares, at their own orders, changed where they lose URLs or memory.

- `RedirectMiddleware` (600): a redirect back to a URL of its own chain (A → B → A) was handed to the
  scheduler, whose duplicate filter dropped it without a trace; too many redirects were a plain
  IgnoreRequest. A detour back to its own URL is now followed once (cookie-setting portals do that) and
  a second return is a loop; Both are now `Rejected("redirect")`, a recorded failure. A redirect off the site is
  dropped by the scope middleware before it is sent.
- `MetaRefreshMiddleware` (580): Scrapy's decodes the whole body (`response.text`) of every HTML
  response to look for `<meta http-equiv=refresh>` in its first 4 KB; this one decodes only those
  bytes, so nothing in the crawl process holds a decoded copy of a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from scrapy.downloadermiddlewares import redirect as scrapy_redirect
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.httpobj import urlparse_cached
from w3lib.html import get_meta_refresh

from crawler.failures import REDIRECT, Rejected

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request, Response

# Bytes of a page searched for a meta refresh (Scrapy's get_meta_refresh reads the first 4096 characters).
META_REFRESH_HEAD = 4096
# A URL may come back in its own redirect chain once (a detour that sets a cookie and returns); the
# second return is a loop.
LOOP_VISITS = 2


class _LoopCheck:
    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        seen = chain.count(redirected.url)
        if seen >= LOOP_VISITS:
            raise Rejected(REDIRECT, f"redirect loop: {' → '.join([*chain, redirected.url])}")
        try:
            followed = super()._redirect(redirected, request, reason)  # type: ignore[misc]
        except IgnoreRequest:
            raise Rejected(REDIRECT, f"more than {self.max_redirect_times} redirects from {chain[0]}") from None
        if seen:  # back to a URL of its chain (a cookie-setting detour): past the duplicate filter, once
            followed.dont_filter = True
        return followed


class RedirectMiddleware(_LoopCheck, scrapy_redirect.RedirectMiddleware):
    pass


class MetaRefreshMiddleware(_LoopCheck, scrapy_redirect.MetaRefreshMiddleware):
    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Request | Response:
        if (request.meta.get("dont_redirect", False) or request.method == "HEAD"
                or not isinstance(response, HtmlResponse)
                or urlparse_cached(request).scheme not in {"http", "https"}):
            return response
        head = response.body[:META_REFRESH_HEAD].decode(_head_encoding(response), "replace")
        interval, url = get_meta_refresh(head, response.url, ignore_tags=self._ignore_tags)
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if cast("float", interval) < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response


def _head_encoding(response: HtmlResponse) -> str:
    """The charset the headers or the page's first bytes declare (never a guess over the whole body)."""
    declared = response._declared_encoding()  # headers, BOM, <meta charset> in the first 4 KB; no full decode
    return declared or "utf-8"
