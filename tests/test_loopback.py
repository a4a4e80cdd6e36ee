"""Loopback hosts get one unthrottled slot; real sites keep the polite defaults."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.middlewares.loopback import LoopbackSlotMiddleware, is_loopback


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("www.gov.cn", False), ("10.0.0.1", False), ("192.168.1.5", False), ("", False), (None, False)],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_loopback_requests_share_the_unthrottled_slot():
    crawler = get_crawler(settings_dict={"GOVARCHIVE_LOOPBACK_UNTHROTTLED": True, "GOVARCHIVE_LOOPBACK_SLOT": "lo"})
    mw = LoopbackSlotMiddleware.from_crawler(crawler)
    local, remote = Request("http://127.0.0.1:8000/col/a/index.html"), Request("http://www.example.gov.cn/")
    mw.process_request(local)
    mw.process_request(remote)
    assert local.meta["download_slot"] == "lo" and local.meta["autothrottle_dont_adjust_delay"] is True
    assert "download_slot" not in remote.meta and "autothrottle_dont_adjust_delay" not in remote.meta


def test_switched_off_by_setting():
    with pytest.raises(NotConfigured):
        LoopbackSlotMiddleware.from_crawler(get_crawler(settings_dict={"GOVARCHIVE_LOOPBACK_UNTHROTTLED": False}))
