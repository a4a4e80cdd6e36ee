"""A small real archive for the web interface tests: the fixture site crawled twice (a revised
page, a withdrawn page) plus a hostile page, all in WARC files and a SQLite database.

The crawls are the real `govarchive crawl`; the hostile page is written with the project's own
WarcWriter and read in by `reprocess`, the way any archive from another tool would be. It is built
once per test session (the browser and server tests share it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.clirun import FAST, govarchive

HOSTILE_URL = "http://hostile.example.gov.cn/art/2024/3/1/art_666_1.html"
HOSTILE_PDF_URL = "http://hostile.example.gov.cn/files/666/hostile-attachment.pdf"
HOSTILE_PDF = b"%PDF-1.4\n% hostile test attachment \xe6\x96\x87\xe4\xbb\xb6\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HOSTILE_TITLE = '关于<script>alert("标题")</script>整治工作的通知'
SCRIPT_MARK = "PWNED-BY-ARCHIVED-SCRIPT"
PARAGRAPH = (
    "为进一步加强网络安全管理，切实做好信息系统防护工作，根据上级有关文件精神，结合本市实际，"
    "现就有关事项通知如下，请各单位认真贯彻落实，确保各项工作落到实处，取得实效。"
)
HOSTILE_HTML = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta name="ArticleTitle" content='{HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")}'>
<meta name="PubDate" content="2024-03-01 09:30">
<title>hostile</title>
<script>document.title = "{SCRIPT_MARK}"; window.__pwned = true;</script>
</head><body>
<h1 class="article-title">{HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")}</h1>
<div class="info">发布时间：2024-03-01 09:30 来源：网络安全测试办公室</div>
<div class="TRS_Editor">
<p onclick="document.title='{SCRIPT_MARK}'">{PARAGRAPH}</p>
<p>{PARAGRAPH}<img src="x" onerror="document.title='{SCRIPT_MARK}'"></p>
<p>文中写道：&lt;b&gt;不是粗体&lt;/b&gt;，并附 <a href="javascript:document.title='{SCRIPT_MARK}'">恶意链接</a>。{PARAGRAPH}</p>
<script>document.body.insertAdjacentHTML("afterbegin", "<p id='pwned'>{SCRIPT_MARK}</p>");</script>
<iframe src="http://evil.example/"></iframe>
<form action="/search" method="post"><input name="q" value="x"><button>提交</button></form>
<p>{PARAGRAPH}</p>
</div>
<div class="fj">附件：<a href="{HOSTILE_PDF_URL}">附件1：安全检查表.pdf</a></div>
</body></html>
"""


@dataclass
class WebArchive:
    db_url: str
    warc_dir: Path
    revised_id: int  # two versions
    withdrawn_id: int  # the site answered 404 on the second crawl
    attachment_id: int  # has an archived attachment (and is the revised one)
    hostile_id: int
    attachment_sha256: str


_built: WebArchive | None = None


def build(tmp_path_factory) -> WebArchive:
    global _built
    if _built is None:
        _built = _build(tmp_path_factory.mktemp("webarchive"))
    return _built


def _query(db_url: str, sql: str, **params) -> list:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def _crawl(site, workdir: Path, db_url: str, start_urls: list[str]) -> None:
    # inline extraction: the same reports as the worker pool (tests/test_extract_pool.py), a quicker start
    result = govarchive("crawl", *start_urls, "--db", db_url, "--warc-dir", str(workdir / "warc"), *FAST,
                        "-s", "GOVARCHIVE_EXTRACT_WORKERS=0", cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]


def _build(workdir: Path) -> WebArchive:
    from archive.reprocess import reprocess_warcs
    from archive.store import Store
    from archive.warc.exchange import Exchange
    from archive.warc.writer import WarcWriter
    from fixtures.site.server import start_site

    db_url = f"sqlite:///{workdir / 'govarchive.db'}"
    warc_dir = workdir / "warc"
    site = start_site(port=0)
    try:
        _crawl(site, workdir, db_url, site.start_urls)
        # a report with an archived attachment changes; another one of its column disappears; only
        # that column is crawled again (enough for both, and quicker)
        attached, url, column = _query(
            db_url,
            'SELECT r.id, r.url, r."column" FROM reports r JOIN report_attachments a ON a.report_id = r.id '
            "JOIN files f ON f.url = a.url AND a.position = 0 WHERE f.warc_filename IS NOT NULL ORDER BY r.id",
        )[0]
        gone_id, gone_url = _query(
            db_url, 'SELECT id, url FROM reports WHERE id != :a AND "column" = :c ORDER BY id DESC', a=attached, c=column
        )[0]
        site.revise(url)
        site.withdraw(gone_url)
        site.reset_log()
        again = [u for u, c in zip(site.start_urls, site.app.columns, strict=True) if c.name == column]
        _crawl(site, workdir, db_url, again)
    finally:
        site.stop()

    hostile_dir = warc_dir / "other-tool"
    writer = WarcWriter(hostile_dir, prefix="hostile", host="testhost")
    for i, (target, ctype, body) in enumerate(
        [(HOSTILE_URL, b"text/html; charset=utf-8", HOSTILE_HTML.encode()), (HOSTILE_PDF_URL, b"application/pdf", HOSTILE_PDF)]
    ):
        writer.write_exchange(Exchange(
            url=target, status=200, body=body, started_at=datetime(2024, 3, 1, 2, 0, i, tzinfo=UTC),
            response_headers=[(b"Content-Type", ctype), (b"Set-Cookie", b"tracking=1; Path=/")],
        ))
    writer.close()
    with Store(db_url) as store:
        summary = reprocess_warcs([hostile_dir], store)
    assert summary.outcomes.get("new") == 1, summary.as_dict()
    [(hostile_id,)] = _query(db_url, "SELECT id FROM reports WHERE url = :u", u=HOSTILE_URL)
    [(sha,)] = _query(db_url, "SELECT f.sha256 FROM files f JOIN report_attachments a ON a.url = f.url "
                      "WHERE a.report_id = :r AND a.position = 0", r=attached)
    assert json.loads(_query(db_url, "SELECT data FROM report_versions WHERE report_id = :r", r=hostile_id)[0][0])
    assert hashlib.sha256(HOSTILE_PDF).hexdigest()
    return WebArchive(db_url, warc_dir, attached, gone_id, attached, hostile_id, sha)
