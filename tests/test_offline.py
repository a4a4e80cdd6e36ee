"""No network attempt but the crawl's own: a crawl on a machine where nothing off 127.0.0.1 answers.

Every process of the crawl (the command and its extraction workers) starts with a socket guard
(`sitecustomize.py` on PYTHONPATH) that records and refuses any DNS lookup or connection to a host
that is not loopback, and tldextract starts with an empty cache, as on a fresh machine. The site sets
a cookie with a `Domain`, which is what makes Scrapy's cookie middleware consult the public-suffix list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.clirun import FAST, govarchive, sql_rows, sqlite_url

pytestmark = pytest.mark.timeout(180)

GUARD = r'''
import ipaddress, os, socket

_LOG = os.environ["GOVARCHIVE_TEST_NETLOG"]


def _loopback(host):
    if host is None or host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(what + "\n")
    raise OSError(101, "network is unreachable (test guard): " + what)


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host.decode() if isinstance(host, bytes) else host):
        _refuse(f"getaddrinfo {host}")
    return _getaddrinfo(host, *args, **kwargs)


def _guarded(method):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            _refuse(f"connect {address[0]}:{address[1]}")
        return method(self, address)
    return connect


socket.getaddrinfo = getaddrinfo
socket.socket.connect = _guarded(socket.socket.connect)
socket.socket.connect_ex = _guarded(socket.socket.connect_ex)
'''

PARA = "为进一步做好城乡居民基本医疗保险工作，现将有关事项通知如下，请各单位认真贯彻执行。"
DOCS = [f"/col/tzgg/202403/t2024030{n}_{n}.html" for n in range(1, 4)]


def _article(n: int) -> bytes:
    title = f"关于第{n}批医疗保险工作的通知"
    return (f"<html><head><meta charset='utf-8'><title>{title}</title><meta name='ArticleTitle' content='{title}'>"
            f"</head><body><h1>{title}</h1><div class='TRS_Editor'>{f'<p>{PARA}</p>' * 4}</div></body></html>").encode()


LISTING = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
           + "".join(f"<li><a href='{path}'>关于第{n}批医疗保险工作的通知</a><span>2024-03-0{n}</span></li>"
                     for n, path in enumerate(DOCS, start=1))
           + "</ul></body></html>").encode()


class _Portal(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/col/tzgg/index.html":
            self._send(LISTING, [("Set-Cookie", "sid=1a2b; Domain=127.0.0.1; Path=/")])
        elif self.path in DOCS:
            self._send(_article(DOCS.index(self.path) + 1), [])
        else:
            self.send_error(404)

    def _send(self, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(200)
        for name, value in [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))), *headers]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def offline_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    netlog = tmp_path / "network-attempts.log"
    netlog.write_text("", encoding="utf-8")
    root = str(Path(__file__).resolve().parents[1])
    return {"PYTHONPATH": f"{guard_dir}:{root}", "GOVARCHIVE_TEST_NETLOG": str(netlog),
            "TLDEXTRACT_CACHE": str(tmp_path / "empty-tldextract-cache")}, netlog


def test_the_guard_sees_an_attempt_to_fetch_the_suffix_list(tmp_path):
    """What the crawl must not do, done directly: tldextract's default fetches the list from the internet."""
    env, netlog = offline_env(tmp_path)
    subprocess.run([sys.executable, "-c", "from tldextract import TLDExtract; TLDExtract()('www.beijing.gov.cn')"],
                   env={**os.environ, **env}, capture_output=True, timeout=120)
    assert "getaddrinfo" in netlog.read_text(encoding="utf-8")


def test_a_crawl_makes_no_network_attempt_off_the_machine(portal, tmp_path):
    env, netlog = offline_env(tmp_path)
    result = govarchive("crawl", f"{portal}/col/tzgg/index.html", "--db", sqlite_url(tmp_path),
                        "--warc-dir", str(tmp_path / "warc"), *FAST, "-s", "GOVARCHIVE_EXTRACT_WORKERS=1",
                        cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert netlog.read_text(encoding="utf-8") == ""
    assert "Traceback" not in result.stderr and "suffix" not in result.stderr.lower()
    stored = sorted(row[0] for row in sql_rows(sqlite_url(tmp_path), "SELECT url FROM reports"))
    assert stored == [portal + path for path in DOCS]
    summary = json.loads(sql_rows(sqlite_url(tmp_path), "SELECT summary FROM crawl_runs")[0][0])
    assert summary["status"] == "finished"
