"""Extraction in worker processes: the same reports as inline, errors intact, a crashing page isolated."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from archive.extract import ExtractionError, extract
from archive.extract.pool import ExtractionPool

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
CRASH_MARKER = "/crash-the-worker/"
HANG_MARKER = "/hang-the-worker/"
STUCK_MARKER = "/stuck-in-c/"


def extract_or_die(body: bytes, url: str, **options):
    """Runs in the worker: a page under CRASH_MARKER kills its process the way a parser crash would."""
    if CRASH_MARKER in url:
        os._exit(70)
    return extract(body, url, **options)


def extract_or_hang(body: bytes, url: str, **options):
    """Runs in the worker: a page under HANG_MARKER keeps it busy the way runaway backtracking would."""
    import signal
    import time

    if STUCK_MARKER in url:  # like a loop in C code, which no signal handler interrupts
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    if HANG_MARKER in url or STUCK_MARKER in url:
        time.sleep(3600)
    return extract(body, url, **options)


def fixture_pages(count: int) -> list[tuple[bytes, str]]:
    pages = sorted(p for p in PAGES.glob("*.html"))[:count]
    assert len(pages) == count
    return [(p.read_bytes(), f"http://gov.test/{p.stem}/t20240301_1.html") for p in pages]


async def extract_all(pool: ExtractionPool, pages: list[tuple[bytes, str]]) -> list:
    results = await asyncio.gather(*(pool.run(url, body, url) for body, url in pages), return_exceptions=True)
    pool.close()
    return results


def inline(pages: list[tuple[bytes, str]]) -> list:
    out = []
    for body, url in pages:
        try:
            out.append(extract(body, url))
        except ExtractionError as exc:
            out.append(exc)
    return out


def same(got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, ExtractionError):
            assert isinstance(g, ExtractionError) and (str(g), g.kind) == (str(e), e.kind)
        else:
            assert g == e


def test_workers_give_the_same_reports_and_errors_as_inline_extraction():
    pages = fixture_pages(12)
    pages.append((b"", "http://gov.test/empty.html"))  # an ExtractionError crosses the process boundary
    pages.append((b"%PDF-1.7\n" + bytes(range(256)) * 8, "http://gov.test/file.html"))
    pages.append((b"<!DOCTYPE html>", "http://gov.test/doctype.html"))  # lxml's ParserError does not pickle
    got = asyncio.run(extract_all(ExtractionPool(2, extract), pages))
    same(got, inline(pages))
    assert [g.kind for g in got[-3:]] == ["empty", "binary", "unparsable"]


def test_a_page_the_parser_rejects_comes_back_from_a_worker_as_a_named_failure():
    from archive.page import FAILED, RECORD, Fetched, PageContext, read_page

    fetched = Fetched("http://gov.test/t20240301_1.html", 200, [("Content-Type", "text/html")], b"<!DOCTYPE html>")
    pool = ExtractionPool(1, read_page)

    async def run():
        try:
            return await pool.run(fetched.url, fetched, PageContext(RECORD))
        finally:
            pool.close()

    reading = asyncio.run(run())
    assert (reading.kind, reading.failure_kind) == (FAILED, "extraction")
    assert reading.message.startswith("no parsable HTML document")


def test_no_workers_extracts_inline():
    pages = fixture_pages(3)
    same(asyncio.run(extract_all(ExtractionPool(0, extract), pages)), inline(pages))


def test_a_page_that_kills_its_worker_fails_alone_and_the_crawl_goes_on():
    pages = fixture_pages(8)
    body, _ = pages[3]
    pages[3] = (body, f"http://gov.test{CRASH_MARKER}t20240301_9.html")
    pool = ExtractionPool(1, function=extract_or_die)

    async def run() -> tuple[list, list]:
        first = await asyncio.gather(*(pool.run(u, b, u) for b, u in pages), return_exceptions=True)
        after = await asyncio.gather(*(pool.run(u, b, u) for b, u in fixture_pages(2)))  # a fresh pool
        pool.close()
        return first, after

    first, after = asyncio.run(run())
    crashed = first[3]
    assert isinstance(crashed, ExtractionError) and crashed.kind == "crashed"
    assert CRASH_MARKER in str(crashed)
    expected = inline(pages[:3] + pages[4:])
    same(first[:3] + first[4:], expected)
    same(after, inline(fixture_pages(2)))


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_worker_count_is_a_clear_error(value):
    from crawler.middlewares.page_reader import PageReaderMiddleware
    from tests.conftest import project_crawler

    with pytest.raises(ValueError, match="GOVARCHIVE_EXTRACT_WORKERS must be 'auto' or a whole number"):
        PageReaderMiddleware.from_crawler(project_crawler(GOVARCHIVE_EXTRACT_WORKERS=value))


def worker_pid(body: bytes, url: str, **options) -> int:
    return os.getpid()


def test_workers_exit_when_the_crawl_process_is_killed(tmp_path):
    """kill -9 of a crawl must not leave its extraction workers behind, waiting forever."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import asyncio, sys, time\n"
        "from archive.extract.pool import ExtractionPool\n"
        "from tests.test_extract_pool import worker_pid\n"
        "pool = ExtractionPool(1, worker_pid)\n"
        "print(asyncio.run(pool.run('http://gov.test/', b'', 'http://gov.test/')), flush=True)\n"
        "time.sleep(600)\n"
    )
    root = Path(__file__).resolve().parents[1]
    crawl = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(root)})
    pid = int(crawl.stdout.readline())
    assert alive(pid)
    crawl.send_signal(signal.SIGKILL)
    crawl.wait()
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "the extraction worker outlived its crawl process"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent (init here) has yet to reap it


def test_workers_that_cannot_start_mean_inline_extraction(monkeypatch):
    import archive.extract.pool as pool_module

    def no_processes(workers):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(pool_module, "_spawn_executor", no_processes)
    pool = ExtractionPool(2, extract)
    pool.start()
    assert pool.workers == 0
    pages = fixture_pages(2)
    same(asyncio.run(extract_all(pool, pages)), inline(pages))


def test_a_page_past_the_timeout_fails_alone_and_its_worker_is_killed():
    pages = fixture_pages(6)
    body, _ = pages[2]
    pages[2] = (body, f"http://gov.test{HANG_MARKER}t20240301_9.html")
    pool = ExtractionPool(1, function=extract_or_hang, timeout=3.0)
    pool.start()
    first = asyncio.run(extract_all(pool, pages))
    hung = first[2]
    assert isinstance(hung, ExtractionError) and hung.kind == "timeout" and HANG_MARKER in str(hung)
    same(first[:2] + first[3:], inline(pages[:2] + pages[3:]))


def test_a_worker_stuck_where_no_interrupt_reaches_ends_itself_and_the_page_fails():
    pages = fixture_pages(3)
    body, _ = pages[1]
    pages[1] = (body, f"http://gov.test{STUCK_MARKER}t20240301_9.html")
    pool = ExtractionPool(1, function=extract_or_hang, timeout=1.0)
    got = asyncio.run(extract_all(pool, pages))
    assert isinstance(got[1], ExtractionError) and got[1].kind == "crashed"
    same([got[0], got[2]], inline([pages[0], pages[2]]))
