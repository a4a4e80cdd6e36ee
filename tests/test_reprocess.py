"""`govarchive reprocess`: the database rebuilt from WARC files alone gives the crawl's reports."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.clirun import FAST, govarchive, sqlite_url

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"

pytestmark = pytest.mark.timeout(300)


def export(db: str, cwd: Path) -> dict[str, dict]:
    result = govarchive("export", "--db", db, "--format", "jsonl", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {r["url"]: r for r in map(json.loads, result.stdout.splitlines())}


@pytest.fixture(scope="module")
def crawled(fixture_site, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("crawl")
    result = govarchive("crawl", *fixture_site.start_urls, "--db", sqlite_url(workdir),
                        "--warc-dir", str(workdir / "warc"), *FAST, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return workdir


# Fields of a run, not of the report: the ids the database gave it and its document.
RUN_FIELDS = ("id", "document_id")


def same_exports(crawl_db: str, crawl_dir: Path, rebuilt_db: str, rebuilt_dir: Path) -> dict[str, dict]:
    original = export(crawl_db, crawl_dir)
    again = export(rebuilt_db, rebuilt_dir)
    assert original and set(again) == set(original)
    for url, report in original.items():
        for name, value in report.items():
            if name not in RUN_FIELDS:
                assert again[url][name] == value, (url, name)
    return original


def test_a_crawl_and_a_reprocess_of_its_warcs_export_the_same_reports(site, tmp_path):
    """Two crawls of a site that changed in between (a revised page, a page gone, a page replaced by a
    withdrawal notice), then the WARCs of both into a fresh database: every field of every report."""
    crawl_dir = tmp_path / "crawl"
    crawl_dir.mkdir()
    details = site.expected.detail_urls
    gone, notice, revised = details[5], details[6], details[7]
    for step in range(2):
        if step:
            site.withdraw(gone)
            site.withdraw(notice, notice=True)
            site.revise(revised)
        site.reset_log()
        result = govarchive("crawl", *site.start_urls, "--db", sqlite_url(crawl_dir),
                            "--warc-dir", str(crawl_dir / "warc"), *FAST, cwd=crawl_dir)
        assert result.returncode == 0, result.stderr
    site.restore()
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    result = govarchive("reprocess", str(crawl_dir / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    original = same_exports(sqlite_url(crawl_dir), crawl_dir, rebuilt, tmp_path)
    assert original[gone]["withdrawn"] and original[gone]["withdrawn_reason"] == "HTTP 404"
    assert original[notice]["withdrawn"] and original[notice]["withdrawn_reason"].startswith("withdrawal notice")
    assert original[notice]["version"] == 1  # a notice is no version of the report
    assert original[revised]["version"] == 2 and "更新" in original[revised]["body_text"]
    assert all(r["extractor_version"] for r in original.values())


def test_second_portal_and_its_split_article_reprocess_the_same(tmp_path):
    from fixtures.othersite.server import start_site

    other = start_site(port=0)
    try:
        result = govarchive("crawl", *other.start_urls, "--db", sqlite_url(tmp_path), "--warc-dir",
                            str(tmp_path / "warc"), *FAST, cwd=tmp_path)
        assert result.returncode == 1 and "nothing from" in result.stderr, result.stderr  # its sitemap page
    finally:
        other.stop()
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    assert govarchive("reprocess", str(tmp_path / "warc"), "--db", rebuilt, cwd=tmp_path).returncode == 0
    original = same_exports(sqlite_url(tmp_path), tmp_path, rebuilt, tmp_path)
    assert len(original[other.expected.multipage_url]["body_text"].splitlines()) > 3


def test_reprocess_finds_records_known_only_from_their_list(tmp_path):
    """Detail pages without article markers or a known URL shape, archived before the list naming
    them: the crawl knew them as the list's records, and so must a reprocess."""
    para = "为进一步做好城乡居民基本医疗保险工作，现将有关事项通知如下，请各单位认真贯彻执行。"
    items = "".join(f"<li><a href='/x/doc{n}'>关于第{n}号事项的通知公告内容</a><span>2024-03-0{n}</span></li>"
                    for n in range(1, 5))
    listing = f"<html><head><meta name='ColumnName' content='通知公告'></head><body><ul>{items}</ul></body></html>"
    warc = tmp_path / "foreign.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for n in range(1, 5):  # the records first, their list last
            body = f"<html><body><h3>关于第{n}号事项的通知公告内容</h3><p>{para}</p></body></html>"
            _response(writer, f"http://gov.test/x/doc{n}", body.encode(), "text/html; charset=utf-8")
        _response(writer, "http://gov.test/x/index.html", listing.encode(), "text/html; charset=utf-8")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    result = govarchive("reprocess", str(warc), "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = export(db, tmp_path)
    assert sorted(got) == [f"http://gov.test/x/doc{n}" for n in range(1, 5)]
    assert {r["column"] for r in got.values()} == {"通知公告"}


def test_reprocess_twice_changes_nothing(crawled, tmp_path):
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    govarchive("reprocess", str(crawled / "warc"), "--db", rebuilt, cwd=tmp_path)
    result = govarchive("reprocess", str(crawled / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["reports"]) == {"unchanged"}


def test_a_newer_extractor_makes_re_extracted_versions_only_where_the_content_changed(crawled, tmp_path,
                                                                                     monkeypatch):
    """The same WARC records read again by an extractor whose rules changed one page's body: that report
    gets version 2 ("re-extracted", the new extractor version); every other report stays as it was."""
    import archive.page
    from archive.extract.extractor import EXTRACTOR_VERSION

    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    assert govarchive("reprocess", str(crawled / "warc"), "--db", rebuilt, cwd=tmp_path).returncode == 0
    before = export(rebuilt, tmp_path)
    target = sorted(before)[0]
    older = archive.page.extract

    def newer_extract(body: bytes, url: str, **options):
        report = older(body, url, **options)
        if url == target:
            report.body_text += "\n新规则读出的一段。"
            report.content_hash = report.compute_content_hash()
        return report

    monkeypatch.setattr(archive.page, "extract", newer_extract)
    monkeypatch.setattr(archive.page, "EXTRACTOR_VERSION", "next")
    result = govarchive("reprocess", str(crawled / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reports"] == {"changed": 1, "unchanged": len(before) - 1}
    after = export(rebuilt, tmp_path)
    assert (after[target]["version"], after[target]["extractor_version"]) == (2, "next")
    assert after[target]["body_text"].endswith("新规则读出的一段。")
    assert all(after[u] == before[u] for u in before if u != target)
    assert {before[u]["extractor_version"] for u in before} == {EXTRACTOR_VERSION}
    shown = govarchive("show", target, "--versions", "--json", "--db", rebuilt, cwd=tmp_path)
    assert [json.loads(line)["reason"] for line in shown.stdout.splitlines()] == ["new", "re-extracted"]
    again = govarchive("reprocess", str(crawled / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert json.loads(again.stdout)["reports"] == {"unchanged": len(before)}


def _response(writer: WARCWriter, url: str, body: bytes, content_type: str, status: str = "200 OK") -> None:
    headers = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                               protocol="HTTP/1.0")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))


def test_reprocess_a_warc_written_by_another_tool(tmp_path):
    """Only the detail page becomes a report; the list page, robots.txt and the 404 do not."""
    detail = (PAGES / "trs_kjj_xmtz.html").read_bytes()  # a DOM detail page (not an embedded-JSON shell)
    listing = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
               + "".join(f"<li><a href='/art/2024/3/{i}/art_1_{i}.html'>关于开展第{i}批政务公开工作检查的通知</a>"
                         f"<span>2024-03-{i:02d}</span></li>" for i in range(1, 21))
               + "</ul><div>共5页 下一页</div></body></html>").encode()
    path = tmp_path / "other-tool.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        _response(writer, "http://www.example.gov.cn/robots.txt", b"User-agent: *\nDisallow:\n", "text/plain")
        _response(writer, "http://www.example.gov.cn/col/col1/index.html", listing, "text/html; charset=utf-8")
        _response(writer, "http://www.example.gov.cn/art/2024/3/1/art_1_1.html", detail, "text/html")
        _response(writer, "http://www.example.gov.cn/gone.html", b"not found", "text/html", "404 Not Found")
    db = f"sqlite:///{tmp_path / 'other.db'}"
    result = govarchive("reprocess", str(path), "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reports = export(db, tmp_path)
    assert list(reports) == ["http://www.example.gov.cn/art/2024/3/1/art_1_1.html"]
    assert reports["http://www.example.gov.cn/art/2024/3/1/art_1_1.html"]["title"]


def test_truncated_warc_keeps_what_is_readable(crawled, tmp_path):
    source = sorted((crawled / "warc").glob("*.warc.gz"))[0]
    with open(source, "rb") as fh:
        it = ArchiveIterator(fh)
        spans = [(it.get_record_offset(), it.get_record_length())
                 for record in it if record.rec_type == "response" and not it.read_to_end()]
    pages = [span for span in spans if span[1] > 4000]
    offset, length = pages[len(pages) * 2 // 3]  # cut a page's response record in half, two thirds in
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(source.read_bytes()[: offset + length // 2])
    db = f"sqlite:///{tmp_path / 'broken.db'}"
    result = govarchive("reprocess", str(broken), "--db", db, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the rest is read, and the damage is the exit status
    assert f"warning: {broken}: offset {offset}: the file ends inside this gzip member" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["reports"].get("new", 0) > 0 and summary["damaged"] == 1


def test_a_file_that_is_not_a_warc_is_a_clear_error(tmp_path):
    junk = tmp_path / "notes.warc.gz"
    junk.write_bytes(gzip.compress(b"this is not a WARC file\n" * 10))
    result = govarchive("reprocess", str(junk), "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "no HTTP response records" in result.stderr
