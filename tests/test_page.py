"""The one reader of a page (archive/page.py): its verdict on each kind of exchange, the single
challenge and withdrawal rules, context from lists, and no exception escaping it."""

from __future__ import annotations

import pytest

from archive import page
from archive.page import Fetched, PageContext, read_page
from tests.test_extract import load

PARA = "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务质效，结合我市实际，现就有关事项通知如下。"


def html(body: str, head: str = "") -> bytes:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


def fetched(body: bytes, url: str = "http://gov.test/zwgk/a.html", status: int = 200,
            headers: list[tuple[str, str]] | None = None) -> Fetched:
    return Fetched(url, status, headers if headers is not None else [("Content-Type", "text/html; charset=utf-8")],
                   body, "2024-03-01T08:00:00+00:00")


ARTICLE = html("<h1>关于优化营商环境的通知</h1><div class='TRS_Editor'>" + f"<p>{PARA}</p>" * 6 + "</div>",
               "<title>关于优化营商环境的通知_某市人民政府</title><meta name='ArticleTitle' content='关于优化营商环境的通知'>")


# --- challenges: one detector, one rule per WAF ------------------------------------------------------

RS_STUB = (b'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
           b'<script type="text/javascript" r="m">$_ts=window["$_ts"];if(!$_ts)$_ts={};$_ts.nsd=12345;</script>'
           b'<script src="/4QbVtADbnLVIc/d.FxJzG50F.dfe1675.js" r="m"></script></head><body></body></html>')
JSL_STUB = (b"<html><body><script>document.cookie=('_')+('_')+('jsl_clearance')+('=')+(1700000000)+"
            b"('.123|0|')+'abc';location.href=location.pathname+location.search</script></body></html>")


@pytest.mark.parametrize(("status", "cookies", "body"), [
    (412, [], ARTICLE),  # 瑞数 by status, whatever the body
    (521, [], ARTICLE),  # 加速乐 by status
    (200, [], RS_STUB),  # 瑞数 $_ts stub
    (200, [], JSL_STUB),  # 加速乐 jsl_clearance script
    (200, [], html("<script>var __jsluid='x'</script>")),
    (200, [], html("<script>document.cookie='wzws_cid=1'</script>")),  # 360 网站卫士
    (200, [], html("<form action='/WZWS_CONFIRM'></form>")),
    (200, [], html("<script>var wzwschallenge='1a2b';</script>")),  # 360's challenge variable
    (200, [], html("<script>yunsuo_session_verify()</script>")),  # 云锁
    (200, [], html("<script src='/safedog/waf.js'></script>")),  # 安全狗
    (200, [], html("<script src='/_guard/auto.js'></script>")),
    (200, [], html("<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script>")),
    (200, ["__jsluid_s=abc; path=/"], html("<script>location.reload()</script>")),  # cookie only
    (200, ["wzws_cid=0a1b; path=/"], html("<script>var x=1</script>")),
    (200, ["FSSBBIl1UgzbN7N80S=abc; path=/"], html("<script>x()</script>")),  # 瑞数 cookie pair
    (200, ["NOh8RTWx6K2dOT=abc; path=/"], html("<script>x()</script>")),  # 瑞数's …OS/…OT pair
    (200, ["__jsl_clearance_s=1700000000.1|0|abc; path=/"], html("<script>x()</script>")),  # 加速乐 cookie
])
def test_challenge_rules(status, cookies, body):
    headers = [("Content-Type", "text/html"), *(("Set-Cookie", c) for c in cookies)]
    reading = read_page(fetched(body, status=status, headers=headers), PageContext(page.RECORD))
    assert reading.kind == page.CHALLENGE and reading.failure_kind == "antibot", reading


