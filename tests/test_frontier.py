"""Distributed crawls (issue 15): workers sharing one Redis frontier and one PostgreSQL database.

Against the real services (.ci/run starts them); skipped when Redis or PostgreSQL is not reachable.
Each test uses a key prefix of its own on Redis and removes its keys afterwards.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.clirun import BASE_ENV, FAST, command, govarchive, sql_rows

pytestmark = pytest.mark.timeout(300)

REDIS_URL = os.environ.get("GOVARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis; its keys are removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def slow_site():
    """The fixture portal answering each request after 200 ms (a distant server), so that both workers
    take part and a crawl lasts long enough to kill a worker in the middle of it."""
    from fixtures.site.server import start_site

    site = start_site(port=0, latency=0.2)
    yield site
    site.stop()


def worker_args(site, db: str, warc_dir: Path, prefix: str, worker: str) -> list[str]:
    return ["crawl", *site.start_urls, "--db", db, "--warc-dir", str(warc_dir), "--frontier", REDIS_URL,
            "-s", f"GOVARCHIVE_FRONTIER_PREFIX={prefix}", "-s", f"GOVARCHIVE_FRONTIER_WORKER={worker}",
            "-s", "GOVARCHIVE_EXTRACT_WORKERS=0", *FAST]


def start_worker(site, db: str, warc_dir: Path, prefix: str, worker: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*command(), *worker_args(site, db, warc_dir, prefix, worker)], cwd=cwd,
                            env={**os.environ, **BASE_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=240)
    return proc.returncode, err


def fetch_counts(site, since: int) -> Counter:
    """How often each page was fetched, robots.txt aside (each worker reads it once, as any crawler does)."""
    return Counter((m, t) for m, t, _ in site.requests[since:] if t != "/robots.txt")


def allowed_twice(site) -> set[tuple[str, str]]:
    """The page that answers 503 once and is retried: fetched twice by design."""
    return {("GET", url.removeprefix(site.url)) for url in site.expected.flaky_urls}


def warc_check(paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, paths)], capture_output=True,
                          text=True)


def warcinfo_workers(paths: list[Path]) -> dict[str, str]:
    found = {}
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "warcinfo":
                    fields = dict(line.split(": ", 1) for line in record.content_stream().read().decode().splitlines()
                                  if ": " in line)
                    found[path.name] = fields.get("govarchive-worker", "")
    return found


@pytest.mark.postgres
def test_two_workers_store_every_report_once_and_fetch_every_page_once(slow_site, pg_url, redis_prefix, tmp_path):
    site = slow_site
    before = len(site.requests)
    warc_dir = tmp_path / "warc"
    workers = [start_worker(site, pg_url, warc_dir, redis_prefix, name, tmp_path) for name in ("w1", "w2")]
    results = [finish(p) for p in workers]
    assert [code for code, _ in results] == [0, 0], [err[-2000:] for _, err in results]

    urls = [r[0] for r in sql_rows(pg_url, "SELECT url FROM reports")]
    assert sorted(urls) == sorted(site.expected.detail_urls)
    counts = fetch_counts(site, before)
    twice = {page for page, n in counts.items() if n > 1}
    assert twice <= allowed_twice(site), f"fetched more than once: {sorted(twice)}"

    (run,) = sql_rows(pg_url, "SELECT id, summary FROM crawl_runs")
    summary = json.loads(run[1])
    assert summary["status"] == "finished" and summary["workers"] == ["w1", "w2"]
    assert summary["reports_new"] == len(site.expected.detail_urls)

    files = sorted(warc_dir.glob("*.warc.gz"))
    assert warc_check(files).returncode == 0
    workers_of = warcinfo_workers(files)
    assert set(workers_of.values()) == {"w1", "w2"}, (files, [err[-1500:] for _, err in results])
    assert all(name.startswith(f"govarchive-{worker}-") for name, worker in workers_of.items())


def inflight_urls(prefix: str, worker: str) -> set[str]:
    """The URLs of the requests `worker` had taken and not finished, read from the frontier."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        (crawl,) = {k.decode().split(":")[1] for k in client.scan_iter(match=f"{prefix}:*:info")}
        entries = client.hgetall(f"{prefix}:{crawl}:inflight:{worker}")
        return {pickle.loads(value.split(b"|", 1)[1])["url"] for value in entries.values()}
    finally:
        client.close()


