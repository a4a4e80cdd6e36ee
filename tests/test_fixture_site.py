"""The fixture government site: every CMS family, every pagination scheme, and the transport quirks."""

from __future__ import annotations

import gzip
import http.client
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.site.server import Site, start_site  # noqa: E402

DETAIL_PATTERN = re.compile(r"(t\d{8}_\d+\.html|art_\d+_\d+\.html|show\.asp\?id=\d+|content_\d+\.htm)$")


def fetch(site: Site, target: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, headers message, raw body bytes as sent after de-chunking, not decompressed)."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request(method, target.removeprefix(site.url), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.msg, resp.read()
    finally:
        conn.close()


def raw_exchange(site: Site, request: bytes) -> bytes:
    """Send raw request bytes, return the raw response bytes (until the server closes)."""
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def text(site: Site, url: str) -> str:
    status, msg, body = fetch(site, url)
    assert status == 200, url
    charset = re.search(rb'charset=([\w-]+)', body[:600])
    return body.decode(charset.group(1).decode() if charset else "utf-8")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- families ------------------------------------------------------------------------------------------


def first_detail(site: Site, marker: str) -> str:
    return next(u for u in site.expected.detail_urls if marker in u)


@pytest.mark.parametrize(
    ("marker", "body_marker"),
    [
        ("/col/tzgg/", 'class="TRS_Editor"'),
        ("/art/", '<meta name="ContentStart">'),
        ("show.asp?id=", 'id="fontzoom"'),
        ("/zhengce/zcjd/", 'id="UCAP-CONTENT"'),
    ],
)
def test_each_family_serves_a_detail_page_with_metadata_and_body(site, marker, body_marker):
    html = text(site, first_detail(site, marker))
    assert body_marker in html
    for label in ("索", "引", "号", "文", "发布"):
        assert label in html
    body = html.split(body_marker, 1)[1]
    assert body.count("<p") >= 5  # several paragraphs
    for furniture in ("打印", "关闭", "分享到", "上一篇", "下一篇", "相关链接", "主办单位", "网站标识码", "ICP备", "当前位置",
                      "网站支持IPV6", "首页", "政务公开", "政务服务", "互动交流", "搜索", "登录"):
        assert furniture in html, furniture
    assert "{{ pvCount }}" in html or "articlehits.jsp" in html  # the click counter, templated or JS-filled
    assert "字号" in html or "字体" in html


def test_hanweb_detail_body_sits_between_content_markers(site):
    html = text(site, first_detail(site, "/art/"))
    assert html.index('<meta name="ContentStart">') < html.index('<meta name="ContentEnd">')
    assert '<div id="zoom">' in html


def test_legacy_pages_are_gbk_with_the_charset_only_in_meta(site):
    for url in (next(u for u in site.start_urls if u.endswith("list.asp")), first_detail(site, "show.asp?id=")):
        status, msg, body = fetch(site, url)
        assert status == 200
        assert msg["Content-Type"] == "text/html"
        assert b"charset=gb2312" in body[:400]
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        assert "云川市" in body.decode("gbk")


def test_ucap_page_has_a_stray_html_end_before_the_real_body(site):
    url = site.expected.stray_html_end_urls[0]
    html = text(site, url)
    assert html.index("</html>") < html.index('id="UCAP-CONTENT"')
    assert 'class="bd1"' in html


# --- pagination ----------------------------------------------------------------------------------------


def test_trs_lists_paginate_only_through_create_page_html(site):
    start = next(u for u in site.start_urls if u.endswith("/col/tzgg/index.html"))
    html = text(site, start)
    total, current = map(int, re.search(r'createPageHTML\((\d+), (\d+), "index", "html"\)', html).groups())
    assert (total, current) == (3, 0)
    assert "index_1.html" not in html  # invisible to a plain link extractor
    base = start.rsplit("/", 1)[0]
    for page in range(1, total):
        assert f'createPageHTML({total}, {page}, "index", "html")' in text(site, f"{base}/index_{page}.html")
    assert fetch(site, f"{base}/index_{total}.html")[0] == 404
    assert fetch(site, "/js/createPageHTML.js")[0] == 200


