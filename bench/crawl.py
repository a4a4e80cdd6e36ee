"""Crawl benchmark: the full govarchive pipeline against plain Scrapy on the same local site.

    python bench/crawl.py                         # 2,000 and 10,000 detail pages
    python bench/crawl.py --pages 2000            # one size
    python bench/crawl.py --pages 500 --variants baseline,full
    python bench/crawl.py --pages 2000 --repeat 3   # best of three interleaved rounds (noisy machines)

For each size it starts the fixture site (fixtures/site) with that many detail pages, then crawls it in
separate subprocesses, one per variant, with the same concurrency and politeness settings:

  baseline  plain Scrapy: a minimal spider (below) that follows the same links (JS pagination, the Hanweb
            dataproxy, 下一页 links, detail pages, attachments) and does nothing with the pages;
  tuned     the same spider with the Scrapy setting govarchive changes for speed (CONCURRENT_ITEMS; Scrapy's
            default of 100 costs the baseline ~100 asyncio tasks per response too), for a second ratio;
  full      `govarchive crawl` (extraction, WARC, SQLite database);
  nowarc    `govarchive crawl -s GOVARCHIVE_WARC_ENABLED=False`.

Reported per run: responses served by the site, detail pages covered, pages/s over the crawl window (first
to last request the site answered) and over the whole subprocess wall time, the ratios to the baseline's
and the tuned baseline's rates, the peak RSS of the crawler process (os.wait4 rusage), and the CPU the site's server thread used
(to show the server is not the bottleneck). Results also go to bench/out/crawl-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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

VARIANTS = ("baseline", "tuned", "full", "nowarc")
# The same for every variant: as fast as the local site allows, no politeness delays.
COMMON_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "CONCURRENT_REQUESTS_PER_IP": "0",
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_DELAY_JITTER": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ROBOTSTXT_OBEY": "True",
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": "False",
}
RUN_TIMEOUT = 1800  # seconds per crawl


# --- the baseline spider (runs in its own subprocess: `python bench/crawl.py --baseline-spider URL...`) ---

DETAIL_LINK = re.compile(r"(/t\d{8}_\d+\.html|/art_\d+_\d+\.html|show\.asp\?id=\d+|content_\d+\.htm)$")
ATTACHMENT_LINK = re.compile(r"(\.(pdf|docx?|xlsx?|wps|ofd|zip|rar)$|/downfile\.jsp\?)", re.I)
CREATE_PAGE_HTML = re.compile(r'createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*"(\w+)"\s*,\s*"(\w+)"\s*\)')
COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
JPAGE = re.compile(r"perPage:\s*(\d+),\s*totalRecord:\s*(\d+),\s*groupSize:\s*(\d+)")
JPAGE_PARAM = re.compile(r"(columnid|unitid):\s*'?(\d+)")
RECORD_HREF = re.compile(r'<a[^>]+href="([^"]+)"')


def run_baseline_spider(start_urls: list[str], settings: dict[str, str]) -> None:
    """Plain Scrapy following the site's links: no extraction, no WARC, no database."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    host = urlsplit(start_urls[0]).netloc

    class BaselineSpider(scrapy.Spider):
        name = "baseline"

        async def start(self):
            for url in start_urls:
                yield scrapy.Request(url, callback=self.parse_list)

        def on_site(self, url: str) -> bool:
            return urlsplit(url).netloc == host and "/calendar/" not in url

        def parse_list(self, response):
            text = response.text
            links = [response.urljoin(h) for h in response.css("a::attr(href)").getall()]
            if m := CREATE_PAGE_HTML.search(text):
                links += [response.urljoin(f"{m[3]}_{i}.{m[4]}") for i in range(1, int(m[1]))]
            if m := COUNT_PAGE.search(text):
                links += [response.urljoin(f"index_{i}.htm") for i in range(1, int(m[1]))]
            if m := JPAGE.search(text):
                per_page, total, group = int(m[1]), int(m[2]), int(m[3])
                params = dict(JPAGE_PARAM.findall(text))
                step = per_page * group
                for start in range(step + 1, total + 1, step):
                    yield scrapy.Request(
                        response.urljoin(f"/module/web/jpage/dataproxy.jsp?startrecord={start}"
                                         f"&endrecord={min(total, start + step - 1)}&perpage={per_page}"
                                         f"&columnid={params.get('columnid', '')}&unitid={params.get('unitid', '')}"),
                        callback=self.parse_records)
                links += [response.urljoin(h) for h in RECORD_HREF.findall(text)]
            yield from self.follow(links, response)

        def parse_records(self, response):
            yield from self.follow([response.urljoin(h) for h in RECORD_HREF.findall(response.text)], response)

        def follow(self, links, response):
            for url in links:
                if not self.on_site(url):
                    continue
                if DETAIL_LINK.search(url):
                    yield scrapy.Request(url, callback=self.parse_detail)
                elif "list.asp?page=" in url or re.search(r"/index_\d+\.html?$", url):
                    yield scrapy.Request(url, callback=self.parse_list)

        def parse_detail(self, response):
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if self.on_site(url) and ATTACHMENT_LINK.search(url):
                    yield scrapy.Request(url, callback=self.parse_file)

        def parse_file(self, response):
            return None

    process = CrawlerProcess({**settings, "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    process.crawl(BaselineSpider)
    process.start()


# --- the harness ------------------------------------------------------------------------------------------


@dataclass
class Result:
    pages: int  # detail pages of the site
    variant: str
    ok: bool
    returncode: int
    responses: int  # responses the site served during the run
    details_fetched: int  # distinct expected detail URLs answered 200
    window_s: float  # first to last response the site served
    wall_s: float  # subprocess start to exit
    rate: float  # responses per second over the window
    detail_rate: float  # detail pages per second over the window
    peak_rss_mb: float
    crawler_cpu_s: float  # user + system CPU of the crawler process
    server_cpu_pct: float
    warc_mb: float
    note: str = ""


def command(variant: str, site, work: Path) -> list[str]:
    settings = [f"{k}={v}" for k, v in COMMON_SETTINGS.items()]
    if variant in ("baseline", "tuned"):
        if variant == "tuned":
            from crawler import settings as govarchive_settings

            settings.append(f"CONCURRENT_ITEMS={govarchive_settings.CONCURRENT_ITEMS}")
        return [sys.executable, str(Path(__file__).resolve()), "--baseline-spider", *site.start_urls,
                *(arg for kv in settings for arg in ("-s", kv))]
    extra = ["GOVARCHIVE_WARC_ENABLED=False"] if variant == "nowarc" else []
    return [sys.executable, "-m", "crawler", "crawl", *site.start_urls, "--db", f"sqlite:///{work / 'bench.db'}",
            "--warc-dir", str(work / "warc"), *(arg for kv in settings + extra for arg in ("-s", kv)),
            "-s", "GOVARCHIVE_PROGRESS=off"]


def run_variant(site, variant: str, pages: int) -> Result:
    site.reset_log()
    with tempfile.TemporaryDirectory(prefix=f"govarchive-bench-{variant}-") as tmp:
        work = Path(tmp)
        log_path = work / "output.log"
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command(variant, site, work), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
            timer = threading.Timer(RUN_TIMEOUT, proc.kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        requests = site.requests
        window = site.log_window
        span = (window[1] - window[0]) if window else 0.0
        expected = {urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
                    for u in site.expected.detail_urls}
        fetched = {path for _, path, status in requests if status == 200 and path in expected}
        warc = sum(f.stat().st_size for f in (work / "warc").glob("*")) if (work / "warc").exists() else 0
        server_cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime)
        ok = proc.returncode == 0 and len(fetched) >= 0.99 * len(expected)
        note = ""
        if not ok:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            note = " | ".join(tail)[-300:]
        return Result(
            pages=pages, variant=variant, ok=ok, returncode=proc.returncode, responses=len(requests),
            details_fetched=len(fetched), window_s=round(span, 2), wall_s=round(wall, 2),
            rate=round(len(requests) / span, 1) if span else 0.0,
            detail_rate=round(len(fetched) / span, 1) if span else 0.0,
            peak_rss_mb=round(usage.ru_maxrss / 1024, 1), crawler_cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
            server_cpu_pct=round(100 * server_cpu / wall, 1),
            warc_mb=round(warc / 1e6, 1), note=note,
        )


def print_table(results: list[Result]) -> None:
    header = (f"{'pages':>6} {'variant':<9} {'resp':>6} {'details':>8} {'window s':>9} {'wall s':>7} "
              f"{'resp/s':>7} {'detail/s':>8} {'ratio':>6} {'/tuned':>6} {'peak RSS':>9} {'CPU s':>7} {'ms/page':>7} {'srv CPU':>8} {'WARC':>7}")
    print(header)
    print("-" * len(header))
    baseline = {r.pages: r for r in results if r.variant == "baseline" and r.ok}
    tuned = {r.pages: r for r in results if r.variant == "tuned" and r.ok}

    def ratio_to(base: Result | None, r: Result) -> str:
        return f"{r.detail_rate / base.detail_rate:.2f}" if base and base.detail_rate and r.ok else "-"

    for r in results:
        ratio, ratio_tuned = ratio_to(baseline.get(r.pages), r), ratio_to(tuned.get(r.pages), r)
        print(f"{r.pages:>6} {r.variant:<9} {r.responses:>6} {r.details_fetched:>8} {r.window_s:>9.2f} "
              f"{r.wall_s:>7.2f} {r.rate:>7.1f} {r.detail_rate:>8.1f} {ratio:>6} {ratio_tuned:>6} {r.peak_rss_mb:>7.1f}MB "
              f"{r.crawler_cpu_s:>7.1f} {1000 * r.crawler_cpu_s / max(1, r.responses):>7.2f} "
              f"{r.server_cpu_pct:>7.1f}% {r.warc_mb:>5.1f}MB" + ("" if r.ok else f"  FAILED rc={r.returncode}: {r.note}"))
    sizes = sorted({r.pages for r in results})
    if len(sizes) > 1:
        print()
        for variant in VARIANTS:
            runs = {r.pages: r for r in results if r.variant == variant and r.ok}
            if sizes[0] in runs and sizes[-1] in runs:
                small, big = runs[sizes[0]], runs[sizes[-1]]
                print(f"memory {variant:<9} {sizes[0]:>6} pages: {small.peak_rss_mb:.1f} MB, {sizes[-1]:>6} pages: "
                      f"{big.peak_rss_mb:.1f} MB ({big.peak_rss_mb - small.peak_rss_mb:+.1f} MB for "
                      f"{sizes[-1] / sizes[0]:.0f}x the pages)")


def run_size(pages: int, variants: list[str], repeat: int) -> list[Result]:
    """Crawl one site size with every variant, `repeat` rounds interleaved; keep each variant's best run."""
    from fixtures.site.server import start_site

    best: dict[str, Result] = {}
    with start_site(port=0, detail_pages=pages) as site:
        for round_no in range(repeat):
            for variant in variants:
                print(f"crawling {pages} pages: {variant} (round {round_no + 1}/{repeat}) …", file=sys.stderr, flush=True)
                result = run_variant(site, variant, pages)
                kept = best.get(variant)
                if kept is None or (result.ok, result.detail_rate) > (kept.ok, kept.detail_rate):
                    best[variant] = result
    return [best[v] for v in variants]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--baseline-spider":
        urls = [a for i, a in enumerate(argv[1:], 1) if a != "-s" and argv[i - 1] != "-s"]
        settings = dict(kv.split("=", 1) for i, kv in enumerate(argv[1:], 1) if argv[i - 1] == "-s")
        run_baseline_spider(urls, settings)
        return 0

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, action="append", help="detail pages of the site (repeatable; "
                        "default 2000 and 10000)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated: " + ",".join(VARIANTS))
    parser.add_argument("--repeat", type=int, default=1, help="rounds per variant, the best run is kept (default 1)")
    parser.add_argument("--size-worker", type=Path, help=argparse.SUPPRESS)  # internal: one size, results to this file
    args = parser.parse_args(argv)
    sizes = args.pages or [2000, 10000]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    if args.size_worker:
        args.size_worker.write_text(json.dumps([asdict(r) for r in run_size(sizes[0], variants, args.repeat)]))
        return 0

    # Each size in a fresh process: the site of one size never shares a heap with the next one's crawls.
    results: list[Result] = []
    for pages in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--pages", str(pages), "--variants",
                            ",".join(variants), "--repeat", str(args.repeat), "--size-worker", out.name],
                           check=True, cwd=ROOT)
            results += [Result(**r) for r in json.loads(Path(out.name).read_text())]
    print(f"\nfixture site, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; best of {args.repeat}; settings: "
          + " ".join(f"{k}={v}" for k, v in COMMON_SETTINGS.items() if k != "LOG_LEVEL") + "\n")
    print_table(results)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"crawl-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
