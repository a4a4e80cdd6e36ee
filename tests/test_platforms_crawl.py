"""The third fixture portal (fixtures/platforms: gkmlpt JSON API, ASP window.open rows, a list in an
iframe, Hanweb's $.post 信息公开 module, <base href>, a last page of two, a single-document column, an empty
column), crawled with nothing but its column URLs, as a user would, on the static path
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
    workdir, _, result, _ = crawled
    assert result.returncode == 0, result.stderr
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
        assert {k: v for k, v in again[url].items() if k != "id"} == {k: v for k, v in report.items() if k != "id"}
