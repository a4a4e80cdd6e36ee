"""The web interface (`govarchive serve`) through FastAPI's test client: every route as a reader or
a program uses it, what the pages show, the headers that keep archived content harmless, 404s,
hostile queries and a hostile archived page."""

from __future__ import annotations

import hashlib
import http.server
import threading
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from archive.store import open_existing_store
from archive.warc.reader import iter_responses
from archive.web.app import create_app
from tests.webarchive import HOSTILE_PDF, HOSTILE_TITLE, HOSTILE_URL, PARAGRAPH, SCRIPT_MARK, build

ATOM = "{http://www.w3.org/2005/Atom}"
REVISION = "（本文已于2024年3月6日更新：补充了第三条的实施细则。）"  # what fixtures.site's revise() adds


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory)


@pytest.fixture(scope="module")
def store(data):
    s = open_existing_store(data.db_url)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(data, store):
    with TestClient(create_app(store, data.warc_dir, replay_url=None)) as c:
        yield c


def sql(data, query: str, **params) -> list:
    engine = create_engine(data.db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params))
    finally:
        engine.dispose()


def api_ids(client, q: str, size: int = 7, **filters: str) -> list[int]:
    ids, page = [], 1
    while True:
        body = client.get("/api/search", params={"q": q, "size": size, "page": page, **filters}).json()
        ids += [r["id"] for r in body["results"]]
        if len(body["results"]) < size:
            return ids
        page += 1


# --- the overview -------------------------------------------------------------------------------


def test_home_shows_search_box_sites_columns_counts_and_last_crawl(client, data):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<form action="/search" method="get"' in html and 'name="q"' in html
    total = sql(data, "SELECT count(*) FROM reports")[0][0]
    assert f"{total:,} 篇报告" in html
    for column, n in sql(data, "SELECT \"column\", count(*) FROM reports WHERE site = '127.0.0.1' GROUP BY 1"):
        assert f">{column}</a> <span class=\"count\">{n}</span>" in html
    last_run = sql(data, "SELECT max(id) FROM crawl_runs WHERE start_urls LIKE '%127.0.0.1%'")[0][0]
    assert f"第 {last_run} 次" in html  # the second crawl, not the first
    assert "hostile.example.gov.cn" in html and "1 篇已撤销" in html
    assert 'href="/feeds/127.0.0.1.atom"' in html


# --- search ---------------------------------------------------------------------------------------


def test_search_in_chinese_shows_total_highlighted_hits_and_facets(client, store):
    expected = store.search("年度报告", None, 1000)
    page = client.get("/search", params={"q": "年度报告"})
    assert page.status_code == 200
    html = page.text
    assert f"共 <strong>{len(expected)}</strong> 条结果" in html
    assert "<mark>年度报告</mark>" in html
    assert f'href="/reports/{expected[0].id}"' in html
    for label in ("站点", "栏目", "发布机构", "年份", "状态"):
        assert f"<h2>{label}</h2>" in html
    facets = client.get("/api/search", params={"q": "年度报告"}).json()["facets"]
    for dim in ("site", "column", "issuer", "year", "withdrawn"):
        assert sum(v["count"] for v in facets[dim]) == len(expected), dim


def test_a_total_beyond_the_count_cap_is_shown_as_more_than(client, store, monkeypatch):
    from archive.store import browse

    monkeypatch.setattr(browse, "COUNT_CAP", 3)
    assert len(store.search("通知", None, 1000)) > 3
    html = client.get("/search", params={"q": "通知"}).text
    assert "超过 <strong>3</strong> 条结果" in html and "共 <strong>" not in html
    body = client.get("/api/search", params={"q": "通知"}).json()
    assert body["total"] == 3 and body["total_capped"] is True
    exact = client.get("/api/search", params={"q": "不是粗体"}).json()
    assert exact["total"] == 1 and exact["total_capped"] is False