@pytest.mark.parametrize("cookies", [["__jsluid_s=abc; path=/"], ["wzws_sid=0a1b", "lang=zh"]])
def test_real_page_behind_a_waf_is_content(cookies):
    body = ARTICLE.replace(b"</head>", b"<script src='/_guard/auto.js'></script><script>$_ts={}</script></head>")
    headers = [("Content-Type", "text/html"), *(("Set-Cookie", c) for c in cookies)]
    reading = read_page(fetched(body, url="http://gov.test/c/202403/t20240301_1.html", headers=headers),
                        PageContext(page.RECORD))
    assert reading.kind == page.DETAIL and reading.report.title == "关于优化营商环境的通知"


# --- withdrawals: one rule for statuses and notices ---------------------------------------------------

@pytest.mark.parametrize("status", [404, 410])
def test_gone_statuses_are_withdrawals(status):
    assert read_page(fetched(b"Not Found", status=status)).kind == page.WITHDRAWN


@pytest.mark.parametrize("notice", ["该信息已撤销", "此文件已废止", "本条信息已被删除。", "内容已下线", "该稿件已撤回",
                                    "页面已失效", "该文章已撤稿"])
def test_withdrawal_notice_pages(notice):
    body = html(f"<h1>{notice}</h1><div class='TRS_Editor'><p>{notice}</p></div>", "<meta name='ArticleTitle' content='x'>")
    reading = read_page(fetched(body, url="http://gov.test/c/202403/t20240301_1.html"), PageContext(page.RECORD))
    assert reading.kind == page.WITHDRAWN and reading.message.startswith("withdrawal notice")


def test_a_notice_in_the_title_of_a_page_with_only_an_attachment_is_a_withdrawal():
    body = html("<h1>该信息已删除</h1><div class='TRS_Editor'><a href='/a.pdf'>附件.pdf</a></div>",
                "<meta name='ArticleTitle' content='该信息已删除'>")
    reading = read_page(fetched(body, url="http://gov.test/c/202403/t20240301_1.html"), PageContext(page.RECORD))
    assert reading.kind == page.WITHDRAWN and reading.message == "withdrawal notice: 该信息已删除"


def test_a_long_article_that_mentions_repeal_is_an_article():
    body = ARTICLE.replace(b"</div>", "<p>原《某某办法》同时废止，此前文件已废止的条款不再执行。</p></div>".encode(), 1)
    reading = read_page(fetched(body, url="http://gov.test/c/202403/t20240301_1.html"), PageContext(page.RECORD))
    assert reading.kind == page.DETAIL


def test_fixture_withdrawal_page_is_the_only_notice():
    body, expected = load("trs_kjj_withdrawn")
    assert read_page(fetched(body, expected["url"]), PageContext(page.RECORD)).kind == page.WITHDRAWN
    body, expected = load("trs_kjj_xmtz")
    assert read_page(fetched(body, expected["url"]), PageContext(page.RECORD)).kind == page.DETAIL


# --- nothing escapes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"<!DOCTYPE html>", b"<!DOCTYPE html>\n<html>", b"   ", b"<", b"\x00\x01\x02" * 50])
def test_unreadable_bodies_are_named_failures_or_files(body):
    reading = read_page(fetched(body), PageContext(page.RECORD))
    assert reading.kind in (page.FAILED, page.FILE), reading
    if reading.kind == page.FAILED:
        assert reading.failure_kind in ("empty", "binary", "extraction") and reading.message


def test_a_failing_field_leaves_the_field_empty_not_the_page_lost(monkeypatch):
    from archive.extract import fields

    def broken(*args):
        raise RuntimeError("rule bug")

    monkeypatch.setattr(fields, "extract_source", broken)
    reading = read_page(fetched(ARTICLE, url="http://gov.test/c/202403/t20240301_1.html"), PageContext(page.RECORD))
    assert reading.kind == page.DETAIL and reading.report.source is None
    assert reading.report.title == "关于优化营商环境的通知"


