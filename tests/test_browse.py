"""Paged search, facets, the overview and feed events (archive.store.browse) on SQLite and PostgreSQL:
every page is what `govarchive search` lists at those positions, counted the same way."""

from __future__ import annotations

import pytest

from archive.report import Attachment, Metadata, Report, WarcRef
from archive.store import Filters, QueryError
from archive.store.browse import MAX_OFFSET, overview, recent_changes, search_page

COLUMNS = ["通知公告", "政策文件", "财政信息"]
ISSUERS = ["某市财政局", "某市教育局", "某县人民政府办公室"]


def make(n: int, *, site: str = "www.a.gov.cn", body: str | None = None) -> Report:
    year = 2020 + n % 5
    title = ["关于财政预算的通知", "教育工作要点", "预算执行情况的报告", "关于做好防汛工作的通知"][n % 4]
    r = Report(
        url=f"http://{site}/art/{n}.html",
        site=site,
        column=COLUMNS[n % 3],
        title=f"{title}（{n}）",
        publish_time=f"{year}-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
        metadata=Metadata(issuer=ISSUERS[n % 3], doc_number=f"某财〔{year}〕{n}号"),
        body_text=body or ("加强财政预算管理。" if n % 2 else "做好防汛救灾和教育工作。") + f"第{n}条。",
        attachments=[Attachment(f"http://{site}/f/{n}.pdf", "附件")] if n % 5 == 0 else [],
        fetched_at=f"2024-05-{n % 28 + 1:02d}T00:00:00+00:00",
        status=200,
        warc=WarcRef("x.warc.gz", n, 1, f"<urn:uuid:{n}>"),
    )
    r.content_hash = r.compute_content_hash()
    return r


@pytest.fixture
def filled(store):
    store.save_reports([make(n) for n in range(1, 61)] + [make(n, site="www.b.gov.cn") for n in range(61, 71)])
    store.mark_withdrawn("http://www.a.gov.cn/art/3.html", "2024-06-01T00:00:00+00:00", "HTTP 404")
    return store


QUERIES = ["财政", "预算", "通知", "财", "财政 -通知", "教育 OR 防汛", '"预算执行"', "某市财政局"]


@pytest.mark.parametrize("q", QUERIES)
def test_every_page_is_the_engines_list_at_those_positions(filled, q):
    expected = filled.search(q, None, 1000)
    with filled.read_engine.connect() as conn:
        for size in (3, 20):
            got = []
            for offset in range(0, len(expected) + size, size):
                page = search_page(conn, q, None, limit=size, offset=offset)
                assert page.total == len(expected)
                got += page.hits
            assert [h.id for h in got] == [h.id for h in expected], size
            assert [h.score for h in got] == [h.score for h in expected]
    assert [h.snippet for h in got] == [h.snippet for h in expected] and [h.marks for h in got] == [
        h.marks for h in expected
    ]


def test_counting_beside_the_hits_gives_the_same_page(filled):
    with filled.read_engine.connect() as conn:
        for q in ("财政", "教育 OR 防汛", None):
            alone = search_page(conn, q, Filters(since="2021"), limit=7, offset=7)
            beside = search_page(conn, q, Filters(since="2021"), limit=7, offset=7, beside=filled.read_engine)
            assert beside == alone and beside.total > 7


def test_facets_count_every_match_by_site_column_issuer_year_and_state(filled):
    matches = [filled.get_record(h.id) for h in filled.search("财政", None, 1000)]
    with filled.read_engine.connect() as conn:
        page = search_page(conn, "财政", None, limit=5)
    def counts(key):
        out = {}
        for m in matches:
            value = key(m)
            out[value] = out.get(value, 0) + 1
        return out

    assert dict(page.facets["site"]) == counts(lambda m: m.report.site)
    assert dict(page.facets["column"]) == counts(lambda m: m.report.column)
    assert dict(page.facets["issuer"]) == counts(lambda m: m.report.metadata.issuer)
    assert dict(page.facets["year"]) == counts(lambda m: m.report.publish_time[:4])
    assert dict(page.facets["withdrawn"]) == counts(lambda m: "true" if m.withdrawn else "false")
    assert [n for _, n in page.facets["column"]] == sorted((n for _, n in page.facets["column"]), reverse=True)
    assert [y for y, _ in page.facets["year"]] == sorted((y for y, _ in page.facets["year"]), reverse=True)


def test_filters_apply_to_hits_total_and_facets(filled):
    f = Filters(column="政策文件", since="2022", withdrawn=False)
    expected = filled.search("财政 OR 教育", f, 1000)
    with filled.read_engine.connect() as conn:
        page = search_page(conn, "财政 OR 教育", f, limit=100)
    assert [h.id for h in page.hits] == [h.id for h in expected] and page.total == len(expected) > 0
    assert dict(page.facets["column"]) == {"政策文件": len(expected)}
    assert all(y >= "2022" for y, _ in page.facets["year"])


def test_without_a_query_every_report_is_listed_newest_first(filled):
    with filled.read_engine.connect() as conn:
        page = search_page(conn, None, Filters(site="www.b.gov.cn"), limit=4, offset=2)
        everything = search_page(conn, "", None, limit=100)
    assert page.total == 10 and len(page.hits) == 4
    dates = [h.publish_time for h in everything.hits]
    assert everything.total == 70 and dates == sorted(dates, reverse=True)
    assert all(h.snippet and not h.marks for h in page.hits)