def acked(prefix: str, worker: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}:*:acked"):
            return int(client.hget(key, worker) or 0)
        return 0
    finally:
        client.close()


@pytest.mark.postgres
def test_a_worker_killed_and_restarted_loses_nothing_and_refetches_only_its_in_flight_pages(
        slow_site, pg_url, redis_prefix, tmp_path):
    site = slow_site
    before = len(site.requests)
    warc_dir = tmp_path / "warc"
    steady = start_worker(site, pg_url, warc_dir, redis_prefix, "w1", tmp_path)
    victim = start_worker(site, pg_url, warc_dir, redis_prefix, "w2", tmp_path)
    deadline = time.monotonic() + 120
    while acked(redis_prefix, "w2") < 3 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.poll() is None, "the worker finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    in_flight = inflight_urls(redis_prefix, "w2")
    assert list(warc_dir.glob("govarchive-w2-*.warc.gz.open")), "the killed worker left no open WARC file"

    restarted = start_worker(site, pg_url, warc_dir, redis_prefix, "w2", tmp_path)
    results = [finish(steady), finish(restarted)]
    assert [code for code, _ in results] == [0, 0], [err[-2000:] for _, err in results]

    urls = [r[0] for r in sql_rows(pg_url, "SELECT url FROM reports")]
    missing, extra = set(site.expected.detail_urls) - set(urls), set(urls) - set(site.expected.detail_urls)
    assert sorted(urls) == sorted(site.expected.detail_urls), f"lost {missing}, not expected {extra}, or twice"
    counts = fetch_counts(site, before)
    twice = {page for page, n in counts.items() if n > 1}
    refetchable = allowed_twice(site) | {("GET", url.removeprefix(site.url)) for url in in_flight}
    assert twice <= refetchable, f"fetched twice though not in flight at the kill: {sorted(twice - refetchable)}"
    assert all(counts[("GET", u.removeprefix(site.url))] for u in site.expected.detail_urls)

    assert not list(warc_dir.glob("*.open")), "the killed worker's WARC file was not repaired on its restart"
    (summary,) = [json.loads(r[0]) for r in sql_rows(pg_url, "SELECT summary FROM crawl_runs")]
    assert summary["status"] == "finished" and summary["lost_workers"] == 1 and summary["silent_starts"] == []
    assert any("1 worker process(es) were killed" in err for _, err in results)
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert warc_check(files).returncode == 0
    (run,) = sql_rows(pg_url, "SELECT summary FROM crawl_runs")
    summary = json.loads(run[0])
    assert summary["status"] == "finished"
    assert any(r["file"].startswith("govarchive-w2-") for r in summary["warc_repaired"])


