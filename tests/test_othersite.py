"""The second fixture portal (fixtures/othersite, 青岚市人民政府), crawled and read exactly as a user would:
`govarchive crawl` in a subprocess, then `govarchive export/search/show --json` and `govarchive extract`.

The portal varies what the first fixture site keeps constant: gov.cn `content_N.htm` policies paginated by a
`countPage` script behind a directory URL, a JSP table list (`[2024-02-29]`, `?pageNo=N`, 共 N 页 with only a
window of numbers linked), a Hanweb column with single-quoted records and a `page=` nextgroup, `<div
class="list-item">` lists with `<em>` dates, a news list with summaries behind `<base href>` with `../` and
protocol-relative links to `.HTM` articles, GB2312 declared only in `<meta>`, GBK labelled UTF-8, unknown class
names, multi-page articles (TRS `_N.html` and ASP `&ArticlePage=N`), extension-less download endpoints, Chinese
file names, a 信息公开 home whose 更多 links are the only way to one column, a catalogue paged by a GET form,
whole-record anchors, `onclick` records and a one-sentence notice followed by a longer 相关文章 list.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from fixtures.othersite.server import start_site
from tests.clirun import FAST, govarchive

pytestmark = pytest.mark.timeout(300)

@pytest.fixture(scope="module")
def othersite():
    with start_site(port=0) as s:
        yield s


@pytest.fixture(scope="module")
def crawled(othersite, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("othersite")
    db = f"sqlite:///{workdir / 'govarchive.db'}"
    result = govarchive("crawl", *othersite.start_urls, "--db", db, "--warc-dir", str(workdir / "warc"), *FAST,
                        cwd=workdir)
    # the sitemap page among the start URLs gives nothing to archive: the crawl says so and exits 1
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: nothing from {othersite.url}/wzdt/index.html: neither a list nor a detail page (unknown platform)")
    exported = govarchive("export", "--db", db, "--format", "jsonl", cwd=workdir)
    assert exported.returncode == 0, exported.stderr[-3000:]
    reports = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    return {"workdir": workdir, "db": db, "reports": reports, "stderr": result.stderr, "log": othersite.requests}


def by_url(crawled) -> dict[str, dict]:
    return {r["url"]: r for r in crawled["reports"]}


# --- the crawl, through the database ---------------------------------------------------------------------

def test_every_detail_page_is_exactly_one_report(othersite, crawled):
    urls = [r["url"] for r in crawled["reports"]]
    assert len(urls) == len(set(urls)), "duplicate reports"
    assert set(urls) == set(othersite.expected.detail_urls), crawled["stderr"][-2000:]


def test_no_list_hub_sitemap_or_subpage_is_stored(othersite, crawled):
    stored = set(by_url(crawled))
    for url in [*othersite.expected.list_urls, *othersite.expected.other_urls, *othersite.expected.subpage_urls]:
        assert url not in stored


def test_every_pagination_scheme_reached_its_last_page(othersite, crawled):
    fetched = {path for _, path, status in crawled["log"] if status == 200}
    wanted = {urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "") for u in othersite.expected.list_urls}
    wanted.discard("/xxgk/tzgg/list.jsp?pageNo=1")  # page 1 is the column URL itself
    wanted -= {"/zhengce/zuixin/index.htm", "/zfxxgk/fdzdgknr/index.shtml"}  # likewise: directory URLs
    assert wanted <= fetched, sorted(wanted - fetched)
    assert not [p for _, p, s in crawled["log"] if s == 404], "requests for pages that do not exist"


@pytest.mark.parametrize("field", ["title", "publish_time"])
def test_titles_and_publish_times(othersite, crawled, field):
    reports = by_url(crawled)
    wrong = {}
    for url, article in othersite.expected.articles.items():
        want = article.title if field == "title" else article.publish_time
        if url in reports and reports[url][field] != want:
            wrong[url] = (reports[url][field], want)
    assert not wrong


def test_bodies_are_complete_and_free_of_furniture(othersite, crawled):
    reports = by_url(crawled)
    furniture = ("浏览次数", "字体", "分享到", "扫一扫", "打印本页", "关闭窗口", "我要纠错", "上一篇", "下一篇", "相关文章",
                 "责任编辑", "主办单位", "网站标识码", "ICP备", "所在的位置", "热点专题", "附件：")
    for url, article in othersite.expected.articles.items():
        lines = reports[url]["body_text"].splitlines()
        assert lines == [*article.paragraphs, *(p for page in article.pages for p in page)], url
        assert not [f for f in furniture if f in reports[url]["body_text"]], url


def test_multi_page_article_is_one_report_with_every_page_in_order(othersite, crawled):
    report = by_url(crawled)[othersite.expected.multipage_url]
    article = othersite.expected.articles[othersite.expected.multipage_url]
    text = report["body_text"]
    positions = [text.index(p) for p in [*article.paragraphs, *article.pages[0], *article.pages[1]]]
    assert positions == sorted(positions)
    warc_uris = set()
    for path in (crawled["workdir"] / "warc").glob("*.warc.gz"):
        with open(path, "rb") as fh:
            warc_uris |= {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh)
                          if r.rec_type in ("response", "revisit")}
    assert {othersite.expected.multipage_url, *othersite.expected.subpage_urls} <= warc_uris


def test_reprocess_rebuilds_every_report_multi_page_articles_included(othersite, crawled, tmp_path):
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    result = govarchive("reprocess", str(crawled["workdir"] / "warc"), "--db", rebuilt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    exported = govarchive("export", "--db", rebuilt, "--format", "jsonl", cwd=tmp_path)
    again = {r["url"]: r for r in map(json.loads, exported.stdout.splitlines())}
    original = by_url(crawled)
    assert set(again) == set(original)  # no page 2..N became a report of its own
    assert not set(othersite.expected.subpage_urls) & set(again)
    for url, report in original.items():
        assert again[url]["body_text"] == report["body_text"], url
        assert again[url]["content_hash"] == report["content_hash"], url


def test_article_linked_from_two_columns_is_one_report(othersite, crawled):
    assert [r["url"] for r in crawled["reports"]].count(othersite.expected.two_column_url) == 1


def test_attachments_without_extension_are_stored_and_linked(othersite, crawled):
    reports = by_url(crawled)
    linked = {a["url"] for r in reports.values() for a in r["attachments"]}
    assert set(othersite.expected.attachment_urls) <= linked
    for url in othersite.expected.extensionless_attachment_urls:
        owner = next(r["url"] for r in reports.values() if any(a["url"] == url for a in r["attachments"]))
        shown = govarchive("show", owner, "--db", crawled["db"], "--json", cwd=crawled["workdir"])
        assert shown.returncode == 0, shown.stderr
        attachment = {a["url"]: a for a in json.loads(shown.stdout.splitlines()[0])["attachments"]}[url]
        assert attachment["sha256"] and attachment["size"] and attachment["content_type"], attachment


def test_chinese_file_names_are_linked_to_their_fetched_files(othersite, crawled):
    reports = by_url(crawled)
    owner = next(u for u, a in othersite.expected.articles.items() if any(".docx" in p for p, _ in a.attachments))
    shown = govarchive("show", owner, "--db", crawled["db"], "--json", cwd=crawled["workdir"])
    attachments = json.loads(shown.stdout.splitlines()[0])["attachments"]
    assert len(attachments) == len(reports[owner]["attachments"]) == 3
    assert all(a["sha256"] for a in attachments), attachments


def test_search_finds_a_gb2312_article(othersite, crawled):
    found = govarchive("search", "非物质文化遗产", "--db", crawled["db"], "--json", "--limit", "100",
                       cwd=crawled["workdir"])
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines() if line.strip()]
    urls = {h.get("url") for h in hits}
    gb_pages = {u for u, a in othersite.expected.articles.items() if "非物质文化遗产" in a.title and a.encoding == "gb2312"}
    assert gb_pages and gb_pages <= urls


# --- `govarchive extract` on single pages, field by field against hand-written values ----------------------

EXTRACT_CASES = {
    "/zhengce/content/202403/content_5678902.htm": {
        "title": "关于公布第2024批市级非物质文化遗产代表性项目名录的通知",
        "publish_time": "2024-03-26",
        "source": "青岚市财政局",
        "column": "最新政策",
        "breadcrumb": ["首页", "政府信息公开", "最新政策"],
        "metadata": {"index_no": "113702000041234567/2024-00002", "doc_number": "青政办发〔2024〕3号",
                     "issuer": "青岚市财政局", "written_date": "2024-03-25", "topic": "财政、金融、审计",
                     "validity": "有效", "keywords": None},
        "first_line": "到2025年底，全市政务服务事项网上可办率达到百分之九十八以上，群众和企业办事更加便捷高效。（第2号文件第1段）",
        "last_line": "坚持问题导向和目标导向相统一，聚焦群众急难愁盼问题，推动公共服务资源向基层延伸、向农村覆盖。（第2号文件第6段）",
        "lines": 6,
        "attachments": [("/module/download/downfile.jsp?classid=0&filename=2403011023456.pdf", "附件1：实施细则.pdf"),
                        ("/common/download?fileId=7c1e9a20", "附件2：重点项目清单")],
    },
    "/xxgk/2024/03/01/120.shtml": {  # GB2312, charset only in <meta>; 位置： breadcrumb; 信息来源：
        "title": "关于公布第2020批市级非物质文化遗产代表性项目名录的通知",
        "publish_time": "2024-03-25T15:05:00+08:00",
        "source": "青岚市财政局",
        "column": "通知公告",
        "breadcrumb": ["首页", "政府信息公开", "通知公告"],
        "metadata": {"index_no": "113702000041234567/2024-00020", "doc_number": "青政办发〔2024〕21号",
                     "issuer": "青岚市财政局", "written_date": "2024-03-24", "topic": "财政、金融、审计",
                     "validity": "有效", "keywords": None},
        "first_line": "各单位在执行过程中遇到的问题，请及时向市发展和改革委员会反馈，联系电话：0532-88881234。（第20号文件第1段）",
        "last_line": "统筹推进乡村振兴和新型城镇化建设，促进城乡融合发展，不断增强人民群众获得感、幸福感、安全感。（第20号文件第4段）",
        "lines": 4,
        "attachments": [],
    },
    "/zfxxgk/fdzdgknr/202403/t20240302_991.html": {  # GBK bytes labelled UTF-8 (header and meta)
        "title": "关于印发青岚市2061年度乡村振兴重点任务的通知",
        "publish_time": "2024-03-02T08:45:00+08:00",
        "source": "青岚市发展和改革委员会",
        "column": "法定主动公开内容",
        "breadcrumb": ["首页", "政府信息公开", "法定主动公开内容"],
        "metadata": {"index_no": "113702000041234567/2024-00061", "doc_number": "青政办发〔2024〕62号",
                     "issuer": "青岚市发展和改革委员会", "written_date": "2024-03-01", "topic": "国民经济管理",
                     "validity": "有效", "keywords": None},
        "first_line": "本办法自印发之日起施行，有效期五年；国家和省另有规定的，从其规定。（第61号文件第1段）",
        "last_line": "坚持问题导向和目标导向相统一，聚焦群众急难愁盼问题，推动公共服务资源向基层延伸、向农村覆盖。（第61号文件第5段）",
        "lines": 5,
        "attachments": [],
    },
    "/art/2024/3/1/art_99_12345.html": {  # Hanweb URL, labels with full-width spaces (文　号)
        "title": "关于开展2040年安全生产大检查的工作方案",
        "publish_time": "2024-03-01T10:00:00+08:00",
        "source": "青岚市生态环境局",
        "column": "部门动态",
        "breadcrumb": ["首页", "政府信息公开", "部门动态"],
        "metadata": {"index_no": "113702000041234567/2024-00040", "doc_number": "青政办发〔2024〕41号",
                     "issuer": "青岚市生态环境局", "written_date": "2024-03-01", "topic": "交通",
                     "validity": "有效", "keywords": None},
        "first_line": "市财政局会同有关部门做好资金保障工作，对符合条件的项目按照规定给予补助，严格资金使用管理。（第40号文件第1段）",
        "last_line": "本办法自印发之日起施行，有效期五年；国家和省另有规定的，从其规定。（第40号文件第4段）",
        "lines": 4,
        "attachments": [],
    },
}


@pytest.fixture(scope="module")
def extracted(othersite, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("othersite-extract")
    out = {}
    for path in EXTRACT_CASES:
        page = workdir / (path.strip("/").replace("/", "_"))
        with urllib.request.urlopen(othersite.url + path, timeout=10) as resp:  # noqa: S310 (127.0.0.1)
            page.write_bytes(resp.read())
        result = govarchive("extract", str(page), "--url", othersite.url + path, cwd=workdir)
        assert result.returncode == 0, result.stderr
        out[path] = json.loads(result.stdout)
    return out


@pytest.mark.parametrize("field", ["title", "publish_time", "source", "column", "breadcrumb", "metadata"])
@pytest.mark.parametrize("path", list(EXTRACT_CASES))
def test_extract_fields(othersite, extracted, path, field):
    assert extracted[path][field] == EXTRACT_CASES[path][field]


@pytest.mark.parametrize("path", list(EXTRACT_CASES))
def test_extract_body_and_attachments(othersite, extracted, path):
    want = EXTRACT_CASES[path]
    report = extracted[path]
    lines = report["body_text"].splitlines()
    assert (lines[0], lines[-1], len(lines)) == (want["first_line"], want["last_line"], want["lines"])
    assert [(a["url"], a["name"]) for a in report["attachments"]] == [(othersite.url + u, n) for u, n in want["attachments"]]
    assert report["url"] == othersite.url + path and report["site"] == "127.0.0.1"
