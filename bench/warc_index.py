"""Benchmark: `govarchive warc index` (archive.warc.indexer) against cdxj-indexer on the same WARCs.

Usage:
    python bench/warc_index.py                      # builds a synthetic crawl of 20,000 exchanges
    python bench/warc_index.py --exchanges 50000
    python bench/warc_index.py --warc-dir data/warc # index an existing archive instead

Prints the best of --repeat runs for each indexer and the ratio (ours / cdxj-indexer; below 1 is
faster). Also reports the WarcWriter's own throughput while it builds the synthetic corpus.
cdxj-indexer is a dev dependency (pip install -e .[dev]).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.warc import Exchange, WarcWriter  # noqa: E402
from archive.warc.indexer import write_cdxj  # noqa: E402

WORDS = "政府 信息 公开 通知 关于 印发 工作 年度 报告 条例 规定 办法 实施 意见 决定".split()


def build_corpus(directory: Path, exchanges: int, max_size: int) -> tuple[float, int]:
    """A crawl-like mix: HTML pages (some repeated → revisits), PDFs, redirects. Returns (seconds, bytes)."""
    rng = random.Random(4)
    attachments = [os.urandom(rng.randint(20_000, 80_000)) for _ in range(50)]
    writer = WarcWriter(directory, host="bench", max_size=max_size, warcinfo={"run-id": "bench"})
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    start = time.perf_counter()
    body_bytes = 0
    for i in range(exchanges):
        kind = i % 10
        url = f"http://www{i % 7}.example.gov.cn/col/col{i % 40}/art_{i}.html?page={i % 5}"
        if kind == 9:
            ex = Exchange(
                url=url,
                status=302,
                response_headers=[(b"Location", b"/index.html")],
                body=b"",
                started_at=t0 + timedelta(seconds=i),
            )
        elif kind == 8:
            body = attachments[rng.randrange(len(attachments))]
            ex = Exchange(
                url=url.replace(".html", ".pdf"),
                status=200,
                response_headers=[(b"Content-Type", b"application/pdf")],
                body=body,
                started_at=t0 + timedelta(seconds=i),
            )
        else:
            text = "".join(rng.choice(WORDS) for _ in range(rng.randint(300, 1500)))
            body = f"<html><head><title>{text[:20]}</title></head><body><p>{text}</p></body></html>".encode()
            ex = Exchange(
                url=url,
                status=200,
                response_headers=[
                    (b"Content-Type", b"text/html; charset=utf-8"),
                    (b"Set-Cookie", b"a=1"),
                    (b"Set-Cookie", b"b=2"),
                ],
                body=body,
                started_at=t0 + timedelta(seconds=i),
                ip_address="127.0.0.1",
            )
        body_bytes += len(ex.body)
        writer.write_exchange(ex)
    writer.close()
    return time.perf_counter() - start, body_bytes


def time_ours(warc_dir: Path) -> tuple[float, int]:
    out = io.StringIO()
    start = time.perf_counter()
    lines = write_cdxj(warc_dir, out)
    return time.perf_counter() - start, lines


def time_cdxj_indexer(warc_dir: Path) -> tuple[float, int]:
    from cdxj_indexer.main import CDXJIndexer

    with tempfile.NamedTemporaryFile("w+", suffix=".cdxj") as out:
        start = time.perf_counter()
        CDXJIndexer(output=out.name, inputs=[str(warc_dir)], sort=True).process_all()
        elapsed = time.perf_counter() - start
        lines = sum(1 for _ in open(out.name))
    return elapsed, lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warc-dir", type=Path)
    parser.add_argument("--exchanges", type=int, default=20_000)
    parser.add_argument("--max-size", type=int, default=100_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        warc_dir = args.warc_dir
        if warc_dir is None:
            warc_dir = Path(tmp) / "warc"
            seconds, body_bytes = build_corpus(warc_dir, args.exchanges, args.max_size)
            print(
                f"writer: {args.exchanges} exchanges, {body_bytes / 1e6:.1f} MB of bodies in {seconds:.2f}s "
                f"= {args.exchanges / seconds:,.0f} exchanges/s, {body_bytes / 1e6 / seconds:.1f} MB/s"
            )
        files = sorted(p for p in warc_dir.iterdir() if p.name.endswith((".warc.gz", ".warc")))
        size = sum(p.stat().st_size for p in files)
        print(f"corpus: {len(files)} files, {size / 1e6:.1f} MB compressed")

        ours = min(time_ours(warc_dir) for _ in range(args.repeat))
        try:
            theirs = min(time_cdxj_indexer(warc_dir) for _ in range(args.repeat))
        except ImportError:
            print(f"govarchive warc index: {ours[0]:.2f}s ({ours[1]} lines); cdxj-indexer not installed")
            return
        print(f"govarchive warc index: {ours[0]:.2f}s for {ours[1]} lines ({ours[1] / ours[0]:,.0f} lines/s)")
        print(
            f"cdxj-indexer --sort:   {theirs[0]:.2f}s for {theirs[1]} lines ({theirs[1] / theirs[0]:,.0f} lines/s)"
        )
        print(f"ratio (ours / cdxj-indexer): {ours[0] / theirs[0]:.2f}")


if __name__ == "__main__":
    main()
