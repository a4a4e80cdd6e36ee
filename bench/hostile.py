"""Hostile-site benchmark: memory and time of a crawl of fixtures/hostile with the real figures.

    python bench/hostile.py                      # bombs inflating to 512 MiB (DOWNLOAD_MAXSIZE) and more,
                                                 # 300 MB pages, default page limit and workers
    python bench/hostile.py --bomb 67108864 --huge 50000000

The site runs in a process of its own (its memory is not the crawl's); `govarchive crawl` of its start
URLs runs under `/usr/bin/time -v` (its "Maximum resident set size" covers the crawl process and, for
GNU time, the largest of its reaped children), while /proc is sampled every 0.1 s for each process of
the crawl's tree: the peak (VmHWM) of the crawl process and of each extraction worker is reported
separately. Settings beyond the defaults: DOWNLOAD_TIMEOUT (the silent and dripping connections cost
RETRY_TIMES+1 timeouts), a short anti-bot delay (every loopback host shares one download slot, so a
challenge from one slows all of them, where real sites each have their own) and a page cap of 20 for the
endless column (at the default, 500, it is 500 list pages and 1,000 documents: a test of patience, not of
memory). Results also go to bench/out/hostile-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def vm_hwm_kib(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def sample(root: int, peaks: dict[int, tuple[int, int]], done: threading.Event) -> None:
    """Peak RSS (KiB) per process of the tree under `root` (the time process), with its depth (1: the
    crawl process, 2: its extraction workers and helpers), until `done`."""
    while not done.is_set():
        stack = [(pid, 1) for pid in children(root)]
        while stack:
            pid, depth = stack.pop()
            if (hwm := vm_hwm_kib(pid)) is not None:
                peaks[pid] = (depth, max(peaks.get(pid, (depth, 0))[1], hwm))
            stack += [(child, depth + 1) for child in children(pid)]
        done.wait(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb", type=int, default=512 * 1024 * 1024, help="bytes the first gzip bomb inflates to")
    parser.add_argument("--huge", type=int, default=300_000_000, help="bytes of the huge pages")
    parser.add_argument("--big", type=int, default=4 * 1024 * 1024 - 8192,
                        help="bytes of the valid document just under the page limit (GOVARCHIVE_PAGE_MAXSIZE)")
    parser.add_argument("--timeout", type=int, default=20, help="DOWNLOAD_TIMEOUT, seconds")
    parser.add_argument("--list-pages", type=int, default=20, help="GOVARCHIVE_MAX_LIST_PAGES (the endless column)")
    parser.add_argument("-s", dest="settings", action="append", default=[], help="more crawl settings NAME=VALUE")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="govarchive-hostile-"))
    server = subprocess.Popen([sys.executable, "-m", "fixtures.hostile.server", "--port", "0", "--limit", str(args.bomb),
                               "--huge", str(args.huge), "--big", str(args.big), "--hold", str(4 * args.timeout)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        urls = []
        for line in server.stdout:
            if line.startswith("  http"):
                urls.append(line.strip())
            if len(urls) == 4:
                break
        settings = [f"DOWNLOAD_TIMEOUT={args.timeout}", "GOVARCHIVE_ANTIBOT_DELAY=0.05", "GOVARCHIVE_ANTIBOT_MAX_DELAY=0.1",
                    "GOVARCHIVE_ANTIBOT_PAUSE=1",
                    f"GOVARCHIVE_MAX_LIST_PAGES={args.list_pages}", "GOVARCHIVE_BROWSER=never", *args.settings]
        govarchive = Path(sys.executable).with_name("govarchive")
        command = ["/usr/bin/time", "-v", str(govarchive), "crawl", *urls, "--db", f"sqlite:///{work / 'g.db'}",
                   "--warc-dir", str(work / "warc"), *(x for s in settings for x in ("-s", s))]
        peaks: dict[int, tuple[int, int]] = {}
        done = threading.Event()
        started = time.monotonic()
        crawl = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "GOVARCHIVE_DB": ""})
        sampler = threading.Thread(target=sample, args=(crawl.pid, peaks, done), daemon=True)
        sampler.start()
        _, stderr = crawl.communicate()
        done.set()
        seconds = time.monotonic() - started
    finally:
        server.terminate()
        server.wait()
    max_rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.+)", stderr)
    crawl_peaks = [kib for depth, kib in peaks.values() if depth == 1]
    worker_peaks = sorted((kib for depth, kib in peaks.values() if depth > 1), reverse=True)
    result = {
        "bomb_bytes": args.bomb, "huge_bytes": args.huge, "big_bytes": args.big, "settings": settings, "seconds": round(seconds, 1),
        "time_wall": wall.group(1).strip() if wall else None,
        "time_max_rss_mib": round(int(max_rss.group(1)) / 1024, 1) if max_rss else None,
        "crawl_peak_rss_mib": round(max(crawl_peaks) / 1024, 1) if crawl_peaks else None,
        "worker_peak_rss_mib": [round(kib / 1024, 1) for kib in worker_peaks],
        "exit": crawl.returncode, "summary": stderr.split("crawl finished", 1)[-1].split("Command being timed")[0][-1500:],
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=2))
    print(result["summary"])


if __name__ == "__main__":
    main()
