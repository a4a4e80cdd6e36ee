"""Pagination handlers: each scheme, on inline pages shaped like the real CMS families, reaches the last page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from parsel import Selector

from archive import pagination


def pages(handler, url: str, html: str) -> list[str]:
    return handler(url, html, Selector(text=html))


def test_trs_create_page_html_lists_every_page():
    html = ('<div class="page"><script>createPageHTML(4, 0, "index", "html");</script></div>'
            '<script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){}</script>')
    got = pages(pagination.trs_create_page_html, "http://gov.test/col/tzgg/index.html", html)
    assert got == [f"http://gov.test/col/tzgg/{n}" for n in
                   ("index.html", "index_1.html", "index_2.html", "index_3.html")]


def test_trs_create_page_html_from_a_later_page_and_a_directory_url():
    html = "<script>createPageHTML(3, 2, 'list', 'shtml');</script>"
    got = pages(pagination.trs_create_page_html, "http://gov.test/xxgk/", html)
    assert got[-1] == "http://gov.test/xxgk/list_2.shtml" and len(got) == 3


def test_trs_single_page_and_no_call_give_nothing_new():
    assert pages(pagination.trs_create_page_html, "http://gov.test/a/index.html",
                 "<script>createPageHTML(1, 0, 'index', 'html');</script>") == ["http://gov.test/a/index.html"]
    assert pages(pagination.trs_create_page_html, "http://gov.test/a/", "<p>nothing</p>") == []


HANWEB = """<div id="5678"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&amp;col=1&amp;webid=1&amp;columnid=1234&amp;unitid=5678"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2024/2/27/art_1234_1.html">一</a><span>2024-02-27</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/2/26/art_1234_2.html">二</a><span>2024-02-26</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/2/25/art_1234_3.html">三</a><span>2024-02-25</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/2/24/art_1234_4.html">四</a><span>2024-02-24</span></li>]]></record>
</recordset></datastore></script>
<script>$('#5678').jpage({dataStore: $('#5678 datastore'), proxyUrl:'/module/web/jpage/dataproxy.jsp',
perPage:2, totalRecord:11, groupSize:2, ajaxParam:{col:1,appid:1,webid:1,columnid:1234,unitid:5678,webname:'某市',permissiontype:0}});
</script></div>"""


def test_hanweb_inline_records_are_read_from_cdata():
    links = pagination.datastore_links("http://gov.test/col/col1234/index.html", HANWEB)
    assert links == [f"http://gov.test/art/2024/2/{27 - i}/art_1234_{i + 1}.html" for i in range(4)]


def test_hanweb_dataproxy_windows_cover_every_record_past_the_inline_ones():
    got = pages(pagination.hanweb_dataproxy, "http://gov.test/col/col1234/index.html", HANWEB)
    windows = [parse_qs(urlsplit(u).query) for u in got]
    assert [(w["startrecord"][0], w["endrecord"][0]) for w in windows] == [("5", "8"), ("9", "11")]
    assert all(urlsplit(u).path == "/module/web/jpage/dataproxy.jsp" for u in got)
    assert windows[0]["columnid"] == ["1234"] and windows[0]["unitid"] == ["5678"]
    assert windows[0]["perpage"] == ["2"] and windows[0]["webname"] == ["某市"]


def test_hanweb_all_records_inline_needs_no_proxy():
    html = HANWEB.replace("totalRecord:11", "totalRecord:4")
    assert pages(pagination.hanweb_dataproxy, "http://gov.test/col/col1234/index.html", html) == []


def test_hanweb_dataproxy_xml_answer_gives_links_and_the_remaining_windows():
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore><totalrecord>20</totalrecord><recordset>'
           '<record><![CDATA[<li><a href="/art/2024/1/2/art_1234_9.html">九</a></li>]]></record>'
           "</recordset></datastore>")
    url = "http://gov.test/module/web/jpage/dataproxy.jsp?startrecord=5&endrecord=8&perpage=2&columnid=1234"
    assert pagination.datastore_links(url, xml) == ["http://gov.test/art/2024/1/2/art_1234_9.html"]
    got = [parse_qs(urlsplit(u).query) for u in pages(pagination.hanweb_dataproxy, url, xml)]
    assert [(w["startrecord"][0], w["endrecord"][0]) for w in got] == [("9", "12"), ("13", "16"), ("17", "20")]
    assert all(w["columnid"] == ["1234"] for w in got)


def test_next_and_last_links_with_page_query_fill_in_every_page():
    html = ('<td>共9条记录 共3页 当前第1页 首页 上一页 <a href="list.asp?page=2">下一页</a> '
            '<a href="list.asp?page=3">尾页</a></td>')
    got = pages(pagination.next_last_links, "http://gov.test/zwgk/list.asp", html)
    assert set(got) == {"http://gov.test/zwgk/list.asp?page=2", "http://gov.test/zwgk/list.asp?page=3"}


def test_last_link_far_away_generates_the_pages_between():
    html = '<a href="?page=2&amp;cat=5">下一页</a><a href="?page=40&amp;cat=5">末页</a>'
    got = pages(pagination.next_last_links, "http://gov.test/list?cat=5", html)
    assert len(set(got)) == 39 and "http://gov.test/list?page=17&cat=5" in got


def test_next_link_with_total_pages_reaches_the_last_page():
    html = '<div>共5页 <a href="index_1.htm">下一页</a></div>'
    got = pages(pagination.next_last_links, "http://gov.test/zc/index.htm", html)
    assert set(got) == {f"http://gov.test/zc/index_{n}.htm" for n in range(1, 5)}


def test_next_link_only_is_followed_as_a_chain():
    html = '<a href="list_7.html">下一页</a>'
    assert pages(pagination.next_last_links, "http://gov.test/c/list_6.html", html) == ["http://gov.test/c/list_7.html"]


def test_numbered_index_links_fill_gaps_up_to_total():
    html = '<p>共6页</p><a href="index_1.htm">2</a><a href="index_2.htm">3</a><a href="/other/index_9.htm">x</a>'
    got = pages(pagination.numbered_index_links, "http://gov.test/zc/index.htm", html)
    assert got == [f"http://gov.test/zc/index_{n}.htm" for n in range(1, 6)]


@pytest.mark.parametrize("script", [
    "var currentPage = 0;//所在页从0开始\nvar countPage = 4//共多少页",
    "var totalPage = 4;",
    "pageOpts = {totalPage: '4', current: 0}",
])
def test_js_page_count_variables(script):
    got = pages(pagination.js_page_count, "http://gov.test/zhengce/zcjd/index.htm", f"<script>{script}</script>")
    assert got == ["http://gov.test/zhengce/zcjd/index.htm"] + [
        f"http://gov.test/zhengce/zcjd/index_{n}.htm" for n in range(1, 4)]


def test_js_page_count_takes_the_file_name_from_the_script_for_directory_urls():
    script = ('<script>var countPage = 3\ndocument.write("<a href=\\"list"+"_" + nextPage + "."+"shtml\\">'
              '下一页</a>");</script>')
    got = pages(pagination.js_page_count, "http://gov.test/xwzx/", script)
    assert got[-1] == "http://gov.test/xwzx/list_2.shtml"


def test_next_pages_runs_every_handler_once_without_duplicates():
    html = ('<script>createPageHTML(3, 1, "index", "html");</script>'
            '<a href="index.html">上一页</a><a href="index_2.html">下一页</a><a href="index_2.html">尾页</a>')
    got = pagination.next_pages("http://gov.test/col/index_1.html", html, Selector(text=html))
    assert got == ["http://gov.test/col/index.html", "http://gov.test/col/index_2.html"]


def test_absurd_totals_are_capped():
    html = "<script>createPageHTML(99999999, 0, 'index', 'html');</script>"
    assert len(pages(pagination.trs_create_page_html, "http://gov.test/", html)) == pagination.MAX_PAGES


def fetch(url: str):
    import urllib.request

    from scrapy.responsetypes import responsetypes

    with urllib.request.urlopen(url, timeout=10) as r:
        body, headers = r.read(), dict(r.headers)
    return responsetypes.from_args(headers=headers, url=url, body=body)(url=url, body=body, headers=headers)


def test_every_fixture_list_family_reaches_its_last_page(site):
    """From each column's first page alone, the handlers name every other list page of the column."""
    expected_lists = set(site.expected.list_urls)
    found: set[str] = set(site.start_urls)
    for start in site.start_urls:
        response = fetch(start)
        found.update(pagination.next_pages(response.url, response.text, response.selector))
    html_lists = {u for u in found if "dataproxy.jsp" not in u}
    assert expected_lists <= html_lists
    hanweb_windows = [u for u in found if "dataproxy.jsp" in u]
    assert hanweb_windows, "no dataproxy page for the Hanweb column with more records than inline"


