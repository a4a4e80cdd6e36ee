"""End to end: `govarchive crawl` in a subprocess against the fixture site, then the database, the WARC
files and the site's request log say what happened (issue 2, "Tests")."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from warcio.archiveiterator import ArchiveIterator

from tests.clirun import FAST, command, govarchive, sql_rows

pytestmark = pytest.mark.timeout(300)



def crawl(site, workdir: Path, *extra: str, **kw: object) -> subprocess.CompletedProcess:
    return govarchive("crawl", *site.start_urls, "--db", db_url(workdir), "--warc-dir", str(workdir / "warc"),
                      *FAST, *extra, cwd=workdir, **kw)


def db_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'govarchive.db'}"


def query(workdir: Path, sql: str) -> list:
    return sql_rows(db_url(workdir), sql)


def runs(workdir: Path) -> list[dict]:
    rows = query(workdir, "SELECT id, summary FROM crawl_runs ORDER BY id")
    return [{"id": row[0], **json.loads(row[1] or "{}")} for row in rows]


def warc_responses(warc_dir: Path) -> list[tuple[str, int, str]]:
    """(target URI, HTTP status, record type) of every response and revisit record."""
    found = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit") and record.http_headers is not None:
                    status = int(record.http_headers.get_statuscode())
                    found.append((record.rec_headers.get_header("WARC-Target-URI"), status, record.rec_type))
    return found


def fetched(site, since: int = 0) -> list[tuple[str, str, int]]:
    return list(site.requests[since:])


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def first(site, tmp_path_factory):
    """One full crawl of the fixture site; what it printed, and the request log it caused."""
    workdir = tmp_path_factory.mktemp("e2e")
    before = len(site.requests)
    result = crawl(site, workdir)
    return workdir, result, fetched(site, before)


def test_crawl_exits_zero_and_prints_a_summary(first):
    _, result, _ = first
    assert result.returncode == 0, result.stderr[-3000:]
    assert "crawl finished" in result.stderr
    assert "new" in result.stderr and "unchanged" in result.stderr


def test_every_detail_page_is_exactly_one_report(site, first):
    workdir, _, _ = first
    urls = [row[0] for row in query(workdir, "SELECT url FROM reports")]
    assert len(urls) == len(set(urls)), "duplicate reports"
    assert set(urls) == set(site.expected.detail_urls), "list pages stored or detail pages missing"


def test_every_attachment_is_stored_and_linked(site, first):
    workdir, _, _ = first
    from archive.store import Store

    store = Store(db_url(workdir))
    try:
        linked = {}
        for url in site.expected.detail_urls:
            report = store.get_report(url)
            assert report is not None, url
            for attachment in report.attachments:
                linked[attachment.url] = attachment
    finally:
        store.close()
    for url in site.expected.attachment_urls:
        attachment = linked.get(url)
        assert attachment is not None, f"{url} not linked to any report"
        assert attachment.sha256 and len(attachment.sha256) == 64, url
        assert attachment.size and attachment.size > 0, url
        assert attachment.content_type, url
        assert attachment.name, url


def test_disallowed_path_and_trap_were_not_fetched(site, first):
    _, _, log = first
    paths = [path for _, path, _ in log]
    for url in site.expected.disallowed_urls:
        assert path_of(url) not in paths
    assert not [p for p in paths if p.startswith(site.expected.trap_prefix)], "crawler walked into the calendar trap"


def test_robots_txt_holds_for_every_request_waiting_for_it(site, tmp_path):
    """Start URLs all wait for robots.txt at once; a disallowed one among them, however late, is refused
    (Scrapy's own middleware let every waiter but the first through unchecked)."""
    (private,) = site.expected.disallowed_urls
    starts = [*site.start_urls[:3], private, *site.start_urls[3:]]
    before = len(site.requests)
    done = govarchive("crawl", *starts, "--db", db_url(tmp_path), "--warc-dir", str(tmp_path / "warc"), *FAST,
                      cwd=tmp_path)
    assert path_of(private) not in [path for _, path, _ in fetched(site, before)], done.stderr[-2000:]
    assert "Forbidden by robots.txt" in done.stderr
    assert query(tmp_path, f"SELECT url FROM reports WHERE url = '{private}'") == []


def test_503_page_was_retried_and_archived(site, first):
    workdir, _, log = first
    (url,) = site.expected.flaky_urls
    statuses = [status for _, p, status in log if p == path_of(url)]
    assert statuses[:2] == [503, 200]
    captured = {(uri, status) for uri, status, _ in warc_responses(workdir / "warc")}
    assert (url, 503) in captured and (url, 200) in captured
    assert [row[0] for row in query(workdir, "SELECT url FROM reports")].count(url) == 1


def test_404_is_recorded_as_a_failure(site, first):
    workdir, _, _ = first
    failures = query(workdir, "SELECT url, kind FROM failures")
    for url in site.expected.not_found_urls:
        assert (url, "http_404") in [tuple(row) for row in failures]


def test_warc_holds_a_response_for_every_url_fetched(site, first):
    workdir, _, log = first
    captured = {(path_of(uri), status) for uri, status, _ in warc_responses(workdir / "warc")}
    missing = [(path, status) for method, path, status in log if (path, status) not in captured]
    assert not missing, f"fetched but not archived: {missing[:10]}"


def test_crawl_run_row_holds_the_summary(site, first):
    workdir, _, _ = first
    (run,) = runs(workdir)
    assert run["status"] == "finished"
    assert run["reports_new"] == len(site.expected.detail_urls)
    assert run["reports_changed"] == 0
    assert run["attachments"] >= len(site.expected.attachment_urls)
    assert run["failures"].get("http_404", 0) >= 1
    assert run["warc_files"] and run["warc_bytes"] > 0
    assert run["seconds"] > 0
    assert not list((workdir / "warc").glob("*.open")), "WARC left open after a clean finish"


def test_second_crawl_reports_nothing_new(site, first):
    workdir, _, _ = first
    result = crawl(site, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    second = runs(workdir)[-1]
    assert second["reports_new"] == 0
    assert second["reports_changed"] == 0
    assert second["reports_unchanged"] == len(site.expected.detail_urls)
    assert "0 new" in result.stderr


def test_unreachable_site_fails_with_a_clear_message(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the crawl: nobody listens
    result = govarchive("crawl", f"http://127.0.0.1:{port}/xxgk/", "--db", db_url(tmp_path),
                        "--warc-dir", str(tmp_path / "warc"), *FAST, "-s", "RETRY_TIMES=0", cwd=tmp_path)
    assert result.returncode != 0
    assert "could not crawl" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    (run,) = runs(tmp_path)
    assert run["status"] == "failed"


def test_no_url_and_no_site_is_a_usage_error(tmp_path):
    result = govarchive("crawl", cwd=tmp_path)
    assert result.returncode == 2
    assert "URL" in result.stderr


def test_kill_mid_crawl_then_next_crawl_repairs_the_warc(site, tmp_path):
    slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    proc = subprocess.Popen([*command(), "crawl", *site.start_urls, "--db", db_url(tmp_path), "--warc-dir",
                             str(tmp_path / "warc"), *FAST, *slow], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            open_files = list((tmp_path / "warc").glob("*.warc.gz.open"))
            if open_files and open_files[0].stat().st_size > 20_000:
                break
            assert proc.poll() is None, "crawl ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no WARC being written")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list((tmp_path / "warc").glob("*.open"))
    result = crawl(site, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "repaired" in result.stderr
    assert not list((tmp_path / "warc").glob("*.open"))
    assert runs(tmp_path)[-1]["warc_repaired"]
    for path in (tmp_path / "warc").glob("*.warc.gz"):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def _ctrl_c_as_in_a_terminal() -> None:
    """A command started from a terminal gets SIGINT with its default action; one started in the
    background of a non-interactive shell (as CI may run the suite) inherits it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stores_what_was_read_records_an_interrupted_run_and_exits_130(site, tmp_path):
    # polite as towards a real site (loopback hosts are otherwise unthrottled): still crawling when stopped
    slow = ["-s", "GOVARCHIVE_LOOPBACK_UNTHROTTLED=False", "-s", "DOWNLOAD_DELAY=0.1",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    site.reset_log()  # the module's site has served other crawls: count this one's requests only
    proc = subprocess.Popen([*command(), "crawl", *site.start_urls, "--db", db_url(tmp_path), "--warc-dir",
                             str(tmp_path / "warc"), *FAST, *slow], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(site.requests) < 20:
            assert proc.poll() is None, "crawl ended before it could be interrupted"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)  # one Ctrl-C: Scrapy stops gracefully
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted: crawl run" in stderr and "Traceback" not in stderr
    (run,) = runs(tmp_path)
    assert run["status"] == "interrupted" and run["finish_reason"] == "shutdown"
    stored = query(tmp_path, "SELECT count(*) FROM reports")[0][0]
    assert 0 < stored < len(site.expected.detail_urls)  # what was read before the stop is kept
    assert not list((tmp_path / "warc").glob("*.open"))  # the WARC was closed properly


def test_scrapy_crawl_from_the_project_root_uses_the_same_pipeline(site, tmp_path):
    root = Path(__file__).resolve().parents[1]
    scrapy = Path(sys.executable).with_name("scrapy")
    command = [str(scrapy)] if scrapy.exists() else [sys.executable, "-m", "scrapy"]
    result = subprocess.run(
        [*command, "crawl", "disclosure", "-a", f"url={site.start_urls[0]}", "-s", f"GOVARCHIVE_DB={db_url(tmp_path)}",
         "-s", f"GOVARCHIVE_WARC_DIR={tmp_path / 'warc'}", *FAST],
        cwd=root, capture_output=True, text=True, timeout=180, env={**os.environ, "GOVARCHIVE_DB": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    urls = [row[0] for row in query(tmp_path, "SELECT url FROM reports")]
    assert urls and set(urls) <= set(site.expected.detail_urls)
    assert list((tmp_path / "warc").glob("*.warc.gz"))
    (run,) = runs(tmp_path)
    assert run["status"] == "finished" and run["reports_new"] == len(urls)


def test_unknown_site_profile_is_a_clear_error(tmp_path):
    result = govarchive("crawl", "--site", "no-such-site", "--db", db_url(tmp_path), "--warc-dir",
                        str(tmp_path / "warc"), cwd=tmp_path)
    assert result.returncode == 2  # a usage error, found before anything is created
    assert "no-such-site" in result.error_line and not (tmp_path / "govarchive.db").exists()
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_crawl_into_postgresql(site, pg_url, tmp_path):
    result = govarchive("crawl", *site.start_urls, "--db", pg_url, "--warc-dir", str(tmp_path / "warc"), *FAST,
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            urls = [row[0] for row in conn.execute(text("SELECT url FROM reports"))]
            (summary,) = [json.loads(row[0]) for row in conn.execute(text("SELECT summary FROM crawl_runs"))]
    finally:
        engine.dispose()
    assert sorted(urls) == sorted(site.expected.detail_urls)
    assert summary["status"] == "finished" and summary["reports_new"] == len(urls)
