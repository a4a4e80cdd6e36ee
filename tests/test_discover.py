"""discover(): on every platform of the third fixture portal (fixtures/platforms), and on the pages of the
two older portals, where it must give exactly what the spider's list handling gave before it."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qsl

import pytest
from parsel import Selector

from archive import pagination, recognize
from archive.discover import LIST, RECORD, Discovery, Link, discover, list_source, looks_like_shell
from archive.extract.decode import decode_body
from fixtures.platforms import EXPECTED_DOCUMENTS, NEEDS_BROWSER
from fixtures.platforms.content import COLUMNS
from fixtures.platforms.pages import XXGK_DIV

DOCS = {c.key: c.documents for c in COLUMNS}


@pytest.fixture(scope="module")
def platforms():
    from fixtures.platforms.server import start_site
    with start_site(port=0) as s:
        yield s


def fetch(link: Link) -> tuple[bytes, str | None]:
    request = urllib.request.Request(link.url, data=link.body, method=link.method, headers=dict(link.headers))
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read(), answer.headers.get("Content-Type")


def at(platforms, path: str, **kwargs) -> Discovery:
    link = Link(platforms.url(path), LIST)
    body, ctype = fetch(link)
    return discover(link.url, body, ctype, **kwargs)


def kind_of(platforms, path: str) -> recognize.Recognition:
    body, ctype = fetch(Link(platforms.url(path), LIST))
    text = decode_body(body, ctype)[0]
    return recognize.recognize(platforms.url(path), text, Selector(text=text), list_source)


def paths(platforms, links: list[Link]) -> list[str]:
    return [link.url.removeprefix(platforms.base) for link in links]


# --- gkmlpt ---------------------------------------------------------------------------------------------

def test_gkmlpt_shell_lists_the_first_api_page_of_every_leaf_category(platforms):
    found = at(platforms, "/gkmlpt/index")
    assert found.records == [] and found.handlers == ["gkmlpt"]
    assert paths(platforms, found.pages) == [f"/gkmlpt/api/all/{c}?page=1&sid=7701" for c in (1011, 1012, 102)]
    assert all(p.kind == LIST and p.method == "GET" for p in found.pages)
    assert kind_of(platforms, "/gkmlpt/index").kind == recognize.LIST


def test_gkmlpt_start_url_fragment_names_the_one_category(platforms):
    found = at(platforms, "/gkmlpt/index", fragment="#1012")
    assert paths(platforms, found.pages) == ["/gkmlpt/api/all/1012?page=1&sid=7701"]
    assert found.column == "市政府办公室文件"


def test_gkmlpt_api_answer_gives_its_records_and_every_other_page(platforms):
    found = at(platforms, "/gkmlpt/api/all/1011?page=1&sid=7701")
    first = [d for d in DOCS["gkmlpt"] if d.category == 1011][:4]
    assert paths(platforms, found.records) == [d.path for d in first]
    assert [(r.title, r.date) for r in found.records] == [(d.title, f"{d.date} {d.time}") for d in first]
    assert paths(platforms, found.pages) == ["/gkmlpt/api/all/1011?page=2&sid=7701", "/gkmlpt/api/all/1011?page=3&sid=7701"]
    assert found.handlers == ["json-list", "request-pages"] and found.column == "市政府文件"
    last = at(platforms, "/gkmlpt/api/all/1011?page=3&sid=7701")
    assert len(last.records) == 1 and last.pages == []  # a short last page computes nothing


def test_gkmlpt_article_is_a_detail_page_though_its_dom_is_furniture(platforms):
    doc = DOCS["gkmlpt"][0]
    assert kind_of(platforms, doc.path).kind == recognize.DETAIL


# --- legacy ASP: window.open rows, javascript:openArticle(id), javascript:goPage(n) -----------------------------

def test_asp_rows_opened_by_script_resolve_through_the_page_functions(platforms):
    found = at(platforms, "/zwgk/list.asp?ClassID=5")
    assert paths(platforms, found.records) == [d.path for d in DOCS["asp"][:5]]
    assert found.records[1].title == DOCS["asp"][1].title  # javascript:openArticle('502')
    assert found.records[0].date == DOCS["asp"][0].date  # <tr onclick="window.open('show.asp?id=501')">


def test_asp_go_page_pager_gives_every_page_up_to_the_stated_total(platforms):
    found = at(platforms, "/zwgk/list.asp?ClassID=5")
    assert paths(platforms, found.pages) == [f"/zwgk/list.asp?ClassID=5&page={n}" for n in (1, 2, 3)]
    assert {p.via for p in found.pages} == {"script-pager"}


# --- frames, base href, last page of two, single document, empty column ------------------------------------------

def test_list_in_an_iframe_is_a_list_page_to_fetch(platforms):
    found = at(platforms, "/xxgkml/index.html")
    assert paths(platforms, found.pages) == ["/xxgkml/list.jsp?cat=1"] and found.pages[0].via == "frame"
    assert found.records == []
    assert kind_of(platforms, "/xxgkml/index.html").reasons == ("frame",)
    inner = at(platforms, "/xxgkml/list.jsp?cat=1")
    assert paths(platforms, inner.records) == [d.path for d in DOCS["frame"][:4]]


def test_base_href_resolves_every_record(platforms):
    found = at(platforms, "/xwzx/tpxw/index.html")
    assert paths(platforms, found.records) == [d.path for d in DOCS["base"]]


def test_last_page_with_two_records_and_no_next_link_is_a_list(platforms):
    assert kind_of(platforms, "/zwgk/tzgg/list-2.html").kind == recognize.LIST
    last = at(platforms, "/zwgk/tzgg/list-2.html")
    assert paths(platforms, last.records) == [d.path for d in DOCS["tzgg"][10:]]
    first = at(platforms, "/zwgk/tzgg/list.html")
    assert set(paths(platforms, first.pages)) == {"/zwgk/tzgg/list-1.html", "/zwgk/tzgg/list-2.html"}


def test_single_document_column(platforms):
    assert kind_of(platforms, "/zwgk/zdxm/index.html").reasons == ("few-dated-items",)
    assert paths(platforms, at(platforms, "/zwgk/zdxm/index.html").records) == [DOCS["single"][0].path]


def test_empty_column_is_a_list_without_records_and_says_so(platforms):
    assert kind_of(platforms, "/zwgk/yjgl/index.html").reasons == ("empty-list",)
    found = at(platforms, "/zwgk/yjgl/index.html")
    assert found.records == [] and found.pages == [] and found.handlers == ["empty-column"]
    assert found.column == "应急管理"


# --- Hanweb 信息公开: $.post endpoint, HTML fragments, search(n) + 共N页 ----------------------------------------

XXGK_FORM = [("infotypeId", "B0101"), ("jdid", "39"), ("area", ""), ("divid", XXGK_DIV), ("vc_title", ""),
             ("vc_number", ""), ("sortfield", ",createdatetime:0,orderid:0"), ("currpage", "1"),
             ("vc_filenumber", ""), ("vc_all", ""), ("texttype", ""), ("fbtime", "")]


def test_hanweb_xxgk_column_posts_to_search_jsp_as_its_script_does(platforms):
    found = at(platforms, "/col/col2201/index.html")
    assert found.records == [] and found.handlers == ["script-endpoint"]
    (call,) = found.pages
    assert call.url == platforms.url("/module/xxgk/search.jsp") and call.method == "POST"
    assert parse_qsl(call.body.decode(), keep_blank_values=True) == XXGK_FORM
    assert dict(call.headers) == {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                                  "X-Requested-With": "XMLHttpRequest"}
    assert kind_of(platforms, "/col/col2201/index.html").reasons == ("script-endpoint",)


def test_hanweb_xxgk_fragment_gives_records_and_the_other_pages_as_posts(platforms):
    call = at(platforms, "/col/col2201/index.html").pages[0]
    body, ctype = fetch(call)
    found = discover(call.url, body, ctype, request=call)
    assert paths(platforms, found.records) == [d.path for d in DOCS["xxgk"][:5]]
    assert [dict(parse_qsl(p.body.decode()))["currpage"] for p in found.pages] == ["2", "3"]
    assert all(p.method == "POST" and p.headers == call.headers for p in found.pages)
    last = discover(call.url, *fetch(found.pages[-1]), request=found.pages[-1])
    assert paths(platforms, last.records) == [d.path for d in DOCS["xxgk"][10:]]


def test_search_endpoint_refuses_get(platforms):
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(Link(platforms.url("/module/xxgk/search.jsp"), LIST))
    assert refused.value.code == 405


# --- the single-page app: only a browser can tell --------------------------------------------------------------

def test_single_page_app_is_a_shell_and_platform_shells_are_not(platforms):
    found = at(platforms, "/spa/index.html")
    assert found.records == [] and found.pages == [] and found.handlers == ["shell"]
    for path, shell in (("/spa/index.html", True), ("/gkmlpt/index", False), ("/col/col2201/index.html", False),
                        ("/zwgk/yjgl/index.html", False), (DOCS["gkmlpt"][0].path, False)):
        body, ctype = fetch(Link(platforms.url(path), LIST))
        text = decode_body(body, ctype)[0]
        assert looks_like_shell(text, Selector(text=text)) is shell, path


# --- the whole portal, statically ----------------------------------------------------------------------------

def test_static_walk_finds_every_document_once_and_nothing_else(platforms):
    pending = [Link(u, LIST) for u in platforms.start_urls]
    seen: set = set()
    records: list[str] = []
    while pending:
        link = pending.pop(0)
        if link.key in seen:
            continue
        seen.add(link.key)
        found = discover(link.url, *fetch(link), request=link)
        records += [r.url.removeprefix(platforms.base) for r in found.records if r.kind == RECORD]
        pending += found.pages
    assert sorted(set(records)) == sorted(set(EXPECTED_DOCUMENTS) - NEEDS_BROWSER)
    assert not any("print=1" in r for r in records)


# --- the older portals: what the spider's list handling gave, unchanged -------------------------------------------

@pytest.mark.parametrize("portal", ["site", "othersite"])
def test_discover_gives_what_list_handling_gave_on_the_older_portals(portal):
    if portal == "site":
        from fixtures.site.server import start_site
    else:
        from fixtures.othersite.server import start_site
    with start_site(port=0) as older:
        expected = older.expected
        urls = [*expected.list_urls, *(getattr(expected, "other_urls", None) or [])]
        for url in urls:
            body, ctype = fetch(Link(url, LIST))
            text = decode_body(body, ctype)[0]
            sel = Selector(text=text)
            found = discover(url, body, ctype, sel)
            records = [link.url for link in recognize.list_links(url, sel)] + pagination.datastore_links(url, text)
            assert {r.url for r in found.records} == set(records), url
            assert {p.url for p in found.pages} == set(pagination.next_pages(url, text, sel)), url
            assert {m.url for m in found.more} == set(recognize.more_links(url, sel)), url
            assert all(p.method == "GET" and p.body is None for p in found.pages)


def test_profile_selectors_replace_the_record_finder_and_add_next_pages(platforms):
    found = at(platforms, "/xwzx/tpxw/index.html", item_xpath="//div[@class='list']/ul/li[1]/a", next_xpath="//div[@class='nav']//li[2]/a")
    assert paths(platforms, found.records) == [DOCS["base"][0].path] and found.records[0].via == "profile"
    assert paths(platforms, found.pages) == ["/xxgkml/index.html"]
