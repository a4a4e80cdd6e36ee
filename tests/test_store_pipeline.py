"""Store pipeline and the crawl-run summary on hand-made items, with a recording stand-in for the Store."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from archive.report import Report, WarcRef
from crawler.extensions.crawl_run import PAGES_OK_STAT, RUN_ID_STAT, CrawlRunExtension, build_summary
from crawler.items import FailureItem, FileItem, ReportItem, WithdrawnItem
from crawler.pipelines.store import StorePipeline
from tests.conftest import project_crawler


class RecordingStore:
    def __init__(self, outcomes: list[str] | None = None) -> None:
        self.calls: list[tuple] = []
        self.outcomes = outcomes

    def start_run(self, start_urls, site, settings):
        self.calls.append(("start_run", start_urls, site))
        return 1

    def finish_run(self, run_id, summary):
        self.calls.append(("finish_run", run_id, summary))

    def save_reports(self, reports, run_id):
        self.calls.append(("save_reports", [r.url for r in reports], run_id))
        return list(self.outcomes or ["new"] * len(reports))[: len(reports)]

    def save_files(self, files):
        self.calls.append(("save_files", [f["url"] for f in files], [f["run_id"] for f in files]))

    def record_failure(self, run_id, url, kind, detail):
        self.calls.append(("record_failure", url, kind))

    def mark_withdrawn(self, url, seen_at, reason):
        self.calls.append(("mark_withdrawn", url))
        return True

    def close(self):
        self.calls.append(("close",))


def make_pipeline(batch_size: int = 2, store: RecordingStore | None = None):
    crawler = project_crawler(GOVARCHIVE_BATCH_SIZE=batch_size, GOVARCHIVE_DB="sqlite://")
    crawler.stats.open_spider()
    crawler.stats.set_value(RUN_ID_STAT, 1)  # as CrawlRunExtension does at spider_opened
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.store.close()
    pipeline.store = store or RecordingStore()  # stand-in, to see every call
    return pipeline, pipeline.store, crawler


def summary_of(crawler, reason: str = "finished") -> dict:
    return build_summary(crawler.stats.get_stats(), reason, 1.0)


def report(n: int) -> ReportItem:
    return ReportItem(Report(url=f"http://a.gov.cn/t{n}.html", title=f"t{n}"))


def test_reports_are_saved_in_batches_and_flushed_at_close():
    pipeline, store, crawler = make_pipeline(batch_size=2)
    for n in range(5):
        pipeline.process_item(report(n))
    saves = [c for c in store.calls if c[0] == "save_reports"]
    assert [len(c[1]) for c in saves] == [2, 2]
    pipeline.close_spider()
    saves = [c for c in store.calls if c[0] == "save_reports"]
    assert [len(c[1]) for c in saves] == [2, 2, 1]
    assert crawler.stats.get_value("govarchive/reports/new") == 5


def test_outcomes_are_counted():
    pipeline, store, crawler = make_pipeline(batch_size=3, store=RecordingStore(["new", "changed", "unchanged"]))
    for n in range(3):
        pipeline.process_item(report(n))
    summary = summary_of(crawler)
    assert (summary["reports_new"], summary["reports_changed"], summary["reports_unchanged"]) == (1, 1, 1)


def test_content_hash_is_filled_when_missing():
    pipeline, store, _ = make_pipeline(batch_size=1)
    item = report(1)
    pipeline.process_item(item)
    assert item.report.content_hash == item.report.compute_content_hash()


def file_item(n: int) -> FileItem:
    ref = WarcRef("f.warc.gz", n * 100, 10, f"<urn:uuid:{n}>")
    return FileItem(f"http://a.gov.cn/a{n}.pdf", "http://a.gov.cn/t1.html", "application/pdf", 3, "0" * 64, ref)


def test_failures_go_straight_to_the_store_files_in_batches_withdrawals_after_what_came_before():
    pipeline, store, crawler = make_pipeline(batch_size=3)
    pipeline.process_item(file_item(1))
    pipeline.process_item(FailureItem("http://a.gov.cn/404.html", "http_404", "Not Found"))
    kinds = [c[0] for c in store.calls]
    assert kinds.count("record_failure") == 1 and "save_files" not in kinds
    pipeline.process_item(report(9))
    pipeline.process_item(WithdrawnItem("http://a.gov.cn/t9.html", "2024-01-01", "404"))
    # the report seen before its withdrawal is saved first, or the withdrawal would find no report
    assert [c[0] for c in store.calls][-3:] == ["save_files", "save_reports", "mark_withdrawn"]
    for n in (2, 3):
        pipeline.process_item(file_item(n))
    pipeline.close_spider()
    saves = [c for c in store.calls if c[0] == "save_files"]
    assert saves == [("save_files", ["http://a.gov.cn/a1.pdf"], [1]),
                     ("save_files", ["http://a.gov.cn/a2.pdf", "http://a.gov.cn/a3.pdf"], [1, 1])]
    summary = summary_of(crawler)
    assert summary["failures"] == {"http_404": 1}
    assert summary["attachments"] == 3 and summary["withdrawn"] == 1


def test_invalid_items_are_dropped():
    pipeline, _, _ = make_pipeline()
    with pytest.raises(DropItem):
        pipeline.process_item(ReportItem(Report(url="")))
    with pytest.raises(DropItem):
        pipeline.process_item(FileItem("http://a.gov.cn/a.pdf", None, None, 3, "", None))


def test_a_failing_batch_is_recorded_not_raised():
    class Broken(RecordingStore):
        def save_reports(self, reports, run_id):
            raise RuntimeError("disk full")

    pipeline, store, crawler = make_pipeline(batch_size=1, store=Broken())
    pipeline.process_item(report(1))
    assert ("record_failure", "http://a.gov.cn/t1.html", "store") in store.calls
    assert crawler.stats.get_value("govarchive/failures/store") == 1


def test_a_failing_file_batch_is_recorded_not_raised():
    class Broken(RecordingStore):
        def save_files(self, files):
            raise RuntimeError("disk full")

    pipeline, store, crawler = make_pipeline(batch_size=1, store=Broken())
    pipeline.process_item(file_item(7))
    assert ("record_failure", "http://a.gov.cn/a7.pdf", "store") in store.calls
    assert crawler.stats.get_value("govarchive/failures/store") == 1


def test_outcome_failed_finished_interrupted():
    _, _, crawler = make_pipeline()
    assert summary_of(crawler)["status"] == "failed"  # not one page answered
    crawler.stats.set_value(PAGES_OK_STAT, 1)
    assert summary_of(crawler)["status"] == "finished"
    assert summary_of(crawler, "shutdown")["status"] == "interrupted"  # Ctrl-C / SIGTERM


def test_run_settings_record_overrides_without_the_database_password():
    from scrapy.settings import Settings

    crawler = project_crawler(DOWNLOAD_DELAY=2)
    settings = Settings(crawler.settings.copy_to_dict())
    settings.set("GOVARCHIVE_DB", "postgresql+psycopg://arch:s3cret@db/govarchive", priority="cmdline")
    settings.set("GOVARCHIVE_WARC_MAX_SIZE", "5000", priority="cmdline")
    crawler.settings = settings
    recorded = CrawlRunExtension(crawler).run_settings()
    assert recorded["DOWNLOAD_DELAY"] == 2
    assert recorded["GOVARCHIVE_WARC_MAX_SIZE"] == "5000"
    assert "s3cret" not in recorded["GOVARCHIVE_DB"] and "arch" in recorded["GOVARCHIVE_DB"]