def test_pages_list_exactly_what_govarchive_search_lists(client, store):
    for q in ("通知", "财政", "关于 -通知", "养老 OR 医疗", '"政府信息公开"'):
        assert api_ids(client, q) == [h.id for h in store.search(q, None, 1000)], q
    second = client.get("/search", params={"q": "通知", "page": 2}).text
    assert '<ol class="hits" start="21">' in second and "第 2 / " in second
    assert 'rel="prev" href="/search?q=%E9%80%9A%E7%9F%A5"' in second


def test_filters_narrow_the_results(client, data):
    column = sql(data, "SELECT \"column\" FROM reports WHERE site = '127.0.0.1' GROUP BY 1 ORDER BY count(*) DESC")[0][0]
    body = client.get("/api/search", params={"q": "通知", "column": column, "size": 100}).json()
    assert body["total"] == len(body["results"]) > 0 and {r["column"] for r in body["results"]} == {column}
    withdrawn = client.get("/api/search", params={"withdrawn": "true"}).json()
    assert [r["id"] for r in withdrawn["results"]] == [data.withdrawn_id]
    assert client.get("/api/search", params={"since": "2024-03", "until": "2024-03-31"}).json()["results"][0][
        "id"
    ] == data.hostile_id
    assert client.get("/api/search", params={"q": "通知", "since": "2030"}).json()["total"] == 0
    html = client.get("/search", params={"q": "通知", "column": column}).text
    assert f"栏目：{column} ✕" in html  # the active filter, with a link that removes it
    assert 'href="/search?q=%E9%80%9A%E7%9F%A5"' in html


def test_facet_links_lead_to_filtered_results(client):
    html = client.get("/search", params={"q": "年度报告"}).text
    year_link = '/search?q=%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A&amp;since=2024&amp;until=2024'
    assert year_link in html
    assert client.get(year_link.replace("&amp;", "&")).status_code == 200


def test_search_without_words_lists_reports_newest_first(client, data):
    body = client.get("/api/search", params={"site": "hostile.example.gov.cn"}).json()
    assert body["total"] == 1 and body["results"][0]["id"] == data.hostile_id
    html = client.get("/search").text
    total = sql(data, "SELECT count(*) FROM reports")[0][0]
    assert f"共 <strong>{total}</strong> 条结果" in html


HOSTILE_QUERIES = [
    "'; DROP TABLE reports; --",
    '<script>alert("q")</script>',
    '"><img src=x onerror=alert(1)>',
    '"unbalanced 通知',
    "((((通知",
    "通知 OR",
    "NOT",
    "-通知",
    "report_fts MATCH '*'",
    "% _ \\",
    "通知" * 600,
]


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_hostile_queries_are_harmless(client, data, q):
    before = sql(data, "SELECT count(*) FROM reports")[0][0]
    page = client.get("/search", params={"q": q})
    assert page.status_code in (200, 400)
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "Traceback" not in page.text
    if page.status_code == 400:
        assert "无法搜索" in page.text
    api = client.get("/api/search", params={"q": q})
    assert api.status_code == page.status_code
    assert ("error" in api.json()) == (api.status_code == 400)
    assert sql(data, "SELECT count(*) FROM reports")[0][0] == before


def test_hostile_filter_values_match_literally(client):
    assert client.get("/api/search", params={"issuer": "%"}).json()["total"] == 0
    assert client.get("/api/search", params={"site": "' OR 1=1 --"}).json()["total"] == 0
    html = client.get("/search", params={"column": "<b>x</b>"}).text
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "abc"}, "page must be a whole number"),
        ({"page": "0"}, "page must be between 1"),
        ({"since": "yesterday"}, "not a date"),
        ({"withdrawn": "maybe"}, "withdrawn must be true or false"),
        ({"q": "x" * 1001}, "the limit is 1000"),
    ],
)
def test_bad_parameters_say_what_is_wrong(client, params, message):
    page = client.get("/search", params=params)
    assert page.status_code == 400 and message in page.text
    api = client.get("/api/search", params=params)
    assert api.status_code == 400 and message in api.json()["error"]


