"""The pieces discover() puts together: reading a page's scripts, JSON lists by shape, script-run pagers,
a request's own page field."""

from __future__ import annotations

import json

import pytest
from parsel import Selector

from archive import jsonlist, pagination
from archive.discover import LIST, Link, discover
from archive.scripts import FORM, XHR_HEADER, Fetch, Open, Scripts

PAGE_SCRIPT = """<!--
var channel = "A01";
function search(currpage) {
  $.post("/module/xxgk/search.jsp", {infotypeId: channel, currpage: currpage, vc_title: $("#t").val()},
         function (d) { $("#list").html(d); });
}
function openArticle(id) { window.open('/zwgk/show.asp?id=' + id, '_blank'); }
function goPage(p) { if (p < 1) { p = 1; } location.href = 'list.asp?ClassID=5&page=' + p; }
var toPage = function (n) { window.location.href = `index_${n - 1}.html`; };
function never() { location.href = '/never.html'; }
$(function () { search(1); });
//-->"""


def test_load_time_calls_are_read_with_the_values_the_page_sets():
    scripts = Scripts([PAGE_SCRIPT])
    assert scripts.on_load == [Fetch("/module/xxgk/search.jsp", "POST", b"infotypeId=A01&currpage=1&vc_title=",
                                     (("Content-Type", FORM), XHR_HEADER), "$.post")]


def test_handlers_run_the_page_functions_with_their_arguments():
    scripts = Scripts([PAGE_SCRIPT])
    assert scripts.run("javascript:openArticle('1234')") == [Open("/zwgk/show.asp?id=1234")]
    assert scripts.run("goPage(3); return false;") == [Open("list.asp?ClassID=5&page=3")]
    assert scripts.run("goPage(0)") == [Open("list.asp?ClassID=5&page=1")]  # the branch the condition picks
    assert scripts.call("toPage", [3]) == [Open("index_2.html")]
    assert scripts.run("search(2)")[0].body == b"infotypeId=A01&currpage=2&vc_title="
    assert scripts.run("javascript:void(0)") == []


def test_definitions_do_nothing_until_called_and_unknown_urls_are_dropped():
    scripts = Scripts(["function f(){ location.href = '/never.html'; }", "var u = $('#x').attr('href'); window.open(u);",
                       "var g = function(){ window.open('/never2.html'); };"])
    assert scripts.on_load == []


def test_every_request_api_is_read_as_the_browser_sends_it():
    scripts = Scripts(["""
        $.ajax({url: '/api/a', type: 'post', data: {pageNo: 1}, dataType: 'json'});
        $.get('/api/b', {page: 2});
        fetch('/api/c?page=1', {method: 'POST', body: JSON.stringify({pageNo: 1, size: 20}),
                                headers: {'Content-Type': 'application/json'}});
        axios.post('/api/d', {page: 1});
        axios.get('/api/e', {params: {page: 1}});
        var xhr = new XMLHttpRequest(); xhr.open('POST', '/api/f');
        xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); xhr.send('page=1&c=' + 5);
        $('#list').load('/api/g', {page: 1});
    """])
    got = {f.url: f for f in scripts.on_load}
    assert got["/api/a"].method == "POST" and got["/api/a"].body == b"pageNo=1"
    assert got["/api/b?page=2"].method == "GET" and got["/api/b?page=2"].body is None
    assert got["/api/c?page=1"].body == b'{"pageNo":1,"size":20}'
    assert dict(got["/api/c?page=1"].headers)["Content-Type"] == "application/json"
    assert got["/api/d"].body == b'{"page":1}' and dict(got["/api/d"].headers)["Content-Type"] == "application/json"
    assert "/api/e?page=1" in got
    assert got["/api/f"].body == b"page=1&c=5"
    assert got["/api/g"].method == "POST" and got["/api/g"].body == b"page=1"


