"""Web interface benchmark: search pages through the ASGI app against the same queries on the Store.

    python bench/web.py                          # 100,000 generated reports in a temporary SQLite file
    python bench/web.py --reports 20000          # smaller
    python bench/web.py --db sqlite:///big.db    # an existing database (kept), e.g. from --keep
    python bench/web.py --keep /tmp/web-bench.db # generate, then keep the file for later runs

Reports and queries come from bench/search.py's generator (the same 200 mixed queries: 1-char,
2-char, long, phrase, AND, OR, NOT, filtered). Each query is timed four ways, interleaved so all
share the same cache state:

- `store.search`: Store.search(q, filters, 20), what `govarchive search` runs (the baseline);
- `search_page`: archive.store.browse.search_page, the page's database work (20 hits, total, facets);
- `GET /api/search`: the JSON API through the ASGI app;
- `GET /search`: the HTML page through the ASGI app (query, facets, snippets, template, headers).

Prints p50/p95/max per variant and their ratios to the baseline. Target (issue 14): p95 of the
search page < 100 ms at 100k reports.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.store import Filters, Store  # noqa: E402
from archive.store.browse import search_page  # noqa: E402
from bench.search import make_queries, make_report, pct  # noqa: E402


def load(url: str, n: int, batch: int, seed: int) -> float:
    rng = random.Random(seed)
    store = Store(url)
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        store.save_reports([make_report(i, rng) for i in range(start, min(n, start + batch))], None)
    store.close()
    return time.perf_counter() - t0


def params_of(q: str, f: Filters | None, page: int = 1) -> str:
    values = {"q": q}
    if f is not None:
        for name in ("site", "column", "issuer", "doc_number", "since", "until"):
            if getattr(f, name):
                values[name] = getattr(f, name)
        if f.withdrawn is not None:
            values["withdrawn"] = "true" if f.withdrawn else "false"
    if page > 1:
        values["page"] = str(page)
    return urlencode(values)


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


class AsgiClient:
    """GET through the ASGI app in one event loop (httpx's ASGI transport: no socket, no thread
    portal; the app's sync routes still run in its thread pool, as under uvicorn)."""

    def __init__(self, app) -> None:
        import asyncio

        import httpx

        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")

    def get(self, path: str):
        return self.loop.run_until_complete(self.client.get(path))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def run(url: str, seed: int) -> None:
    from archive.store import open_existing_store
    from archive.web.app import create_app

    store = open_existing_store(url)
    client = AsgiClient(create_app(store, None, replay_url=None))
    queries = make_queries(random.Random(seed + 1))
    total = store.count_reports()

    def baseline(q, f):
        return store.search(q, f, 20)

    def direct(q, f, page=1):
        with store.read_engine.connect() as conn:
            return search_page(conn, q, f, limit=20, offset=(page - 1) * 20, beside=store.read_engine)

    def page_html(q, f, page=1):
        r = client.get("/search?" + params_of(q, f, page))
        assert r.status_code == 200, (q, r.status_code, r.text[:300])

    def page_api(q, f):
        r = client.get("/api/search?" + params_of(q, f))
        assert r.status_code == 200, (q, r.status_code, r.text[:300])

    for _, q, f in queries[:10]:  # warm the page cache and the app
        baseline(q, f)
        page_html(q, f)
    variants = {"store.search (baseline)": baseline, "search_page (store)": direct,
                "GET /api/search": page_api, "GET /search (page)": page_html}
    lat: dict[str, list[float]] = {name: [] for name in variants}
    by_kind: dict[str, list[float]] = {}
    deep: dict[str, list[float]] = {"search_page page 10": [], "GET /search page 10": []}
    for k, (kind, q, f) in enumerate(queries):
        for name, fn in variants.items():
            ms = timed(fn, q, f)
            lat[name].append(ms)
            if name == "GET /search (page)":
                by_kind.setdefault(kind, []).append(ms)
        if k % 4 == 0:
            deep["search_page page 10"].append(timed(direct, q, f, 10))
            deep["GET /search page 10"].append(timed(page_html, q, f, 10))
    home = [timed(client.get, "/") for _ in range(3)]
    client.close()
    store.close()

    base = lat["store.search (baseline)"]
    print(f"\n{total:,} reports, {len(queries)} queries (p50 / p95 / max in ms; ratio = p50 and p95 to the baseline)")
    for name, values in {**lat, **deep}.items():
        p50, p95 = statistics.median(values), pct(values, 95)
        print(f"  {name:26s} p50 {p50:7.1f}  p95 {p95:7.1f}  max {max(values):7.1f}   "
              f"ratio {p50 / statistics.median(base):5.2f} / {p95 / pct(base, 95):5.2f}")
    print("  GET /search by query kind:")
    for kind, values in by_kind.items():
        print(f"    {kind:9s} p50 {statistics.median(values):7.1f} ms  p95 {pct(values, 95):7.1f} ms")
    print(f"  GET / (overview of every site and column): {min(home):.0f} ms (best of 3)")
    verdict = "meets" if pct(lat["GET /search (page)"], 95) < 100 else "misses"
    print(f"  search page p95 {pct(lat['GET /search (page)'], 95):.1f} ms: {verdict} the 100 ms target")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000, help="reports per save_reports call")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--db", help="an existing govarchive database to benchmark (nothing is generated)")
    ap.add_argument("--keep", type=Path, help="generate into this SQLite file and keep it")
    args = ap.parse_args(argv)
    if args.db:
        run(args.db, args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "web-bench.db"
        url = f"sqlite:///{path}"
        seconds = load(url, args.reports, args.batch, args.seed)
        print(f"generated {args.reports:,} reports in {seconds:.0f} s ({args.reports / seconds:,.0f} reports/s)")
        run(url, args.seed)


if __name__ == "__main__":
    main()