# --- a report -------------------------------------------------------------------------------------


def test_report_page_shows_the_report(client, store, data):
    rec = store.get_record(data.attachment_id)
    r = rec.report
    page = client.get(f"/reports/{rec.id}")
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{r.title}</h1>" in html
    assert r.publish_time[:10] in html and r.source in html
    assert "<caption>信息公开</caption>" in html and f"<td>{r.metadata.doc_number}</td>" in html
    assert "<th scope=\"row\">文号</th>" in html
    assert REVISION in html  # the current (second) version's body
    assert f'href="/reports/{rec.id}/attachments/1"' in html and r.attachments[0].name in html
    assert f'href="/reports/{rec.id}/versions">历史版本（2）' in html
    assert f'href="/reports/{rec.id}/original"' in html
    assert "已撤销" not in html


def test_withdrawn_report_has_a_badge_with_the_date(client, store, data):
    rec = store.get_record(data.withdrawn_id)
    html = client.get(f"/reports/{rec.id}").text
    assert rec.withdrawn and f"已撤销 · withdrawn — {rec.withdrawn_at[:10]}" in html
    assert "HTTP 404" in html or "http 404" in html.lower()


@pytest.mark.parametrize(
    "path",
    ["/reports/999999", "/reports/abc", "/reports/99999999999999999999999999", "/reports/-1",
     "/reports/999999/versions", "/reports/999999/original", "/reports/999999/attachments/1", "/no/such/page"],
)
def test_unknown_addresses_are_404_pages(client, path):
    page = client.get(path)
    assert page.status_code == 404 and "未找到" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_hostile_page_is_escaped_and_stripped_in_the_report_page(client, data):
    page = client.get(f"/reports/{data.hostile_id}")
    assert page.status_code == 200
    html = page.text
    assert "关于&lt;script&gt;alert(&#34;标题&#34;)&lt;/script&gt;整治工作的通知" in html
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", 'method="post"', "<img", SCRIPT_MARK):
        assert bad not in html, bad
    assert "文中写道：&lt;b&gt;不是粗体&lt;/b&gt;" in html  # text that looks like markup stays text
    assert PARAGRAPH in html and ">恶意链接</a>" in html
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script at all


# --- archived bytes -------------------------------------------------------------------------------


def test_original_is_the_archived_page_under_a_sandbox(client, data):
    from tests.webarchive import HOSTILE_HTML

    page = client.get(f"/reports/{data.hostile_id}/original")
    assert page.status_code == 200
    assert page.content == HOSTILE_HTML.encode()  # exactly as archived, script included ...
    csp = page.headers["content-security-policy"]
    assert csp.split(";")[0].strip() == "sandbox" and "default-src 'none'" in csp  # ... and it cannot run
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in page.headers  # the site's own headers stay in the archive
    assert page.headers["x-archived-url"] == HOSTILE_URL


def test_original_of_each_version_is_its_own_capture(client, store, data):
    url = store.get_record(data.revised_id).report.url
    archived = [r.payload for r in iter_responses([data.warc_dir]) if r.url == url and r.status == 200]
    first = client.get(f"/reports/{data.revised_id}/original", params={"version": 1})
    current = client.get(f"/reports/{data.revised_id}/original")
    assert first.content == archived[0] and current.content == archived[-1]
    assert REVISION.encode() not in first.content and REVISION.encode() in current.content
    assert client.get(f"/reports/{data.revised_id}/original", params={"version": 7}).status_code == 404


def test_attachment_downloads_its_archived_bytes(client, store, data):
    rec = store.get_record(data.attachment_id)
    response = client.get(f"/reports/{rec.id}/attachments/1")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == data.attachment_sha256
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and quote(rec.report.attachments[0].name, safe="") in disposition
    assert response.headers["content-security-policy"].startswith("sandbox")
    hostile = client.get(f"/reports/{data.hostile_id}/attachments/1")
    assert hostile.content == HOSTILE_PDF and hostile.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E9%99%84%E4%BB%B61%EF%BC%9A" in hostile.headers["content-disposition"]


