"""Link policy: stay on the site, skip navigation/search/login/calendar and traps, spot attachments."""

from __future__ import annotations

import pytest

from archive.urls import absolute, host_of
from crawler import link_policy

POLICY = link_policy.LinkPolicy.for_start_urls(["http://www.gov.test/col/tzgg/index.html"], extra_hosts=[".files.gov.test"],
                                         ignore=[r"^/private/"])


@pytest.mark.parametrize("url", [
    "http://www.gov.test/col/tzgg/202402/t20240229_1.html",
    "http://www.gov.test/art/2024/2/29/art_1234_5.html",
    "http://www.gov.test/zwgk/gsgg/show.asp?id=400003",
    "http://www.gov.test/module/web/jpage/dataproxy.jsp?startrecord=9&endrecord=16&columnid=1&webname=x",
    "http://cdn.files.gov.test/doc/1.html",
    "http://www.gov.test:80/col/tzgg/index_1.html",
])
def test_site_pages_are_allowed(url):
    assert POLICY.reject_reason(url) is None


@pytest.mark.parametrize(("url", "reason"), [
    ("https://www.gov.cn/zhengce/", "offsite"),
    ("http://www.gov.test:8080/col/tzgg/index.html", "offsite"),  # another server on the same host
    ("http://www.gov.test.evil.example/", "offsite"),
    ("ftp://www.gov.test/a.pdf", "scheme"),
    ("http://www.gov.test/search?q=政策", "navigation"),
    ("http://www.gov.test/jsearch/search.do?keyword=x", "navigation"),
    ("http://www.gov.test/login?action=register", "navigation"),
    ("http://www.gov.test/calendar/?date=2024-02", "navigation"),
    ("http://www.gov.test/hd/list.jsp?date=2024-02-03", "navigation"),
    ("http://www.gov.test/col/a/index.html;jsessionid=ABCDEF", "session_id"),
    ("http://www.gov.test/list.jsp?sid=9f8e7d&page=2", "session_id"),
    ("http://www.gov.test/a/b/a/b/a/b/index.html", "path_trap"),
    ("http://www.gov.test/" + "x/" * 14 + "index.html", "path_trap"),
    ("http://www.gov.test/private/nbgl/t20240105_900001.html", "ignored"),
    ("http://www.gov.test/" + "a" * 1100, "too_long"),
])
def test_rejected_links_say_why(url, reason):
    assert POLICY.reject_reason(url) == reason


@pytest.mark.parametrize(("base", "href", "expected"), [
    ("http://g.test/col/a/index.html", "./202402/t1.html", "http://g.test/col/a/202402/t1.html"),
    ("http://g.test/col/a/index.html", "../b/index.html#top", "http://g.test/col/b/index.html"),
    ("http://g.test/a/", "javascript:void(0)", None),
    ("http://g.test/a/", "mailto:x@g.test", None),
    ("http://g.test/a/", "#", None),
    ("http://g.test/a/", "  ", None),
])
def test_absolute(base, href, expected):
    assert absolute(base, href) == expected


@pytest.mark.parametrize(("url", "attachment"), [
    ("http://g.test/col/a/202402/P020240229.pdf", True),
    ("http://g.test/u/1.DOCX", True),
    ("http://g.test/u/1.wps", True),
    ("http://g.test/u/1.ofd", True),
    ("http://g.test/u/1.et", True),
    ("http://g.test/u/1.ceb", True),
    ("http://g.test/module/download/downfile.jsp?classid=0&filename=2402.pdf", True),
    ("http://g.test/attach/get?id=12", True),
    ("http://g.test/col/a/t2024_1.html", False),
    ("http://g.test/img/a.png", False),
])
def test_attachment_urls_by_extension_and_download_endpoint(url, attachment):
    assert link_policy.is_attachment_url(url) is attachment


def test_ports_are_part_of_the_site():
    policy = link_policy.LinkPolicy.for_start_urls(["http://127.0.0.1:8000/col/a/index.html"])
    assert policy.allows("http://127.0.0.1:8000/col/a/index_1.html")
    assert policy.reject_reason("http://127.0.0.1:8001/col/a/index_1.html") == "offsite"
    assert host_of("https://WWW.Gov.test:443/a") == "www.gov.test"


# --- records and attachments on sibling hosts of the same site ----------------------------------------------

@pytest.mark.parametrize("host, domain", [
    ("www.beijing.gov.cn", "beijing.gov.cn"), ("fgw.beijing.gov.cn", "beijing.gov.cn"), ("www.gov.cn", "www.gov.cn"),
    ("www.example.com", "example.com"), ("example.com.cn", "example.com.cn"), ("127.0.0.1", "127.0.0.1"),
])
def test_registrable_domain(host, domain):
    assert link_policy.registrable_domain(host) == domain


def test_records_and_attachments_may_sit_on_a_sibling_host_pagination_may_not():
    policy = link_policy.LinkPolicy.for_start_urls(["http://www.qinglan.gov.cn/xxgk/tzgg/"])
    record = "http://xxgk.qinglan.gov.cn/art/2024/3/1/art_99_1.html"
    assert policy.reject_reason(record, record=True) is None
    assert policy.reject_reason(record) == "offsite"  # not as a list page or navigation
    assert policy.allows_attachment("https://file.qinglan.gov.cn/u/cms/a.pdf")
    assert policy.reject_reason("http://www.other.gov.cn/a.html", record=True) == "offsite"
    assert policy.reject_reason("http://xxgk.qinglan.gov.cn:8080/a.html", record=True) == "offsite"
    local = link_policy.LinkPolicy.for_start_urls(["http://127.0.0.1:8000/col/"])
    assert local.reject_reason("http://127.0.0.2:8000/a.html", record=True) == "offsite"


@pytest.mark.parametrize("href, expected", [
    ("..\\202403\\t20240301_1.html", "http://gov.test/xxgk/202403/t20240301_1.html"),  # IIS-style backslashes
    ("./202403/t2024\n0301_1.html", "http://gov.test/xxgk/tzgg/202403/t20240301_1.html"),  # newline inside
    ("\tjavascript:void(0)", None),
    ("http://WWW.Gov.Test:80/art/2024/3/1/art_1_2.html", "http://www.gov.test/art/2024/3/1/art_1_2.html"),
    ("https://gov.test:443/a.html#top", "https://gov.test/a.html"),
    ("http://gov.test:8080/a.html", "http://gov.test:8080/a.html"),
])
def test_hrefs_are_read_as_a_browser_reads_them(href, expected):
    assert absolute("http://gov.test/xxgk/tzgg/index.html", href) == expected


@pytest.mark.parametrize("url, attachment", [
    ("http://gov.test/download/3412", True),
    ("http://gov.test/attach/get/9f3c2a7e", True),
    ("http://gov.test/common/download?fileId=7c1e9a20", True),
    ("http://gov.test/xzzx/download/", False),
    ("http://gov.test/download/index.html", False),
])
def test_download_routes_without_extension(url, attachment):
    assert link_policy.is_attachment_url(url) is attachment