def test_ucap_lists_paginate_through_count_page_script(site):
    start = next(u for u in site.start_urls if u.endswith("/zhengce/zcjd/index.htm"))
    html = text(site, start)
    count = int(re.search(r"var countPage = (\d+)", html).group(1))
    assert count == 2 and "index_1.htm" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert fetch(site, start.replace("index.htm", "index_1.htm"))[0] == 200
    assert fetch(site, start.replace("index.htm", "index_2.htm"))[0] == 404


def test_legacy_lists_paginate_by_next_and_last_links(site):
    start = next(u for u in site.start_urls if u.endswith("list.asp"))
    html = text(site, start)
    pages = int(re.search(r"共(\d+)页", html).group(1))
    assert pages == 3
    assert '<a href="list.asp?page=2">下一页</a>' in html and f'<a href="list.asp?page={pages}">尾页</a>' in html
    last = text(site, f"{start}?page={pages}")
    assert f"当前第{pages}页" in last and '">下一页</a>' not in last
    assert fetch(site, f"{start}?page={pages + 1}")[0] == 404


def test_hanweb_lists_inline_the_first_group_and_serve_the_rest_by_dataproxy(site):
    start = next(u for u in site.start_urls if u.endswith("/col/col1234/index.html"))
    html = text(site, start)
    per_page = int(re.search(r"perPage:(\d+)", html).group(1))
    total = int(re.search(r"totalRecord:(\d+)", html).group(1))
    group = int(re.search(r"groupSize:(\d+)", html).group(1))
    assert "proxyUrl:'/module/web/jpage/dataproxy.jsp'" in html
    assert re.search(r"<nextgroup><!\[CDATA\[<a href=\"/module/web/jpage/dataproxy\.jsp\?[^\"]*columnid=1234", html)
    inline = re.findall(r"<record><!\[CDATA\[\s*<li><a href=\"([^\"]+)\"", html)
    assert len(inline) == per_page * group < total
    status, msg, body = fetch(site, f"/module/web/jpage/dataproxy.jsp?startrecord={len(inline) + 1}&endrecord={total}"
                                    f"&perpage={per_page}&columnid=1234&unitid=5678")
    xml = body.decode()
    assert status == 200 and msg["Content-Type"].startswith("text/xml")
    assert f"<totalrecord>{total}</totalrecord>" in xml
    rest = re.findall(r"<record><!\[CDATA\[\s*<li><a href=\"([^\"]+)\"", xml)
    column_details = [u for u in site.expected.detail_urls if "/art_1234_" in u]
    assert [site.url + p for p in inline + rest] == column_details


