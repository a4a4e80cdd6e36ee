"""Replay in pywb: our WARCs indexed by wb-manager and served back byte for byte in id_ mode.

pywb lives in an isolated venv created on first use (slow: about a minute). This test runs in CI
(CI=true) and otherwise only when that venv already exists; it skips with the reason when pywb
cannot be installed (e.g. no package index reachable).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.warc import Exchange, WarcWriter, replay

T0 = datetime(2024, 2, 29, 9, 29, 0, tzinfo=UTC)
PAGE = (
    '<html><head><meta charset="gbk"><title>政府信息公开工作年度报告</title></head>'
    "<body><div class=TRS_Editor>根据《中华人民共和国政府信息公开条例》……</div></body></html>"
).encode("gbk")
ATTACHMENT = b"%PDF-1.4\n" + bytes(range(256)) * 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pywb_venv() -> Path:
    venv = replay.pywb_venv_dir()
    if not replay.pywb_installed(venv) and os.environ.get("CI") != "true":
        pytest.skip(
            f"slow: pywb venv {venv} not set up (runs with CI=true, or after `govarchive replay` once)"
        )
    try:
        return replay.ensure_pywb(venv, log=lambda m: None)
    except replay.PywbUnavailable as exc:
        pytest.skip(f"pywb cannot be installed here: {exc}")


def _warcs(directory: Path) -> list[Path]:
    writer = WarcWriter(directory, host="testhost", warcinfo={"run-id": "replay-test"})
    writer.write_exchange(
        Exchange(
            url="http://www.example.gov.cn/art/2024/2/29/art_1_2.html?from=list",
            status=200,
            reason=b"OK",
            response_headers=[
                (b"Content-Type", b"text/html; charset=gbk"),
                (b"Content-Length", str(len(PAGE)).encode()),
            ],
            body=PAGE,
            started_at=T0,
            ip_address="127.0.0.1",
        )
    )
    for i, url in enumerate(
        ["http://www.example.gov.cn/files/a.pdf", "http://www.example.gov.cn/mirror/a.pdf"]
    ):
        writer.write_exchange(
            Exchange(
                url=url,
                status=200,
                response_headers=[(b"Content-Type", b"application/pdf")],
                body=ATTACHMENT,
                started_at=T0.replace(second=i + 1),
            )
        )
    writer.close()
    return writer.files


@pytest.mark.parametrize("copy", [False, True], ids=["symlink+reindex", "wb-manager-add"])
def test_pywb_replays_our_warc_with_original_bytes(pywb_venv, tmp_path, copy):
    warc_dir = tmp_path / "warc"
    _warcs(warc_dir)
    workdir = tmp_path / "pywb"
    coll = replay.prepare_collection(warc_dir, workdir, venv=pywb_venv, copy=copy)
    assert any((coll / "indexes").iterdir())
    port = _free_port()
    server = replay.serve(workdir, port, venv=pywb_venv)
    try:
        replay.wait_until_up(port, timeout=90)
        url = "http://www.example.gov.cn/art/2024/2/29/art_1_2.html?from=list"
        with urllib.request.urlopen(
            replay.replay_url(port, url, "20240229092900", "id_"), timeout=30
        ) as resp:
            assert resp.status == 200
            assert resp.read() == PAGE
        # the revisit under the mirror URL replays the original attachment's bytes
        mirror = "http://www.example.gov.cn/mirror/a.pdf"
        with urllib.request.urlopen(
            replay.replay_url(port, mirror, "20240229092902", "id_"), timeout=30
        ) as resp:
            assert resp.read() == ATTACHMENT
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_pywb_stays_out_of_the_project_environment():
    found = subprocess.run([sys.executable, "-c", "import pywb"], capture_output=True)
    assert found.returncode != 0, "pywb must not be installed in the project's environment"