def test_frontier_status_shows_queue_workers_and_rate(redis_prefix):
    import redis

    from crawler.frontier.state import Frontier

    client = redis.Redis.from_url(REDIS_URL)
    frontier = Frontier(client, redis_prefix, "abc123", "w1", 30.0)
    frontier.join(["http://example.gov.cn/xxgk/"])
    frontier.push(b"request-1", 0)
    frontier.push(b"request-2", 0)
    token, _ = frontier.pop()
    result = govarchive("frontier", "status", "--frontier", REDIS_URL, "--prefix", redis_prefix, "--json")
    assert result.exit_code == 0, result.stderr
    (status,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert status["queued"] == 1 and status["start_urls"] == ["http://example.gov.cn/xxgk/"]
    assert status["workers"] == [{"worker": "w1", "alive": True, "inflight": 1, "acked": 0}]
    frontier.ack(token)
    plain = govarchive("frontier", "status", "--frontier", REDIS_URL, "--prefix", redis_prefix)
    assert "queued 1" in plain.stdout and "worker w1: alive, in flight 0, done 1" in plain.stdout
    client.close()


def test_a_dead_workers_leases_go_back_to_the_queue(redis_prefix):
    import redis

    from crawler.frontier.state import Frontier

    client = redis.Redis.from_url(REDIS_URL)
    dead = Frontier(client, redis_prefix, "abc123", "dead", 1.0)
    dead.join([])
    assert dead.claim_seeding()
    dead.seeded()
    dead.push(b"request-1", -5)
    assert dead.pop() is not None and dead.queued() == 0
    client.delete(dead.k("alive:dead"))  # its liveness expired: killed, or its machine gone
    alive = Frontier(client, redis_prefix, "abc123", "alive", 30.0)
    alive.join([])
    assert alive.others_busy()
    assert alive.reclaim(force=True) == 1
    token, data = alive.pop()
    assert data == b"request-1" and not alive.others_busy()
    client.close()


def test_a_request_is_marked_seen_and_queued_in_one_step(redis_prefix):
    """Seen and queued together or not at all: a worker killed between the two used to leave a request
    seen and never queued, lost with every page it led to (a list page and its records, seen once in the kill test)."""
    import redis

    from crawler.frontier.state import Frontier

    client = redis.Redis.from_url(REDIS_URL)
    frontier = Frontier(client, redis_prefix, "abc123", "w1", 30.0)
    frontier.join([])
    assert frontier.push(b"list-page-2", 0, fingerprint="fp-2") is True
    assert client.sismember(frontier.k("seen"), "fp-2") and frontier.queued() == 1
    assert frontier.push(b"list-page-2 again", 0, fingerprint="fp-2") is False and frontier.queued() == 1
    assert frontier.push(b"retry", 0) and frontier.push(b"retry", 1)  # dont_filter: no fingerprint
    token, _ = frontier.pop()
    assert frontier.push(b"redirect to a seen page", 0, replaces=token, fingerprint="fp-2") is False
    assert client.hlen(frontier.k("inflight:w1")) == 0  # the lease it continued is released all the same
    client.close()


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:6379/0", "is not a Redis URL"),
    ("redis://127.0.0.1:99999/0", "port"),
    ("redis://127.0.0.1:6379/zero", "database"),
])
def test_a_bad_frontier_url_is_a_usage_error(url, words, tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/xxgk/", "--db", f"sqlite:///{tmp_path / 'g.db'}",
                        "--frontier", url, cwd=tmp_path)
    assert result.exit_code == 2 and words in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "g.db").exists()  # a usage error creates no database


@pytest.mark.postgres
def test_a_worker_stopped_by_its_budget_resumes_the_distributed_crawl_with_resume(
        slow_site, pg_url, redis_prefix, tmp_path):
    site = slow_site
    warc_dir = tmp_path / "warc"
    args = worker_args(site, pg_url, warc_dir, redis_prefix, "w1")
    stopped = govarchive(*args, "-s", "GOVARCHIVE_MAX_PAGES=8", cwd=tmp_path)
    assert stopped.exit_code == 130, stopped.stderr[-2000:]
    resume_line = next(line for line in stopped.stderr.splitlines() if "Resume with:" in line)
    assert "--frontier" in resume_line and resume_line.endswith("--resume")

    resumed = govarchive(*args, "--resume", cwd=tmp_path)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    assert "resuming the distributed crawl" in resumed.stderr and "requests queued" in resumed.stderr
    urls = [r[0] for r in sql_rows(pg_url, "SELECT url FROM reports")]
    assert sorted(urls) == sorted(site.expected.detail_urls)
    (run,) = sql_rows(pg_url, "SELECT summary FROM crawl_runs")
    assert json.loads(run[0])["status"] == "finished"


