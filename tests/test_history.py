"""History: versions with their fetch and WARC record, diffs, withdrawals (404/410 and notices)."""

from __future__ import annotations

import pytest

from archive.report import Attachment, Metadata, Report, WarcRef
from archive.store import StoreError

URL = "http://www.example.gov.cn/art/2024/3/1/art_1_1.html"


def report(
    body: str,
    *,
    title: str = "关于2024年财政预算的通知",
    fetched: str = "2024-03-02T08:00:00+00:00",
    offset: int = 0,
    attachments=(),
    issuer: str = "某市财政局",
) -> Report:
    r = Report(
        url=URL,
        site="www.example.gov.cn",
        title=title,
        publish_time="2024-03-01",
        metadata=Metadata(issuer=issuer),
        body_text=body,
        attachments=list(attachments),
        fetched_at=fetched,
        status=200,
        warc=WarcRef("a.warc.gz", offset, 10, f"<urn:uuid:{offset}>"),
    )
    r.content_hash = r.compute_content_hash()
    return r


V1 = "一、总体要求。\n二、主要任务。\n三、保障措施。"
V2 = "一、总体要求。\n二、主要任务（修订）。\n三、保障措施。\n四、附则。"


def test_versions_keep_their_fetch_and_warc_record(store):
    store.save_reports([report(V1, offset=100)])
    store.save_reports([report(V1, fetched="2024-03-05T00:00:00+00:00", offset=200)])  # unchanged
    store.save_reports([report(V2, fetched="2024-04-01T00:00:00+00:00", offset=300)])
    versions = store.versions(URL)
    assert [(v.version, v.fetched_at, v.warc.offset) for v in versions] == [
        (1, "2024-03-02T08:00:00+00:00", 100),
        (2, "2024-04-01T00:00:00+00:00", 300),
    ]
    assert versions[0].report.body_text == V1 and versions[1].report.body_text == V2
    current = store.get_report(URL)
    assert current.version == 2 and current.warc.offset == 300


def test_diff_shows_changed_lines_and_fields(store):
    store.save_reports([report(V1)])
    store.save_reports(
        [
            report(
                V2,
                title="关于2024年财政预算的通知（修订）",
                issuer="某市人民政府",
                attachments=[Attachment("http://www.example.gov.cn/f.pdf", "附件")],
            )
        ]
    )
    text = store.diff(URL, 1, 2)
    assert "-二、主要任务。" in text and "+二、主要任务（修订）。" in text and "+四、附则。" in text
    assert "title: '关于2024年财政预算的通知' -> '关于2024年财政预算的通知（修订）'" in text
    assert "metadata.issuer: '某市财政局' -> '某市人民政府'" in text
    assert "attachment added: 附件 http://www.example.gov.cn/f.pdf" in text
    assert store.diff(URL) == text  # default: the last two versions


def test_diff_errors_are_clear(store):
    store.save_reports([report(V1)])
    with pytest.raises(StoreError, match="only one version"):
        store.diff(URL)
    with pytest.raises(StoreError, match="no version 5"):
        store.diff(URL, 1, 5)
    with pytest.raises(StoreError, match="no report"):
        store.diff("http://nowhere.gov.cn/")


@pytest.mark.parametrize("reason", ["http 404", "http 410"])
def test_gone_page_is_marked_withdrawn_never_deleted(store, reason):
    store.save_reports([report(V1)])
    assert store.mark_withdrawn(URL, "2024-06-01T00:00:00+00:00", reason) is True
    rec = store.get_record(URL)
    assert (
        rec.withdrawn and rec.withdrawn_at == "2024-06-01T00:00:00+00:00" and rec.withdrawn_reason == reason
    )
    assert rec.report.body_text == V1 and len(store.versions(URL)) == 1
    # seen gone again later: the first date stays
    store.mark_withdrawn(URL, "2024-07-01T00:00:00+00:00", reason)
    assert store.get_record(URL).withdrawn_at == "2024-06-01T00:00:00+00:00"


def test_unknown_url_is_not_marked(store):
    assert store.mark_withdrawn("http://www.example.gov.cn/never.html", "2024-06-01", "http 404") is False


def test_a_page_served_normally_after_its_withdrawal_is_back_an_older_capture_changes_nothing(store):
    store.save_reports([report(V1)])
    store.mark_withdrawn(URL, "2024-06-01T00:00:00+00:00", "HTTP 404")
    # a capture older than the withdrawal (a reprocess of an earlier crawl's WARC) leaves it withdrawn
    assert store.save_reports([report(V1)]) == ["unchanged"]
    assert store.get_record(URL).withdrawn is True
    assert store.save_reports([report(V1, fetched="2024-07-01T00:00:00+00:00")]) == ["unchanged"]
    rec = store.get_record(URL)
    assert rec.withdrawn is False and rec.last_seen == "2024-07-01T00:00:00+00:00"


def test_first_and_last_seen_are_the_fetch_times_and_versions_say_why(store):
    store.save_reports([report(V1, fetched="2024-03-02T08:00:00.123456Z")])
    rec = store.get_record(URL)
    assert (rec.first_seen, rec.last_seen) == ("2024-03-02T08:00:00+00:00", "2024-03-02T08:00:00+00:00")
    same_capture = report(V1 + "补充。")  # the same WARC record read by a newer extractor
    new_fetch = report(V1 + "再补充。", fetched="2024-04-01T00:00:00+00:00", offset=500)
    assert store.save_reports([same_capture]) == ["changed"]
    assert store.save_reports([new_fetch]) == ["changed"]
    assert [v.reason for v in store.versions(URL)] == ["new", "re-extracted", "changed"]
    assert store.save_reports([new_fetch]) == ["unchanged"]  # the same reprocess again: nothing new