def test_a_bug_in_a_step_is_a_failure_not_an_exception(monkeypatch):
    from archive.extract import extractor

    def broken(*args, **kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(extractor.body_step, "find_body", broken)
    reading = read_page(fetched(ARTICLE, url="http://gov.test/c/202403/t20240301_1.html"), PageContext(page.RECORD))
    assert (reading.kind, reading.failure_kind) == (page.FAILED, "extraction") and "KeyError" in reading.message


def test_readings_cross_process_boundaries():
    import pickle

    for body in (ARTICLE, b"<!DOCTYPE html>", RS_STUB):
        reading = read_page(fetched(body), PageContext(page.RECORD))
        assert pickle.loads(pickle.dumps(reading)).kind == reading.kind


# --- what a response is, and context ------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "body", "is_file"), [
    ([("Content-Type", "application/pdf")], b"%PDF-1.4", True),
    ([("Content-Type", "text/html"), ("Content-Disposition", "attachment; filename=a.doc")], b"<html>", True),
    ([("Content-Type", "application/octet-stream")], b"<!DOCTYPE html><html></html>", False),
    ([("Content-Type", "application/octet-stream")], b"\xd0\xcf\x11\xe0", True),
    ([], b"<html><body>x</body></html>", False),
    ([], b"PK\x03\x04", True),
    ([("Content-Type", "text/xml; charset=UTF-8")], b"<datastore>", False),  # Hanweb dataproxy answers
    ([("Content-Type", "application/json")], b'{"articles": []}', False),  # list APIs
])
def test_file_or_page(headers, body, is_file):
    assert page.is_file_response(dict(headers).get("Content-Type"), dict(headers).get("Content-Disposition"),
                                 body) is is_file


def test_a_short_notice_is_a_record_only_in_the_context_of_its_list():
    notice = html("<div class='nav'><a href='/'>首页</a></div><h2>关于停水的通知</h2><p>明日停水。</p>",
                  "<title>关于停水的通知</title>")
    assert read_page(fetched(notice), PageContext()).kind == page.OTHER
    reading = read_page(fetched(notice), PageContext(page.RECORD, column="通知公告"))
    assert reading.kind == page.DETAIL and reading.report.column == "通知公告"
    assert reading.report.fetched_at == "2024-03-01T08:00:00+00:00"


def test_a_list_page_gives_its_records_and_pages():
    items = "".join(f"<li><a href='/c/202403/t2024030{d}_{d}.html'>关于第{d}号事项的通知公告内容</a>"
                    f"<span>2024-03-0{d}</span></li>" for d in range(1, 6))
    body = html(f"<ul>{items}</ul><script>createPageHTML(3, 0, 'index', 'html');</script>",
                "<meta name='ColumnName' content='通知公告'>")
    reading = read_page(fetched(body, url="http://gov.test/c/index.html"))
    assert reading.kind == page.LIST and reading.links.column == "通知公告"
    assert [link.url for link in reading.links.records][:2] == ["http://gov.test/c/202403/t20240301_1.html",
                                                                "http://gov.test/c/202403/t20240302_2.html"]
    assert [link.url for link in reading.links.pages] == ["http://gov.test/c/index_1.html",
                                                          "http://gov.test/c/index_2.html"]


def test_an_app_shell_is_other_with_its_reason_and_a_script_is_no_document():
    from fixtures.platforms import pages

    shell = read_page(fetched(pages.spa_shell().encode(), url="http://gov.test/spa/index.html"), PageContext(page.START))
    assert shell.kind == page.OTHER and shell.reasons == (page.SHELL,)
    assert page.SHELL not in read_page(fetched(ARTICLE), PageContext()).reasons
    # a list's record drawn by its app's scripts: no failed extraction but a shell, for the browser to render
    record = read_page(fetched(pages.spa_shell().encode(), url="http://gov.test/spa/detail/1.html"),
                       PageContext(page.RECORD))
    assert record.kind == page.OTHER and page.SHELL in record.reasons
    # the bundle a browser archived beside the page: markup inside strings, but a script, not a failed article
    bundle = fetched(pages.spa_bundle().encode(), url="http://gov.test/spa/app.js",
                     headers=[("Content-Type", "application/javascript")])
    assert read_page(bundle, PageContext()).kind == page.OTHER