def test_syntax_errors_elsewhere_do_not_hide_a_call():
    scripts = Scripts(["var a = ;; function (", "window.onload = function () { $.post('/x.jsp', {page: 1}); };"])
    assert [f.url for f in scripts.on_load] == ["/x.jsp"]


def test_script_pager_runs_the_function_for_every_page_of_the_stated_total():
    html = (f"<script>{PAGE_SCRIPT}</script><div>第1页/共4页 <a href='javascript:goPage(2)'>下一页</a>"
            "<a href=\"javascript:openArticle('77')\">关于某事项的通知</a></div>")
    scripts = Scripts.of(Selector(text=html))
    got = pagination.script_pages(html, Selector(text=html), lambda name, n: scripts.call(name, [n]))
    assert got == [Open(f"list.asp?ClassID=5&page={n}") for n in range(1, 5)]  # a title link is no pager


def test_json_records_are_found_by_shape_not_by_path():
    data = {"code": 0, "data": {"pageCount": 7, "list": [
        {"name": "关于甲的通知", "link": "/a/1.html", "publishTime": "2024-03-01",
         "files": [{"name": "附件.pdf", "url": "/f/1.pdf"}]},
        {"name": "关于乙的通知", "link": "/a/2.html", "publishTime": "2024-02-28"},
    ]}, "nav": [{"id": 1}]}
    assert [(r.url, r.title, r.date) for r in jsonlist.records(data)] == [
        ("/a/1.html", "关于甲的通知", "2024-03-01"), ("/a/2.html", "关于乙的通知", "2024-02-28")]
    assert jsonlist.total_pages(data, 2) == 7
    assert jsonlist.total_pages({"total": 45, "rows": [{}] * 10}, 10) == 5
    assert jsonlist.parse('jQuery123({"total": 1});') == {"total": 1}
    assert jsonlist.parse("<html></html>") is None


def test_a_json_post_answer_pages_by_the_request_body():
    answer = json.dumps({"data": {"total": 25, "records": [{"title": f"第{i}号文件的公告", "url": f"/d/{i}.html"}
                                                         for i in range(10)]}})
    request = Link("http://gov.test/api/list", LIST, "POST", b'{"pageNo":1,"pageSize":10,"cat":"x"}',
                   (("Content-Type", "application/json"),))
    found = discover(request.url, answer, "application/json", request=request)
    assert [r.url for r in found.records][:2] == ["http://gov.test/d/0.html", "http://gov.test/d/1.html"]
    assert [json.loads(p.body) for p in found.pages] == [{"pageNo": n, "pageSize": 10, "cat": "x"} for n in (2, 3)]
    assert all(p.method == "POST" and p.headers == request.headers for p in found.pages)


def test_an_empty_json_answer_says_so():
    found = discover("http://gov.test/api/all/1?page=1", '{"total": 0, "articles": []}', "application/json")
    assert found.records == [] and found.pages == [] and found.handlers == ["empty-column"]


@pytest.mark.parametrize(("code", "template"), [
    ("$.each(res.data.list, function (i, item) { html += '<li><a href=\"detail.html?id=' + item.id + '\">' + "
     "item.title + '</a></li>'; });", "detail.html?id={id}"),
    ("var url = \"/content/\" + row.docId + \".html\";", "/content/{docId}.html"),
    ("el.innerHTML = rows.map(r => `<a href=\"/art/${r.id}.html\">${r.title}</a>`).join('');", "/art/{id}.html"),
    ("function show(id) { location.href = 'show.asp?id=' + id; }", "show.asp?id={id}"),
    ("h += '<li onclick=\"view(' + d.infoId + ')\">' + d.title + '</li>';\n"
     "function view(k) { window.open('/xxgk/' + encodeURIComponent(k) + '.shtml'); }", "/xxgk/{infoId}.shtml"),
    ("h += `<a href=\"javascript:openDoc('${r.docId}')\">`; function openDoc(id) { top.location = '/d/' + id; }",
     "/d/{docId}"),
])
def test_record_url_templates_are_read_from_the_code_that_renders_the_list(code, template):
    assert Scripts([code]).record_templates()[0] == template


