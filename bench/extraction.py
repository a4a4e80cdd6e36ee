"""Extraction benchmark: govarchive against trafilatura on the fixture pages, in the same run.

    python bench/extraction.py [--rounds N] [--pages DIR]

Two page sets, reported separately: our own templates (DIR/*.html) and real pages saved from public
repositories (DIR/real/*.html, see its SOURCES.md). For each set and extractor: per-field accuracy
(exact match with the hand-written expected report), body character-bigram F1 (multiset, whitespace
ignored) and pages/s over N rounds of the set. trafilatura has no column, breadcrumb, source, metadata
block or attachment list; those cells show "—". Its date is compared on the day only (it has no time of
day). Targets, on each set: fields >= 98 %, body F1 >= 0.97, at least 2x trafilatura's pages/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.extract import ExtractionError, extract  # noqa: E402

FIELDS = ("title", "publish_time", "source", "column", "breadcrumb", "metadata", "attachments", "images")
TARGET_FIELDS = 0.98
TARGET_F1 = 0.97
TARGET_SPEEDUP = 2.0


def bigrams(text: str) -> Counter:
    chars = "".join(text.split())
    return Counter(chars[i:i + 2] for i in range(len(chars) - 1))


def bigram_f1(got: str, expected: str) -> float:
    g, e = bigrams(got), bigrams(expected)
    if not g and not e:
        return 1.0
    overlap = sum((g & e).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(g.values()), overlap / sum(e.values())
    return 2 * precision * recall / (precision + recall)


def load_pages(directory: Path) -> list[tuple[str, bytes, dict]]:
    pages = []
    for path in sorted(directory.glob("*.expected.json")):
        name = path.name.removesuffix(".expected.json")
        pages.append((name, (directory / f"{name}.html").read_bytes(), json.loads(path.read_text("utf-8"))))
    return pages


def run_govarchive(body: bytes, url: str) -> dict:
    try:
        return extract(body, url).to_dict()
    except ExtractionError:
        return {}


def run_trafilatura(body: bytes, url: str) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(body, url=url, with_metadata=True, include_tables=True)
    if doc is None:
        return {}
    data = doc if isinstance(doc, dict) else doc.as_dict()
    return {"title": data.get("title"), "publish_time": data.get("date"), "body_text": data.get("text") or ""}


def field_ok(name: str, got: dict, expected: dict, day_only: bool) -> bool:
    value, want = got.get(name), expected[name]
    if name == "attachments":
        value = [(a["url"], a["name"]) for a in value or []]
        want = [(a["url"], a["name"]) for a in want]
    if name == "publish_time" and day_only:
        value, want = (value or "")[:10] or None, (want or "")[:10] or None
    return value == want


def score(runner: Callable[[bytes, str], dict], pages, fields: tuple[str, ...], day_only: bool) -> dict:
    right = Counter()
    f1 = 0.0
    for _, body, expected in pages:
        got = runner(body, expected["url"])
        for name in fields:
            right[name] += field_ok(name, got, expected, day_only)
        f1 += bigram_f1(got.get("body_text") or "", expected["body_text"])
    return {"fields": {n: right[n] / len(pages) for n in fields}, "f1": f1 / len(pages)}


def speed(runner: Callable[[bytes, str], dict], pages, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for _, body, expected in pages:
            runner(body, expected["url"])
    return rounds * len(pages) / (time.perf_counter() - start)


def report(title: str, pages, rounds: int) -> bool:
    """Score and time both extractors on one page set, print its table; True when its targets are met."""
    ours = score(run_govarchive, pages, FIELDS, day_only=False)
    theirs = score(run_trafilatura, pages, ("title", "publish_time"), day_only=True)
    run_govarchive(pages[0][1], pages[0][2]["url"])
    run_trafilatura(pages[0][1], pages[0][2]["url"])
    ours_speed = speed(run_govarchive, pages, rounds)
    theirs_speed = speed(run_trafilatura, pages, rounds)

    print(f"\n{title}: {len(pages)} pages, {rounds} timed rounds")
    print(f"{'metric':<22}{'govarchive':>12}{'trafilatura':>13}")
    for name in FIELDS:
        other = theirs["fields"].get(name)
        other_cell = f"{other:>12.1%}" if other is not None else f"{'—':>12}"
        print(f"{name:<22}{ours['fields'][name]:>12.1%} {other_cell}")
    mean_fields = sum(ours["fields"].values()) / len(FIELDS)
    print(f"{'fields (mean)':<22}{mean_fields:>12.1%}")
    print(f"{'body bigram F1':<22}{ours['f1']:>12.3f}{theirs['f1']:>13.3f}")
    print(f"{'pages/s':<22}{ours_speed:>12.1f}{theirs_speed:>13.1f}")
    print(f"{'speed ratio':<22}{ours_speed / theirs_speed:>11.1f}x")
    return (min(ours["fields"].values()) >= TARGET_FIELDS and ours["f1"] >= TARGET_F1
            and ours_speed >= TARGET_SPEEDUP * theirs_speed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over each page set (default 5)")
    parser.add_argument("--pages", type=Path, default=ROOT / "fixtures" / "pages")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.CRITICAL)
    sets = [("own templates", load_pages(args.pages)), ("real pages", load_pages(args.pages / "real"))]
    met = [report(title, pages, args.rounds) for title, pages in sets if pages]
    print("\ntargets met" if all(met) else "\ntargets NOT met")
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
