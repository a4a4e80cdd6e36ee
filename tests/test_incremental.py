"""Incremental recrawls (issue 13): conditional requests from the last capture's validators, 304s
archived as server-not-modified revisits, the per-site recheck interval, changes and withdrawals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.store.known import Known
from crawler.middlewares.conditional import date_digits, recheck_due
from tests.clirun import FAST, govarchive, sql_rows

pytestmark = pytest.mark.timeout(300)

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
RECHECK_ALL = ["-s", "GOVARCHIVE_RECHECK_YOUNG_DAYS=0"]  # the default, said


def crawl(site, workdir: Path, *extra: str):
    result = govarchive("crawl", *site.start_urls, "--db", f"sqlite:///{workdir / 'g.db'}", "--warc-dir",
                        str(workdir / "warc"), *FAST, *extra, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def query(workdir: Path, sql: str) -> list:
    return sql_rows(f"sqlite:///{workdir / 'g.db'}", sql)


def last_summary(workdir: Path) -> dict:
    return json.loads(query(workdir, "SELECT summary FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0])


def records(workdir: Path) -> dict[str, dict]:
    """WARC-Record-ID -> the record's WARC headers, over every file."""
    found = {}
    for path in sorted((workdir / "warc").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                headers = dict(record.rec_headers.headers)
                if record.http_headers is not None:
                    headers["status"] = record.http_headers.get_statuscode()
                found[headers["WARC-Record-ID"]] = headers
    return found


@pytest.fixture(scope="module")
def crawled(site, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("incremental")
    site.reset_log()
    crawl(site, workdir)
    return workdir, list(site.requests)


def test_unchanged_recrawl_asks_conditionally_archives_304s_as_revisits_and_makes_no_version(site, crawled):
    workdir, first = crawled
    versions_before = query(workdir, "SELECT count(*) FROM report_versions")[0][0]
    site.reset_log()
    crawl(site, workdir, *RECHECK_ALL)
    second = site.requests
    not_modified = [target for _m, target, status in second if status == 304]
    assert not_modified, "no conditional request was answered 304"
    assert query(workdir, "SELECT count(*) FROM report_versions")[0][0] == versions_before
    summary = last_summary(workdir)
    assert summary["reports_new"] == 0 and summary["reports_changed"] == 0
    assert summary["reports_unchanged"] == versions_before
    assert summary["bytes"] < 0.5 * _first_bytes(workdir)

    found = records(workdir)
    revisits = [h for h in found.values() if h.get("WARC-Profile") == NOT_MODIFIED]
    assert len(revisits) == len(not_modified)
    for revisit in revisits:
        original = found[revisit["WARC-Refers-To"]]  # refers to the capture of the first crawl
        assert original["WARC-Type"] == "response" and original["status"] == "200"
        assert original["WARC-Target-URI"] == revisit["WARC-Refers-To-Target-URI"] == revisit["WARC-Target-URI"]
        assert original["WARC-Date"] == revisit["WARC-Refers-To-Date"]


def _first_bytes(workdir: Path) -> int:
    return json.loads(query(workdir, "SELECT summary FROM crawl_runs ORDER BY id LIMIT 1")[0][0])["bytes"]


def test_pages_whose_furniture_changes_on_every_fetch_make_no_version(site, crawled):
    workdir, _ = crawled
    versions_before = query(workdir, "SELECT count(*) FROM report_versions")[0][0]
    site.volatile = True  # click counters and stamps: new bytes and ETags on every fetch
    try:
        crawl(site, workdir, *RECHECK_ALL)
    finally:
        site.volatile = False
    assert query(workdir, "SELECT count(*) FROM report_versions")[0][0] == versions_before
    assert last_summary(workdir)["reports_unchanged"] == versions_before


def test_changed_page_is_a_new_version_and_vanished_one_withdrawn(site, crawled):
    workdir, _ = crawled
    revised, gone = site.expected.detail_urls[0], site.expected.detail_urls[1]
    site.revise(revised)
    site.withdraw(gone)
    try:
        crawl(site, workdir, *RECHECK_ALL)
    finally:
        site.restore()
    rows = {url: (version, withdrawn) for url, version, withdrawn in
            query(workdir, "SELECT url, version, withdrawn FROM reports")}
    assert rows[revised] == (2, 0)
    assert rows[gone][1] == 1
    assert {v for url, (v, _) in rows.items() if url not in (revised, gone)} == {1}


def test_old_documents_are_not_asked_for_until_their_recheck_is_due(site, crawled):
    """The fixture's documents are from 2024: past GOVARCHIVE_RECHECK_YOUNG_DAYS, just checked."""
    workdir, first = crawled
    known = [row[0] for row in query(workdir, "SELECT url FROM reports WHERE NOT withdrawn")]  # a withdrawn one is asked
    site.reset_log()
    result = crawl(site, workdir, "-s", "GOVARCHIVE_RECHECK_YOUNG_DAYS=30")
    asked = {target for _m, target, _s in site.requests}
    detail_paths = {u.split("://", 1)[1].partition("/")[2] for u in known}
    assert not asked & {"/" + p for p in detail_paths}, sorted(asked & {"/" + p for p in detail_paths})
    assert len(site.requests) < len(first) / 2
    assert "Error" not in result.stderr  # the columns' known documents count as found


NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(("published", "last_seen", "listed", "due"), [
    ("2026-11-20", "2026-11-30T00:00:00+00:00", None, True),  # young: every crawl
    ("2024-02-29", "2026-11-30T00:00:00+00:00", None, False),  # old, checked yesterday
    ("2024-02-29", "2026-11-01T00:00:00+00:00", None, True),  # old, last check a month ago
    ("2024-02-29", "2026-11-30T00:00:00+00:00", "2024/3/6", True),  # the list shows another date
    ("2024-02-29", "2026-11-30T00:00:00+00:00", "2024年2月29日", False),  # the same date, written otherwise
    (None, "2026-11-30T00:00:00+00:00", None, True),  # no date known
])
def test_recheck_interval(published, last_seen, listed, due):
    known = Known("http://x/a.html", None, published, last_seen)
    assert recheck_due(known, listed, NOW, young_days=30, old_every_days=7) is due


def test_zero_young_days_rechecks_everything():
    known = Known("http://x/a.html", None, "2020-01-01", "2026-11-30T23:00:00+00:00")
    assert recheck_due(known, None, NOW, young_days=0, old_every_days=7)


def test_date_digits():
    assert date_digits("2024-02-29 17:29") == date_digits("2024年2月29日") == "20240229"
    assert date_digits("二〇二四年") is None