def test_resume_with_a_frontier_holding_no_such_crawl_starts_afresh(redis_prefix, tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/xxgk/", "--db", f"sqlite:///{tmp_path / 'g.db'}",
                        "--frontier", REDIS_URL, "-s", f"GOVARCHIVE_FRONTIER_PREFIX={redis_prefix}", "--resume",
                        *FAST, cwd=tmp_path)
    assert "nothing to resume on the frontier" in result.stderr and "crawling afresh" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_frontier_is_a_one_line_error(tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/xxgk/", "--db", f"sqlite:///{tmp_path / 'g.db'}",
                        "--frontier", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert result.exit_code == 1 and "cannot reach the frontier at redis://127.0.0.1:1/0" in result.stderr
    assert "Traceback" not in result.stderr
    status = govarchive("frontier", "status", "--frontier", "redis://127.0.0.1:1/0")
    assert status.exit_code == 1 and "cannot reach the frontier" in status.stderr


def test_a_worker_id_unfit_for_file_names_is_a_usage_error(tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/xxgk/", "--db", f"sqlite:///{tmp_path / 'g.db'}",
                        "--frontier", REDIS_URL, "-s", "GOVARCHIVE_FRONTIER_WORKER=a/b", cwd=tmp_path)
    assert result.exit_code == 2 and "worker id 'a/b'" in result.stderr


def test_host_politeness_holds_for_the_cluster(redis_prefix):
    """Two workers' middlewares on one host slot of concurrency 1 and a 10 s delay: one lease at a time,
    and none again before the delay, whichever worker asks."""
    from crawler.frontier.politeness import ClusterPolitenessMiddleware
    from tests.conftest import project_crawler

    def middleware(worker: str) -> ClusterPolitenessMiddleware:
        crawler = project_crawler(GOVARCHIVE_FRONTIER=REDIS_URL, GOVARCHIVE_FRONTIER_PREFIX=redis_prefix,
                                  GOVARCHIVE_FRONTIER_WORKER=worker)
        return ClusterPolitenessMiddleware(crawler)

    first, second = middleware("w1"), middleware("w2")
    assert first.try_lease("example.gov.cn", "w1:1", 1, 0.0) == 0
    assert second.try_lease("example.gov.cn", "w2:1", 1, 0.0) == -1  # the one slot is taken
    first.release("example.gov.cn", "w1:1")
    assert second.try_lease("example.gov.cn", "w2:1", 1, 0.0) == 0
    second.release("example.gov.cn", "w2:1")
    assert first.try_lease("other.gov.cn", "w1:2", 2, 10.0) == 0
    wait = second.try_lease("other.gov.cn", "w2:2", 2, 10.0)
    assert 0 < wait <= 10.0  # a free slot, but the delay since the last request holds for w2 too


@pytest.mark.postgres
def test_two_schedulers_with_a_frontier_each_start_a_worker_of_one_crawl(slow_site, pg_url, redis_prefix, tmp_path):
    """With GOVARCHIVE_FRONTIER, a scheduler's lock is the site's for its worker: schedulers on two
    machines (here two worker ids) both crawl, as workers of one distributed crawl and one run."""
    site = slow_site
    profile = tmp_path / "cluster.yaml"
    paths = "".join(f"  - {url.removeprefix(site.url)}\n" for url in site.start_urls)
    profile.write_text(f'name: cluster\nbase_url: http://127.0.0.1:1\nstart_urls:\n{paths}schedule: "@daily"\n',
                       encoding="utf-8")

    def scheduler(worker: str) -> subprocess.Popen:
        args = ["schedule", "--site", str(profile), "--once", "--base-url", site.url, "--db", pg_url,
                "--warc-dir", str(tmp_path / "warc"), "-s", f"GOVARCHIVE_FRONTIER={REDIS_URL}",
                "-s", f"GOVARCHIVE_FRONTIER_PREFIX={redis_prefix}", "-s", f"GOVARCHIVE_FRONTIER_WORKER={worker}",
                "-s", "GOVARCHIVE_EXTRACT_WORKERS=0", *FAST]
        return subprocess.Popen([*command(), *args], cwd=tmp_path, env={**os.environ, **BASE_ENV},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    procs = [scheduler(name) for name in ("m1", "m2")]
    outputs = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [out[-2000:] for out in outputs]
    assert all("cluster: due, crawling" in out for out in outputs), outputs
    urls = [r[0] for r in sql_rows(pg_url, "SELECT url FROM reports")]
    assert sorted(urls) == sorted(site.expected.detail_urls)
    (run,) = sql_rows(pg_url, "SELECT summary FROM crawl_runs")
    assert sorted(json.loads(run[0])["workers"]) == ["m1", "m2"]
