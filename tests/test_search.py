"""Search: Chinese full text (1-char, 2-char, long, phrases, AND/OR/NOT), ranking, snippets, filters,
the same hits on SQLite and PostgreSQL, and malformed queries."""

from __future__ import annotations

import pytest

from archive.report import Metadata, Report
from archive.store import Filters, QueryError, Store
from archive.store.query import parse, to_fts5, to_tsquery
from archive.store.tokens import index_tokens, query_tokens

DOCS = [
    # n, title, body, date, issuer, doc_number, column, site
    (
        1,
        "关于2024年财政预算的通知",
        "为加强财政预算管理，现将有关事项通知如下。",
        "2024-03-01",
        "某市财政局",
        "某财发〔2024〕3号",
        "通知公告",
        "a.gov.cn",
    ),
    (
        2,
        "政府工作报告",
        "财政收入稳定增长。加快推进数字政府建设。COVID-19 疫情防控取得成效。",
        "2024-01-05",
        "某市人民政府",
        "某政发〔2024〕1号",
        "政策文件",
        "a.gov.cn",
    ),
    (
        3,
        "安全生产工作要点",
        "落实安全生产责任制，开展隐患排查整治。",
        "2023-06-10",
        "某市应急管理局",
        "某应急〔2023〕8号",
        "通知公告",
        "b.gov.cn",
    ),
    (
        4,
        "养老服务体系建设实施方案",
        "发展普惠养老服务，完善社会救助。财力保障到位。",
        "2022-11-20",
        "某市民政局",
        "某民发〔2022〕30号",
        "规划计划",
        "b.gov.cn",
    ),
    (
        5,
        "关于开展专项检查的通知",
        "对预算执行情况开展检查，不含财政两字的内容在此。",
        "2021-05-01",
        "某市审计局",
        "某审〔2021〕2号",
        "通知公告",
        "a.gov.cn",
    ),
    (
        6,
        "市场监管年度总结",
        "Annual report on food safety; the GDP grew 5%.",
        "2020-12-31",
        "某市市场监督管理局",
        None,
        "工作动态",
        "c.gov.cn",
    ),
]


def doc(n, title, body, date, issuer, doc_number, column, site) -> Report:
    r = Report(
        url=f"http://{site}/art/{n}.html",
        site=site,
        column=column,
        title=title,
        publish_time=date,
        metadata=Metadata(issuer=issuer, doc_number=doc_number),
        body_text=body,
    )
    r.content_hash = r.compute_content_hash()
    return r


def load(url: str) -> Store:
    store = Store(url)
    store.save_reports([doc(*d) for d in DOCS])
    return store


@pytest.fixture
def store(db_url):
    s = load(db_url)
    yield s
    s.close()


def ids(hits) -> list[int]:
    return [int(h.url.rsplit("/", 1)[1].split(".")[0]) for h in hits]


QUERIES = {
    "财": {1, 2, 4, 5},  # one character: start, middle and end of runs (财政 / 财力)
    "险": set(),
    "财政": {1, 2, 5},
    "预算管理": {1},
    "数字政府建设": {2},
    '"安全生产 责任制"': {3},  # spaces between Chinese characters in a phrase are ignored, as in writing
    '"落实安全生产责任制"': {3},
    "财政 预算": {1, 5},
    "财政 AND 预算": {1, 5},
    "财政 OR 养老": {1, 2, 4, 5},
    "财政 | 养老": {1, 2, 4, 5},
    "财政 -预算": {2},
    "财政 NOT 预算": {2},
    "(财政 OR 养老) -预算": {2, 4},
    "covid": {2},
    "COVID-19": {2},
    '"food safety"': {6},
    "GDP": {6},
    "5": {6},
    "某财发": {1},  # document number and issuer are indexed too
    "审计局": {5},
    "２０２４": {1, 2},  # full-width digits fold to ASCII (titles, doc numbers 〔2024〕)
    "2024年": {1},
}


@pytest.mark.parametrize("query", list(QUERIES))
def test_query_finds_exactly_the_expected_reports(store, query):
    assert set(ids(store.search(query, limit=100))) == QUERIES[query]


