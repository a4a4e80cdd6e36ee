"""`govarchive schedule` (issue 13): a profile due every minute runs once for two `--once` in a row,
two concurrent schedulers crawl a site once, and a lock whose holder died does not keep the site."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from archive.store import Store
from tests.clirun import BASE_ENV, FAST, command, govarchive

pytestmark = pytest.mark.timeout(300)

PROFILE = """\
name: minutely
base_url: http://127.0.0.1:1
start_urls:
  - /col/tzgg/index.html
schedule: "* * * * *"
"""


@pytest.fixture
def profile(tmp_path) -> Path:
    path = tmp_path / "minutely.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


def schedule_args(site, workdir: Path, profile: Path) -> list[str]:
    return ["schedule", "--site", str(profile), "--once", "--base-url", site.url, "--db", db_url(workdir),
            "--warc-dir", str(workdir / "warc"), *FAST]


def db_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'govarchive.db'}"


def crawl_runs(workdir: Path) -> list:
    with Store(db_url(workdir)) as store:
        return store.list_runs()


def clear_of_minute_boundary(margin: float = 25.0) -> None:
    """'Due since the last run' changes at each minute: start early in a minute so both runs share it."""
    second = datetime.now().second
    if second > 60 - margin:
        time.sleep(61 - second)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_once_twice_in_a_row_crawls_once(site, tmp_path, profile):
    clear_of_minute_boundary()
    first = govarchive(*schedule_args(site, tmp_path, profile), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "minutely: due, crawling" in first.stderr
    second = govarchive(*schedule_args(site, tmp_path, profile), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "minutely: not due (next at" in second.stderr
    (run,) = crawl_runs(tmp_path)
    assert run.site == "minutely" and run.outcome == "finished"


def test_two_concurrent_schedulers_crawl_the_site_once(site, tmp_path, profile):
    clear_of_minute_boundary()
    env = {**os.environ, **BASE_ENV}
    procs = [subprocess.Popen([*command(), *schedule_args(site, tmp_path, profile)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("due, crawling" in out for out in outputs) == 1, outputs
    assert len(crawl_runs(tmp_path)) == 1


def test_a_profile_without_schedule_is_a_usage_error(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text(PROFILE.replace('schedule: "* * * * *"\n', ""), encoding="utf-8")
    result = govarchive("schedule", "--site", str(path), "--once", "--db", db_url(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "has no schedule" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_cron_expression_names_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.replace("* * * * *", "61 * * * *"), encoding="utf-8")
    result = govarchive("schedule", "--site", str(path), "--once", "--db", db_url(tmp_path), cwd=tmp_path)
    assert result.returncode == 1 and "schedule:" in result.stderr and "not a cron expression" in result.stderr


def test_site_lock_one_holder_at_a_time_and_taken_over_from_a_dead_or_expired_holder(tmp_path):
    from sqlalchemy import insert

    from archive.store.models import SiteLock
    from archive.store.runs import this_host

    with Store(db_url(tmp_path)) as store:
        assert store.acquire_site_lock("a", 600)
        assert not store.acquire_site_lock("a", 600)  # held, by a live process (this one)
        store.release_site_lock("a")
        assert store.acquire_site_lock("a", 600)
        rows = [{"site": "dead", "pid": dead_pid(), "host": this_host(), "acquired_at": "2026-01-01T00:00:00+00:00",
                 "expires_at": "2999-01-01T00:00:00+00:00"},
                {"site": "expired", "pid": 1, "host": "elsewhere", "acquired_at": "2026-01-01T00:00:00+00:00",
                 "expires_at": "2026-01-01T00:10:00+00:00"},
                {"site": "alive", "pid": 1, "host": "elsewhere", "acquired_at": "2026-01-01T00:00:00+00:00",
                 "expires_at": "2999-01-01T00:00:00+00:00"}]
        with store.engine.begin() as conn:
            conn.execute(insert(SiteLock), rows)
        assert store.acquire_site_lock("dead", 600)
        assert store.acquire_site_lock("expired", 600)
        assert not store.acquire_site_lock("alive", 600)


def test_a_site_whose_last_run_crashed_is_resumed(site, tmp_path, profile):
    from sqlalchemy import update

    from archive.store.models import CrawlRun

    with Store(db_url(tmp_path)) as store:
        killed = store.start_run([site.url + "/col/tzgg/index.html"], "minutely")
        with store.engine.begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == killed).values(pid=dead_pid()))
    result = govarchive(*schedule_args(site, tmp_path, profile), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"crawl run {killed} ended without a record of its end: marked crashed" in result.stderr
    assert "resuming its unfinished run" in result.stderr and f"resuming crawl run {killed}" in result.stderr
    first, second = sorted(crawl_runs(tmp_path), key=lambda r: r.id)
    assert first.outcome == "crashed" and second.outcome == "finished" and second.resumes == killed