def test_challenge_reading_of_a_document_as_first_sent():
    assert page.challenge_reading(fetched(RS_STUB)).kind == page.CHALLENGE
    assert page.challenge_reading(fetched(ARTICLE, status=521)).kind == page.CHALLENGE
    assert page.challenge_reading(fetched(ARTICLE)) is None


# --- `govarchive extract` reads a file through the same reader ----------------------------------------

def run_extract(tmp_path, body: bytes, *args: str):
    from tests.clirun import govarchive

    path = tmp_path / "page.html"
    path.write_bytes(body)
    return govarchive("extract", str(path), *args)


def test_extract_refuses_a_list_page_and_says_what_it_is(tmp_path):
    items = "".join(f"<li><a href='/c/t2024030{d}_{d}.html'>关于第{d}号事项的通知公告内容</a><span>2024-03-0{d}</span></li>"
                    for d in range(1, 6))
    result = run_extract(tmp_path, html(f"<ul>{items}</ul>", "<title>通知公告</title>"), "--url", "http://gov.test/c/")
    assert result.exit_code == 1 and "not a detail page: list page with 5 records" in result.output
    assert "Traceback" not in result.output
    forced = run_extract(tmp_path, html(f"<ul>{items}</ul>", "<title>通知公告</title>"), "--any")
    assert forced.exit_code == 0 and '"title"' in forced.output


@pytest.mark.parametrize(("body", "words"), [
    (b"<!DOCTYPE html>", "no parsable HTML document"),
    (RS_STUB, "challenge script"),
    (html("<h1>该信息已撤销</h1><p>该信息已撤销</p>"), "withdrawal notice"),
])
def test_extract_says_why_a_page_is_no_report(tmp_path, body, words):
    result = run_extract(tmp_path, body)
    assert result.exit_code == 1 and words in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- hostile bodies: the cheap checks first ------------------------------------------------------------

def test_one_nul_in_the_first_2kb_does_not_make_a_page_binary():
    body = ARTICLE.replace(b"<body>", b"<body><!-- \x00 -->", 1)
    assert read_page(fetched(body), PageContext(page.RECORD)).kind == page.DETAIL


@pytest.mark.parametrize("body", [bytes(range(256)) * 40, b"\x1f\x8b\x08\x00" + b"\x00" * 500, b"%PDF-1.7\n" + b"x" * 100])
def test_binary_bodies_served_as_html_are_binary_failures_before_any_parsing(body):
    assert page.quick_reading(fetched(body), PageContext(page.RECORD)) is not None
    reading = read_page(fetched(body), PageContext(page.RECORD))
    assert (reading.kind, reading.failure_kind) == (page.FAILED, "binary"), reading


def test_a_page_over_the_size_a_worker_reads_is_too_large():
    reading = page.quick_reading(fetched(ARTICLE), PageContext(page.RECORD), max_bytes=len(ARTICLE))
    assert (reading.kind, reading.failure_kind) == (page.FAILED, "too-large")
    assert page.quick_reading(fetched(ARTICLE), PageContext(page.RECORD), max_bytes=len(ARTICLE) + 1) is None


@pytest.mark.parametrize("body", ["<", "&nbsp;&nbsp;", "，。、", "<p>正文</p>"])
def test_a_report_needs_a_real_body(body):
    page_bytes = html("<h1>关于优化营商环境的通知</h1><div class='TRS_Editor'>" + body + "</div>",
                      "<meta name='ArticleTitle' content='关于优化营商环境的通知'>")
    reading = read_page(fetched(page_bytes), PageContext(page.RECORD))
    assert (reading.kind, reading.failure_kind) == (page.FAILED, "extraction"), reading
