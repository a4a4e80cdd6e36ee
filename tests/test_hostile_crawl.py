"""A crawl of the hostile fixture site (fixtures/hostile): every fault a recorded failure of its kind, no
junk report, every good document stored, nothing fetched off the site, endless columns stopped, and a
WARC that passes `warcio check`. Sizes are small here (a 1 MiB page limit, 3 s timeout); README.md has
the measured memory and time of a crawl with the real figures (512 MiB bomb, 300 MB pages)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.store import Store
from fixtures.hostile import ENDLESS_PATH, FAULTS, GOOD_PATHS, REPEATING_PATH, WALL_RECORDS
from fixtures.hostile.server import start_site
from tests.clirun import FAST, govarchive, sqlite_url

pytestmark = pytest.mark.timeout(240)

LIMIT = 1 << 20  # GOVARCHIVE_PAGE_MAXSIZE in this crawl: the bombs inflate to exactly it and one byte more
MAX_LIST_PAGES = 4
HOSTILE = [
    *FAST, "-s", f"GOVARCHIVE_PAGE_MAXSIZE={LIMIT}", "-s", "DOWNLOAD_TIMEOUT=3", "-s", "RETRY_TIMES=2",
    "-s", f"GOVARCHIVE_MAX_LIST_PAGES={MAX_LIST_PAGES}", "-s", "GOVARCHIVE_ANTIBOT_DELAY=0.05",
    "-s", "GOVARCHIVE_ANTIBOT_MAX_DELAY=0.2", "-s", "GOVARCHIVE_ANTIBOT_PAUSE=0.5", "-s", "GOVARCHIVE_BROWSER=never",
]
RECORDED = [f for f in FAULTS if f.kind is not None]
GOOD = [*GOOD_PATHS, *(f.path for f in FAULTS if f.kind is None)]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile")
    with start_site(limit=LIMIT, hold=6.0) as site:
        result = govarchive("crawl", *site.start_urls, "--db", sqlite_url(workdir), "--warc-dir", str(workdir / "warc"),
                            *HOSTILE, cwd=workdir, timeout=200)
        store = Store(sqlite_url(workdir))
        try:
            failures = store.failures()
            summary = store.get_run(1)["summary"]
        finally:
            store.close()
        exported = govarchive("export", "--db", sqlite_url(workdir), "--format", "jsonl", cwd=workdir)
        assert exported.returncode == 0, exported.stderr
        reports = {r["url"]: r for r in map(json.loads, exported.stdout.splitlines())}
        yield {"workdir": workdir, "site": site, "result": result, "failures": failures, "summary": summary,
               "reports": reports, "requests": site.requests, "wall": site.wall_requests,
               "offsite": site.offsite_requests}


def kinds_of(crawled: dict, url: str) -> set[str]:
    return {f["kind"] for f in crawled["failures"] if f["url"] == url}


def test_the_crawl_finishes_and_names_the_host_that_only_challenges(crawled):
    result = crawled["result"]
    assert crawled["summary"]["status"] == "finished", result.stderr[-3000:]
    assert crawled["summary"]["requests_unaccounted"] == 0  # every request fetched, recorded or a duplicate
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: nothing from {crawled['site'].wall_base}/")


@pytest.mark.parametrize("fault", RECORDED, ids=[f.name for f in RECORDED])
def test_each_fault_is_a_failure_of_its_kind_and_never_a_report(crawled, fault):
    url = crawled["site"].url(fault.path)
    assert kinds_of(crawled, url) == {fault.kind}, (fault.what, [f for f in crawled["failures"] if f["url"] == url])
    assert url not in crawled["reports"]


@pytest.mark.parametrize("path", GOOD)
def test_every_good_document_among_the_faults_is_a_report(crawled, path):
    url = crawled["site"].url(path)
    report = crawled["reports"].get(url)
    assert report is not None, kinds_of(crawled, url)
    assert "中华人民共和国政府信息公开条例" in report["body_text"] and not kinds_of(crawled, url)


def test_no_junk_became_a_report(crawled):
    site = crawled["site"]
    expected = {site.url(p) for p in GOOD}
    expected |= {site.url(f"/repeat/doc-{i}.html") for i in (1, 2)}
    expected |= {site.url(f"/endless/doc-{n}-{i}.html") for n in range(1, MAX_LIST_PAGES + 1) for i in (1, 2)}
    assert set(crawled["reports"]) == expected


def test_nothing_is_fetched_off_the_site_and_the_drop_is_counted(crawled):
    assert crawled["offsite"] == []  # not the page, not its robots.txt
    assert crawled["summary"]["offsite_dropped"] == 1


def test_a_host_answering_only_challenges_is_paused_then_given_up_with_every_record_accounted_for(crawled):
    wall = crawled["site"].wall_base
    records = [f"{wall}/wall/doc-{n}.html" for n in range(1, WALL_RECORDS + 1)]
    assert all(kinds_of(crawled, url) == {"antibot"} for url in records)
    not_requested = [f for f in crawled["failures"] if f["url"] in records and "not requested" in f["detail"]]
    assert not_requested and crawled["summary"]["antibot_not_requested"] == len(not_requested)
    assert all("again after a pause" in f["detail"] for f in not_requested)
    fetched = [t for t in crawled["wall"] if t.startswith("/wall/")]
    assert len(fetched) + len(not_requested) == WALL_RECORDS


def test_session_id_traps_are_never_fetched(crawled):
    assert not [t for t in crawled["requests"] if "sid=" in t or "jsessionid" in t]
    assert crawled["summary"]["skipped"].get("session_id", 0) >= 2


def test_a_repeating_pager_stops_at_the_first_page_with_nothing_new(crawled):
    pages = [t for t in crawled["requests"] if t.startswith(REPEATING_PATH)]
    assert len(pages) == 2
    (stop,) = [s for s in crawled["summary"]["pagination_stopped"] if s["column"].endswith(REPEATING_PATH)]
    assert stop["stopped"] == "no-new-records"


def test_an_endless_pager_stops_at_the_page_cap(crawled):
    pages = [t for t in crawled["requests"] if t.startswith(ENDLESS_PATH)]
    assert len(pages) == MAX_LIST_PAGES
    (stop,) = [s for s in crawled["summary"]["pagination_stopped"] if s["column"].endswith(ENDLESS_PATH)]
    assert (stop["stopped"], stop["pages"]) == ("page-cap", MAX_LIST_PAGES)
    assert "pagination of" in crawled["result"].stderr


def test_retries_waiting_for_retry_after_are_fetched_not_dropped(crawled):
    busy = [t for t in crawled["requests"] if t == "/docs/busy.html"]
    assert len(busy) == 3  # two 503s, then the document


def test_the_archive_passes_warcio_check(crawled):
    files = sorted(Path(crawled["workdir"], "warc").glob("*.warc.gz"))
    assert files
    proc = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, files)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
