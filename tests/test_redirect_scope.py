"""Redirects: a loop is a recorded failure (not a silent duplicate), a meta refresh is found without
decoding the whole page, and a request off the site (a redirect target) is dropped before it is sent."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, Response
from twisted.python.failure import Failure

from crawler.failures import Rejected
from crawler.middlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from crawler.middlewares.scope import ScopeMiddleware
from crawler.spiders.disclosure import DisclosureSpider
from tests.conftest import project_crawler


def redirect(middleware, request: Request, location: str) -> Request:
    return middleware.process_response(request, Response(request.url, status=302, headers={"Location": location},
                                                          request=request))


def test_a_redirect_loop_is_a_redirect_failure():
    middleware = RedirectMiddleware.from_crawler(project_crawler())
    a = Request("http://gov.test/a.html")
    b = redirect(middleware, a, "/b.html")
    again = redirect(middleware, b, "/a.html")  # once back (a detour that sets a cookie): followed, past the dupefilter
    assert again.url == a.url and again.dont_filter
    b2 = redirect(middleware, again, "/b.html")
    with pytest.raises(Rejected) as caught:
        redirect(middleware, b2, "/a.html")
    assert caught.value.kind == "redirect" and "loop" in caught.value.message


def test_too_many_redirects_are_a_redirect_failure():
    middleware = RedirectMiddleware.from_crawler(project_crawler(REDIRECT_MAX_TIMES=2))
    request = Request("http://gov.test/0.html")
    with pytest.raises(Rejected) as caught:
        for n in range(1, 5):
            request = redirect(middleware, request, f"/{n}.html")
    assert caught.value.kind == "redirect"


def test_meta_refresh_is_found_in_the_head_without_decoding_the_body():
    middleware = MetaRefreshMiddleware.from_crawler(project_crawler())
    body = (b'<html><head><meta charset="gbk"><meta http-equiv="refresh" content="0; url=/new.html"></head><body>'
            + "正文".encode("gbk") * 200_000 + b"</body></html>")
    request = Request("http://gov.test/old.html")
    response = HtmlResponse(request.url, body=body, request=request)
    followed = middleware.process_response(request, response)
    assert followed.url == "http://gov.test/new.html"
    assert response._cached_ubody is None  # nothing built the page's text


def test_off_site_requests_are_dropped_before_they_are_sent_and_counted():
    crawler = project_crawler(DisclosureSpider)
    crawler.spider = DisclosureSpider.from_crawler(crawler, url="http://www.gov.test/col/")
    scope = ScopeMiddleware.from_crawler(crawler)
    scope.process_request(Request("http://www.gov.test/t1.html"))
    scope.process_request(Request("http://xxgk.gov.test/t2.html"))  # a sibling host of the site
    off = Request("http://evil.test/stolen.html", meta={"redirect_urls": ["http://www.gov.test/t3.html"]})
    with pytest.raises(Rejected) as caught:
        scope.process_request(off)
    assert caught.value.kind == "offsite" and crawler.stats.get_value("govarchive/scope/offsite") == 1
    failure = Failure(caught.value)
    failure.request = off
    (item,) = crawler.spider.errback(failure)
    assert (item.url, item.kind) == ("http://www.gov.test/t3.html", "offsite")
