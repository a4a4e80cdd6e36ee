"""Extraction: every fixture page against its hand-written expected report, plus robustness and CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archive.extract import ExtractionError, extract
from archive.extract.decode import decode_body
from archive.extract.text import parse_datetime
from archive.report import Report
from tests.clirun import govarchive

PAGES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
# Our own template pages, then real pages saved from public repositories (fixtures/pages/real/, SOURCES.md).
PAGES = sorted(p.relative_to(PAGES_DIR).as_posix().removesuffix(".expected.json")
               for p in PAGES_DIR.glob("**/*.expected.json"))
REAL = [name for name in PAGES if name.startswith("real/")]
FIELDS = ("url", "site", "column", "breadcrumb", "title", "publish_time", "source", "metadata",
          "attachments", "images", "body_text", "content_hash")

# Strings that only page furniture contains: none may reach body_text.
FURNITURE = ("网站支持IPV6", "无障碍", "当前位置", "您现在的位置", "您的位置", "点击数", "浏览次数", "阅读量",
             "{{", "pvCount", "字号", "【字体", "打印本页", "关闭窗口", "分享到", "扫一扫", "我要纠错", "上一篇",
             "下一篇", "上一条", "下一条", "相关链接", "相关稿件", "责任编辑", "网站标识码", "ICP备", "公网安备",
             "主办单位", "版权所有", "页面生成时间", "附件下载", "发布时间：", "发布日期：", "共3页", "下一页")


def load(name: str) -> tuple[bytes, dict]:
    expected = json.loads((PAGES_DIR / f"{name}.expected.json").read_text("utf-8"))
    return (PAGES_DIR / f"{name}.html").read_bytes(), expected


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    out = {}
    for name in PAGES:
        body, expected = load(name)
        out[name] = extract(body, expected["url"])
    return out


def test_real_pages_are_varied_and_their_sources_named():
    sources = (PAGES_DIR / "real" / "SOURCES.md").read_text("utf-8")
    assert len(REAL) >= 6
    assert len({load(name)[1]["_fixture"]["platform"] for name in REAL}) >= 3
    assert all(f"`{name.removeprefix('real/')}.html`" in sources for name in REAL)


def test_fixture_set_is_large_and_varied():
    templates = {load(name)[1]["_fixture"]["template"] for name in PAGES}
    assert len(PAGES) >= 40
    assert len(templates) >= 8


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("name", PAGES)
def test_field_matches_expected(reports, name, field):
    got = reports[name].to_dict()[field]
    assert got == load(name)[1][field]


@pytest.mark.parametrize("name", PAGES)
def test_no_furniture_in_body(reports, name):
    text = reports[name].body_text
    real = load(name)[1]["body_text"]
    leaked = [s for s in FURNITURE if s.lower() in text.lower() and s.lower() not in real.lower()]
    assert not leaked, leaked


@pytest.mark.parametrize("name", PAGES)
def test_body_html_holds_the_body_and_hash_is_consistent(reports, name):
    report = reports[name]
    assert report.content_hash == report.compute_content_hash()
    html_text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", report.body_html).replace("&amp;", "&"))
    for line in report.body_text.splitlines()[:3]:
        assert re.sub(r"\s+", "", line)[:6] in html_text
    assert report.fetched_at is None and report.status is None and report.warc is None


def test_blacklisted_words_inside_sentences_stay(reports):
    text = reports["trs_ybj_mztc_blacklist"].body_text
    assert "应当打印本页告知书并留存，结算后请及时关闭医保电子凭证的授权页面。" in text


def test_same_bytes_same_report():
    body, expected = load("trs_kjj_xmtz")
    assert extract(body, expected["url"]).to_json() == extract(body, expected["url"]).to_json()


# --- robustness -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xef\xbb\xbf"])
def test_empty_input_is_an_error(body):
    with pytest.raises(ExtractionError, match="empty"):
        extract(body, "http://example.gov.cn/a.html")


@pytest.mark.parametrize("body", [
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj",
    b"PK\x03\x04\x14\x00\x06\x00docx",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    bytes(range(256)) * 8,
])
def test_binary_input_is_an_error(body):
    with pytest.raises(ExtractionError, match="not an HTML page"):
        extract(body, "http://example.gov.cn/a.html")


def test_non_html_content_type_is_an_error():
    with pytest.raises(ExtractionError, match="application/pdf"):
        extract(b"<html><body><p>x</p></body></html>", "http://a.gov.cn/x", content_type="application/pdf")


def test_page_without_content_is_an_error():
    with pytest.raises(ExtractionError, match="no recognisable content"):
        extract(b"<html><head></head><body><div></div></body></html>", "http://a.gov.cn/1.html")


def test_broken_markup_still_gives_the_body():
    html = ("<html><head><title>关于开展消防安全检查的通知_通知公告_某县人民政府</title><body><div class=nav><a href=/>首页</a>"
            "<div><h1>关于开展消防安全检查的通知<div class=info>发布时间：2024-03-01 来源：县消防救援大队<table><tr><td>"
            "<p>各乡镇：为切实做好消防安全工作，决定于三月份开展消防安全检查。<p>请各单位认真自查，及时整改隐患，确保安全。"
            "<font color=red><b>特此通知。</td></font></table></span><p>网站标识码：3501000001 闽ICP备000001号")
    report = extract(html.encode("utf-8"), "http://www.xx.gov.cn/tzgg/1.html")
    assert report.title == "关于开展消防安全检查的通知"
    assert report.publish_time == "2024-03-01"
    assert report.source == "县消防救援大队"
    assert report.body_text.splitlines() == [
        "各乡镇：为切实做好消防安全工作，决定于三月份开展消防安全检查。",
        "请各单位认真自查，及时整改隐患，确保安全。特此通知。",  # the unclosed <font> sits inside the <p>
    ]


def test_gbk_page_without_any_declaration():
    html = "<html><head><title>关于做好防汛工作的通知</title></head><body><h1>关于做好防汛工作的通知</h1>" \
           "<div><p>各单位：入汛以来，我县降雨偏多，请做好防汛准备工作，确保人民群众生命财产安全。</p></div></body></html>"
    report = extract(html.encode("gbk"), "http://a.gov.cn/1.html")
    assert report.title == "关于做好防汛工作的通知"
    assert "确保人民群众生命财产安全" in report.body_text


def test_explicit_encoding_wins():
    text, codec = decode_body("莆田".encode("gbk"), None, "gbk")
    assert (text, codec) == ("莆田", "gb18030")


@pytest.mark.parametrize("raw,iso", [
    ("2024年02月29日 17:29", "2024-02-29T17:29:00+08:00"),
    ("2024-02-29 17:29", "2024-02-29T17:29:00+08:00"),
    ("2024/2/29", "2024-02-29"),
    ("[2024-02-29]", "2024-02-29"),
    ("发布日期：2024-02-29", "2024-02-29"),
    ("2024-02-29-17:29:05", "2024-02-29T17:29:05+08:00"),
    ("2024年2月29日", "2024-02-29"),
    ("2024.02.29 08:05", "2024-02-29T08:05:00+08:00"),
    ("无日期", None),
])
def test_dates_are_normalised(raw, iso):
    assert parse_datetime(raw) == iso


def test_publish_time_never_from_generation_stamp_or_footer():
    html = ("<html><head><title>某某通知</title><meta name='others' content='页面生成时间 2024-03-08 09:21:45'></head>"
            "<body><h1>关于开展春季植树活动的通知</h1><div class=c><p>各单位：为改善生态环境，定于三月十二日开展义务植树活动，"
            "请各单位组织干部职工积极参加。</p></div><div>页面生成时间：2024-03-08 09:21:45</div>"
            "<ul><li><a href=/1.html>往年通知</a> 2023-03-01</li></ul></body></html>")
    report = extract(html.encode(), "http://a.gov.cn/zw/1.html")
    assert report.publish_time is None
    assert report.title == "关于开展春季植树活动的通知"


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_extract_prints_one_json_report():
    name = "hanweb_gov_yjya"
    expected = load(name)[1]
    result = govarchive("extract", str(PAGES_DIR / f"{name}.html"), "--url", expected["url"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == expected["title"]
    assert data["body_text"] == expected["body_text"]


def test_cli_extract_with_encoding_option():
    name = "legacy_gbk_hbxz"
    expected = load(name)[1]
    result = govarchive("extract", str(PAGES_DIR / f"{name}.html"), "--url", expected["url"],
                        "--encoding", "gb18030")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == expected["title"]


def test_cli_extract_error_exits_non_zero(tmp_path):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4 binary")
    result = govarchive("extract", str(pdf))
    assert result.exit_code != 0
    assert "not an HTML page" in result.output
    assert "Traceback" not in result.output


def test_cli_extract_unknown_encoding_is_a_clear_error(tmp_path):
    page = tmp_path / "a.html"
    page.write_bytes(b"<html><body><p>x</p></body></html>")
    result = govarchive("extract", str(page), "--encoding", "nonsense-enc")
    assert result.exit_code != 0
    assert "nonsense-enc" in result.output


def test_server_default_latin1_header_does_not_garble_gbk():
    html = ("<html><head><meta charset='gbk'><title>关于开展春季植树活动的通知</title></head><body>"
            "<h1>关于开展春季植树活动的通知</h1><div><p>各单位：定于三月十二日开展义务植树活动，请积极参加。</p></div>"
            "</body></html>")
    report = extract(html.encode("gbk"), "http://a.gov.cn/1.html", content_type="text/html; charset=ISO-8859-1")
    assert report.title == "关于开展春季植树活动的通知"
    assert report.body_text == "各单位：定于三月十二日开展义务植树活动，请积极参加。"


def test_source_given_as_link_and_full_width_date():
    html = ("<html><head><title>全市招商引资工作会议召开_要闻_某市人民政府</title></head><body>"
            "<div class=top>网站支持IPV6</div><h1>全市招商引资工作会议召开</h1>"
            "<p class=info>发布时间：２０２４年３月１日　来源：<a href='http://news.example.cn/'>某市日报</a></p>"
            "<div class=text><p>3月1日，全市招商引资工作会议召开，会议总结了去年工作，部署了今年任务。</p>"
            "<p>会议要求，各地各部门要围绕主导产业精准招商，推动项目早落地、早投产、早见效。</p></div>"
            "<div class=foot>网站标识码：1234567890 ICP备00000001号</div></body></html>")
    report = extract(html.encode(), "http://www.a.gov.cn/yw/1.html")
    assert report.source == "某市日报"
    assert report.publish_time == "2024-03-01"
    assert report.title == "全市招商引资工作会议召开"
    assert report.body_text.splitlines()[0].startswith("3月1日，全市招商引资工作会议召开")
    assert len(report.body_text.splitlines()) == 2


def test_title_only_page_is_an_error():
    html = "<html><head><title>某某通知_某市人民政府</title></head><body><h1>关于做好某某工作的通知</h1></body></html>"
    with pytest.raises(ExtractionError, match="no recognisable content"):
        extract(html.encode(), "http://a.gov.cn/1.html")


def test_html_sent_as_octet_stream_is_still_extracted():
    body, expected = load("trs_kjj_xmtz")
    report = extract(body, expected["url"], content_type="application/octet-stream")
    assert report.title == expected["title"]


@pytest.mark.parametrize("encoding,content_type", [("gbk", "text/html; charset=utf-8"), ("utf-8", "text/html; charset=GBK")])
def test_wrong_http_charset_is_overruled_by_the_bytes(encoding, content_type):
    html = ("<html><head><title>关于开展春季植树活动的通知</title></head><body><h1>关于开展春季植树活动的通知</h1>"
            "<div><p>各单位：定于三月十二日开展义务植树活动，请积极参加。</p></div></body></html>")
    report = extract(html.encode(encoding), "http://a.gov.cn/1.html", content_type=content_type)
    assert report.body_text == "各单位：定于三月十二日开展义务植树活动，请积极参加。"


def test_truncated_gbk_page_keeps_its_text():
    body, expected = load("legacy_gbk_hbxz")
    cut = body[: body.index("以上事实".encode("gbk"))] + "以".encode("gbk")[:1]
    report = extract(cut, expected["url"])
    assert report.title == expected["title"]
    assert expected["body_text"].splitlines()[2] in report.body_text


def test_truncated_utf8_page_labelled_gbk_stays_utf8():
    body, expected = load("trs_kjj_xmtz")
    body = body.replace(b'charset="utf-8"', b'charset="gbk"')
    cut = body[: body.index("联系人".encode()) + 4]
    report = extract(cut, expected["url"])
    assert report.title == expected["title"]
    assert expected["body_text"].splitlines()[1] in report.body_text


def test_date_printed_above_the_title():
    html = ("<html><head><title>关于开展春季植树活动的通知_某县林业局</title></head><body><div class=nav><a href=/>首页</a></div>"
            "<div class=art><span class=time>2024-03-04 08:30</span><h2>关于开展春季植树活动的通知</h2>"
            "<div class=txt><p>各单位：为改善生态环境，定于三月十二日开展义务植树活动，请各单位组织干部职工积极参加。</p></div>"
            "</div><ul class=list><li><a href=/a.html>往年通知</a><span>2023-03-01 10:00</span></li></ul></body></html>")
    report = extract(html.encode(), "http://lyj.a.gov.cn/tz/1.html")
    assert report.publish_time == "2024-03-04T08:30:00+08:00"


# --- generality: URLs as requested, articles split over pages --------------------------------------------

def test_attachment_urls_are_percent_encoded_as_requested():
    html = ("<html><body><h1>关于申报工作的通知</h1><div class='content'><p>" + "请各单位按要求认真组织申报工作，按时报送材料。" * 6
            + "</p></div><a href='/u/cms/202403/申报 表.docx'>申报表</a>"
            "<a href='//files.gov.test/a.pdf?name=说明'>说明</a></body></html>")
    report = extract(html.encode("utf-8"), "http://gov.test/xxgk/t1.html")
    assert [a.url for a in report.attachments] == [
        "http://gov.test/u/cms/202403/%E7%94%B3%E6%8A%A5%20%E8%A1%A8.docx",
        "http://files.gov.test/a.pdf?name=%E8%AF%B4%E6%98%8E"]


@pytest.mark.parametrize("url, html, expected", [
    ("http://g.test/a/t20240301_7.html", "<a href='t20240301_7_2.html'>3</a><a href='./t20240301_7_1.html'>2</a>",
     ["http://g.test/a/t20240301_7_1.html", "http://g.test/a/t20240301_7_2.html"]),
    ("http://g.test/a/t20240301_7.html", "<script>createPageHTML(3, 0, \"t20240301_7\", \"html\");</script>",
     ["http://g.test/a/t20240301_7_1.html", "http://g.test/a/t20240301_7_2.html"]),
    ("http://g.test/a/t20240301_7_1.html", "<a href='t20240301_7.html'>1</a><a href='t20240301_7_2.html'>3</a>", []),
    ("http://g.test/a/t20240301_7.html", "<a href='t20240301_70_1.html'>另一篇</a><a href='t20240301_7.pdf'>x</a>", []),
    ("http://g.test/show.asp?id=7", "<a href='show.asp?id=7&page=2'>2</a>", ["http://g.test/show.asp?id=7&page=2"]),
    ("http://g.test/col/index.html", "<a href='index_1.html'>2</a>", []),
    ("http://g.test/Article/ShowArticle.asp?ArticleID=77",
     "<a href='ShowArticle.asp?ArticleID=77&amp;ArticlePage=3'>3</a><a href='?ArticleID=77&ArticlePage=2'>2</a>"
     "<a href='ShowArticle.asp?ArticleID=78'>下一篇</a><a href='ShowArticle.asp?ArticleID=77&ArticlePage=1'>1</a>",
     ["http://g.test/Article/ShowArticle.asp?ArticleID=77&ArticlePage=2",
      "http://g.test/Article/ShowArticle.asp?ArticleID=77&ArticlePage=3"]),
    ("http://g.test/Article/ShowArticle.asp?ArticleID=77&ArticlePage=2",
     "<a href='ShowArticle.asp?ArticleID=77&ArticlePage=3'>3</a>", []),
])
def test_continuation_urls(url, html, expected):
    from archive.extract import continuation_urls

    assert continuation_urls(html, url) == expected


def test_merge_pages_appends_bodies_attachments_and_rehashes():
    from archive.extract import merge_pages
    from archive.report import Attachment

    first = Report(url="u", title="t", body_text="一", body_html="<div>一</div>", attachments=[Attachment("a", "A")])
    second = Report(url="u_1", title="t", body_text="二", body_html="<div>二</div>",
                    attachments=[Attachment("a", "A"), Attachment("b", "B")], images=["i"])
    merged = merge_pages(first, [second, Report(url="u_2", body_text="")])
    assert (merged.url, merged.body_text, merged.body_html) == ("u", "一\n二", "<div>一</div><div>二</div>")
    assert [a.url for a in merged.attachments] == ["a", "b"] and merged.images == ["i"]
    assert merged.content_hash == merged.compute_content_hash()


def test_page_assembler_merges_a_stream_of_pages():
    from archive.extract import PageAssembler, continuation_urls

    nav = "<a href='t20240301_7_1.html'>2</a><a href='t20240301_7_2.html'>3</a>"
    base = "http://g.test/a/t20240301_7"
    assembler = PageAssembler()
    pages = continuation_urls(nav, base + ".html")
    assert assembler.add(Report(url=base + ".html", body_text="一"), pages) == []
    other = Report(url="http://g.test/a/t20240302_8.html", body_text="别的")
    assert assembler.add(other, []) == [other]
    assert assembler.expects(base + "_2.html")
    assert assembler.add(Report(url=base + "_2.html", body_text="三"), []) == []  # out of order: kept in order
    (merged,) = assembler.add(Report(url=base + "_1.html", body_text="二"), [])
    assert (merged.url, merged.body_text) == (base + ".html", "一\n二\n三")
    assembler.add(Report(url="http://g.test/b/t1.html", body_text="甲"), ["http://g.test/b/t1_1.html",
                                                                         "http://g.test/b/t1_2.html"])
    assert assembler.skip("http://g.test/b/t1_1.html") == []  # a page that could not be read
    assert [r.body_text for r in assembler.finish()] == ["甲"]  # its last page never came


def test_banner_heading_repeating_a_site_name_only_title_is_not_the_title():
    para = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"
    side = "市领导深入基层调研指导工作，强调要坚持稳中求进工作总基调，推动经济社会高质量发展。"
    html = (f"<html><head><meta charset='utf-8'><title>某县人民政府</title></head><body><table><tr>"
            f"<td><div class='side'><h3>图片新闻</h3><p>{side}</p><p>{side}</p></div></td>"
            f"<td><h1>某县人民政府</h1><h2>关于做好2024年春耕备耕工作的通知</h2><div>发布时间：2024-03-01 星期五　来源：县农业农村局</div>"
            f"<div class='txt'><div>{para}</div><div>{para}</div></div></td></tr></table></body></html>")
    report = extract(html.encode("utf-8"), "http://www.x.gov.cn/news/show.aspx?id=88")
    assert (report.title, report.publish_time, report.source) == ("关于做好2024年春耕备耕工作的通知", "2024-03-01", "县农业农村局")
    assert report.body_text.splitlines() == [para, para]


def test_info_bar_values_written_by_script_are_read_markup_writers_are_not():
    para = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"
    html = ("<html><head><meta charset='utf-8'><title>关于某事项的公告_通知公告_某市人民政府</title></head><body>"
            "<h1>关于某事项的公告</h1><div class='info'>发布时间：<script>document.write(\"2024-03-01 10:20:00\".substring(0,16));"
            "</script> 来源：<script>var s=\"市财政局\";document.write(s)</script> 浏览：<script>document.write(233)</script>"
            "<script>document.write('<a href=\"/print/x.html\">打印</a>')</script></div>"
            f"<div class='con'><p>{para}</p><p>{para}</p><script>document.write(\"/abc/def.html\")</script></div></body></html>")
    report = extract(html.encode("utf-8"), "http://www.x.gov.cn/xxgk/tzgg/a1b2c3.html")
    assert (report.publish_time, report.source) == ("2024-03-01T10:20:00+08:00", "市财政局")
    assert report.body_text.splitlines() == [para, para]


def test_column_name_heading_yields_to_the_metadata_title():
    para = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"
    html = ("<html><head><meta charset='utf-8'><title>政策文件</title></head><body><div class='colname'><h1>政策文件</h1></div>"
            "<dl class='meta'><dt>标　　题：</dt><dd>某市人民政府关于印发某某办法的通知</dd><dt>发文字号：</dt><dd>某政发〔2024〕2号</dd>"
            f"<dt>发布日期：</dt><dd>2024年03月01日</dd></dl><div class='doc'><p>{para}</p><p>{para}</p></div></body></html>")
    report = extract(html.encode("utf-8"), "http://www.x.gov.cn/xxgk/zcwj/c1.html")
    assert (report.title, report.publish_time, report.metadata.doc_number) == (
        "某市人民政府关于印发某某办法的通知", "2024-03-01", "某政发〔2024〕2号")


# --- embedded documents and unseen layouts -----------------------------------------------------------

PARA = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，激发市场主体活力，结合本市实际，制定本方案。"


def test_embedded_state_about_another_document_leaves_the_dom_report_alone():
    state = {"related": {"title": "另一份较早的通知标题", "content": "<p>" + "这是另一份文件的摘要内容，与本页无关。" * 2 + "</p>",
                         "docNumber": "某政〔2020〕1号"}}
    html = (f"<html><head><meta charset='utf-8'><title>关于某事项的通知_某市人民政府</title></head><body>"
            f"<h1>关于某事项的通知</h1><div class='c'><p>{PARA}</p><p>{PARA}</p></div>"
            f"<script>window.__INITIAL_STATE__={json.dumps(state, ensure_ascii=False)};</script></body></html>")
    report = extract(html.encode("utf-8"), "http://www.x.gov.cn/a/1.html")
    assert (report.title, report.metadata.doc_number) == ("关于某事项的通知", None)
    assert report.body_text.splitlines() == [PARA, PARA]


def test_embedded_epoch_seconds_are_china_time():
    detail = {"title": "关于某事项的公告", "content": f"<p>{PARA}</p>", "publish_time": 1709604423}
    html = ("<html><head><meta charset='utf-8'><title>公告</title></head><body><div id='app'></div>"
            f"<script>window._CONFIG = {{SID: '1', DETAIL: {json.dumps(detail, ensure_ascii=False)}}};</script></body></html>")
    report = extract(html.encode("utf-8"), "http://www.x.gov.cn/gkmlpt/content/0/1/post_1.html")
    assert (report.title, report.publish_time, report.body_text) == ("关于某事项的公告", "2024-03-05T10:07:03+08:00", PARA)


def test_a_label_followed_by_another_label_has_no_value():
    html = ("<html><head><meta charset='utf-8'><title>关于某事项的通知</title></head><body><ul class='m'>"
            "<li>索引号：<span>113500/2024-00001</span></li><li>发文字号：</li><li>公文种类：通知</li>"
            "<li>主题词：</li><li>信息分类：综合政务</li></ul>"
            f"<h1>关于某事项的通知</h1><div class='c'><p>{PARA}</p><p>{PARA}</p></div></body></html>")
    meta = extract(html.encode("utf-8"), "http://www.x.gov.cn/a/2.html").metadata
    assert (meta.index_no, meta.doc_number, meta.keywords, meta.topic) == ("113500/2024-00001", None, None, "综合政务")
