"""Take the README's screenshots of the web interface with headless Chromium (Debian's package).

    python -m fixtures.demo                        # crawl the fixture site into ./data first
    python docs/screenshots.py [--db URL] [--warc-dir DIR] [--query 财政]

Starts `govarchive serve` on a free port, opens the search page and the first hit's report page,
and writes docs/search.png and docs/report.png (1200 px wide, top of the page only), quantised by
pngquant when it is installed (apt-get install pngquant) to stay small.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite:///data/govarchive.db")
    ap.add_argument("--warc-dir", default="data/warc")
    ap.add_argument("--query", default="财政")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    server = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", args.db, "--warc-dir", args.warc_dir, "--port", "0",
         "--replay-url", ""],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        line = server.stderr.readline()
        if " at http://" not in line:
            print(line + server.stderr.read(), file=sys.stderr)
            return 1
        base = line.split(" at ", 1)[1].split()[0].rstrip("/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1200, "height": 820}, locale="zh-CN")
            page.goto(f"{base}/search?q={quote(args.query)}")
            page.screenshot(path=DOCS / "search.png")
            page.locator("ol.hits h3 a").first.click()
            page.wait_for_load_state()
            page.screenshot(path=DOCS / "report.png")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    shots = [str(DOCS / "search.png"), str(DOCS / "report.png")]
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--quality", "60-85", "--ext", ".png", "64", *shots], check=True)
    print(f"wrote {' and '.join(shots)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