@pytest.mark.parametrize("n", ["0", "99", "abc", "-1"])
def test_unknown_attachment_is_404(client, data, n):
    page = client.get(f"/reports/{data.attachment_id}/attachments/{n}")
    assert page.status_code == 404 and "no attachment" in page.text


def test_without_the_warc_files_originals_are_404_with_the_reason(store, data):
    with TestClient(create_app(store, None)) as c:
        page = c.get(f"/reports/{data.hostile_id}/original")
        assert page.status_code == 404 and "without a WARC directory" in page.text
        assert "查看存档原页面" not in c.get(f"/reports/{data.hostile_id}").text


# --- versions -------------------------------------------------------------------------------------


def test_versions_page_lists_versions_and_a_readable_diff(client, data):
    html = client.get(f"/reports/{data.revised_id}/versions").text
    assert "2 个版本" in html
    assert f'href="/reports/{data.revised_id}/original?version=1"' in html
    assert "第 1 版 → 第 2 版" in html
    added = [line for line in html.splitlines() if line.startswith('<span class="add">+')]
    assert any(REVISION in line for line in added), added
    same = client.get(f"/reports/{data.revised_id}/versions", params={"v1": 1, "v2": 1}).text
    assert "no differences" in same
    bad = client.get(f"/reports/{data.revised_id}/versions", params={"v1": 9, "v2": 1})
    assert bad.status_code == 400 and "versions [1, 2]" in bad.text
    single = client.get(f"/reports/{data.hostile_id}/versions").text
    assert "只有一个版本" in single


# --- feeds ----------------------------------------------------------------------------------------


def feed(client, path: str, **params) -> ET.Element:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def test_site_feed_has_new_changed_and_withdrawn_reports(client, store, data):
    root = feed(client, "/feeds/127.0.0.1.atom")
    entries = root.findall(f"{ATOM}entry")
    kinds = {}
    for e in entries:
        report = e.find(f"{ATOM}link[@rel='alternate']").get("href").rsplit("/", 1)[1]
        kinds.setdefault(int(report), set()).add(e.find(f"{ATOM}category").get("term"))
    assert "changed" in kinds[data.revised_id]
    assert "withdrawn" in kinds[data.withdrawn_id]
    assert any(k == {"new"} for k in kinds.values())
    assert all(e.find(f"{ATOM}updated").text for e in entries)
    assert root.find(f"{ATOM}link[@rel='self']") is not None


def test_feed_per_column_and_issuer(client, store, data):
    r = store.get_record(data.revised_id).report
    root = feed(client, "/feeds/127.0.0.1.atom", column=r.column)
    terms = {c.get("term") for e in root.findall(f"{ATOM}entry") for c in e.findall(f"{ATOM}category")[1:]}
    assert terms == {r.column}
    by_issuer = feed(client, "/feeds/127.0.0.1.atom", issuer=r.metadata.issuer)
    assert {a.text for a in by_issuer.iter(f"{ATOM}name")} - {"govarchive"} == {r.metadata.issuer}


def test_feed_escapes_hostile_titles_and_unknown_site_is_404(client):
    root = feed(client, "/feeds/hostile.example.gov.cn.atom")
    assert root.find(f"{ATOM}entry/{ATOM}title").text == HOSTILE_TITLE
    assert client.get("/feeds/no.such.site.atom").status_code == 404


# --- the JSON API ---------------------------------------------------------------------------------


def test_api_search_mirrors_the_page(client, store):
    body = client.get("/api/search", params={"q": "财政", "size": 5}).json()
    assert body["total"] == len(store.search("财政", None, 1000)) and body["page"] == 1 and body["size"] == 5
    hit = body["results"][0]
    assert {"id", "url", "title", "publish_time", "site", "column", "snippet", "snippet_text", "marks"} <= set(hit)
    assert "<mark>财政</mark>" in hit["snippet"] and hit["report"] == f"/reports/{hit['id']}"