def test_dataproxy_also_answers_the_real_post_form_and_page_parameter(site):
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    form = "col=1&appid=1&webid=1&path=/&columnid=1234&sourceContentType=1&unitid=5678&permissiontype=0"
    conn.request("POST", "/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=4&perpage=4", body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert len(re.findall(r"<record>", conn.getresponse().read().decode())) == 4
    conn.close()
    page2 = fetch(site, "/module/web/jpage/dataproxy.jsp?page=2&perpage=4&columnid=1234&unitid=5678")[2].decode()
    assert "art_1234_8400004.html" in page2


def discover(site: Site) -> tuple[set[str], list[str]]:
    """A reference crawl of the start URLs by the site's own pagination rules: (detail URLs, list URLs)."""
    details: set[str] = set()
    lists = list(site.start_urls)
    seen = set(lists)
    for url in lists:
        html = text(site, url)
        found = [urljoin(url, h.replace("&amp;", "&")) for h in re.findall(r'href="([^"]+)"', html)]
        if m := re.search(r'createPageHTML\((\d+), \d+, "(\w+)", "(\w+)"\)', html):
            found += [urljoin(url, f"{m[2]}_{i}.{m[3]}") for i in range(1, int(m[1]))]
        if m := re.search(r"var countPage = (\d+)", html):
            found += [urljoin(url, f"index_{i}.htm") for i in range(1, int(m[1]))]
        if m := re.search(r"perPage:(\d+), totalRecord:(\d+), groupSize:(\d+)", html):
            col = re.search(r"columnid:(\d+)", html)[1]
            xml = text(site, f"{site.url}/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord={m[2]}&perpage={m[1]}"
                             f"&columnid={col}")
            found += [urljoin(url, h) for h in re.findall(r'href="([^"]+)"', xml)]
        for link in found:
            if not link.startswith(site.url) or "/calendar/" in link or "/private/" in link:
                continue
            if DETAIL_PATTERN.search(link) and "#" not in link and link not in site.expected.not_found_urls:
                details.add(site.expected.redirect_urls.get(link, link))
            elif ("list.asp?page=" in link or re.search(r"/index_\d+\.html?$", link)) and link not in seen:
                seen.add(link)
                lists.append(link)
    return details, lists


def test_lists_reach_exactly_the_expected_detail_pages(site):
    details, lists = discover(site)
    assert details == set(site.expected.detail_urls)
    assert len(site.expected.detail_urls) == len(set(site.expected.detail_urls)) == 56
    assert set(site.expected.list_urls) <= set(lists) | {u.replace("?page=1", "") for u in lists}
    assert len({u.split("/")[3] + u.split("/")[4] for u in site.start_urls}) >= 5  # five-plus columns


def test_every_expected_page_and_attachment_answers(site):
    site.reset_log()
    for url in site.expected.detail_urls + site.expected.attachment_urls + site.expected.list_urls:
        status = fetch(site, url)[0]
        assert status == 200 or (status == 503 and url in site.expected.flaky_urls), url
    site.reset_log()


# --- transport ----------------------------------------------------------------------------------------


def test_gzip_only_when_the_client_accepts_it(site):
    url = first_detail(site, "/col/tzgg/")
    status, msg, body = fetch(site, url, {"Accept-Encoding": "gzip, deflate"})
    assert msg["Content-Encoding"] == "gzip"
    assert "TRS_Editor" in gzip.decompress(body).decode()
    status, msg, body = fetch(site, url)
    assert msg["Content-Encoding"] is None and b"TRS_Editor" in body


def test_chunked_and_gzip_chunked_responses_are_framed_correctly(site):
    start = next(u for u in site.start_urls if u.endswith("/col/tzgg/index.html"))
    raw = raw_exchange(site, f"GET {path_of(start)} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
                             "Connection: close\r\n\r\n".encode())
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Encoding: gzip" in head
    assert b"Content-Length" not in head
    body = b""
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        body, rest = body + rest[:size], rest[size + 2:]
    assert "createPageHTML" in gzip.decompress(body).decode()
    status, msg, plain = fetch(site, first_detail(site, "/zhengce/zcjd/"))
    assert msg["Transfer-Encoding"] == "chunked" and b"UCAP-CONTENT" in plain


def test_http10_clients_get_a_content_length_instead_of_chunks(site):
    raw = raw_exchange(site, f"GET {path_of(first_detail(site, '/zhengce/zcjd/'))} HTTP/1.0\r\n\r\n".encode())
    head = raw.partition(b"\r\n\r\n")[0]
    assert b"Content-Length" in head and b"chunked" not in head


def test_keep_alive_serves_several_requests_on_one_connection(site):
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    for url in site.expected.detail_urls[:5]:
        conn.request("GET", path_of(url), headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200 and resp.getheader("Connection") == "keep-alive"
    sock = conn.sock
    conn.request("GET", "/robots.txt")
    conn.getresponse().read()
    assert conn.sock is sock
    conn.close()


def test_head_and_conditional_requests(site):
    url = first_detail(site, "/col/zcwj/")
    status, msg, body = fetch(site, url, method="HEAD")
    assert status == 200 and body == b"" and msg["ETag"]
    status, _, body = fetch(site, url, {"If-None-Match": msg["ETag"]})
    assert status == 304 and body == b""


def test_gbk_filename_is_sent_as_raw_bytes_in_content_disposition(site):
    target = path_of(site.expected.gbk_disposition_url)
    raw = raw_exchange(site, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head = raw.partition(b"\r\n\r\n")[0]
    expected = 'attachment; filename="云川市2023年政府信息公开工作年度报告.pdf"'.encode("gbk")
    assert b"Content-Disposition: " + expected + b"\r\n" in head + b"\r\n"


def test_hanweb_detail_sets_two_cookies(site):
    raw = raw_exchange(site, f"GET {path_of(first_detail(site, '/art/2024/2/28/'))} HTTP/1.1\r\nConnection: close\r\n\r\n"
                       .encode())
    assert raw.partition(b"\r\n\r\n")[0].count(b"Set-Cookie: ") == 2


# --- attachments --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "magic", "content_type"),
    [
        (".pdf", b"%PDF-1.", "application/pdf"),
        (".doc", bytes.fromhex("d0cf11e0a1b11ae1"), "application/msword"),
        (".xls", bytes.fromhex("d0cf11e0a1b11ae1"), "application/vnd.ms-excel"),
        (".wps", bytes.fromhex("d0cf11e0a1b11ae1"), "application/kswps"),
        (".ofd", b"PK\x03\x04", "application/ofd"),
    ],
)
def test_attachments_of_each_type_look_valid(site, suffix, magic, content_type):
    url = next(u for u in site.expected.attachment_urls if u.endswith(suffix))
    status, msg, body = fetch(site, url)
    assert status == 200 and body.startswith(magic) and msg["Content-Type"] == content_type
    assert int(msg["Content-Length"]) == len(body) > 100


def test_attachments_are_linked_from_detail_pages(site):
    linked: set[str] = set()
    for url in site.expected.detail_urls:
        if url in site.expected.flaky_urls:
            continue
        linked.update(urljoin(url, h.replace("&amp;", "&")) for h in re.findall(r'href="([^"]+\.(?:pdf|doc|xls|wps|ofd))"', text(site, url)))
    assert linked == set(site.expected.attachment_urls)


def test_one_attachment_is_served_identically_under_two_urls(site):
    first, second = site.expected.identical_attachment_urls
    assert first != second and fetch(site, first)[2] == fetch(site, second)[2]


# --- traps and failures -------------------------------------------------------------------------------


def test_robots_disallows_a_path_that_a_list_links_to(site):
    robots = fetch(site, "/robots.txt")[2].decode()
    assert "Disallow: /private/" in robots
    (private,) = site.expected.disallowed_urls
    assert path_of(private) in text(site, site.start_urls[0])
    assert fetch(site, private)[0] == 200  # the server answers: only robots.txt keeps a crawler out


def test_the_503_page_fails_once_with_retry_after_then_succeeds_and_rearms(site):
    site.reset_log()
    (url,) = site.expected.flaky_urls
    status, msg, _ = fetch(site, url)
    assert status == 503 and msg["Retry-After"] == "1"
    assert fetch(site, url)[0] == 200
    site.reset_log()
    assert fetch(site, url)[0] == 503
    assert fetch(site, url)[0] == 200


def test_not_found_redirects_and_private_links(site):
    (missing,) = site.expected.not_found_urls
    assert fetch(site, missing)[0] == 404
    assert path_of(missing).rsplit("/", 2)[-2:] == ["202401", "t20240115_404404.html"]
    assert "t20240115_404404.html" in text(site, site.start_urls[0])
    codes = set()
    for old, new in site.expected.redirect_urls.items():
        status, msg, _ = fetch(site, old)
        codes.add(status)
        assert urljoin(old, msg["Location"]) == new and new in site.expected.detail_urls
    assert codes == {301, 302}


def test_calendar_is_an_endless_chain_of_new_urls(site):
    url = f"{site.url}/calendar/?date=2024-02"
    assert path_of(url) in text(site, site.start_urls[0])
    seen = set()
    for _ in range(30):
        html = text(site, url)
        url = urljoin(url, re.search(r'<a href="([^"]+)">下一月', html)[1])
        assert url.startswith(site.url + site.expected.trap_prefix) and url not in seen
        seen.add(url)


def test_navigation_search_and_login_are_linked_from_every_page(site):
    for url in (site.start_urls[0], site.expected.detail_urls[-1], site.expected.list_urls[-1]):
        html = text(site, url)
        for path in ('href="/search?q="', 'href="/login"', 'href="/"', 'href="/zwgk/"'):
            assert path in html
    assert "用户登录" in text(site, "/login")
    assert "搜索" in text(site, "/search?q=%E6%94%BF%E7%AD%96&page=2")


def test_external_links_point_to_another_host_that_answers(site):
    html = text(site, site.expected.detail_urls[0])
    assert site.external_url in html and "https://www.gov.cn/" in html
    assert all(not u.startswith(site.url) for u in site.expected.external_urls)
    with urllib.request.urlopen(site.expected.external_urls[0], timeout=10) as resp:
        assert resp.status == 200
    assert site.external_requests[-1][1] == "/"


# --- request log, scale, CLI ---------------------------------------------------------------------------


def test_request_log_records_method_path_with_query_and_status(site):
    site.reset_log()
    fetch(site, "/search?q=abc&page=2")
    fetch(site, "/no/such/page.html", method="HEAD")
    assert site.requests == [("GET", "/search?q=abc&page=2", 200), ("HEAD", "/no/such/page.html", 404)]
    site.reset_log()
    assert site.requests == []


def test_content_is_deterministic_across_instances(site):
    other = start_site(port=0)
    try:
        for url in (site.expected.detail_urls[3], site.expected.attachment_urls[2]):
            assert fetch(site, url)[2].replace(str(site.external_port).encode(), b"P") == \
                fetch(other, url.replace(site.url, other.url))[2].replace(str(other.external_port).encode(), b"P")
    finally:
        other.stop()


def test_large_site_spreads_detail_pages_over_the_columns():
    with start_site(port=0, detail_pages=2000) as big:
        expected = big.expected
        assert len(set(expected.detail_urls)) == 2000
        assert {u.split("/")[3] for u in expected.detail_urls} >= {"col", "art", "zwgk", "zhengce"}
        for url in (expected.detail_urls[-1], expected.list_urls[-1], expected.attachment_urls[-1]):
            assert fetch(big, url)[0] == 200


def test_command_line_serves_the_site_in_the_foreground():
    proc = subprocess.Popen([sys.executable, "-m", "fixtures.site.server", "--port", "0", "--detail-pages", "100"],
                            stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[1]))
    try:
        first = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)", first)[1]
        assert "100 detail pages" in first
        with urllib.request.urlopen(url + "/robots.txt", timeout=10) as resp:
            assert b"Disallow: /private/" in resp.read()
    finally:
        proc.terminate()
        proc.wait(10)