# --- generality: schemes of portals the fixture site does not model ----------------------------------------

def test_js_page_count_reads_the_file_template_with_escaped_quotes_behind_a_directory_url():
    script = ('<script>var countPage = 3//共多少页\nfor (var i = 0; i < countPage; i++) {'
              'document.write("<a href=\\"index_" + i + ".htm\\">" + (i + 1) + "</a>");}</script>')
    got = pages(pagination.js_page_count, "http://gov.test/zhengce/zuixin/", script)
    assert got == ["http://gov.test/zhengce/zuixin/index.htm", "http://gov.test/zhengce/zuixin/index_1.htm",
                   "http://gov.test/zhengce/zuixin/index_2.htm"]


def test_create_page_html_with_variable_arguments():
    html = ('<script>var pageCount = 3;var currentPage = 0;'
            'createPageHTML(pageCount, currentPage, "index", "shtml");</script>')
    got = pagination.next_pages("http://gov.test/zfxxgk/fdzdgknr/", html, Selector(text=html))
    assert got == ["http://gov.test/zfxxgk/fdzdgknr/index.shtml", "http://gov.test/zfxxgk/fdzdgknr/index_1.shtml",
                   "http://gov.test/zfxxgk/fdzdgknr/index_2.shtml"]  # and no index_N.html guessed beside them