def test_api_snippets_are_safe_to_insert_as_html(client, data):
    [hit] = client.get("/api/search", params={"q": "不是粗体"}).json()["results"]
    assert hit["id"] == data.hostile_id
    assert "&lt;b&gt;<mark>不是粗体</mark>&lt;/b&gt;" in hit["snippet"]
    assert "<b>不是粗体</b>" in hit["snippet_text"]


def test_api_report(client, store, data):
    body = client.get(f"/api/reports/{data.attachment_id}").json()
    rec = store.get_record(data.attachment_id)
    assert body["title"] == rec.report.title and body["id"] == rec.id and body["version"] == 2
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["attachments"][0]["download"] == f"/reports/{rec.id}/attachments/1"
    assert body["links"]["original"] == f"/reports/{rec.id}/original"
    missing = client.get("/api/reports/424242")
    assert missing.status_code == 404 and missing.json() == {"error": "no report 424242 in this archive"}


def test_openapi_describes_the_api_and_no_cdn_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/search", "/api/reports/{report_id}", "/feeds/{site}.atom"} <= set(spec["paths"])
    assert "/reports/{report_id}" not in spec["paths"]
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


# --- the server as a whole ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/", "/search?q=x", "/api/search", "/reports/1", "/static/style.css", "/nope"])
def test_nothing_but_get_is_accepted(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/search?q=通知", "/reports/1", "/api/search?q=通知", "/static/style.css",
                                  "/feeds/127.0.0.1.atom", "/openapi.json", "/nope"])
def test_head_answers_as_get_without_a_body(client, path):
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]


def test_head_of_an_archived_original_sends_no_archived_bytes(client, data):
    head = client.head(f"/reports/{data.hostile_id}/original")
    assert head.status_code == 200 and head.content == b"" and "sandbox" in head.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/", "/search?q=通知", "/reports/1", "/api/search?q=通知", "/static/style.css",
                                  "/feeds/127.0.0.1.atom", "/openapi.json", "/nope"])
def test_every_response_carries_a_content_security_policy(client, path):
    response = client.get(path)
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_stylesheet_is_bundled(client):
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "mark" in css.text
    head = client.get("/").text.split("</head>")[0]
    assert '<link rel="stylesheet" href="/static/style.css">' in head
    assert "<script" not in head and "//" not in head  # nothing from elsewhere, no script


def test_requests_for_another_host_are_refused_when_bound_to_loopback(store, data):
    app = create_app(store, data.warc_dir, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"host": "evil.example:8000"}).status_code == 400


@pytest.fixture
def fake_pywb():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/govarchive/"
    server.shutdown()
    server.server_close()


def test_replay_link_appears_while_pywb_answers(store, data, fake_pywb):
    rec = store.get_record(data.hostile_id)
    with TestClient(create_app(store, data.warc_dir, replay_url=fake_pywb)) as c:
        html = c.get(f"/reports/{rec.id}").text
        assert f'href="{fake_pywb}20240301020000/{HOSTILE_URL}"' in html
        link = c.get(f"/reports/{rec.id}/original").headers["link"]
        assert link.startswith(f"<{fake_pywb}20240301020000/") and 'rel="alternate"' in link
    port = int(fake_pywb.split(":")[2].split("/")[0])
    with TestClient(create_app(store, data.warc_dir, replay_url=f"http://127.0.0.1:{port + 1}/govarchive/")) as c:
        assert "pywb" not in c.get(f"/reports/{rec.id}").text


def test_browsing_changes_nothing_in_the_database(client, data):
    def state():
        return sql(data, "SELECT count(*), max(last_seen), sum(withdrawn) FROM reports"), sql(
            data, "SELECT count(*) FROM crawl_runs")

    before = state()
    for path in ("/", "/search?q=通知", f"/reports/{data.revised_id}", f"/reports/{data.revised_id}/original",
                 f"/reports/{data.attachment_id}/attachments/1", "/feeds/127.0.0.1.atom"):
        assert client.get(path).status_code == 200
    assert state() == before
