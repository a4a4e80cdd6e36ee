"""`govarchive runs` and the run record (issue 13): outcomes, crashed runs, filters, JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import update

from archive.store import Store
from archive.store.models import CrawlRun
from tests.clirun import govarchive


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with Store(url) as store:
        done = store.start_run(["http://a.example/col/"], "alpha")
        store.finish_run(done, {"status": "finished", "finish_reason": "finished", "pages": 12, "reports_new": 5,
                                "reports_changed": 1, "reports_unchanged": 2, "failures": {"http_404": 2},
                                "bytes": 4096, "warc_files": ["x.warc.gz"], "warc_bytes": 2048})
        budget = store.start_run(["http://a.example/col/"], "alpha")
        store.finish_run(budget, {"status": "interrupted", "finish_reason": "budget",
                                  "budget": "GOVARCHIVE_MAX_PAGES=3 pages fetched", "pages": 3})
        killed = store.start_run(["http://b.example/list/"], None)
        with store.engine.begin() as conn:
            conn.execute(update(CrawlRun).where(CrawlRun.id == killed).values(pid=dead_pid()))
        store.start_run(["http://b.example/list/"], None)  # this process: alive, still running
        assert store.mark_crashed_runs(600) == [killed]
    return url


def test_runs_lists_newest_first_with_outcomes(db):
    result = govarchive("runs", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["outcome"]) for r in rows] == [(4, "running"), (3, "crashed"), (2, "interrupted"),
                                                       (1, "finished")]
    first = rows[-1]
    assert (first["pages"], first["reports_new"], first["reports_changed"], first["reports_unchanged"]) == (12, 5, 1, 2)
    assert first["failures"] == {"http_404": 2} and first["warc_files"] == ["x.warc.gz"] and first["bytes"] == 4096


def test_runs_text_says_interrupted_by_a_budget(db):
    result = govarchive("runs", "--db", db, "--site", "alpha", "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert "interrupted (budget)" in result.stdout and "crashed" not in result.stdout


def test_runs_site_filter_matches_a_start_url_host(db):
    result = govarchive("runs", "--db", db, "--site", "b.example", "--json")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [4, 3]


def test_runs_on_a_missing_database_is_an_error(tmp_path):
    result = govarchive("runs", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_runs_limit_must_be_positive(db):
    assert govarchive("runs", "--db", db, "--limit", "0").returncode == 2


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from archive.store.models import Base

    with Store(f"sqlite:///{tmp_path / 'm.db'}") as store, store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diffs if "crawl_runs" in repr(d) or "site_locks" in repr(d)]
    assert not ours, ours