def test_unusable_queries_and_offsets_are_errors(filled):
    with filled.read_engine.connect() as conn:
        with pytest.raises(QueryError):
            search_page(conn, "-财政", None)
        with pytest.raises(ValueError, match="cannot be paged"):
            search_page(conn, "财政", None, offset=MAX_OFFSET + 1)


def test_overview_counts_columns_and_withdrawals_per_site(filled):
    run = filled.start_run(["http://www.a.gov.cn/col/1/index.html"])
    filled.finish_run(run, {"status": "finished"})
    with filled.read_engine.connect() as conn:
        sites = {s.host: s for s in overview(conn)}
    assert set(sites) == {"www.a.gov.cn", "www.b.gov.cn"}
    a = sites["www.a.gov.cn"]
    assert a.reports == 60 and a.withdrawn == 1 and sum(n for _, n in a.columns) == 60
    assert a.last_run["id"] == run and a.last_run["status"] == "finished" and a.last_seen
    assert sites["www.b.gov.cn"].last_run is None


def test_recent_changes_are_new_versions_changes_and_withdrawals(filled):
    changed = make(2, body="修订后的正文：加强财政预算管理。")
    changed.fetched_at = "2024-07-01T00:00:00+00:00"
    filled.save_reports([changed])
    with filled.read_engine.connect() as conn:
        events = recent_changes(conn, Filters(site="www.a.gov.cn"), limit=5)
        column_only = recent_changes(conn, Filters(site="www.a.gov.cn", column="政策文件"), limit=100)
    assert [(e.kind, e.report_id) for e in events[:2]] == [
        ("changed", filled.get_record(changed.url).id),
        ("withdrawn", filled.get_record("http://www.a.gov.cn/art/3.html").id),
    ]
    assert events[0].version == 2 and events[1].reason == "HTTP 404"
    assert {e.column for e in column_only} == {"政策文件"}


def test_facets_of_a_large_result_count_the_most_recently_archived_matches(filled, monkeypatch):
    from archive.store import browse

    monkeypatch.setattr(browse, "FACET_SAMPLE", 10)
    expected = filled.search("财政 OR 教育", None, 1000)
    newest = sorted((filled.get_record(h.id) for h in expected), key=lambda r: r.id, reverse=True)[:10]
    with filled.read_engine.connect() as conn:
        page = search_page(conn, "财政 OR 教育", None, limit=5)
        narrow = search_page(conn, "财政 OR 教育", Filters(site="www.b.gov.cn"), limit=5)
    assert page.total == len(expected) > 10 and page.facet_sample == 10  # the total stays exact
    columns: dict[str, int] = {}
    for rec in newest:
        columns[rec.report.column] = columns.get(rec.report.column, 0) + 1
    assert dict(page.facets["column"]) == columns
    assert narrow.facet_sample is None and narrow.total == sum(n for _, n in narrow.facets["site"]) <= 10


@pytest.fixture(params=["walk", "lookup"])
def read_by(request, monkeypatch):
    """Both ways a page of matches is read on SQLite: walking the recency index, or looking the
    matches up by id and sorting them."""
    from archive.store import matchset

    monkeypatch.setattr(matchset, "WALK_FACTOR", 10**9 if request.param == "walk" else 0)
    return request.param


FILTERS = [
    None,
    Filters(column="政策文件"),
    Filters(since="2022", until="2023"),
    Filters(site="www.a.gov.cn", withdrawn=False),
    Filters(issuer="教育", withdrawn=True),
    Filters(doc_number="〔2021〕"),
]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("q", ["财政", "通知 OR 教育", "预算 -执行", '"防汛工作"'])
def test_pages_hits_and_totals_are_the_engines_however_they_are_read(filled, read_by, q, f):
    expected = filled.search(q, f, 1000)
    with filled.read_engine.connect() as conn:
        got = []
        for offset in range(0, len(expected) + 4, 4):
            page = search_page(conn, q, f, limit=4, offset=offset)
            assert page.total == len(expected) and not page.total_capped
            got += page.hits
        assert sum(n for _, n in page.facets["column"]) == len(expected)
    assert [(h.id, h.score) for h in got] == [(h.id, h.score) for h in expected]


def test_totals_beyond_the_count_cap_say_so(filled, monkeypatch):
    from archive.store import browse

    monkeypatch.setattr(browse, "COUNT_CAP", 5)
    monkeypatch.setattr(browse, "FACET_SAMPLE", 3)
    many = len(filled.search("财政 OR 教育", None, 1000))
    with filled.read_engine.connect() as conn:
        for q, f in (("财政 OR 教育", None), ("财政 OR 教育", Filters(site="www.a.gov.cn")), (None, None)):
            page = search_page(conn, q, f, limit=4, offset=4)
            assert (page.total, page.total_capped, page.facet_sample) == (5, True, 3), (q, f)
            assert len(page.hits) == 4  # paging goes on past the count
        narrow = Filters(site="www.b.gov.cn", column="政策文件")
        few = search_page(conn, "财政 OR 教育", narrow, limit=4)
    assert many > 5 and few.total == len(filled.search("财政 OR 教育", narrow, 1000)) <= 5
    assert not few.total_capped
