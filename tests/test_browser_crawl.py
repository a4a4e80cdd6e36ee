"""The browser path (crawler/browser) end to end: the platforms portal's single-page app rendered by
Debian's chromium, its every exchange in the WARC, its client-side pager followed; and the failures that
say so when no browser can render it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.store import Store
from fixtures.platforms import EXPECTED_DOCUMENTS, NEEDS_BROWSER
from fixtures.platforms.server import start_site
from tests.clirun import FAST, govarchive, sqlite_url

pytestmark = pytest.mark.timeout(180)
SHELL_PATH = "/spa/index.html"
INSTALL = "install Debian's chromium package"

# Ids the database gave (a report's, its document's): another database numbers them in its own order.
DB_IDS = ("id", "document_id")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(workdir: Path, urls: list[str], *settings: str):
    args = [a for s in settings for a in ("-s", s)]
    return govarchive("crawl", *urls, "--db", sqlite_url(workdir), "--warc-dir", str(workdir / "warc"), *FAST, *args,
                      cwd=workdir)


def records(warc_dir: Path) -> list[dict]:
    found = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("request", "response", "revisit"):
                    headers = record.rec_headers
                    found.append({"type": record.rec_type, "path": path_of(headers.get_header("WARC-Target-URI")),
                                  "date": headers.get_header("WARC-Date"), "id": headers.get_header("WARC-Record-ID"),
                                  "concurrent": headers.get_header("WARC-Concurrent-To"),
                                  "payload": record.content_stream().read()})
    return found


def reports(workdir: Path) -> dict[str, dict]:
    result = govarchive("export", "--db", sqlite_url(workdir), "--format", "jsonl", cwd=workdir)
    assert result.returncode == 0, result.stderr
    return {path_of(r["url"]): r for r in map(json.loads, result.stdout.splitlines())}


def run_summary(workdir: Path) -> tuple[dict, list[dict]]:
    store = Store(sqlite_url(workdir))
    try:
        return store.get_run(1)["summary"], store.failures()
    finally:
        store.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, chromium):
    """The whole portal, GOVARCHIVE_BROWSER at its default (auto)."""
    workdir = tmp_path_factory.mktemp("browser")
    with start_site(port=0) as site:
        result = crawl(workdir, site.start_urls)
        yield workdir, site, result


def test_auto_renders_the_shell_and_every_document_is_one_report(rendered):
    workdir, site, result = rendered
    assert result.returncode == 0, result.stderr
    got = reports(workdir)
    assert set(got) == set(EXPECTED_DOCUMENTS) and NEEDS_BROWSER <= set(got)
    assert {p: r["title"] for p, r in got.items()} == EXPECTED_DOCUMENTS
    summary, failures = run_summary(workdir)
    assert failures == [] and summary["browser_pages"] == 1  # only the shell went to the browser
    # the app's second page exists only behind its client-side pager: the browser clicked it
    assert ("GET", "/spa/api/list?page=2&size=2", 200) in site.requests


def test_every_browser_exchange_is_a_request_response_pair_and_no_rendering_is_archived(rendered):
    workdir, _, _ = rendered
    found = records(workdir / "warc")
    for target in ("/spa/api/list?page=1&size=2", "/spa/api/list?page=2&size=2", "/spa/static/js/app.8c1d.js"):
        [response] = [r for r in found if r["path"] == target and r["type"] == "response"]
        [request] = [r for r in found if r["path"] == target and r["type"] == "request"]
        assert request["concurrent"] == response["id"] and request["date"] == response["date"]
        if "/api/" in target:
            assert json.loads(response["payload"])["data"]["list"]
    shells = [r for r in found if r["path"] == SHELL_PATH and r["type"] == "response"]
    assert shells and all(b'class="list"' not in r["payload"] for r in shells)  # the server's bytes, not the DOM
    warcio = Path(sys.executable).with_name("warcio")
    checked = subprocess.run([str(warcio), "check", *map(str, (workdir / "warc").glob("*.warc.gz"))],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr  # digests and lengths true to the payloads
    check = govarchive("warc", "index", "--warc-dir", str(workdir / "warc"), "-o", str(workdir / "index.cdxj"),
                       cwd=workdir)
    assert check.returncode == 0, check.stderr
    assert "/spa/api/list?page=2" in (workdir / "index.cdxj").read_text()


def test_a_reprocess_of_the_browser_warcs_gives_the_same_reports(rendered, tmp_path):
    workdir, _, _ = rendered
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    result = govarchive("reprocess", str(workdir / "warc"), "--db", sqlite_url(rebuilt), cwd=rebuilt)
    assert result.returncode == 0, result.stderr
    assert "extraction failed" not in result.stdout  # the app's scripts are not failed articles
    original, again = reports(workdir), reports(rebuilt)
    assert set(again) == set(original)
    for path, report in original.items():
        assert {k: v for k, v in again[path].items() if k not in DB_IDS} == {k: v for k, v in report.items() if k not in DB_IDS}


def test_always_renders_every_page_and_recycles_contexts(tmp_path, chromium):
    with start_site(port=0) as site:
        result = crawl(tmp_path, [site.url(SHELL_PATH)], "GOVARCHIVE_BROWSER=always",
                       "GOVARCHIVE_BROWSER_PAGES_PER_CONTEXT=1")
        assert result.returncode == 0, result.stderr
        got = reports(tmp_path)
        assert set(got) == set(NEEDS_BROWSER)
        summary, _ = run_summary(tmp_path)
        assert summary["browser_pages"] == 4 and summary["browser_contexts_recycled"] == 4
        # a report rendered in the browser points at the page's response record: the bytes the server sent
        by_id = {r["id"]: r for r in records(tmp_path / "warc")}
        for path, report in got.items():
            record = by_id[report["warc"]["record_id"]]
            assert record["type"] == "response" and record["path"] == path
            assert record["payload"] == urllib.request.urlopen(site.url(path)).read()


def test_auto_without_chromium_records_a_named_failure(tmp_path):
    with start_site(port=0) as site:
        result = crawl(tmp_path, [site.url(SHELL_PATH)], "GOVARCHIVE_BROWSER_EXECUTABLE=/nonexistent/chromium")
        assert not [t for _, t, _ in site.requests if t.startswith("/spa/static/")]
    assert result.returncode == 1 and "nothing from" in result.stderr, result.stderr  # the start gave nothing
    _, failures = run_summary(tmp_path)
    [failure] = failures
    assert failure["kind"] == "browser" and failure["url"].endswith(SHELL_PATH)
    assert SHELL_PATH in failure["detail"] and INSTALL in failure["detail"] and "/nonexistent/chromium" in failure["detail"]


def test_a_browser_that_will_not_start_is_a_named_failure(tmp_path):
    with start_site(port=0) as site:
        result = crawl(tmp_path, [site.url(SHELL_PATH)], "GOVARCHIVE_BROWSER_EXECUTABLE=/bin/false")
    assert result.returncode == 1 and "nothing from" in result.stderr, result.stderr  # the start gave nothing
    _, failures = run_summary(tmp_path)
    [failure] = failures
    assert failure["kind"] == "browser" and SHELL_PATH in failure["detail"] and INSTALL in failure["detail"]


def test_always_without_chromium_refuses_to_start(tmp_path):
    result = crawl(tmp_path, ["http://127.0.0.1:9/"], "GOVARCHIVE_BROWSER=always",
                   "GOVARCHIVE_BROWSER_EXECUTABLE=/nonexistent/chromium")
    assert result.returncode != 0 and INSTALL in result.stderr
