"""The third fixture portal (fixtures/platforms: gkmlpt JSON API, ASP window.open rows, a list in an
iframe, Hanweb's $.post 信息公开 module, <base href>, a last page of two, a single-document column, an empty
column, JSON lists of ids whose links the page's script builds), crawled with nothing but its column URLs, as a user would, on the static path
(GOVARCHIVE_BROWSER=never; the browser path is tests/test_browser_crawl.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.store import Store
from fixtures.platforms import EXPECTED_DOCUMENTS, NEEDS_BROWSER
from fixtures.platforms.server import start_site
from tests.clirun import FAST, govarchive, sqlite_url

pytestmark = pytest.mark.timeout(300)

# Ids the database gave (a report's, its document's): another database numbers them in its own order.
DB_IDS = ("id", "document_id")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def export(db: str, cwd: Path) -> dict[str, dict]:
    result = govarchive("export", "--db", db, "--format", "jsonl", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {r["url"]: r for r in map(json.loads, result.stdout.splitlines())}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("platforms")
    with start_site(port=0) as site:
        result = govarchive("crawl", *site.start_urls, "--db", sqlite_url(workdir), "--warc-dir",
                            str(workdir / "warc"), *FAST, "-s", "GOVARCHIVE_BROWSER=never", cwd=workdir)
        yield workdir, site, result, site.posts


def test_every_static_document_of_every_platform_is_one_report(crawled):
    workdir, site, result, _ = crawled
    # every column gave its documents but the app shell, which needs a browser: named, and exit 1
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: nothing from {site.url('/spa/index.html')}: an app shell whose content only a browser can render")
    reports = export(sqlite_url(workdir), workdir)
    expected = {p: t for p, t in EXPECTED_DOCUMENTS.items() if p not in NEEDS_BROWSER}
    got = {path_of(u): r for u, r in reports.items()}
    assert set(got) == set(expected)  # every document once: no list, print version or shell as a report
    assert {p: r["title"] for p, r in got.items()} == expected


def test_never_leaves_the_app_shell_to_the_static_reader_and_starts_no_browser(crawled):
    workdir, site, _, _ = crawled
    assert not [target for _, target, _ in site.requests if target.startswith("/spa/static/")]  # no bundle ran
    store = Store(sqlite_url(workdir))
    try:
        assert [f for f in store.failures() if f["kind"] == "browser"] == []
        assert store.get_run(1)["summary"]["browser_pages"] == 0
    finally:
        store.close()


def test_gkmlpt_articles_come_from_their_embedded_document(crawled):
    workdir, _, _, _ = crawled
    gkmlpt = [r for u, r in export(sqlite_url(workdir), workdir).items() if "/gkmlpt/content/" in u]
    assert gkmlpt and all(len(r["body_text"]) > 100 for r in gkmlpt)
    assert all("网站标识码" not in r["body_text"] for r in gkmlpt)


def test_post_endpoints_were_called_and_archived_with_their_bodies(crawled):
    workdir, _, _, posts = crawled
    assert posts, "the $.post list endpoint was never called"
    archived = []
    for path in (workdir / "warc").glob("*.warc.gz"):
        with gzip.open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "request" and record.http_headers.protocol == "POST":
                    archived.append((path_of(record.rec_headers.get_header("WARC-Target-URI")),
                                     record.content_stream().read()))
    assert {target for target, _ in posts} <= {target for target, _ in archived}
    assert all(body for _, body in archived)


def test_a_reprocess_of_the_platform_warcs_gives_the_same_reports(crawled, tmp_path):
    workdir, _, _, _ = crawled
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    result = govarchive("reprocess", str(workdir / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    original, again = export(sqlite_url(workdir), workdir), export(rebuilt, tmp_path)
    assert set(again) == set(original)
    for url, report in original.items():
        assert {k: v for k, v in again[url].items() if k not in DB_IDS} == {k: v for k, v in report.items() if k not in DB_IDS}


def test_a_start_url_that_yields_nothing_says_where_and_why(crawled):
    import sqlite3

    workdir, site, result, _ = crawled
    (summary,) = [json.loads(row[0]) for row in sqlite3.connect(workdir / "govarchive.db").execute(
        "select summary from crawl_runs")]
    silent = {s["url"]: s["problem"] for s in summary["silent_starts"]}
    assert list(silent) == [site.url("/spa/index.html")]  # the app shell; the empty column is no problem
    assert f"nothing from {site.url('/spa/index.html')}" in result.stderr
    starts = {s["url"]: s for s in summary["starts"]}
    assert "empty-column" in starts[site.url("/zwgk/yjgl/index.html")]["notes"]
    assert all(s["reports"] > 0 for url, s in starts.items() if url not in silent and "yjgl" not in url)


def test_crawl_explain_from_the_command_line(tmp_path):
    with start_site(port=0) as site:
        result = govarchive("crawl", "--explain", site.url("/zwgk/list.asp?ClassID=5"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "kind: list  (dated-items, pagination)" and "records: 5" in lines
    assert not list(tmp_path.iterdir())  # nothing crawled, nothing created


def test_explain_shows_what_the_crawler_sees_on_one_page():
    from crawler.explain import explain, fetch

    with start_site(port=0) as site:
        reading, lines = explain(fetch(site.url("/col/col2201/index.html"), "govarchive-test"))
        assert reading.kind == "list" and "found by: script-endpoint" in lines
        assert any("/module/xxgk/search.jsp" in line and "POST infotypeId=" in line for line in lines)
        reading, lines = explain(fetch(site.url("/zwgk/zcjd/index.html"), "govarchive-test"))
        assert any("/zwgk/zcjd/api/list?columnId=3301&pageNo=1" in line
                   and f"records at {site.url('/zwgk/zcjd/detail.html?id={id}')}" in line for line in lines)
        reading, lines = explain(fetch(site.url("/spa/index.html"), "govarchive-test"))
        assert reading.kind == "other" and "why: an app shell: only a browser can render it" in lines


def test_a_profile_declares_a_json_endpoint_zero_config_cannot_know(tmp_path):
    """A profile names the list API, the path to its records and their URL field; the crawl pages it
    by the total the first answer states."""
    profile = tmp_path / "lanxi.yaml"
    profile.write_text(
        "name: lanxi\n"
        "start_urls: [/zwgk/yjgl/index.html]\n"  # an empty column: the documents come from the endpoint alone
        "endpoints:\n"
        "  - url: /gkmlpt/api/all/1011?page={page}&sid=7701\n"
        "    records: articles\n"
        "    url_field: url\n"
        "    title: title\n"
        "    column: 市政府文件\n", encoding="utf-8")
    with start_site(port=0) as site:
        result = govarchive("crawl", "--site", str(profile), "--base-url", site.base, "--db", sqlite_url(tmp_path),
                            "--warc-dir", str(tmp_path / "warc"), *FAST, cwd=tmp_path)
        api_pages = [t for _, t, _ in site.requests if t.startswith("/gkmlpt/api/all/1011")]
    assert result.returncode == 0, result.stderr
    reports = export(sqlite_url(tmp_path), tmp_path)
    assert len(api_pages) >= 2 and len(set(api_pages)) == len(api_pages)  # every page once, by the stated total
    assert reports and all("/gkmlpt/content/" in url for url in reports)
    expected = {p: t for p, t in EXPECTED_DOCUMENTS.items() if p.startswith("/gkmlpt/content/")}
    assert {path_of(u): r["title"] for u, r in reports.items()}.items() <= expected.items()


@pytest.mark.parametrize(("entry", "words"), [
    ("  - url: /api/list\n    records: data\n", "put {page} where the page number goes"),
    ("  - url: /api/list?p={page}\n    method: PUT\n    records: data\n", "GET or POST"),
    ("  - url: /api/list?p={page}\n    body: a=1\n    records: data\n", "only a POST endpoint has a body"),
    ("  - url: /api/list?p={page}\n", "records: expected a non-empty string"),
])
def test_a_bad_endpoint_declaration_is_a_clear_error(tmp_path, entry, words):
    profile = tmp_path / "bad.yaml"
    profile.write_text(f"name: bad\nbase_url: http://127.0.0.1:1/\nstart_urls: [/a/]\nendpoints:\n{entry}",
                       encoding="utf-8")
    result = govarchive("crawl", "--site", str(profile), cwd=tmp_path)
    assert result.returncode == 1 and words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_declared_post_endpoints_send_their_form_body():
    from archive.endpoints import Endpoint, endpoint_link, read_endpoint

    endpoint = Endpoint(url="http://gov.test/api/list", records="data.rows", record_url="/art/{id}.html",
                        method="POST", body="col=5&pageNo={page}", pages=3, title="name")
    link = endpoint_link(endpoint, 2)
    assert (link.method, link.body) == ("POST", b"col=5&pageNo=2") and dict(link.headers)["Content-Type"].startswith(
        "application/x-www-form-urlencoded")
    found = read_endpoint(endpoint, 1, link.url, '{"data": {"rows": [{"id": 7, "name": "关于某事的通知"}, {"x": 1}]}}')
    assert [(r.url, r.title) for r in found.records] == [("http://gov.test/art/7.html", "关于某事的通知")]
    assert [p.body for p in found.pages] == [b"col=5&pageNo=2", b"col=5&pageNo=3"]


def test_records_that_carry_only_an_id_get_the_link_the_page_script_builds(crawled):
    """A JSON list of ids (`{data: {list: [{id, title, pubDate}]}}`, `{rows: [{docId, …}]}`): each record's
    URL is the one the list page's own script renders (`'detail.html?id=' + item.id`, a template string
    calling `openDoc(id)`, which sets location.href); every page of the endpoint is read and archived."""
    workdir, site, _, _ = crawled
    got = {path_of(u) for u in export(sqlite_url(workdir), workdir)}
    for column in ("zcjd", "wjk"):
        documents = {d.path for d in site.columns[column].documents}
        assert documents <= got, column
    archived = set()
    for path in (workdir / "warc").glob("*.warc.gz"):
        with gzip.open(path, "rb") as fh:
            archived |= {path_of(r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(fh)
                         if r.rec_type == "response"}
    assert {"/zwgk/zcjd/api/list?columnId=3301&pageNo=3&pageSize=4", "/zfxxgk/wjk/api/rows?page=2&rows=4"} <= archived


def test_a_list_of_ids_whose_links_no_script_builds_is_named_in_the_summary(tmp_path):
    from fixtures.platforms.content import UNLINKED_START

    with start_site(port=0) as site:
        result = govarchive("crawl", site.url(UNLINKED_START), "--db", sqlite_url(tmp_path), "--warc-dir",
                            str(tmp_path / "warc"), *FAST, "-s", "GOVARCHIVE_BROWSER=never", cwd=tmp_path)
        assert ("GET", "/zwgk/rsxx/api/list?page=1", 200) in site.requests  # its endpoint was read
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: nothing from {site.url(UNLINKED_START)}: its list endpoint's records carry only ids, and no script "
        "of the page builds their links (declare the detail URL as a template, url_field: /…/{id}.html, in a site "
        "profile)")
