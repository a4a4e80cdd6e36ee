"""CDXJ indexing, SURT keys, WACZ packaging, and the `warc` CLI verbs."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.warc import Exchange, WarcWriter
from archive.warc.indexer import write_cdxj
from archive.warc.surtkey import surt
from archive.warc.wacz import write_wacz
from tests.clirun import govarchive

T0 = datetime(2024, 2, 29, 1, 2, 3, tzinfo=UTC)
AWKWARD_URLS = [
    "http://www.example.gov.cn/col/col1/index.html?page=2",
    "https://WWW2.Example.GOV.cn:443/a/b/../c/./d/?B=2&a=1&c",
    "http://127.0.0.1:8123/art/2024/2/29/art_12_345.html",
    "http://www.gov.cn/zhengce/content/2024-02/29/content_6935000.htm#top",
    "http://example.com/%E6%94%BF%E5%BA%9C/附件.pdf?name=报告&x=%2541",
    "http://example.com/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15&columnid=1",
    "http://example.com",
    "http://example.com?",
    "http://example.com/?a=1&jsessionid=0123456789abcdef0123456789ABCDEF",
    "http://user:pw@Example.com:8080/Path/File.HTML;jsessionid=xx?Q=A B",
    "https://example.com:80/a",
    "http://例子.中国/path",
    "http://3232235777/x",
    "http://example.com/a%2fb/c//d",
    "dns:www.example.com",
    "http://[::1]:8080/x",
    "http://example.com/%7Efoo/%20bar?x=%7E&y=%20",
]


def warcio_check(*paths: Path) -> None:
    assert paths, "no WARC file was written"
    proc = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def warc_dir(tmp_path) -> Path:
    """Two rotated files: HTML pages (one GBK), a gzip page, a PDF, a redirect, a revisit."""
    directory = tmp_path / "warc"
    writer = WarcWriter(directory, host="testhost", max_size=3000, warcinfo={"run-id": "1"})
    pages = [
        (
            "http://www.example.gov.cn/col/col1/index.html",
            "text/html; charset=utf-8",
            "<title>栏目 列表</title>".encode(),
        ),
        (
            "http://www.example.gov.cn/art/2024/t1.html?id=2",
            "text/html; charset=gbk",
            "<title>关于通知</title>".encode("gbk"),
        ),
        ("http://www.example.gov.cn/files/a.pdf", "application/pdf", b"%PDF-1.4 same" * 40),
        ("http://www.example.gov.cn/other/a.pdf", "application/pdf", b"%PDF-1.4 same" * 40),
    ]
    for i, (url, ctype, body) in enumerate(pages):
        writer.write_exchange(
            Exchange(
                url=url,
                status=200,
                response_headers=[(b"Content-Type", ctype.encode())],
                body=body,
                started_at=T0 + timedelta(seconds=i),
            )
        )
    writer.write_exchange(
        Exchange(
            url="http://example.gov.cn/zipped.html",
            status=200,
            started_at=T0 + timedelta(seconds=9),
            response_headers=[(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")],
            body=gzip.compress(b"<html><title>Zipped</title></html>"),
        )
    )
    writer.write_exchange(
        Exchange(
            url="http://www.example.gov.cn/old",
            status=301,
            body=b"",
            response_headers=[(b"Location", b"/col/col1/index.html")],
            started_at=T0,
        )
    )
    writer.close()
    assert len(writer.files) >= 2
    warcio_check(*writer.files)
    return directory


def test_surt_keys_match_the_surt_package():
    surt_package = pytest.importorskip("surt")
    assert [surt(u) for u in AWKWARD_URLS] == [surt_package.surt(u) for u in AWKWARD_URLS]


def test_cdxj_is_sorted_with_surt_keys(warc_dir, tmp_path):
    out = tmp_path / "index.cdxj"
    count = write_cdxj(warc_dir, out)
    lines = out.read_text().splitlines()
    assert count == len(lines) == 6  # 5 responses/revisits + the redirect, no requests or warcinfo
    assert lines == sorted(lines)
    keys = {line.split(" ", 1)[0] for line in lines}
    assert "cn,gov,example)/art/2024/t1.html?id=2" in keys
    assert "cn,gov,example)/old" in keys
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    revisit = next(e for e in entries if e["url"] == "http://www.example.gov.cn/other/a.pdf")
    assert revisit["mime"] == "warc/revisit" and revisit["status"] == "200"
    for line in lines:
        key, stamp, _ = line.split(" ", 2)
        assert len(stamp) == 14 and stamp.startswith("20240229")
    for entry in entries:  # offsets and lengths address the records
        data = (warc_dir / entry["filename"]).read_bytes()
        record = gzip.decompress(data[int(entry["offset"]) : int(entry["offset"]) + int(entry["length"])])
        assert f"WARC-Target-URI: {entry['url']}\r\n".encode() in record


def test_cdxj_matches_cdxj_indexer_line_for_line(warc_dir, tmp_path):
    pytest.importorskip("cdxj_indexer")
    ours = tmp_path / "ours.cdxj"
    write_cdxj(warc_dir, ours)
    theirs = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", "--sort", str(warc_dir)], capture_output=True, text=True
    )
    assert theirs.returncode == 0 and theirs.stdout, theirs.stderr[-300:]
    assert ours.read_text() == theirs.stdout


def _read_wacz(path: Path) -> tuple[zipfile.ZipFile, dict]:
    zf = zipfile.ZipFile(path)
    assert zf.testzip() is None
    return zf, json.loads(zf.read("datapackage.json"))


def test_wacz_structure_and_hashes(warc_dir, tmp_path):
    pages = [
        {
            "url": "http://www.example.gov.cn/art/2024/t1.html?id=2",
            "title": "关于通知",
            "ts": "2024-02-29T01:02:04Z",
        },
        {"url": "http://not.archived/x", "title": "missing"},
    ]
    path = write_wacz(warc_dir, tmp_path / "out.wacz", pages, title="test")
    zf, package = _read_wacz(path)
    names = zf.namelist()
    warcs = sorted(p.name for p in warc_dir.iterdir())
    assert sorted(n for n in names if n.startswith("archive/")) == [f"archive/{w}" for w in warcs]
    assert {"indexes/index.cdxj", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"} <= set(
        names
    )
    for name in names:
        if name.startswith("archive/"):
            assert zf.getinfo(name).compress_type == zipfile.ZIP_STORED
            assert zf.read(name) == (warc_dir / name.split("/", 1)[1]).read_bytes()
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert {r["path"] for r in package["resources"]} == set(names) - {
        "datapackage.json",
        "datapackage-digest.json",
    }
    for resource in package["resources"]:
        data = zf.read(resource["path"])
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
    digest = json.loads(zf.read("datapackage-digest.json"))
    assert digest["path"] == "datapackage.json"
    assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()
    lines = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]
    assert lines[0]["format"] == "json-pages-1.0"
    assert [(p["url"], p["title"], p["ts"]) for p in lines[1:]] == [
        ("http://www.example.gov.cn/art/2024/t1.html?id=2", "关于通知", "2024-02-29T01:02:04Z")
    ]
    index = zf.read("indexes/index.cdxj").decode().splitlines()
    assert index == sorted(index) and len(index) == 6


def test_wacz_pages_fall_back_to_html_in_the_warcs(warc_dir, tmp_path):
    zf, _ = _read_wacz(write_wacz(warc_dir, tmp_path / "out.wacz"))
    pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]]
    titles = {p["url"]: p.get("title") for p in pages}
    assert titles == {
        "http://www.example.gov.cn/col/col1/index.html": "栏目 列表",
        "http://www.example.gov.cn/art/2024/t1.html?id=2": "关于通知",  # GBK decoded
        "http://example.gov.cn/zipped.html": "Zipped",  # gunzipped
    }


def test_cli_index_writes_a_file_and_stdout(warc_dir, tmp_path):
    result = govarchive("warc", "index", "--warc-dir", str(warc_dir), "-o", str(tmp_path / "i.cdxj"))
    assert result.exit_code == 0, result.output
    to_stdout = govarchive("warc", "index", "--warc-dir", str(warc_dir))
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout == (tmp_path / "i.cdxj").read_text()


def test_cli_pack_and_repair(warc_dir, tmp_path):
    out = tmp_path / "p.wacz"
    result = govarchive("warc", "pack", "--warc-dir", str(warc_dir), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert zipfile.ZipFile(out).read("datapackage-digest.json")
    result = govarchive("warc", "repair", "--warc-dir", str(warc_dir))
    assert result.exit_code == 0 and "no unfinished" in result.output


def test_cli_pack_with_db_lists_stored_reports(warc_dir, tmp_path):
    from archive.report import Report
    from archive.store import Store

    db = f"sqlite:///{tmp_path / 'g.db'}"
    store = Store(db)
    run = store.start_run(["http://www.example.gov.cn/"], None, {})
    store.save_reports(
        [
            Report(
                url="http://www.example.gov.cn/art/2024/t1.html?id=2",
                title="关于通知",
                body_text="正文",
                fetched_at="2024-02-29T01:02:04Z",
            )
        ],
        run,
    )
    store.close()
    out = tmp_path / "p.wacz"
    result = govarchive("warc", "pack", "--warc-dir", str(warc_dir), "-o", str(out), "--db", db)
    assert result.exit_code == 0, result.output
    pages = [
        json.loads(line) for line in zipfile.ZipFile(out).read("pages/pages.jsonl").decode().splitlines()[1:]
    ]
    assert [(p["url"], p["title"]) for p in pages] == [
        ("http://www.example.gov.cn/art/2024/t1.html?id=2", "关于通知")
    ]


def test_cli_errors_are_clear(tmp_path):
    result = govarchive("warc", "index", "--warc-dir", str(tmp_path / "nope"))
    assert result.exit_code != 0 and "WARC directory not found" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = govarchive("warc", "pack", "--warc-dir", str(empty), "-o", str(tmp_path / "x.wacz"))
    assert result.exit_code != 0 and "no WARC files" in result.output