def test_same_hits_on_sqlite_and_postgresql(tmp_path, pg_url):
    lite, pg = load(f"sqlite:///{tmp_path / 'x.db'}"), load(pg_url)
    try:
        for query in QUERIES:
            # same hits in the same order (the ranking uses only what both backends store alike)
            assert ids(lite.search(query, limit=100)) == ids(pg.search(query, limit=100)), query
            assert ids(lite.search(query, limit=2)) == ids(pg.search(query, limit=2)), query
    finally:
        lite.close()
        pg.close()


def test_title_match_ranks_first(store):
    assert ids(store.search("财政"))[0] == 1  # 财政 in the title and in the body
    assert ids(store.search("养老"))[0] == 4


def test_recency_breaks_ties(db_url):
    with Store(db_url) as s:
        same = dict(
            title="同一标题",
            body="同样的正文内容。",
            issuer="某局",
            doc_number=None,
            column="c",
            site="t.gov.cn",
        )
        s.save_reports(
            [
                doc(1, date="2020-01-01", **same),
                doc(2, date="2023-01-01", **same),
                doc(3, date="2021-01-01", **same),
            ]
        )
        assert ids(s.search("正文")) == [2, 3, 1]


def test_snippet_marks_every_match(store):
    hit = store.search("预算")[0]
    assert hit.marked_snippet("[", "]") == "为加强财政[预算]管理，现将有关事项通知如下。"
    assert hit.to_dict()["snippet"] == "为加强财政<mark>预算</mark>管理，现将有关事项通知如下。"
    long_body = "无关内容。" * 60 + "这里提到财政预算。" + "其他内容。" * 60
    with Store(store.db_url) as s:
        s.save_reports([doc(9, "长文", long_body, "2024-01-01", None, None, None, "a.gov.cn")])
        snippet = next(h for h in s.search("财政预算") if h.title == "长文").marked_snippet("[", "]")
    assert (
        snippet.startswith("…") and snippet.endswith("…") and "[财政预算]" in snippet and len(snippet) < 140
    )


@pytest.mark.parametrize(
    "filters, expected",
    [
        (Filters(site="b.gov.cn"), {3, 4}),
        (Filters(site="B.GOV.CN"), {3, 4}),
        (Filters(column="通知公告"), {1, 3, 5}),
        (Filters(issuer="民政局"), {4}),
        (Filters(doc_number="〔2024〕"), {1, 2}),
        (Filters(doc_number="%"), set()),  # LIKE wildcards are literal
        (Filters(since="2023-01-01"), {1, 2, 3}),
        (Filters(until="2022"), {4, 5, 6}),
        (Filters(since="2022-11", until="2023-06-10"), {3, 4}),
        (Filters(withdrawn=True), {2}),
        (Filters(withdrawn=False), {1, 3, 4, 5, 6}),
    ],
    ids=lambda v: repr(v) if not isinstance(v, Filters) else "",
)
def test_filters(store, filters, expected):
    store.mark_withdrawn("http://a.gov.cn/art/2.html", "2024-06-01", "http 404")
    assert (
        set(ids(store.search("的 OR 工作 OR 财 OR 安全 OR 检查 OR food OR 养老", filters, limit=100)))
        == expected
    )


def test_bad_date_filter_is_a_clear_error():
    with pytest.raises(ValueError, match="not a date"):
        Filters(since="last tuesday")


MALFORMED = [
    '"财政',
    '财政"',
    '"',
    '""',
    "((财政",
    "财政))",
    ")(",
    "AND",
    "OR",
    "NOT",
    "财政 AND",
    "OR 财政",
    "财政 OR",
    "NOT NOT 财政",
    "- 财政",
    "--财政",
    "财政 -",
    "'; DROP TABLE reports; --",
    "1' OR '1'='1",
    "*",
    "财*",
    "NEAR(财政 预算)",
    "财政:预算",
    "{title}: 财政",
    "^财政",
    "财政 AND OR 预算",
    "\\",
    "\x00财政",
    "财政\n预算",
]


