"""List vs detail vs other, by structure: on inline pages and on every page of the fixture site."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from parsel import Selector
from scrapy.responsetypes import responsetypes

from archive import recognize

PARA = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"


def kind(html: str, url: str = "http://gov.test/page.html") -> str:
    return recognize.recognize(url, html, Selector(text=html)).kind


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>t</title>{head}</head><body><div class='nav'><ul><li><a href='/'>首页</a></li>" \
           f"<li><a href='/zwgk/'>政务公开</a></li></ul></div>{body}<div class='footer'>主办单位：某市人民政府办公室</div></body></html>"


def test_ul_of_dated_links_is_a_list():
    items = "".join(f"<li><a href='/a/t2024020{i}_{i}.html'>关于做好第{i}批项目申报工作的通知</a><span>2024-02-0{i}</span></li>"
                    for i in range(1, 7))
    assert kind(page(f"<ul class='news'>{items}</ul>")) == recognize.LIST


def test_legacy_table_rows_with_bracketed_dates_are_a_list():
    rows = "".join(f"<tr><td>·<a href='show.asp?id={i}'>公示名单第{i}号关于某某事项</a></td><td>[2023-12-1{i}]</td></tr>"
                   for i in range(4))
    html = page(f"<table width='980'><tr><td><table class='newslist'>{rows}</table></td></tr></table>")
    assert kind(html) == recognize.LIST


def test_last_page_with_one_item_is_a_list_thanks_to_pagination():
    html = page("<ul><li><a href='t20240101_1.html'>关于元旦值班安排的通知</a><span>2024-01-01</span></li></ul>"
                "<div class='page'>共3页 <a href='index_1.html'>上一页</a></div>")
    assert kind(html) == recognize.LIST


def test_list_with_summaries_in_items_stays_a_list():
    items = "".join(f"<li><a href='/c/{i}.html'>标题第{i}条消息内容</a><p>{PARA[:60]}</p><span>2024-03-0{i}</span></li>"
                    for i in range(1, 6))
    assert kind(page(f"<ul>{items}</ul>")) == recognize.LIST


def test_hanweb_datastore_page_is_a_list():
    html = page("<script type='text/xml'><datastore><recordset><record><![CDATA[<li><a href='/art/1.html'>x</a></li>]]>"
                "</record></recordset></datastore></script>")
    assert kind(html) == recognize.LIST


def test_long_paragraphs_make_a_detail_page():
    body = "<h1>关于优化营商环境的通知</h1><div class='content'>" + "".join(f"<p>{PARA}</p>" for _ in range(6)) + "</div>"
    assert kind(page(body)) == recognize.DETAIL


def test_detail_page_with_related_dated_links_is_still_a_detail_page():
    related = "".join(f"<li><a href='/r/{i}.html'>相关文件第{i}号通知</a><span>2024-01-0{i}</span></li>" for i in range(1, 9))
    body = "<div class='TRS_Editor'>" + "".join(f"<p>{PARA}</p>" for _ in range(6)) + f"</div><ul>{related}</ul>"
    assert kind(page(body, "<meta name='ArticleTitle' content='关于优化营商环境的通知'>")) == recognize.DETAIL


def test_short_notice_with_article_markers_is_a_detail_page():
    body = f"<div id='zoom'><meta name='ContentStart'><p>{PARA}</p><meta name='ContentEnd'></div>"
    html = page(body, "<meta name='ArticleTitle' content='公示'>")
    assert kind(html, "http://gov.test/art/2024/2/1/art_12_34.html") == recognize.DETAIL


def test_url_shape_alone_does_not_make_a_detail_page():
    assert kind(page("<p>短</p>"), "http://gov.test/col/a/202402/t20240229_123.html") == recognize.OTHER


@pytest.mark.parametrize("body", [
    "<form action='/login'><input name='username'><input type='password'></form>",
    "<h1>404</h1><p>您访问的页面不存在或已被删除。</p>",
    "<table><tr><td><a href='/calendar/?date=2024-02-01'>01</a></td><td><a href='/calendar/?date=2024-02-02'>02</a></td></tr></table>",
])
def test_login_error_and_calendar_pages_are_other(body):
    assert kind(page(body)) == recognize.OTHER


def test_list_links_returns_each_item_once_with_title_and_date():
    items = "".join(f"<li><a href='./2024/t{i}.html' title='完整标题{i}关于某某事项的通知'>标题{i}…</a><span>2024-02-0{i}</span></li>"
                    for i in range(1, 4))
    sidebar = "<ul class='side'><li><a href='/col/a/'>通知公告</a></li><li><a href='/col/b/'>政策文件</a></li></ul>"
    html = page(f"{sidebar}<ul class='news'>{items}</ul>")
    got = recognize.list_links("http://gov.test/col/tzgg/index.html", Selector(text=html))
    assert [link.url for link in got] == [f"http://gov.test/col/tzgg/2024/t{i}.html" for i in range(1, 4)]
    assert got[0].title == "完整标题1关于某某事项的通知" and got[0].date == "2024-02-01"


def test_list_links_with_a_profile_xpath():
    html = "<div class='x'><a href='/a.html'>A</a></div><div class='y'><a href='/b.html'>B</a></div>"
    got = recognize.list_links("http://gov.test/", Selector(text=html), "//div[@class='y']/a")
    assert [link.url for link in got] == ["http://gov.test/b.html"]


@pytest.mark.parametrize(("html", "name"), [
    ("<meta name='ColumnName' content='通知公告'><title>x_某市</title>", "通知公告"),
    ("<title>x</title><div class='position'>当前位置：<a href='/'>首页</a> &gt; <a href='/zwgk/'>政务公开</a> &gt; "
     "<a href='/c/'>政策文件</a></div>", "政策文件"),
    ("<title>公示公告--某市人民政府</title>", "公示公告"),
])
def test_column_name(html, name):
    assert recognize.column_name(Selector(text=html)) == name


@pytest.mark.parametrize(("status", "cookies", "html", "challenge"), [
    (412, [], "<html><body>x</body></html>", True),
    (521, ["__jsluid_s=abc; path=/"], "<script>document.cookie=...</script>", True),
    (200, [], "<html><head><script>$_ts=window['$_ts'];$_ts.nsd=1;</script></head><body></body></html>", True),
    (200, ["wzws_cid=0a1b; path=/"], "<html><body><script>var x=1</script></body></html>", True),
    (200, ["__jsluid_s=abc; path=/"], page("".join(f"<p>{PARA}</p>" for _ in range(5))), False),
    (200, ["wzws_sid=0a1b; path=/", "lang=zh"], page("<p>门户</p>"), False),
])
def test_challenge_pages(status, cookies, html, challenge):
    reason = recognize.challenge_reason(status, cookies, html, Selector(text=html))
    assert bool(reason) is challenge, reason


@pytest.fixture(scope="module")
def site():
    from fixtures.site.server import start_site

    site = start_site(port=0)
    yield site
    site.stop()


def fetch(url: str):
    try:
        r = urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as exc:  # the fixture's 503-once page: ask again, as the crawler does
        if exc.code != 503:
            raise
        r = urllib.request.urlopen(url, timeout=10)
    with r:
        body, headers, final = r.read(), dict(r.headers), r.url
    return responsetypes.from_args(headers=headers, url=final, body=body)(url=final, body=body, headers=headers)


def recognized(url: str) -> str:
    response = fetch(url)
    return recognize.recognize(response.url, response.text, response.selector).kind


def test_every_fixture_detail_page_is_a_detail_page(site):
    wrong = {url: k for url in site.expected.detail_urls if (k := recognized(url)) != recognize.DETAIL}
    assert not wrong


def test_every_fixture_list_page_is_a_list_page(site):
    wrong = {url: k for url in site.expected.list_urls if (k := recognized(url)) != recognize.LIST}
    assert not wrong


def test_fixture_login_and_calendar_pages_are_not_details(site):
    for path in ("/login", "/calendar/?date=2024-02", "/calendar/?date=2024-02-03"):
        assert recognized(site.url + path) == recognize.OTHER, path
