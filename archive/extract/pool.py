"""Extraction in worker processes, so a crawl uses more than the one core its event loop runs on.

Extraction is the crawl's largest CPU cost (parsing, cleaning, scoring a page takes milliseconds) and
Python runs it under one interpreter lock. Handing pages to worker processes lets the event loop keep
fetching, capturing and storing while pages are extracted in parallel. The same `extract` function runs
in the workers, so the same bytes still give the same report.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archive.extract.extractor import extract
from archive.report import Report

logger = logging.getLogger(__name__)

# More workers than this gain nothing for one crawl: the event loop, not extraction, becomes the limit.
MAX_AUTO_WORKERS = 4


def auto_workers() -> int:
    """One core stays with the event loop; the others (up to MAX_AUTO_WORKERS) extract."""
    return max(0, min((os.cpu_count() or 1) - 1, MAX_AUTO_WORKERS))


class ExtractionPool:
    """`await pool.extract(body, url, ...)`: `extract` in a worker process, or inline with 0 workers.

    A worker that dies (killed, out of memory) costs only the page it held: the pool is rebuilt and that
    page is extracted inline, so the crawl goes on.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the crawl process runs an event loop and threads that a fork would copy.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._executor

    async def extract(self, body: bytes, url: str, **options: object) -> Report:
        if self.workers <= 0:
            return extract(body, url, **options)
        try:
            future = self._pool().submit(extract, body, url, **options)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            logger.warning("extraction worker died on %s; extracting it inline and restarting the pool", url)
            self.close()
            return extract(body, url, **options)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
