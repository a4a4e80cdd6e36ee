"""Export: JSONL and CSV (BOM option, flattened fields), filters, streaming in constant memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest

from archive.report import Attachment, Metadata, Report, WarcRef
from archive.store import Filters, Store
from archive.store.export import CSV_COLUMNS, export, write_csv, write_jsonl


def make(n: int, *, site: str = "a.gov.cn", date: str = "2024-03-01", body: str | None = None) -> Report:
    r = Report(
        url=f"http://{site}/art/{n}.html",
        site=site,
        column="通知公告",
        breadcrumb=["首页", "信息公开"],
        title=f"关于第{n}号文件的通知",
        publish_time=date,
        metadata=Metadata(issuer="某市财政局", doc_number=f"某财发〔2024〕{n}号", keywords="财政,预算"),
        body_text=body or "第一段，含“引号”, 逗号。\n第二段。",
        attachments=[Attachment(f"http://{site}/f/{n}.pdf", "附件1")],
        images=[f"http://{site}/i/{n}.png"],
        fetched_at="2024-03-02T00:00:00+00:00",
        status=200,
        warc=WarcRef("g.warc.gz", n * 10, 9, f"<urn:uuid:{n}>"),
    )
    r.content_hash = r.compute_content_hash()
    return r


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.save_reports([make(1), make(2, site="b.gov.cn", date="2023-05-05"), make(3, date="2022-01-01")])
    s.save_file(
        "http://a.gov.cn/f/1.pdf",
        content_type="application/pdf",
        size=10,
        sha256="f" * 64,
        ref=None,
        run_id=None,
    )
    yield s
    s.close()


def test_jsonl_round_trips_to_reports(store):
    out = io.StringIO()
    assert export(store.iter_records(), out, "jsonl") == 3
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["id"] == 1 and first["withdrawn"] is False and first["version"] == 1
    assert Report.from_dict(first) == store.get_report(1)
    assert first["attachments"][0]["sha256"] == "f" * 64  # merged file facts
    assert "某市财政局" in lines[0]  # UTF-8, not \\u escapes


def test_csv_flattens_nested_fields_and_opens_in_spreadsheets(store, tmp_path):
    path = tmp_path / "out.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        write_csv(store.iter_records(), f, bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == CSV_COLUMNS
    row = rows[0]
    assert row["issuer"] == "某市财政局" and row["doc_number"] == "某财发〔2024〕1号"
    assert row["breadcrumb"] == "首页 > 信息公开"
    assert row["body_text"] == "第一段，含“引号”, 逗号。\n第二段。"
    assert json.loads(row["attachments"])[0]["content_type"] == "application/pdf"
    assert row["attachment_count"] == "1" and row["warc_offset"] == "10" and row["withdrawn"] == "false"


def test_csv_without_bom(store):
    out = io.StringIO()
    write_csv(store.iter_records(), out)
    assert out.getvalue().startswith("id,url,")


def test_export_filters(store):
    assert [r.url for r in store.iter_reports(Filters(site="b.gov.cn"))] == ["http://b.gov.cn/art/2.html"]
    assert [r.publish_time for r in store.iter_reports(Filters(since="2023"))] == ["2024-03-01", "2023-05-05"]
    store.mark_withdrawn("http://a.gov.cn/art/3.html", "2024-06-01", "http 410")
    recs = list(store.iter_records(Filters(withdrawn=True)))
    assert [(r.report.url, r.withdrawn_reason) for r in recs] == [("http://a.gov.cn/art/3.html", "http 410")]


def test_unknown_format_is_an_error(store):
    with pytest.raises(ValueError, match="unknown export format"):
        export(store.iter_records(), io.StringIO(), "xml")


class _Sink(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


def _peak_export_memory(store: Store) -> int:
    tracemalloc.start()
    try:
        write_jsonl(store.iter_records(batch=50), _Sink())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_streams_in_constant_memory(db_url):
    body = "正文内容，用于测试导出时的内存占用。" * 100  # ~2 KB of text, ~6 KB as stored JSON per report
    with Store(db_url) as s:
        s.save_reports([make(n, body=body) for n in range(100)])
        small = _peak_export_memory(s)
        s.save_reports([make(n, body=body) for n in range(100, 1000)])
        large = _peak_export_memory(s)
        assert sum(1 for _ in s.iter_reports()) == 1000
    # ten times the reports, about the same peak (all 1000 at once would take over 10 MB)
    assert large < small * 2 + 1_000_000, (small, large)
