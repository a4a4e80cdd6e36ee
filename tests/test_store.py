"""Store: schema and migrations, batched saves with change detection, files, runs, digests, concurrency."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from archive.report import Attachment, Metadata, Report, WarcRef
from archive.store import Store, StoreError, upgrade


def make_report(n: int, body: str = "为加强财政预算管理，现将有关事项通知如下。", **kw) -> Report:
    r = Report(
        url=f"http://www.example.gov.cn/art/2024/{n}.html",
        site="www.example.gov.cn",
        column="通知公告",
        title=kw.pop("title", f"关于第{n}号事项的通知"),
        publish_time=kw.pop("publish_time", "2024-03-01"),
        metadata=Metadata(issuer="某市财政局", doc_number=f"某财发〔2024〕{n}号"),
        body_text=body,
        fetched_at=kw.pop("fetched_at", "2024-03-02T08:00:00+00:00"),
        status=200,
        warc=kw.pop("warc", WarcRef("govarchive-1.warc.gz", 100 * n, 90, f"<urn:uuid:{n}>")),
        **kw,
    )
    r.content_hash = r.compute_content_hash()
    return r


def test_empty_database_gets_the_schema_on_first_use(db_url):
    with Store(db_url) as s:
        assert s.count_reports() == 0
    assert upgrade(db_url) == upgrade(db_url)  # `db upgrade` is idempotent


def test_the_migrations_build_the_schema_the_models_describe(db_url):
    """Same tables, columns and indexes (alembic's autogenerate finds nothing to change), apart
    from the full-text index and PostgreSQL's recency index beside it, which are not models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from archive.store.models import Base

    Store(db_url).close()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    search = ("report_fts", "report_search", "ix_report_search", "ix_reports_recency",  # the full-text indexes
              "file_fts", "file_search", "ix_file_search")

    def name_of(diff) -> str:
        obj = (diff[0] if isinstance(diff, list) else diff)[1]
        return getattr(obj, "name", "") or ""

    assert [d for d in diffs if not name_of(d).startswith(search)] == []


def test_sqlite_file_parent_is_created_and_uses_wal(tmp_path):
    path = tmp_path / "deep" / "er" / "g.db"
    with Store(f"sqlite:///{path}") as s:
        s.save_reports([make_report(1)])
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_behind_the_code_is_refused_with_advice(db_url):
    Store(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(StoreError, match="govarchive db upgrade"):
        Store(db_url)


def test_a_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE something (x)").connection.commit()
    with pytest.raises(StoreError, match="not a govarchive database"):
        Store(f"sqlite:///{path}")


def test_new_unchanged_changed(store):
    assert store.save_reports([make_report(1), make_report(2)]) == ["new", "new"]
    first = store.get_record(1)
    assert store.save_reports([make_report(1), make_report(2, body="内容已经修改。")]) == [
        "unchanged",
        "changed",
    ]
    assert [v.version for v in store.versions(make_report(1).url)] == [1]
    assert [v.version for v in store.versions(make_report(2).url)] == [1, 2]
    again = store.get_record(1)
    assert again.report.version == 1 and again.first_seen == first.first_seen
    assert again.last_seen >= first.last_seen


def test_page_furniture_does_not_make_a_version(store):
    r = make_report(1, body_html="<p>访问量：12</p>")
    store.save_reports([r])
    refetch = make_report(1, body_html="<p>访问量：13</p>", fetched_at="2024-04-01T00:00:00+00:00")
    assert store.save_reports([refetch]) == ["unchanged"]


def test_duplicate_urls_in_one_batch(store):
    assert store.save_reports([make_report(1), make_report(1), make_report(1, body="新内容")]) == [
        "new",
        "unchanged",
        "changed",
    ]
    assert store.count_reports() == 1
    assert len(store.versions(1)) == 2


def test_get_report_fills_fetch_facts_and_warc(store):
    store.save_reports([make_report(7)], store.start_run(["http://www.example.gov.cn/"], None, {}))
    by_url = store.get_report(make_report(7).url)
    by_id = store.get_report(by_url and store.get_record(make_report(7).url).id)
    assert by_url == by_id
    assert by_url.version == 1 and by_url.status == 200
    assert by_url.fetched_at == "2024-03-02T08:00:00+00:00"
    assert by_url.warc == WarcRef("govarchive-1.warc.gz", 700, 90, "<urn:uuid:7>")
    assert by_url.title == "关于第7号事项的通知" and by_url.metadata.issuer == "某市财政局"
    assert store.get_report("http://nowhere.gov.cn/x") is None and store.get_report(999) is None


@pytest.mark.parametrize("file_first", [True, False], ids=["file-before-report", "report-before-file"])
def test_attachments_are_merged_with_file_facts_in_any_order(store, file_first):
    att = Attachment("http://www.example.gov.cn/f/附件1.pdf", "附件1：名单")
    r = make_report(3, attachments=[att, Attachment("http://www.example.gov.cn/f/2.doc", "附件2")])
    ref = WarcRef("govarchive-2.warc.gz", 5, 50, "<urn:uuid:f>")

    def save_file():
        store.save_file(
            att.url, content_type="application/pdf", size=1234, sha256="a" * 64, ref=ref, run_id=None
        )

    if file_first:
        save_file()
        store.save_reports([r])
    else:
        store.save_reports([r])
        save_file()
    got = store.get_report(r.url).attachments
    assert got[0] == Attachment(att.url, "附件1：名单", "application/pdf", 1234, "a" * 64)
    assert got[1] == Attachment("http://www.example.gov.cn/f/2.doc", "附件2")


def test_a_batch_of_files_updates_earlier_fetches_and_the_newest_fetch_wins(store):
    urls = ["http://www.example.gov.cn/f/a.pdf", "http://www.example.gov.cn/f/b.xls"]
    store.save_reports([make_report(4, attachments=[Attachment(u, u[-5:]) for u in urls])])
    store.save_file(urls[0], content_type="application/pdf", size=1, sha256="1" * 64, ref=None, run_id=None)
    ref = WarcRef("govarchive-3.warc.gz", 9, 90, "<urn:uuid:g>")
    store.save_files([
        {"url": urls[0], "content_type": "application/pdf", "size": 2, "sha256": "2" * 64, "ref": ref},
        {"url": urls[1], "content_type": "application/vnd.ms-excel", "size": 5, "sha256": "5" * 64, "ref": ref},
        {"url": urls[0], "content_type": "application/pdf", "size": 3, "sha256": "3" * 64, "ref": ref},
    ])
    got = store.get_report(make_report(4).url).attachments
    assert [(a.size, a.sha256, a.content_type) for a in got] == [
        (3, "3" * 64, "application/pdf"), (5, "5" * 64, "application/vnd.ms-excel")]


def test_runs_captures_failures(store):
    run = store.start_run(["http://www.example.gov.cn/col/1/"], "example", {"DOWNLOAD_DELAY": 1})
    store.record_capture(
        "http://www.example.gov.cn/robots.txt", status=200, ref=None, run_id=run, kind="robots"
    )
    store.record_capture(
        "http://www.example.gov.cn/1.html",
        status=200,
        ref=WarcRef("a.warc.gz", 1, 2, "<urn:uuid:c>"),
        run_id=run,
        kind="detail",
    )
    store.record_failure(run, "http://www.example.gov.cn/404.html", "http_404", "Not Found")
    store.finish_run(run, {"reports": {"new": 1}, "failures": {"http_404": 1}})
    info = store.get_run(run)
    assert info["start_urls"] == ["http://www.example.gov.cn/col/1/"] and info["site"] == "example"
    assert info["summary"]["failures"] == {"http_404": 1} and info["finished_at"]
    caps = store.captures(run)
    assert [c["kind"] for c in caps] == ["robots", "detail"] and caps[1]["warc_offset"] == 1
    assert [(f["kind"], f["url"]) for f in store.failures(run)] == [
        ("http_404", "http://www.example.gov.cn/404.html")
    ]


def test_a_report_without_url_is_refused(store):
    bad = make_report(2)
    bad.url = None
    with pytest.raises(ValueError, match="no URL"):
        store.save_reports([make_report(1), bad])
    assert store.count_reports() == 0


def test_a_failing_batch_stores_nothing(store, monkeypatch):
    from archive.store import search_index

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("disk full"))

    store.save_reports([make_report(1)])
    monkeypatch.setattr(search_index, "write", broken)
    with pytest.raises(IntegrityError):
        store.save_reports([make_report(1, body="改了"), make_report(2), make_report(3)])
    monkeypatch.undo()
    assert store.count_reports() == 1 and len(store.versions(1)) == 1
    assert store.get_report(1).body_text == make_report(1).body_text


def test_digest_index_is_persistent(db_url):
    from archive.warc.digests import DigestIndex, Original

    with Store(db_url) as s:
        index = s.digest_index()
        assert isinstance(index, DigestIndex)
        assert index.lookup("sha1:AAAA") is None
        index.add("sha1:AAAA", Original("http://x.gov.cn/a.pdf", "2024-01-01T00:00:00Z", "<urn:uuid:1>"))
        index.add("sha1:AAAA", Original("http://x.gov.cn/b.pdf", "2024-02-01T00:00:00Z", "<urn:uuid:2>"))
    with Store(db_url) as s:  # a later crawl sees the first capture
        got = s.digest_index().lookup("sha1:AAAA")
        assert (got.uri, got.date, got.record_id) == (
            "http://x.gov.cn/a.pdf",
            "2024-01-01T00:00:00Z",
            "<urn:uuid:1>",
        )


def test_digest_index_memory_is_bounded_and_evicted_digests_are_still_found(store):
    from archive.warc.digests import Original

    index = store.digest_index()
    index.CACHE_MAX = 3
    originals = {f"sha1:D{n}": Original(f"http://x.gov.cn/{n}.pdf", "2024-01-01T00:00:00Z", f"<urn:uuid:{n}>")
                 for n in range(10)}
    for digest, original in originals.items():
        index.add(digest, original)
        assert index.lookup(digest) == original  # pending, or cached, before any flush
    index.flush()
    for digest, original in originals.items():
        got = index.lookup(digest)
        assert (got.uri, got.date, got.record_id) == (original.uri, original.date, original.record_id)
    assert len(index._cache) <= 3


def _hammer(db_url: str, writer: int, errors: list) -> None:
    try:
        with Store(db_url) as s:
            for rnd in range(3):
                batch = [
                    make_report(n, body=f"第{rnd}轮内容" if n % 3 == writer else "相同内容")
                    for n in range(40)
                ]
                s.save_reports(batch[::-1] if writer else batch)
    except Exception as exc:  # collected and asserted on below
        errors.append(exc)


@pytest.mark.parametrize("writers", [2, 3])
def test_concurrent_writers_never_duplicate_a_report(db_url, writers):
    Store(db_url).close()
    errors: list = []
    threads = [threading.Thread(target=_hammer, args=(db_url, w, errors)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT url) FROM reports")).one() == (40, 40)
        dup = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT report_id, version FROM report_versions "
                "GROUP BY report_id, version HAVING count(*) > 1) d"
            )
        ).scalar()
        assert dup == 0
        gaps = conn.execute(
            text(
                "SELECT count(*) FROM reports r WHERE r.version != "
                "(SELECT count(*) FROM report_versions v WHERE v.report_id = r.id)"
            )
        ).scalar()
        assert gaps == 0
    engine.dispose()
