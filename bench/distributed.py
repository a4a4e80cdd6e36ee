"""Distributed crawl benchmark: 1, 2 and 4 workers on one Redis frontier and one PostgreSQL database.

    python bench/distributed.py                        # 300 detail pages, 100 ms per request, 1/2/4 workers
    python bench/distributed.py --pages 500 --latency 0.5 --per-worker 2 --workers 1,2,4,8

The fixture site (fixtures/site) answers every request after `--latency` seconds, as a distant server
does, so the crawl is I/O-bound. Each worker may keep `--per-worker` requests in flight
(CONCURRENT_REQUESTS: what one worker process is allowed); the site's politeness limit, held for the whole cluster, is 16 at once
and no delay. Each run crawls the whole site into a fresh PostgreSQL database under its own frontier
key prefix. Reported: responses the site served, reports stored, pages/s over the crawl window (first to
last answer of the site) and the ratio to the one-worker run measured in the same invocation. Needs
Redis at redis://127.0.0.1:6379 and PostgreSQL at postgresql://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("GOVARCHIVE_BENCH_REDIS", "redis://127.0.0.1:6379/14")
PG_ADMIN = os.environ.get("GOVARCHIVE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PER_HOST = 16  # the site's limit for the whole cluster
SETTINGS = {
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_HOST),
    "GOVARCHIVE_LOOPBACK_UNTHROTTLED": "False",  # the site's politeness as for a real host
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "GOVARCHIVE_EXTRACT_WORKERS": "0",
    "GOVARCHIVE_PROGRESS": "off",
}


def fresh_database() -> tuple[str, str]:
    import psycopg

    name = f"govarchive_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://{PG_ADMIN.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(site, workers: int, per_worker: int) -> dict:
    from sqlalchemy import create_engine, text

    name, db = fresh_database()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    script = Path(sys.executable).with_name("govarchive")
    subprocess.run([str(script), "db", "upgrade", "--db", db], check=True, capture_output=True)
    site.reset_log()
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(script), "crawl", *site.start_urls, "--db", db, "--warc-dir", f"{tmp}/warc", "--frontier", REDIS_URL,
                "-s", f"GOVARCHIVE_FRONTIER_PREFIX={prefix}"]
        for key, value in {**SETTINGS, "CONCURRENT_REQUESTS": str(per_worker)}.items():
            args += ["-s", f"{key}={value}"]
        procs = [subprocess.Popen([*args, "-s", f"GOVARCHIVE_FRONTIER_WORKER=b{i}"], cwd=tmp,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for i in range(workers)]
        codes = [p.wait(timeout=1800) for p in procs]
    engine = create_engine(db)
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT count(*) FROM reports")).scalar()
    engine.dispose()
    drop_database(name)
    first, last = site.log_window or (0.0, 0.0)
    served = len(site.requests)
    return {"workers": workers, "exit": codes, "served": served, "reports": reports,
            "seconds": round(last - first, 2), "pages_per_s": round(served / (last - first), 1) if last > first else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--per-worker", type=int, default=4, help="requests in flight per worker")
    args = parser.parse_args()
    from fixtures.site.server import start_site

    site = start_site(0, detail_pages=args.pages, latency=args.latency)
    try:
        results = [run(site, int(n), args.per_worker) for n in args.workers.split(",")]
    finally:
        site.stop()
    base = results[0]["pages_per_s"] or 1.0
    print(f"{args.pages} detail pages, {args.latency * 1000:.0f} ms per request, {args.per_worker} in flight per worker, "
          f"{PER_HOST} per host for the cluster")
    print(f"{'workers':>7} {'served':>7} {'reports':>7} {'seconds':>8} {'pages/s':>8} {'ratio':>6}  exit")
    for r in results:
        print(f"{r['workers']:>7} {r['served']:>7} {r['reports']:>7} {r['seconds']:>8} {r['pages_per_s']:>8} "
              f"{r['pages_per_s'] / base:>6.2f}  {r['exit']}")


if __name__ == "__main__":
    main()
