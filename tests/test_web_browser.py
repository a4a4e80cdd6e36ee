"""A person in a real browser: headless Chromium (Debian's package) driven by Playwright against a
running `govarchive serve`. Searches in Chinese, opens a report, downloads its attachment, opens
the archived original, and checks that the script of a hostile archived page never runs.

Skips when chromium or playwright is missing, except under CI=true, where it must run.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.webarchive import HOSTILE_TITLE, PARAGRAPH, SCRIPT_MARK, build

CHROMIUM = Path("/usr/bin/chromium")
REVISION = "（本文已于2024年3月6日更新：补充了第三条的实施细则。）"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright for Python is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory)


@pytest.fixture(scope="module")
def server(data, tmp_path_factory):
    """`govarchive serve` on a free 127.0.0.1 port, as a user starts it."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    script = Path(sys.executable).with_name("govarchive")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]
    proc = subprocess.Popen(
        [*command, "serve", "--db", data.db_url, "--warc-dir", str(data.warc_dir), "--port", "0",
         "--replay-url", ""],
        cwd=tmp_path_factory.mktemp("serve"), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    line = proc.stderr.readline()
    assert " at http://127.0.0.1:" in line, line
    base = line.split(" at ", 1)[1].split()[0].rstrip("/")
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(base + "/", timeout=5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "govarchive serve never answered"
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    proc.stderr.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    pg = context.new_page()
    pg.dialogs = []  # any alert()/confirm() a script manages to open
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.requested = []
    pg.on("request", lambda r: pg.requested.append(r.url))
    yield pg
    context.close()


def test_search_in_chinese_open_a_report_its_attachment_and_original(page, server, data):
    from archive.store import Store

    with Store(data.db_url) as store:
        rec = store.get_record(data.attachment_id)
        expected_total = len(store.search(rec.report.title, None, 1000))
    r = rec.report
    page.goto(server + "/")
    page.locator(".hero input[name=q]").fill(r.title)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert f"共 {expected_total} 条结果" in page.locator(".total").inner_text()
    assert page.locator("ol.hits mark").first.inner_text() == r.title  # the match is highlighted
    page.locator(f'ol.hits a[href="/reports/{rec.id}"]').click()

    page.wait_for_url(f"{server}/reports/{rec.id}")
    assert page.locator("h1").inner_text() == r.title
    assert page.locator("table.metadata tr", has_text="文号").locator("td").inner_text() == r.metadata.doc_number
    assert REVISION in page.locator(".body").inner_text()  # the current version
    assert page.get_by_text("历史版本（2）").is_visible()

    link = page.locator(".attachments a.attachment").first
    assert link.inner_text() == r.attachments[0].name
    with page.expect_download() as download:
        link.click()
    saved = download.value
    assert hashlib.sha256(Path(saved.path()).read_bytes()).hexdigest() == data.attachment_sha256
    assert saved.suggested_filename.startswith(r.attachments[0].name.split(".")[0])

    page.get_by_text("查看存档原页面").click()
    page.wait_for_url(f"{server}/reports/{rec.id}/original")
    assert REVISION in page.locator("body").inner_text()  # the archived page itself, as the site served it
    assert not page.dialogs


def test_a_script_in_an_archived_page_never_runs(page, server, data):
    page.goto(server + "/")
    page.locator(".hero input[name=q]").fill("整治工作")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    hit = page.locator("ol.hits h3 a").first
    assert hit.inner_text() == HOSTILE_TITLE  # markup in a title is shown as text
    hit.click()

    page.wait_for_url(f"{server}/reports/{data.hostile_id}")
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    body = page.locator(".body")
    assert "文中写道：<b>不是粗体</b>" in body.inner_text()
    assert body.locator("b, script, iframe, form, img").count() == 0
    assert SCRIPT_MARK not in page.title() and page.locator("#pwned").count() == 0

    page.get_by_text("查看存档原页面").click()
    page.wait_for_url(f"{server}/reports/{data.hostile_id}/original")
    assert PARAGRAPH in page.locator("body").inner_text()  # the archived page is shown ...
    assert page.title() == "hostile"  # ... but neither its <script> nor its onerror= set the title
    assert page.locator("#pwned").count() == 0  # nor did its inline script add a paragraph
    page.locator("img").first.dispatch_event("error")
    page.locator("p").first.click()  # onclick= would set the title
    assert page.title() == "hostile"
    assert not page.dialogs
    elsewhere = [u for u in page.requested if not u.startswith(server)]
    assert elsewhere == []  # the archived page's iframe and image fetched nothing


def test_the_interface_itself_runs_no_script_and_needs_none(page, server):
    page.goto(server + "/search?q=通知")
    assert page.locator("script").count() == 0
    page.locator("nav.pager a[rel=next]").click()  # paging is plain links
    assert "第 2 / " in page.locator(".total").inner_text()
    page.locator(".facet[data-facet=column] a").first.click()  # and so are facets
    assert "栏目：" in page.locator(".active").inner_text()
