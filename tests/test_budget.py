"""Crawl budgets (issue 13): pages, seconds, a disk-space floor; a spent budget ends the run
"interrupted (budget)" with exit 130, and `--resume` carries on to every report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import FAST, govarchive, sql_rows

pytestmark = pytest.mark.timeout(300)


def crawl(site, workdir: Path, *extra: str):
    return govarchive("crawl", *site.start_urls, "--db", f"sqlite:///{workdir / 'g.db'}", "--warc-dir",
                      str(workdir / "warc"), *FAST, *extra, cwd=workdir)


def query(workdir: Path, sql: str) -> list:
    return sql_rows(f"sqlite:///{workdir / 'g.db'}", sql)


def test_page_budget_interrupts_and_resume_finishes(site, tmp_path):
    spent = crawl(site, tmp_path, "-s", "GOVARCHIVE_MAX_PAGES=12", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    assert spent.returncode == 130, spent.stderr[-2000:]
    assert "interrupted (budget: GOVARCHIVE_MAX_PAGES=12 pages fetched)" in spent.stderr and "--resume" in spent.stderr
    (status, summary), = query(tmp_path, "SELECT status, summary FROM crawl_runs")
    assert status == "interrupted" and json.loads(summary)["finish_reason"] == "budget"
    listed = govarchive("runs", "--db", f"sqlite:///{tmp_path / 'g.db'}")
    assert "interrupted (budget)" in listed.stdout

    resumed = crawl(site, tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    urls = sorted(row[0] for row in query(tmp_path, "SELECT url FROM reports"))
    assert urls == sorted(site.expected.detail_urls)
    assert query(tmp_path, "SELECT count(*) FROM report_versions")[0][0] == len(urls)


def test_disk_space_floor_stops_before_filling_the_disk(site, tmp_path):
    result = crawl(site, tmp_path, "-s", f"GOVARCHIVE_MIN_FREE_BYTES={10**18}")
    assert result.returncode == 130, result.stderr[-2000:]
    assert "below GOVARCHIVE_MIN_FREE_BYTES" in result.stderr


def test_a_budget_that_is_not_a_number_is_a_usage_error(site, tmp_path):
    result = crawl(site, tmp_path, "-s", "GOVARCHIVE_MAX_PAGES=lots")
    assert result.returncode == 2 and "GOVARCHIVE_MAX_PAGES" in result.stderr
