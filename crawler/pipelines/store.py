"""Store pipeline: hands the spider's items to `archive.store.Store`.

Thin on purpose: validation of the item's shape, batching, counting. Change detection, versioning and
attachment linking happen in the Store. Reports and files are saved in batches of GOVARCHIVE_BATCH_SIZE
(one transaction each), and at least every GOVARCHIVE_FLUSH_INTERVAL seconds whatever the batch holds
(a crash loses no more than those seconds of extraction); the rest is flushed when the spider closes
or, on a second Ctrl-C, on `force_stop`; failures and withdrawals are
rare and go straight through, a withdrawal after the reports before it are saved (a report first
seen in this crawl and withdrawn later in it is flagged, as a reprocess of the WARCs flags it).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from archive.report import Report
from archive.store import Store
from crawler.extensions.crawl_run import RUN_ID_STAT, force_stop
from crawler.items import FailureItem, FileItem, ReportItem, WithdrawnItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

OUTCOMES = ("new", "changed", "unchanged")


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = Store(crawler.settings["GOVARCHIVE_DB"])
        self.batch_size = max(1, crawler.settings.getint("GOVARCHIVE_BATCH_SIZE"))
        self._batch: list[Report] = []
        self._files: list[dict[str, Any]] = []
        self.flush_interval = crawler.settings.getfloat("GOVARCHIVE_FLUSH_INTERVAL")
        self._flushed_at = time.monotonic()
        self._timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.force_stop, signal=force_stop)
        return pipeline

    def open_spider(self) -> None:
        from twisted.internet import task

        if self.flush_interval > 0:  # also when no item arrives: a slow site must not hold reports back
            self._timer = task.LoopingCall(self._flush_if_due)
            self._timer.start(min(1.0, self.flush_interval), now=False)

    def _flush_if_due(self) -> None:
        if self.flush_interval > 0 and time.monotonic() - self._flushed_at >= self.flush_interval:
            self.flush()

    def force_stop(self) -> None:
        """A second Ctrl-C: what was extracted is stored before the process stops."""
        self._stop_timer()
        self.flush()

    @property
    def run_id(self) -> int | None:
        return self.stats.get_value(RUN_ID_STAT)  # CrawlRunExtension's

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()

    def close_spider(self) -> None:
        self._stop_timer()
        self.flush()
        self.store.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ReportItem):
            self._add_report(item.report)
        elif isinstance(item, FileItem):
            self._save_file(item)
        elif isinstance(item, FailureItem):
            self._record_failure(item)
        elif isinstance(item, WithdrawnItem):
            self._mark_withdrawn(item)
        return item

    def _add_report(self, report: Report) -> None:
        if not isinstance(report, Report) or not report.url:
            raise DropItem(f"not a report with a URL: {report!r:.200}")
        if not report.content_hash:
            report.content_hash = report.compute_content_hash()
        self._batch.append(report)
        self.stats.inc_value("govarchive/reports/received")
        if len(self._batch) >= self.batch_size:
            self.flush()
        else:
            self._flush_if_due()

    def flush(self) -> None:
        self._flushed_at = time.monotonic()
        self._flush_files()
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        try:
            outcomes = self.store.save_reports(batch, self.run_id)
        except Exception as exc:
            logger.exception("saving %d reports failed", len(batch))
            self.stats.inc_value("govarchive/failures/store", len(batch))
            self._record_store_failure([r.url for r in batch], exc)
            return
        for outcome in outcomes:
            self.stats.inc_value(f"govarchive/reports/{outcome}")

    def _record_store_failure(self, urls: list[str], exc: Exception) -> None:
        for url in urls:
            try:
                self.store.record_failure(self.run_id, url, "store", repr(exc))
            except Exception:
                logger.debug("could not record the store failure of %s", url, exc_info=True)

    def _save_file(self, item: FileItem) -> None:
        if not item.url or not item.sha256 or item.size is None:
            raise DropItem(f"attachment without url/sha256/size: {item!r:.200}")
        self._files.append({"url": item.url, "content_type": item.content_type, "size": item.size,
                            "sha256": item.sha256, "ref": item.ref, "fetched_at": item.fetched_at,
                            "text": item.text})
        self.stats.inc_value("govarchive/files")
        self.stats.inc_value("govarchive/files_bytes", item.size)
        if len(self._files) >= self.batch_size:
            self._flush_files()

    def _flush_files(self) -> None:
        if not self._files:
            return
        files, self._files = self._files, []
        try:
            self.store.save_files([{**f, "run_id": self.run_id} for f in files])
        except Exception as exc:
            logger.exception("saving %d attachments failed", len(files))
            self.stats.inc_value("govarchive/failures/store", len(files))
            self._record_store_failure([f["url"] for f in files], exc)

    def _record_failure(self, item: FailureItem) -> None:
        kind = item.kind or "unknown"
        self.store.record_failure(self.run_id, item.url, kind, item.detail or "")
        self.stats.inc_value(f"govarchive/failures/{kind}")

    def _mark_withdrawn(self, item: WithdrawnItem) -> None:
        self.flush()
        if self.store.mark_withdrawn(item.url, item.seen_at, item.reason):
            self.stats.inc_value("govarchive/withdrawn")
