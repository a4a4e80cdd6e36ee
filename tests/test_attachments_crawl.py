"""Attachments' text and documents published twice, through a crawl of two portals (fixtures/reposts)
on SQLite and PostgreSQL, read back as a user would: `search`, `show --json`, `export`, `reprocess`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.reposts.server import EXPECTED_STATUS, PHRASES, start_portals
from tests.clirun import FAST, govarchive, sqlite_url

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def portals():
    with start_portals() as p:
        yield p


def crawl(portals, db: str, workdir: Path) -> None:
    result = govarchive("crawl", *portals.start_urls, "--db", db, "--warc-dir", str(workdir / "warc"), *FAST,
                        "-s", "GOVARCHIVE_EXTRACT_WORKERS=1", cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def sqlite_db(portals, tmp_path_factory) -> tuple[str, Path]:
    workdir = tmp_path_factory.mktemp("attachments")
    db = sqlite_url(workdir)
    crawl(portals, db, workdir)
    return db, workdir


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def crawled(request, portals, sqlite_db, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return sqlite_db[0]
    pg_url = request.getfixturevalue("pg_module_url")
    crawl(portals, pg_url, tmp_path_factory.mktemp("attachments_pg"))
    return pg_url


@pytest.fixture(scope="module")
def pg_module_url(pg_template):
    import uuid

    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = f"govarchive_test_{uuid.uuid4().hex[:12]}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def show(db: str, url: str) -> dict:
    result = govarchive("show", url, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def search(db: str, *args: str) -> list[dict]:
    result = govarchive("search", *args, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("kind", sorted(PHRASES))
def test_a_phrase_only_inside_an_attachment_finds_its_report(crawled, portals, kind):
    hits = search(crawled, PHRASES[kind])
    assert [h["url"] for h in hits] == [portals.expected.policy]
    assert hits[0]["attachment"].endswith(f".{kind}")
    assert f"<mark>{PHRASES[kind]}</mark>" in hits[0]["snippet"]


def test_each_attachment_carries_its_text_status_and_length(crawled, portals):
    report = show(crawled, portals.expected.policy)
    by_name = {a["url"].rsplit("P020240301", 1)[1]: a for a in report["attachments"]}
    assert {name: a["text_status"] for name, a in by_name.items()} == {
        name: status for name, status in EXPECTED_STATUS.items() if name.startswith("fj")}
    for name, attachment in by_name.items():
        assert attachment["text_length"] == len(attachment["text"] or "")
        if name.startswith("fj") and name[2] in "12345":
            assert attachment["text_length"] > 0
    assert "一般公共预算收入\t12345" in by_name["fj3.xlsx"]["text"]
    assert by_name["fj5.ofd"]["text"].splitlines()[:2] == ["云川市人民政府文件", "云政发〔2024〕7号"]


def test_a_repost_on_another_host_is_the_same_document(crawled, portals):
    policy, repost = show(crawled, portals.expected.policy), show(crawled, portals.expected.repost)
    assert repost["metadata"]["doc_number"] == "云政发［２０２４］第７号"
    assert policy["doc_number_key"] == repost["doc_number_key"] == "云政发〔2024〕7号"
    assert policy["document_id"] == repost["document_id"]
    assert policy["published_elsewhere"] == [portals.expected.repost]
    assert repost["published_elsewhere"] == [portals.expected.policy]
    other = show(crawled, portals.expected.other)
    assert other["document_id"] != policy["document_id"] and other["published_elsewhere"] == []


def test_a_wrapper_page_and_its_repost_share_the_attachment_and_the_document(crawled, portals):
    wrapper, repost = show(crawled, portals.expected.wrapper), show(crawled, portals.expected.wrapper_repost)
    assert wrapper["attachments"][0]["sha256"] == repost["attachments"][0]["sha256"]
    assert wrapper["document_id"] == repost["document_id"]
    assert wrapper["published_elsewhere"] == [portals.expected.wrapper_repost]


@pytest.mark.parametrize("written", ["云政发〔2024〕7号", "云政发[2024]7号", "云政发（２０２４）第７号", "[2024] 7号"])
def test_doc_number_search_matches_any_writing(crawled, portals, written):
    hits = search(crawled, "营商环境", "--doc-number", written)
    assert sorted(h["url"] for h in hits) == sorted([portals.expected.policy, portals.expected.repost])


def test_distinct_documents_collapses_reposts(crawled, portals):
    assert len(search(crawled, "营商环境")) == 2
    hits = search(crawled, "营商环境", "--distinct-documents")
    assert [h["url"] for h in hits] == [portals.expected.repost]  # the newer one (published a day later)
    result = govarchive("search", "营商环境", "--distinct-documents", "--db", crawled)
    assert result.exit_code == 0 and result.stdout.startswith("1 document match")


def test_show_lists_attachment_text_status_and_other_publications(crawled, portals):
    result = govarchive("show", portals.expected.policy, "--db", crawled)
    assert result.exit_code == 0, result.output
    assert "text: no text layer" in result.stdout and "text: too large" in result.stdout
    assert f"also published at:\n  {portals.expected.repost}" in result.stdout


def test_export_carries_document_id_and_attachment_text_behind_a_flag(crawled, portals):
    plain = govarchive("export", "--db", crawled)
    full = govarchive("export", "--db", crawled, "--attachment-text")
    assert plain.exit_code == full.exit_code == 0
    rows = {r["url"]: r for r in map(json.loads, plain.stdout.splitlines())}
    with_text = {r["url"]: r for r in map(json.loads, full.stdout.splitlines())}
    policy = rows[portals.expected.policy]
    assert all("text" not in a and a["text_status"] for a in policy["attachments"])
    assert any(PHRASES["docx"] in (a["text"] or "") for a in with_text[portals.expected.policy]["attachments"])
    assert policy["document_id"] == rows[portals.expected.repost]["document_id"]
    csv = govarchive("export", "--db", crawled, "--format", "csv")
    assert csv.exit_code == 0 and "document_id" in csv.stdout.splitlines()[0]


def test_reprocess_rebuilds_attachment_text_and_identity_from_the_warc_alone(sqlite_db, portals, tmp_path):
    _, workdir = sqlite_db
    db = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    result = govarchive("reprocess", str(workdir / "warc"), "--db", db)
    assert result.exit_code == 0, result.output
    assert [h["url"] for h in search(db, PHRASES["ofd"])] == [portals.expected.policy]
    original, rebuilt = show(sqlite_db[0], portals.expected.policy), show(db, portals.expected.policy)
    assert [(a["text_status"], a["text"]) for a in rebuilt["attachments"]] == \
        [(a["text_status"], a["text"]) for a in original["attachments"]]
    assert rebuilt["published_elsewhere"] == [portals.expected.repost]


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_web_search_page_finds_a_phrase_only_inside_an_attachment(crawled, portals, kind):
    from fastapi.testclient import TestClient

    from archive.store import open_existing_store
    from archive.web.app import create_app

    store = open_existing_store(crawled)
    try:
        with TestClient(create_app(store, None, replay_url=None)) as client:
            page = client.get("/search", params={"q": PHRASES[kind]})
            api = client.get("/api/search", params={"q": PHRASES[kind]})
    finally:
        store.close()
    body = api.json()
    assert body["total"] == 1 and [h["url"] for h in body["results"]] == [portals.expected.policy]
    [hit] = body["results"]
    assert page.status_code == 200 and hit["title"] in page.text and f'href="{hit["report"]}"' in page.text
    assert f"<mark>{PHRASES[kind]}</mark>" in page.text and f".{kind}" in page.text  # the attachment named
