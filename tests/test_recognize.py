"""List vs detail vs other, by structure: on inline pages and on every page of the fixture site."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from parsel import Selector
from scrapy.responsetypes import responsetypes

from archive import recognize
from archive.discover import list_source

PARA = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"


def kind(html: str, url: str = "http://gov.test/page.html") -> str:
    return recognize.recognize(url, html, Selector(text=html), list_source).kind


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
    return recognize.recognize(response.url, response.text, response.selector, list_source).kind


def test_every_fixture_detail_page_is_a_detail_page(site):
    wrong = {url: k for url in site.expected.detail_urls if (k := recognized(url)) != recognize.DETAIL}
    assert not wrong


def test_every_fixture_list_page_is_a_list_page(site):
    wrong = {url: k for url in site.expected.list_urls if (k := recognized(url)) != recognize.LIST}
    assert not wrong


def test_fixture_login_and_calendar_pages_are_not_details(site):
    for path in ("/login", "/calendar/?date=2024-02", "/calendar/?date=2024-02-03"):
        assert recognized(site.url + path) == recognize.OTHER, path


# --- generality: layouts of portals the fixture site does not model ----------------------------------------

def test_div_news_items_with_summaries_stay_a_list():
    items = "".join(f"<div class='news-item'><h3><a href='../gzdt/202403/content_{i}.HTM'>第{i}条工作动态的标题文字</a>"
                    f"</h3><p class='summary'>{PARA[:70]}……</p><span class='date'>2024年03月0{i}日</span></div>"
                    for i in range(1, 5))
    assert kind(page(f"<div class='news-list'>{items}</div>"), "http://gov.test/xxgk/gzdt/index.htm") == recognize.LIST


def test_short_notice_before_its_related_list_is_a_detail_page():
    related = "".join(f"<li><a href='/r/{i}.shtml'>相关文件第{i}号关于某某事项的通知</a><span>2024-01-0{i}</span></li>"
                      for i in range(1, 4))
    title = "关于2024年清明节期间城区禁止燃放烟花爆竹的通告"
    html = (f"<html><head><title>某市人民政府-{title}</title></head><body><div class='xxgk-title'>{title}</div>"
            f"<div class='txt'><p>清明节期间，城区范围内禁止燃放烟花爆竹，请广大市民自觉遵守。</p></div>"
            f"<div class='xgwz'><h4>相关文章</h4><ul>{related}</ul></div></body></html>")
    assert kind(html, "http://gov.test/xxgk/2024/03/06/125.SHTML") == recognize.DETAIL
    # the same shape without a document title heading (a column page) stays a list
    assert kind(html.replace(f"<div class='xxgk-title'>{title}</div>", ""),
                "http://gov.test/xxgk/2024/03/06/125.SHTML") == recognize.LIST


def test_records_opened_by_script_are_list_links():
    items = "".join(f"<li><a href='javascript:void(0)' onclick=\"window.open('/zfxxgk/xxgknb/t2024012{i}_{i}.html')\">"
                    f"青岚市{2020 + i}年政府信息公开工作年度报告</a><span>2024-01-2{i}</span></li>" for i in range(3))
    items += "<li><a href=\"javascript:openUrl('./202401/t20240125_9.html')\">另一份年度报告的完整标题</a><span>2024-01-25</span></li>"
    got = recognize.list_links("http://gov.test/zfxxgk/xxgknb/index.html", Selector(text=page(f"<ul>{items}</ul>")))
    assert [link.url for link in got] == [f"http://gov.test/zfxxgk/xxgknb/t2024012{i}_{i}.html" for i in range(3)] + [
        "http://gov.test/zfxxgk/xxgknb/202401/t20240125_9.html"]


def test_dated_directory_urls_are_an_article_shape():
    assert recognize.looks_like_article("http://gov.test/xxgk/2024/03/01/123.shtml", "<meta name='ArticleTitle'>")


def _hub(blocks: int, items: int) -> str:
    out = []
    for b in range(blocks):
        lis = "".join(f"<li><a href='/c{b}/t2024030{i}_{b}{i}.html'>第{b}栏目的第{i}条公开信息标题</a><span>2024-03-0{i}</span></li>"
                      for i in range(1, items + 1))
        out.append(f"<div class='block'><div class='hd'><h3>栏目{b}</h3><a class='more' href='/c{b}/'>更多&gt;&gt;</a></div>"
                   f"<ul>{lis}</ul></div>")
    footer = "<div class='links'><h3>友情链接</h3><a href='/yqlj/'>更多</a></div>"
    return page("".join(out) + footer)


def test_hub_with_blocks_of_latest_records_is_a_list():
    assert kind(_hub(3, 2), "http://gov.test/zfxxgk/index.html") == recognize.LIST
    assert kind(_hub(1, 2), "http://gov.test/zfxxgk/index.html") == recognize.OTHER


def test_more_links_of_record_blocks_lead_to_the_columns_full_lists():
    got = recognize.more_links("http://gov.test/zfxxgk/index.html", Selector(text=_hub(3, 2)))
    assert got == ["http://gov.test/c0/", "http://gov.test/c1/", "http://gov.test/c2/"]  # not the footer's 更多


def test_whole_record_anchors_are_list_items():
    items = "".join(f"<a class='item' href='./202403/t2024030{i}_{i}.html'><div class='t'>关于第{i}批项目的政策解读文章</div>"
                    f"<div class='d'>2024.03.0{i}</div></a>" for i in range(1, 5))
    html = page(f"<div class='zcjd-list'>{items}</div>")
    assert kind(html, "http://gov.test/zfxxgk/zcjd/index.html") == recognize.LIST
    got = recognize.list_links("http://gov.test/zfxxgk/zcjd/index.html", Selector(text=html))
    assert [(link.url, link.title, link.date) for link in got][0] == (
        "http://gov.test/zfxxgk/zcjd/202403/t20240301_1.html", "关于第1批项目的政策解读文章", "2024.03.01")
    assert len(got) == 4


def test_list_links_resolve_against_the_base_href():
    items = "".join(f"<li><a href='gzdt/202403/content_{i}.HTM'>第{i}条工作动态的标题文字内容</a><span>2024-03-0{i}</span></li>"
                    for i in range(1, 4))
    html = page(f"<ul>{items}</ul>", "<base href='http://gov.test/xxgk/'>")
    got = recognize.list_links("http://gov.test/xxgk/gzdt/index.htm", Selector(text=html))
    assert [link.url for link in got] == [f"http://gov.test/xxgk/gzdt/202403/content_{i}.HTM" for i in range(1, 4)]


def test_news_list_dates_without_the_year():
    rows = "".join(f"<tr><td>·<a href='ShowArticle.asp?ArticleID={i}'>关于第{i}季度工作情况的通报文件</a>(3月{i}日)</td></tr>"
                   for i in range(1, 5))
    assert kind(page(f"<table>{rows}</table>"), "http://gov.test/Article/ShowClass.asp?ClassID=12") == recognize.LIST


@pytest.mark.parametrize("listing", [
    "".join(f"<dl><dt><a href='/a/{i}.html'>第{i}号关于某某事项的通知全文</a></dt><dd>2024-03-0{i}</dd></dl>" for i in range(1, 5)),
    "<dl>" + "".join(f"<dt><a href='/a/{i}.html'>第{i}号关于某某事项的通知全文</a></dt><dd>2024-03-0{i}</dd>"
                     for i in range(1, 5)) + "</dl>",
])
def test_definition_list_records(listing):
    html = page(f"<div class='list'>{listing}</div>")
    assert kind(html, "http://gov.test/xxgk/tzgg/") == recognize.LIST
    got = recognize.list_links("http://gov.test/xxgk/tzgg/", Selector(text=html))
    assert [(link.url, link.date) for link in got] == [(f"http://gov.test/a/{i}.html", f"2024-03-0{i}") for i in range(1, 5)]


def test_paginated_column_with_a_long_intro_editor_block_is_a_list():
    intro = "<div class='TRS_Editor'>" + "".join(f"<p>{PARA}</p>" for _ in range(5)) + "</div>"
    items = "".join(f"<li><a href='./202403/t2024030{i}_{i}.html'>关于第{i}批项目申报工作的通知</a><span>2024-03-0{i}</span></li>"
                    for i in range(1, 10))
    html = page(f"{intro}<ul>{items}</ul><script>createPageHTML(5, 0, 'index', 'html');</script>")
    assert kind(html, "http://gov.test/col/xmsb/index.html") == recognize.LIST


def test_records_written_by_script_in_catalogue_items():
    items = "".join(
        f"<li><script>var url = \"./202403/t2024030{i}_{i}.html\"; var title = \"关于第{i}批项目申报工作的通知\";"
        f"if (url.indexOf('http') != 0) {{ document.write(\"<a href='\" + url + \"' target='_blank'>\" + title + \"</a>\"); }}"
        f"</script><span>2024-03-0{i}</span></li>" for i in range(1, 5))
    html = page(f"<ul class='xxgk-list'>{items}</ul>")
    assert kind(html, "http://gov.test/xxgk/tzgg/index.html") == recognize.LIST
    got = recognize.list_links("http://gov.test/xxgk/tzgg/index.html", Selector(text=html))
    assert [(link.url, link.title, link.date) for link in got] == [
        (f"http://gov.test/xxgk/tzgg/202403/t2024030{i}_{i}.html", f"关于第{i}批项目申报工作的通知", f"2024-03-0{i}")
        for i in range(1, 5)]


def test_script_redirect_only_for_pages_without_content_of_their_own():
    stub = "<script>location.replace(\"../art/2024/3/1/art_99_1.html\")</script><p>正在跳转……</p>"
    assert recognize.script_redirect("http://gov.test/xxgk/a.html", stub) == "http://gov.test/art/2024/3/1/art_99_1.html"
    article = page("".join(f"<p>{PARA}</p>" for _ in range(4)) + "<script>if (m) location.href = '/m/a.html';</script>")
    assert recognize.script_redirect("http://gov.test/xxgk/a.html", article) is None
