"""Benchmark: `govarchive reprocess` against plain warcio iteration over the same WARC files.

Usage:
    python bench/reprocess.py                  # crawls the fixture site with 2,000 generated detail pages
    python bench/reprocess.py --pages 5000 --repeat 3
    python bench/reprocess.py --warc-dir data/warc   # an existing archive instead

The baseline reads every record of the WARCs with warcio (headers parsed, every payload read to the end,
content-decoded as a reader must): the floor any reprocess pays. `reprocess` does that plus reading
each page (recognition, list links, extraction, search tokens) and storing the reports in a fresh
SQLite database. Prints records/s for both, the ratio, and the reports stored; best of --repeat.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from archive.reprocess import reprocess_warcs  # noqa: E402
from archive.store import Store  # noqa: E402
from archive.warc.reader import iter_warc_files  # noqa: E402


def crawl_fixture_site(pages: int, workdir: Path) -> Path:
    """A real `govarchive crawl` of the fixture site with `pages` generated detail pages."""
    from fixtures.site.server import start_site

    site = start_site(port=0, detail_pages=pages)
    try:
        command = [sys.executable, "-m", "crawler", "crawl", *site.start_urls, "--db",
                   f"sqlite:///{workdir / 'crawl.db'}", "--warc-dir", str(workdir / "warc"),
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "GOVARCHIVE_PROGRESS=off"]
        subprocess.run(command, cwd=workdir, check=True, capture_output=True)
    finally:
        site.stop()
    return workdir / "warc"


def plain_warcio(warc_dir: Path) -> int:
    records = 0
    for path in iter_warc_files([warc_dir]):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                record.content_stream().read()
                records += 1
    return records


def reprocess(warc_dir: Path, db: Path) -> tuple[int, int]:
    db.unlink(missing_ok=True)
    store = Store(f"sqlite:///{db}")
    try:
        summary = reprocess_warcs([warc_dir], store)
    finally:
        store.close()
    return summary.responses, sum(summary.outcomes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--warc-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        warc_dir = args.warc_dir or crawl_fixture_site(args.pages, workdir)
        records = plain_warcio(warc_dir)
        base, ours = float("inf"), float("inf")
        responses = reports = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            plain_warcio(warc_dir)
            base = min(base, time.perf_counter() - t0)
            t0 = time.perf_counter()
            responses, reports = reprocess(warc_dir, workdir / "rebuilt.db")
            ours = min(ours, time.perf_counter() - t0)
    size = sum(p.stat().st_size for p in iter_warc_files([warc_dir])) if args.warc_dir else None
    print(f"WARC records: {records} ({responses} responses){f', {size / 1e6:.1f} MB' if size else ''}")
    print(f"plain warcio iteration: {base:.2f} s, {records / base:,.0f} records/s")
    print(f"govarchive reprocess:   {ours:.2f} s, {records / ours:,.0f} records/s, {reports} reports stored")
    print(f"ratio (reprocess rate / warcio rate): {base / ours:.3f}")


if __name__ == "__main__":
    main()
