"""`govarchive search`, `show`, `export` and `db upgrade` as a user runs them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archive.report import Metadata, Report, WarcRef
from archive.store import Store
from archive.store.engine import head_revision
from tests.clirun import govarchive

URL1 = "http://www.example.gov.cn/art/2024/1.html"


def make(n: int, title: str, body: str, date: str, **kw) -> Report:
    r = Report(
        url=f"http://www.example.gov.cn/art/2024/{n}.html",
        site="www.example.gov.cn",
        column="通知公告",
        title=title,
        publish_time=date,
        metadata=Metadata(issuer=kw.get("issuer", "某市财政局"), doc_number=f"某财发〔2024〕{n}号"),
        body_text=body,
        fetched_at=kw.get("fetched", "2024-03-02T00:00:00+00:00"),
        status=200,
        warc=WarcRef("g.warc.gz", n, 1, f"<urn:uuid:{n}>"),
    )
    r.content_hash = r.compute_content_hash()
    return r


@pytest.fixture
def db(db_url):
    with Store(db_url) as s:
        s.save_reports(
            [
                make(
                    1, "关于2024年财政预算的通知", "一、加强财政预算管理。\n二、严肃财经纪律。", "2024-03-01"
                ),
                make(2, "安全生产工作要点", "落实安全生产责任制。", "2023-06-01", issuer="某市应急管理局"),
            ]
        )
        s.save_reports(
            [
                make(
                    1,
                    "关于2024年财政预算的通知",
                    "一、加强财政预算管理。\n二、严肃财经纪律（修订）。",
                    "2024-03-01",
                    fetched="2024-04-01T00:00:00+00:00",
                )
            ]
        )
    return db_url


def test_search_json_is_one_object_per_line(db):
    result = govarchive("search", "财政", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    hit = json.loads(lines[0])
    assert hit["url"] == URL1 and "<mark>财政</mark>" in hit["snippet"] and hit["issuer"] == "某市财政局"


def test_search_table_for_people(db):
    result = govarchive("search", "安全生产", "--db", db)
    assert result.exit_code == 0
    assert "安全生产工作要点" in result.stdout and "2023-06-01" in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--issuer", "应急"], ["2.html"]),
        (["--since", "2024"], ["1.html"]),
        (["--until", "2023-12-31"], ["2.html"]),
        (["--site", "other.gov.cn"], []),
        (["--not-withdrawn"], ["1.html", "2.html"]),
        (["--withdrawn"], []),
        (["--doc-number", "〔2024〕2号"], ["2.html"]),
        (["--column", "通知公告", "--limit", "1"], ["1.html"]),
    ],
)
def test_search_filters(db, args, expected):
    result = govarchive("search", "财政 OR 安全", "--db", db, "--json", *args)
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["url"].rsplit("/", 1)[1] for x in result.stdout.splitlines()] == expected


def test_words_as_separate_arguments_and_a_leading_minus(db):
    result = govarchive("search", "财政", "-纪律", "--db", db, "--json")
    assert result.exit_code == 0 and result.stdout == ""
    result = govarchive("search", "财政", "-安全", "--db", db, "--json")
    assert [json.loads(x)["url"] for x in result.stdout.splitlines()] == [URL1]


def test_no_hits_is_not_an_error(db):
    result = govarchive("search", "不存在的词语", "--db", db)
    assert result.exit_code == 0 and "no reports found" in result.output


@pytest.mark.parametrize("query", ['"', "-财政", "x" * 10_000, "。。。", "财政 OR -预算"])
def test_unusable_query_is_a_clear_error(db, query):
    result = govarchive("search", "--db", db, "--", query)  # `--`: a query may start with "-"
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot search for") and "Traceback" not in result.output


@pytest.mark.parametrize("query", ["'; DROP TABLE reports; --", '"财政', "OR", "((财政"])
def test_malformed_query_is_literal_text(db, query):
    result = govarchive("search", query, "--db", db, "--json")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert govarchive("show", "1", "--db", db).exit_code == 0  # the table is still there


def test_bad_date_is_a_usage_error(db):
    result = govarchive("search", "财政", "--db", db, "--since", "yesterday")
    assert result.exit_code == 2 and "not a date" in result.output


def test_show_json_and_text(db):
    result = govarchive("show", URL1, "--db", db, "--json")
    data = json.loads(result.stdout)
    assert data["version"] == 2 and data["warc"]["record_id"] == "<urn:uuid:1>" and data["withdrawn"] is False
    assert Report.from_dict(data).title == "关于2024年财政预算的通知"
    text = govarchive("show", "1", "--db", db).stdout
    assert (
        "关于2024年财政预算的通知" in text and "严肃财经纪律（修订）" in text and "某财发〔2024〕1号" in text
    )


def test_show_versions_and_diff(db):
    versions = govarchive("show", "1", "--db", db, "--versions", "--json").stdout.splitlines()
    assert [json.loads(v)["version"] for v in versions] == [1, 2]
    assert json.loads(versions[1])["fetched_at"] == "2024-04-01T00:00:00+00:00"
    assert "2024-04-01" in govarchive("show", "1", "--db", db, "--versions").stdout
    diff = govarchive("show", "1", "--db", db, "--diff", "1", "2").stdout
    assert "-二、严肃财经纪律。" in diff and "+二、严肃财经纪律（修订）。" in diff
    assert govarchive("show", "1", "--db", db, "--diff").stdout == diff


@pytest.mark.parametrize(
    "args, message",
    [
        (["999"], "no report '999'"),
        (["1", "--diff", "1", "7"], "no version 7"),
        (["2", "--diff"], "only one version"),
    ],
)
def test_show_errors(db, args, message):
    result = govarchive("show", *args, "--db", db)
    assert result.exit_code == 1 and message in result.output


def test_export_jsonl_to_stdout(db):
    result = govarchive("export", "--db", db)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["url"] for r in rows] == [URL1, URL1.replace("1.html", "2.html")]
    assert "exported 2 reports" in result.stderr


def test_export_csv_file_with_bom_and_filters(db, tmp_path):
    out = tmp_path / "r.csv"
    result = govarchive("export", "--db", db, "--format", "csv", "--bom", "-o", str(out), "--issuer", "应急")
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["title"] for r in rows] == ["安全生产工作要点"]


def test_db_upgrade(tmp_path):

    url = f"sqlite:///{tmp_path / 'new' / 'g.db'}"
    for _ in range(2):
        result = govarchive("db", "upgrade", "--db", url)
        assert result.exit_code == 0 and f"revision {head_revision()}" in result.output


def test_unreachable_database_is_a_clear_error():
    result = govarchive("search", "财政", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1 and result.output.startswith("Error: cannot open the database")


def test_db_defaults_to_govarchive_db_env(db):
    found = govarchive("search", "安全", "--json", env={"GOVARCHIVE_DB": db})
    assert json.loads(found.stdout.splitlines()[0])["title"] == "安全生产工作要点"
