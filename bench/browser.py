"""Browser benchmark: pages through the browser path (crawler/browser) against the static path, same pages.

    python bench/browser.py                      # 200 detail pages of the fixture site, pool 2
    python bench/browser.py --pages 500 --pool 2 --pool 4

Two scenarios, each crawled by `govarchive crawl` in subprocesses with the same concurrency settings:

  site    the fixture site (fixtures/site) with N detail pages: `static` (GOVARCHIVE_BROWSER=never) against
          `browser` (GOVARCHIVE_BROWSER=always: every list page and detail page rendered in chromium, each
          pool size given), so the same pages go through either path;
  portal  the platforms portal (fixtures/platforms), whose single-page app only a browser can read:
          `never` (its 3 documents missed) against `auto` (the default: only the shell rendered).

Reported per run: pages (Scrapy responses: one per page whichever path fetched it), detail pages covered,
requests the site answered (a browser also fetches each page's scripts and styles), pages/s over the
crawl run's own seconds (spider open to close, the browser's start included), the ratio to the static run, and the peak memory
of the crawl's whole process tree (the crawler, its extraction workers, Playwright's driver, chromium and
its renderers), sampled from /proc every 0.1 s, as the sum of RSS and the sum of PSS (shared pages counted
once, so the truer figure for a browser's many processes). Results also go to bench/out/browser-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMMON_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_DELAY_JITTER": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "GOVARCHIVE_PROGRESS": "off",
    "TELNETCONSOLE_ENABLED": "False",
}
RUN_TIMEOUT = 1800  # seconds per crawl
SAMPLE_EVERY = 0.1  # seconds between memory samples


@dataclass
class Result:
    scenario: str
    variant: str
    ok: bool
    pages: int  # responses the spider saw
    details: int  # expected detail pages fetched
    requests: int  # requests the site answered
    run_s: float
    wall_s: float
    rate: float  # pages/s over the window
    browser_pages: int
    browser_exchanges: int
    peak_rss_mb: float
    peak_pss_mb: float
    note: str = ""


class TreeMemory:
    """Peak memory of a process and all its descendants, sampled from /proc in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            rss = pss = 0
            for pid in self._tree():
                rss += _kb(f"/proc/{pid}/status", "VmRSS:")
                pss += _kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(scenario: str, variant: str, site, start_urls: list[str], expected: set[str], settings: dict[str, str],
        browser: str) -> Result:
    from archive.store import Store

    site.reset_log()
    with tempfile.TemporaryDirectory(prefix=f"govarchive-bench-browser-{variant}-") as tmp:
        work = Path(tmp)
        db = f"sqlite:///{work / 'bench.db'}"
        args = [f"{k}={v}" for k, v in {**COMMON_SETTINGS, **settings, "GOVARCHIVE_BROWSER": browser}.items()]
        command = [sys.executable, "-m", "crawler", "crawl", *start_urls, "--db", db, "--warc-dir", str(work / "warc"),
                   *(a for kv in args for a in ("-s", kv))]
        started = time.monotonic()
        with open(work / "output.log", "wb") as log:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
            memory = TreeMemory(proc.pid)
            try:
                returncode = proc.wait(RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
            memory.stop()
        wall = time.monotonic() - started
        requests = site.requests
        details = {path for _, path, status in requests if status == 200 and path in expected}
        store = Store(db)
        try:
            summary = (store.get_run(1) or {}).get("summary") or {}
        finally:
            store.close()
        pages, span = summary.get("pages", 0), summary.get("seconds", 0.0)
        ok = returncode == 0 and len(details) >= 0.99 * len(expected)
        note = "" if ok else " | ".join((work / "output.log").read_text(errors="replace").strip().splitlines()[-3:])[-300:]
        return Result(scenario, variant, ok, pages, len(details), len(requests), round(span, 2), round(wall, 2),
                      round(pages / span, 2) if span else 0.0, summary.get("browser_pages", 0),
                      summary.get("browser_exchanges", 0), round(memory.peak_rss / 1024, 1),
                      round(memory.peak_pss / 1024, 1), note)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def site_scenario(pages: int, pools: list[int]) -> list[Result]:
    from fixtures.site.server import start_site

    with start_site(port=0, detail_pages=pages) as site:
        expected = {path_of(u) for u in site.expected.detail_urls}
        results = [run("site", "static", site, site.start_urls, expected, {}, "never")]
        for pool in pools:
            results.append(run("site", f"browser-{pool}", site, site.start_urls, expected,
                               {"GOVARCHIVE_BROWSER_POOL": str(pool)}, "always"))
    return results


def portal_scenario() -> list[Result]:
    from fixtures.platforms import EXPECTED_DOCUMENTS, NEEDS_BROWSER
    from fixtures.platforms.server import start_site

    with start_site(port=0) as site:
        static = set(EXPECTED_DOCUMENTS) - NEEDS_BROWSER
        return [run("portal", "never", site, site.start_urls, static, {}, "never"),
                run("portal", "auto", site, site.start_urls, set(EXPECTED_DOCUMENTS), {}, "auto")]


def print_table(results: list[Result]) -> None:
    header = (f"{'scenario':<8} {'variant':<10} {'pages':>6} {'details':>8} {'site req':>8} {'run s':>9} "
              f"{'pages/s':>8} {'ratio':>6} {'browser':>8} {'exch':>6} {'peak RSS':>10} {'peak PSS':>10}")
    print(header)
    print("-" * len(header))
    for r in results:
        base = next((b for b in results if b.scenario == r.scenario and b.ok), None)
        ratio = f"{r.rate / base.rate:.2f}" if base and base.rate and r.ok else "-"
        print(f"{r.scenario:<8} {r.variant:<10} {r.pages:>6} {r.details:>8} {r.requests:>8} {r.run_s:>9.2f} "
              f"{r.rate:>8.2f} {ratio:>6} {r.browser_pages:>8} {r.browser_exchanges:>6} {r.peak_rss_mb:>8.1f}MB "
              f"{r.peak_pss_mb:>8.1f}MB" + ("" if r.ok else f"  FAILED: {r.note}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="detail pages of the fixture site (default 200)")
    parser.add_argument("--pool", type=int, action="append", help="GOVARCHIVE_BROWSER_POOL of a browser run "
                        "(repeatable; default: the setting's default)")
    args = parser.parse_args(argv)
    from crawler import settings as project

    pools = args.pool or [project.GOVARCHIVE_BROWSER_POOL]
    results = site_scenario(args.pages, pools) + portal_scenario()
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; settings: "
          + " ".join(f"{k}={v}" for k, v in COMMON_SETTINGS.items()) + "\n")
    print_table(results)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"browser-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