@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_queries_are_literal_text_or_a_clear_error(store, query):
    try:
        hits = store.search(query)
    except QueryError as exc:
        assert str(exc) and "Traceback" not in str(exc)
    else:
        assert isinstance(hits, list)
    assert store.count_reports() == len(DOCS)  # nothing was dropped or changed


def test_sql_fragment_is_searched_as_words(store):
    assert store.search("'; DROP TABLE reports; --") == []
    assert ids(store.search('"安全生产" OR \'; DROP TABLE reports; --')) == [3]


@pytest.mark.parametrize(
    "query, message",
    [
        ("x" * 10_000, "limit is 1000"),
        ("财" * 1001, "limit is 1000"),
        ("-财政", "only of excluded"),
        ("NOT 财政", "only of excluded"),
        ("财政 OR -预算", "cannot be an alternative"),
        ("。，！", "no searchable"),
        ("  ", "no searchable"),
        ("(" * 40 + "财政" + ")" * 40, "deeper than"),
        (" ".join(f"词{i}" for i in range(80)), "more than 64 terms"),
    ],
)
def test_unusable_queries_give_a_clear_error(store, query, message):
    with pytest.raises(QueryError, match=message):
        store.search(query)


def test_tokenizer_bigrams_with_final_character():
    assert index_tokens("财政预算，COVID-19") == ["财政", "政预", "预算", "算", "covid", "19"]
    assert query_tokens("财") == (["财"], True)
    assert query_tokens("财政预算") == (["财政", "政预", "预算"], False)
    assert query_tokens("财政 预算") == (["财政", "政", "预算"], False)


def test_compiled_queries_hold_only_tokens_and_operators():
    node = parse('"财政 预算" OR 年 -"x"\'";--')
    # AND binds tighter than OR; the phrase's space between Chinese characters is dropped
    assert to_fts5(node) == '("财政 政预 预算" OR (("年"*) NOT "x"))'
    assert to_tsquery(node) == "(('财政' <-> '政预' <-> '预算') | ('年':* & !'x'))"


def test_a_changed_report_is_found_by_its_new_text_only(store):
    changed = doc(
        3,
        "安全生产工作要点（修订）",
        "推进应急管理体系建设。",
        "2023-06-10",
        "某市应急管理局",
        None,
        "通知公告",
        "b.gov.cn",
    )
    assert store.save_reports([changed]) == ["changed"]
    assert ids(store.search("隐患排查")) == []
    assert ids(store.search("应急管理体系")) == [3]
    assert ids(store.search("修订")) == [3]
    # and once more, so the second removal hands FTS5 the right (second) version
    store.save_reports([doc(3, "安全生产", "第三版内容。", "2023-06-10", None, None, None, "b.gov.cn")])
    assert ids(store.search("应急管理体系")) == [] and ids(store.search("第三版")) == [3]
    assert set(ids(store.search("财", limit=100))) == QUERIES["财"]


def test_rebuilding_the_index_keeps_the_same_hits(store):
    before = {q: ids(store.search(q, limit=100)) for q in QUERIES}
    assert store.rebuild_search_index(batch=2) == len(DOCS)
    assert {q: ids(store.search(q, limit=100)) for q in QUERIES} == before


def test_tokens_computed_ahead_in_a_worker_follow_a_body_changed_afterwards(db_url):
    """A worker tokenizes a report's first page; the merged article's page 2 must be searchable too."""
    from archive.extract.multipage import merge_pages
    from archive.store.search_index import tokenize_ahead

    first = tokenize_ahead(Report(url="http://a.gov.cn/t20240301_7.html", title="关于春季造林的通知",
                                  body_text="第一页讲植树节的安排。"))
    second = Report(url="http://a.gov.cn/t20240301_7_1.html", body_text="第二页讲森林防火的要求。")
    with Store(db_url) as s:
        s.save_reports([merge_pages(first, [second])])
        assert [h.url for h in s.search("森林防火")] == ["http://a.gov.cn/t20240301_7.html"]
        assert [h.url for h in s.search("植树节")] == ["http://a.gov.cn/t20240301_7.html"]