def test_strings_that_are_no_links_give_no_template():
    code = "$('#pager').html('共' + res.total + '页'); title = item.name + ' ' + item.date; a = '#p=' + res.page;"
    assert Scripts([code]).record_templates() == []


def test_json_records_of_ids_get_the_template_the_list_page_carries():
    data = {"data": {"total": 2, "list": [{"id": "8800", "title": "关于某事的通知", "pubDate": "2024-03-01"},
                                          {"id": 8801, "title": "关于另一事的公告", "pubDate": "2024-03-02"}]}}
    request = Link("http://gov.test/api/list?pageNo=1", LIST, record_urls=("http://gov.test/zwgk/detail.html?id={id}",))
    found = discover(request.url, json.dumps(data), "application/json", request=request)
    assert [(r.url, r.title, r.date) for r in found.records] == [
        ("http://gov.test/zwgk/detail.html?id=8800", "关于某事的通知", "2024-03-01"),
        ("http://gov.test/zwgk/detail.html?id=8801", "关于另一事的公告", "2024-03-02")]
    without = discover(request.url, json.dumps(data), "application/json", request=Link(request.url, LIST))
    assert without.records == [] and "records-without-urls" in without.handlers


def test_a_list_page_hands_its_record_template_to_the_endpoint_it_calls():
    html = ("<html><body><ul id='list'></ul><script>function load(p) { $.getJSON('/api/list', {pageNo: p}, "
            "function (res) { var h = ''; res.data.forEach(function (r) { h += '<li><a href=\"../art/' + r.id + "
            "'.html\">' + r.title + '</a></li>'; }); $('#list').html(h); }); }\nload(1);</script></body></html>")
    found = discover("http://gov.test/zwgk/tzgg/index.html", html)
    [call] = found.pages
    assert call.url == "http://gov.test/api/list?pageNo=1"
    assert call.record_urls == ("http://gov.test/zwgk/art/{id}.html",)


@pytest.mark.parametrize(("html", "template"), [
    ("<ul id='app'><li v-for='item in list'><a :href=\"'detail.html?id=' + item.id\">{{ item.title }}</a></li></ul>",
     "detail.html?id={id}"),
    ("<script type='text/html' id='tpl'>{{each list}}<li><a href='/art/{{$value.id}}.html'>{{$value.title}}</a></li>"
     "{{/each}}</script>", "/art/{id}.html"),
    ("<script type='text/template'><% _.each(rows, function (r) { %><a href='show.asp?id=<%= r.infoid %>'><%- r.title %>"
     "</a><% }) %></script>", "show.asp?id={infoid}"),
])
def test_record_url_templates_are_read_from_the_page_templates_that_bind_them(html, template):
    assert Scripts.of(Selector(text=html)).record_templates() == [template]


def test_a_template_is_filled_from_the_record_or_not_at_all():
    assert jsonlist.fill("/art/{id}.html", {"id": 8800}) == "/art/8800.html"
    assert jsonlist.fill("/c/{docId}.html", {"DOCID": "a1"}) == "/c/a1.html"  # a field named in another case
    assert jsonlist.fill("/art/{id}.html", {"id": ""}) is None
    assert jsonlist.fill("/art/{id}.html", {"ID": True, "title": "x"}) is None


def test_json_field_names_are_matched_whatever_their_case():
    data = {"total": 1, "data": [{"DOCTITLE": "关于某事的通知", "DOCPUBURL": "/art/2024/1.html",
                                  "DOCRELTIME": "2024-03-01 09:00:00"}]}
    [record] = jsonlist.records(data)
    assert (record.url, record.title, record.date) == ("/art/2024/1.html", "关于某事的通知", "2024-03-01 09:00:00")
