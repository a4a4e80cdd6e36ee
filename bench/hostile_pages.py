"""Reading hostile pages (`fixtures/pathological.py`): seconds per page through `archive.page.read_page`.

    python bench/hostile_pages.py [--timeout S] [--tree DIR]          # the table, each page in a child process
    python bench/hostile_pages.py --page huge-page --size 52428800    # one page, for /usr/bin/time -v

Each page is read in a process of its own, stopped after --timeout seconds ("> S s" in the table), so a
catastrophic regex shows as a timeout rather than hanging the benchmark. --tree reads with the `archive`
package of another checkout (e.g. an older commit exported with `git archive REV archive | tar -x -C DIR`)
for before/after figures; the pages always come from this checkout. Baseline in the same run: an ordinary
fixture page of the same family (`trs_kjj_xmtz`), read the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = "http://www.example.gov.cn/art/2024/3/1/art_1_1.html"


def read_one(name: str, size: int | None) -> dict:
    from archive.page import RECORD, Fetched, PageContext, read_page
    from fixtures import pathological

    if name == "baseline":
        body = (ROOT / "fixtures" / "pages" / "trs_kjj_xmtz.html").read_bytes()
    else:
        make = pathological.PAGES[name]
        body = make(size) if size else make()
    started = time.perf_counter()
    reading = read_page(Fetched(URL, 200, [("Content-Type", "text/html; charset=utf-8")], body), PageContext(RECORD))
    seconds = time.perf_counter() - started
    return {"page": name, "bytes": len(body), "seconds": round(seconds, 3), "kind": reading.kind,
            "failure": reading.failure_kind, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def run_child(name: str, tree: Path, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT)])}
    try:
        proc = subprocess.run([sys.executable, __file__, "--page", name, "--json", "--tree", str(tree)], env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"page": name, "seconds": None, "kind": f"> {timeout:g} s (stopped)"}
    if proc.returncode != 0:
        return {"page": name, "seconds": None, "kind": "error: " + (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--page", help="read this one page in this process and print its figures")
    parser.add_argument("--size", type=int, help="size in bytes for the pages that take one (huge-page, …)")
    parser.add_argument("--json", action="store_true", help="with --page: one JSON line")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a page may take (default 120)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout whose `archive` package reads the pages")
    args = parser.parse_args()
    if args.page:
        sys.path[:0] = [str(args.tree), str(ROOT)]
        result = read_one(args.page, args.size)
        print(json.dumps(result) if args.json else result)
        return
    sys.path.insert(0, str(ROOT))
    from fixtures import pathological

    print(f"{'page':<20} {'bytes':>10} {'seconds':>9}  outcome")
    for name in ["baseline", *pathological.PAGES]:
        got = run_child(name, args.tree, args.timeout)
        seconds = f"{got['seconds']:.2f}" if got.get("seconds") is not None else "—"
        outcome = got["kind"] + (f" ({got['failure']})" if got.get("failure") else "")
        print(f"{name:<20} {got.get('bytes', ''):>10} {seconds:>9}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
