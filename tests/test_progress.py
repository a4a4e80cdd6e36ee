"""Progress extension: when the live line shows, and what the end-of-crawl summary says."""

from __future__ import annotations

import io

from rich.console import Console

from crawler.extensions.progress import format_duration, human_bytes, live_wanted, render_summary

SUMMARY = {
    "status": "finished", "finish_reason": "finished", "seconds": 12.5, "pages": 431, "pages_ok": 430,
    "reports_new": 2, "reports_changed": 1, "reports_unchanged": 315, "attachments": 96,
    "failures": {"http_404": 1, "timeout": 2}, "failures_total": 3,
    "warc_files": ["a.warc.gz"], "warc_bytes": 13_500_000, "warc_records": 529, "warc_revisits": 411,
    "warc_repaired": [{"file": "a.warc.gz", "action": "truncated", "records": 212, "bytes_dropped": 5120}],
}


def test_summary_names_every_count():
    text = render_summary(SUMMARY, 3).plain
    assert "crawl finished (run 3" in text
    assert "2 new, 1 changed, 315 unchanged" in text
    assert "attachments 96" in text
    assert "3 (http_404 1, timeout 2)" in text
    assert "1 file(s), 12.9 MB, 529 records (411 revisits)" in text
    assert "repaired" in text and "truncated" in text


def test_failed_summary_says_so():
    text = render_summary({**SUMMARY, "status": "failed", "warc_repaired": []}, 4).plain
    assert text.startswith("crawl failed: the site could not be crawled")


def test_live_line_only_on_a_terminal_unless_forced():
    pipe = Console(file=io.StringIO())
    tty = Console(file=io.StringIO(), force_terminal=True)
    assert not live_wanted("auto", pipe)
    assert live_wanted("auto", tty)
    assert live_wanted("on", pipe)
    assert not live_wanted("off", tty)


def test_units():
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KB"
    assert format_duration(2.25) == "2.2 s" or format_duration(2.25) == "2.3 s"
    assert format_duration(3725) == "1:02:05"
