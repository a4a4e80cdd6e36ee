"""Stopping a crawl loses nothing (issue 13): `kill -9` at several points then `crawl --resume`, Ctrl-C
once and twice. Real subprocesses against the fixture site; the site's request log, the database and
the WARC files say what happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.clirun import BASE_ENV, FAST, command, sql_rows

pytestmark = pytest.mark.timeout(300)

# Polite as towards a real site (loopback hosts are otherwise unthrottled), so the crawl is still
# running when it is stopped; a short flush interval so a kill after a few seconds finds reports.
SLOW = ["-s", "GOVARCHIVE_LOOPBACK_UNTHROTTLED=False", "-s", "DOWNLOAD_DELAY=0.05", "-s", "DOWNLOAD_DELAY_JITTER=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "-s", "GOVARCHIVE_FLUSH_INTERVAL=0.5"]


def crawl_args(site, workdir: Path, *extra: str) -> list[str]:
    return [*command(), "crawl", *site.start_urls, "--db", db_url(workdir), "--warc-dir", str(workdir / "warc"),
            *FAST, *SLOW, *extra]


def db_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'govarchive.db'}"


def query(workdir: Path, sql: str) -> list:
    return sql_rows(db_url(workdir), sql)


def runs(workdir: Path) -> list[dict]:
    rows = query(workdir, "SELECT id, status, resumes, summary FROM crawl_runs ORDER BY id")
    return [{"id": r[0], "outcome": r[1], "resumes": r[2], **json.loads(r[3] or "{}")} for r in rows]


def archived(warc_dir: Path, run_id: int | None = None) -> list[tuple[str, int]]:
    """(target URI, status) of every response/revisit record (of the files `run_id` wrote); reading
    every file raises on a bad one."""
    from archive.resume import warcinfo_run_id

    found = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        if run_id is not None and warcinfo_run_id(path) != run_id:
            continue
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, check_digests=True):
                if record.rec_type in ("response", "revisit"):
                    found.append((record.rec_headers.get_header("WARC-Target-URI"),
                                  int(record.http_headers.get_statuscode())))
    return found


def _terminal_sigint() -> None:
    """SIGINT with its default action, as a command started from a terminal has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(site, workdir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(crawl_args(site, workdir, *extra), cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **BASE_ENV},
                            preexec_fn=_terminal_sigint)


def wait_for_requests(site, proc: subprocess.Popen, count: int) -> None:
    deadline = time.monotonic() + 90
    while len(site.requests) < count:
        assert proc.poll() is None, "the crawl ended before it could be stopped"
        assert time.monotonic() < deadline, "the crawl made too few requests"
        time.sleep(0.01)


def paths(urls) -> set[str]:
    return {u.split("://", 1)[1].partition("/")[2] for u in urls}


@pytest.mark.parametrize("after", [15, 55])
def test_kill_9_then_resume_fetches_nothing_archived_and_ends_with_every_report_once(site, tmp_path, after):
    site.reset_log()
    proc = start(site, tmp_path)
    try:
        wait_for_requests(site, proc, after)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored_before = query(tmp_path, "SELECT count(*) FROM reports")[0][0]
    # WARC files of the killed run, repaired by the next crawl: what they hold is never fetched again
    site.reset_log()
    resumed = subprocess.run(crawl_args(site, tmp_path, "--resume"), cwd=tmp_path, capture_output=True, text=True,
                             timeout=180, env={**os.environ, **BASE_ENV})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming crawl run 1" in resumed.stderr
    second = site.requests

    archived(tmp_path / "warc")  # every file whole and valid after the repair
    # archived by the killed run with a final answer (a 503 is retried, as the first run would have)
    done = {"/" + p for p in paths(uri for uri, status in archived(tmp_path / "warc", 1) if status < 500)}
    again = {target for _method, target, _status in second} & done
    assert again <= {"/robots.txt"}, f"fetched again although archived: {sorted(again)[:10]}"

    reports = query(tmp_path, "SELECT url, version FROM reports")
    assert sorted(u for u, _ in reports) == sorted(site.expected.detail_urls)
    assert all(version == 1 for _, version in reports)
    versions = query(tmp_path, "SELECT count(*) FROM report_versions")[0][0]
    assert versions == len(site.expected.detail_urls)  # no report stored twice

    first, last = runs(tmp_path)
    assert first["outcome"] == "crashed"  # marked when the resumed run started
    assert last["outcome"] == "finished" and last["resumes"] == 1
    assert last["from_archive"] > 0
    if after > 40:  # the time-bound flush stored reports before the kill (batches of 100 would hold them)
        assert stored_before > 0


def test_one_ctrl_c_finishes_in_flight_stores_everything_read_and_says_how_to_resume(site, tmp_path):
    site.reset_log()
    proc = start(site, tmp_path)
    try:
        wait_for_requests(site, proc, 30)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "--resume" in stderr and "Traceback" not in stderr
    (run,) = runs(tmp_path)
    assert run["outcome"] == "interrupted" and run["finish_reason"] == "shutdown"
    stored = {row[0] for row in query(tmp_path, "SELECT url FROM reports")}
    read = {uri for uri, status in archived(tmp_path / "warc") if status == 200} & set(site.expected.detail_urls)
    assert read <= stored, f"read but not stored: {sorted(read - stored)[:5]}"
    assert 0 < len(stored) < len(site.expected.detail_urls)
    assert not list((tmp_path / "warc").glob("*.open"))


def test_two_ctrl_c_store_what_was_extracted_then_stop(site, tmp_path):
    site.reset_log()
    proc = start(site, tmp_path, "-s", "GOVARCHIVE_FLUSH_INTERVAL=60")  # only the forced stop can store them
    try:
        wait_for_requests(site, proc, 40)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    (run,) = runs(tmp_path)
    assert run["outcome"] == "interrupted"
    stored = query(tmp_path, "SELECT count(*) FROM reports")[0][0]
    assert stored > 0 and stored == run["reports_new"]
    assert not list((tmp_path / "warc").glob("*.open"))  # closed whole, nothing to repair
    archived(tmp_path / "warc")