# --- changing the site between crawls ------------------------------------------------------------------


def test_withdraw_revise_and_restore_change_what_a_detail_page_answers(site):
    gone, notice, revised = site.expected.detail_urls[5], site.expected.detail_urls[6], site.expected.detail_urls[7]
    before = text(site, revised)
    try:
        site.withdraw(gone)
        site.withdraw(notice, notice=True)
        site.revise(revised, "补充说明：本通知自发布之日起执行。")
        assert fetch(site, gone)[0] == 404
        assert "该信息已撤销" in text(site, notice)
        after = text(site, revised)
        assert "补充说明：本通知自发布之日起执行。" in after and after != before
    finally:
        site.restore()
    assert text(site, revised) == before and fetch(site, gone)[0] == 200
    with pytest.raises(KeyError):
        site.withdraw(site.url + "/no/such/article.html")


def test_volatile_furniture_changes_on_every_fetch_but_not_the_body(site):
    url = site.expected.detail_urls[0]
    try:
        site.volatile = True
        first, second = text(site, url), text(site, url)
    finally:
        site.volatile = False
    assert first != second and "{{ pvCount }}" not in first
    body = re.compile(r'<div class="TRS_Editor">(.*?)</div>', re.S)
    assert body.search(first)[1] == body.search(second)[1]
