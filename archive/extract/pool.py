"""Extraction in worker processes, so a crawl uses more than the one core its event loop runs on.

Extraction is a crawl's largest CPU cost (parsing, cleaning and scoring a page takes milliseconds) and
Python runs it under one interpreter lock. Handing pages to worker processes lets the event loop go on
fetching, capturing and storing while pages are read beside it. The crawl's workers run
`archive.page.read_page`, the function `extract` and `reprocess` use too, so the same bytes give the
same answer.

A worker that dies (a crash in the parser, the kernel's OOM killer) must cost at most the page that
killed it: every page it held is tried again alone in a fresh process, and only a page that kills that
one too becomes an ExtractionError (kind "crashed"). A page that keeps a worker busy past `timeout`
(runaway backtracking on a pathological page) is interrupted there and becomes an ExtractionError (kind
"timeout"); stuck in C code where no interrupt reaches, its worker ends itself at twice the timeout,
which the pool handles as a crash. Inline extraction has no timeout.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from archive.extract.errors import ExtractionError

logger = logging.getLogger(__name__)

# More workers than this gain nothing for one crawl: the event loop, not extraction, becomes the limit.
MAX_AUTO_WORKERS = 4


def auto_workers() -> int:
    """One core stays with the event loop; the others (up to MAX_AUTO_WORKERS) extract."""
    return max(0, min((os.cpu_count() or 1) - 1, MAX_AUTO_WORKERS))


# Seconds a new worker may take to answer before the crawl gives up on workers and extracts inline.
START_TIMEOUT_SECONDS = 60.0
# Seconds between a worker's checks that the crawl process that started it is still alive.
PARENT_CHECK_SECONDS = 1.0


class _Deadline(BaseException):
    """Raised in a worker by its timer; a BaseException so that no `except Exception` swallows it."""


# The monotonic time past which the worker's current page is stuck beyond interrupting (None: idle).
_hard_deadline: float | None = None


def _init_worker() -> None:
    """Workers leave Ctrl-C to the crawl process, which shuts them down itself after a clean stop, and
    exit on their own when that process is gone (kill -9, the OOM killer): an orphan would wait forever.
    The same watch ends a worker stuck on one page past its hard deadline."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            deadline = _hard_deadline
            if deadline is not None and time.monotonic() > deadline:
                os._exit(70)
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _call_with_deadline(function: Callable[..., Any], timeout: float | None, label: str, args: tuple) -> Any:
    """Runs in the worker: `function(*args)` for one page (`label`, its URL), interrupted after `timeout` s."""
    global _hard_deadline
    if timeout is None:
        return function(*args)

    def interrupt(signum: int, frame: Any) -> None:
        raise _Deadline

    signal.signal(signal.SIGALRM, interrupt)
    _hard_deadline = time.monotonic() + 2 * timeout
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return function(*args)
    except _Deadline:
        raise ExtractionError(f"extraction took longer than {timeout:g} s on this page: {label}",
                              kind="timeout") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _hard_deadline = None


class ExtractionPool:
    """`await pool.run(label, *args)`: `function(*args)` in a worker process, or inline with 0 workers.
    `function` is a module-level callable (pickled by name); `label` names the page in errors.
    """

    def __init__(self, workers: int, function: Callable[..., Any], timeout: float | None = None) -> None:
        self.workers = workers
        self.function = function
        self.timeout = timeout  # seconds one page may take in a worker; None: no limit
        self._executor: ProcessPoolExecutor | None = None
        self._alone: asyncio.Semaphore | None = None  # retries alone, no more at once than there are workers

    def start(self) -> None:
        """Start the workers now and make sure they run; where processes cannot be started (a process
        limit, a sandbox), extract inline rather than fail every page."""
        if self.workers <= 0:
            return
        try:
            pool = self._pool()
            for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
                future.result(timeout=START_TIMEOUT_SECONDS)
        except Exception as exc:  # OSError, BrokenProcessPool, TimeoutError: no usable worker
            logger.warning("extraction worker processes could not start (%s); extracting inline", exc)
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self.workers = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = _spawn_executor(self.workers)
        return self._executor

    async def run(self, label: str, *args: Any) -> Any:
        if self.workers <= 0:
            return self.function(*args)
        pool = self._pool()
        try:
            return await self._wait(pool, label, args)
        except BrokenProcessPool:
            if self._executor is pool:  # the first page to notice replaces the pool for everyone
                logger.warning("an extraction worker died; restarting the pool and retrying its pages alone")
                pool.shutdown(wait=False, cancel_futures=True)
                self._executor = None
        return await self._run_alone(label, args)

    async def _wait(self, pool: ProcessPoolExecutor, label: str, args: tuple) -> Any:
        return await asyncio.wrap_future(pool.submit(_call_with_deadline, self.function, self.timeout, label, args))

    async def _run_alone(self, label: str, args: tuple) -> Any:
        """One page in a process of its own: it either gives its report or proves it kills workers."""
        if self._alone is None:
            self._alone = asyncio.Semaphore(max(1, self.workers))
        async with self._alone:
            single = _spawn_executor(1)
            try:
                return await self._wait(single, label, args)
            except BrokenProcessPool:
                raise ExtractionError(f"extraction crashed its worker process on this page: {label}",
                                      kind="crashed") from None
            finally:
                single.shutdown(wait=False)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _spawn_executor(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: the crawl process runs an event loop and threads that a fork would copy.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)
