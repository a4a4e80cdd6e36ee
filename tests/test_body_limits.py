"""The decompression that replaces Scrapy's: a strict size limit on the inflated (and the received) size,
and a truncated or corrupt gzip body refused instead of read as whatever inflated."""

from __future__ import annotations

import gzip

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.failures import Rejected, SizeLimitReached
from crawler.middlewares.body_limits import BodyLimitsMiddleware, TruncatedBody, gunzip
from tests.conftest import project_crawler

LIMIT = 64 * 1024
PAGE = b"<html><body><p>" + "政府信息公开".encode() * 500 + b"</p></body></html>"


def middleware(**settings) -> BodyLimitsMiddleware:
    return BodyLimitsMiddleware.from_crawler(project_crawler(**{"DOWNLOAD_MAXSIZE": LIMIT, **settings}))


def gzipped(url: str, body: bytes, request: Request | None = None) -> HtmlResponse:
    return HtmlResponse(url, body=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
                        request=request or Request(url))


def test_gunzip_inflates_every_member():
    assert gunzip(gzip.compress(PAGE) + gzip.compress(b"<p>tail</p>")) == PAGE + b"<p>tail</p>"


@pytest.mark.parametrize("size", [LIMIT, LIMIT + 1, 10 * LIMIT])
def test_a_body_inflating_to_the_limit_or_more_is_too_large(size):
    with pytest.raises(Rejected) as caught:
        middleware().process_response(Request("http://gov.test/a.html"), gzipped("http://gov.test/a.html",
                                                                                 gzip.compress(b" " * size)))
    assert caught.value.kind == "too-large"


def test_a_body_just_under_the_limit_is_read():
    body = b" " * (LIMIT - 1)
    response = middleware().process_response(Request("http://gov.test/a.html"),
                                             gzipped("http://gov.test/a.html", gzip.compress(body)))
    assert response.body == body and "Content-Encoding" not in response.headers


def test_a_plain_body_of_the_limit_is_too_large_and_a_page_has_its_own_limit():
    request = Request("http://gov.test/a.html", meta={"download_maxsize": 1000})
    with pytest.raises(Rejected) as caught:
        middleware().process_response(request, HtmlResponse(request.url, body=b"x" * 1000, request=request))
    assert caught.value.kind == "too-large"


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_a_truncated_gzip_member_is_truncated_not_what_inflated(cut):
    whole = gzip.compress(PAGE)
    with pytest.raises(TruncatedBody):
        gunzip(whole[:int(len(whole) * cut)])
    with pytest.raises(Rejected) as caught:
        middleware().process_response(Request("http://gov.test/a.html"),
                                      gzipped("http://gov.test/a.html", whole[:int(len(whole) * cut)]))
    assert caught.value.kind == "truncated"


def test_corrupt_gzip_is_truncated_and_a_body_labelled_gzip_but_plain_is_read_as_sent():
    corrupt = bytearray(gzip.compress(PAGE))
    corrupt[20:40] = b"\xff" * 20
    with pytest.raises(TruncatedBody):
        gunzip(bytes(corrupt))
    assert gunzip(PAGE) == PAGE


def test_a_download_is_stopped_as_its_bytes_reach_the_limit():
    limits = middleware()
    request = Request("http://gov.test/huge.html", meta={"download_maxsize": 3000})
    limits.bytes_received(b"x" * 2000, request, None)
    with pytest.raises(SizeLimitReached):
        limits.bytes_received(b"x" * 1000, request, None)
    limits.bytes_received(b"x" * 2000, Request("http://gov.test/huge.html"), None)  # a retry counts afresh