def test_numbered_query_links_window_is_filled_up_to_the_stated_total():
    html = ('<div class="pagination">共 5 页 第 1 页 <span>1</span> <a href="list.jsp?pageNo=2">2</a> '
            '<a href="list.jsp?pageNo=3">3</a> <a href="javascript:goPage(2)">下一页</a></div>')
    got = pages(pagination.numbered_page_links, "http://gov.test:8080/xxgk/tzgg/list.jsp", html)
    assert got == [f"http://gov.test:8080/xxgk/tzgg/list.jsp?pageNo={n}" for n in range(2, 6)]


def test_numbered_links_zero_based_files_and_bracketed_labels():
    html = '<p>[1] <a href="list_1.html">[2]</a> <a href="list_2.html">[3]</a> <a href="list_3.html">[4]</a></p>'
    got = pages(pagination.numbered_page_links, "http://gov.test/news/list.html", html)
    assert got == [f"http://gov.test/news/list_{n}.html" for n in range(1, 4)]


def test_a_single_numbered_link_needs_a_stated_total_and_host_digits_never_count():
    html = '<a href="http://10.0.0.2/page2.html">2</a>'
    assert pages(pagination.numbered_page_links, "http://10.0.0.2/page1.html", html) == []
    html = '<p>页次：1/3</p><a href="http://10.0.0.2/news.asp?page=2">2</a>'
    got = pages(pagination.numbered_page_links, "http://10.0.0.2/news.asp", html)
    assert got == ["http://10.0.0.2/news.asp?page=2", "http://10.0.0.2/news.asp?page=3"]


def test_pagination_links_resolve_against_the_base_href():
    html = ('<html><head><base href="http://gov.test/xxgk/"></head><body>'
            '<a href="gzdt/index_1.htm">下一页</a><a href="gzdt/index_3.htm">尾页</a></body></html>')
    got = pagination.next_pages("http://gov.test/xxgk/gzdt/index.htm", html, Selector(text=html))
    assert got == [f"http://gov.test/xxgk/gzdt/index_{n}.htm" for n in (1, 3, 2)]


def test_page_script_calls_under_other_names():
    html = '<script>var total = 3; createPage(total, 0, "list", "shtml");</script>'
    got = pages(pagination.trs_create_page_html, "http://gov.test/xwzx/list.shtml", html)
    assert got == ["http://gov.test/xwzx/list.shtml", "http://gov.test/xwzx/list_1.shtml", "http://gov.test/xwzx/list_2.shtml"]
    assert pages(pagination.trs_create_page_html, "http://gov.test/x/", '<script>open(3, 0, "a", "html")</script>') == []


def test_script_pager_submitting_a_get_form():
    html = ('<div class="pager">共 3 页 <a href="javascript:toPage(2)">下一页</a> <a href="javascript:toPage(3)">尾页</a>'
            '<form id="pageForm" action="list.jsp" method="get"><input type="hidden" name="channelId" value="88">'
            '<input type="hidden" name="pageIndex" value="1"><input type="submit" value="跳转"></form></div>')
    got = pages(pagination.form_pages, "http://gov.test/xxgk/gfxwj/list.jsp", html)
    assert got == [f"http://gov.test/xxgk/gfxwj/list.jsp?channelId=88&pageIndex={n}" for n in (2, 3)]
    # no 共N页: the highest page the script links pass; a zero-based field
    html = html.replace("共 3 页", "").replace('name="pageIndex" value="1"', 'name="pageIndex" value="0"')
    got = pages(pagination.form_pages, "http://gov.test/xxgk/gfxwj/list.jsp", html)
    assert got == [f"http://gov.test/xxgk/gfxwj/list.jsp?channelId=88&pageIndex={n}" for n in (1, 2)]
    # a POST form or a form without a page field: nothing
    assert pages(pagination.form_pages, "http://gov.test/l.jsp", html.replace('method="get"', 'method="post"')) == []
    assert pages(pagination.form_pages, "http://gov.test/l.jsp", html.replace("pageIndex", "keyword")) == []


def test_year_tabs_and_scattered_numbers_are_not_a_pager():
    years = "".join(f'<a href="/zfxxgk/xxgknb/{y}/">{y}</a>' for y in range(2019, 2024))
    assert pages(pagination.numbered_page_links, "http://gov.test/zfxxgk/xxgknb/", years) == []
    scattered = '<a href="/a/list_3.html">3</a><a href="/a/list_90.html">90</a>'
    assert pages(pagination.numbered_page_links, "http://gov.test/a/list.html", scattered) == []
