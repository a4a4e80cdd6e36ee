"""`govarchive serve` as a user starts it: errors before anything is announced (run in-process with
click's runner, quick), then a real server in a subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.webarchive import build


def serve(*args: str, cwd: Path):
    """`govarchive serve ARGS` in-process from `cwd`; (exit code, stderr lines)."""
    import os

    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["serve", *args], env={"GOVARCHIVE_DB": ""})
    finally:
        os.chdir(here)
    return result.exit_code, result.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory)


def test_missing_database_is_an_error_naming_it_and_nothing_is_created(tmp_path):
    db = tmp_path / "nowhere" / "missing.db"
    code, stderr = serve("--db", f"sqlite:///{db}", cwd=tmp_path)
    assert code == 1
    assert stderr == [f"Error: no database at sqlite:///{db}: {db} does not exist (`govarchive crawl`, `reprocess` or `db upgrade` create one)"]
    assert not db.exists() and not db.parent.exists()


def test_a_database_that_is_not_govarchives_is_refused(tmp_path):
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    code, stderr = serve("--db", f"sqlite:///{other}", cwd=tmp_path)
    assert code == 1 and len(stderr) == 1 and "is not a govarchive database" in stderr[0]
    assert [row[0] for row in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")] == ["t"]


@pytest.mark.parametrize(("port", "shown"), [("70000", "70000"), ("abc", "'abc'"), ("-1", "-1")])
def test_invalid_port_is_a_one_line_usage_error(data, tmp_path, port, shown):
    code, stderr = serve("--db", data.db_url, "--port", port, cwd=tmp_path)
    assert code == 2
    assert stderr == [f"Error: --port must be a number from 0 to 65535, not {shown}"]


def test_port_in_use_is_a_one_line_error_before_the_url_is_announced(data, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, stderr = serve("--db", data.db_url, "--port", str(port), "--warc-dir", str(data.warc_dir), cwd=tmp_path)
    assert code == 1
    assert stderr == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_unknown_host_is_a_one_line_error(data, tmp_path):
    code, stderr = serve("--db", data.db_url, "--host", "no-such-host.invalid", "--port", "0", cwd=tmp_path)
    assert code == 1 and len(stderr) == 1 and stderr[0].startswith("Error: cannot listen on no-such-host.invalid:0")


def test_serve_answers_on_127_0_0_1_until_interrupted(data, tmp_path):
    script = Path(sys.executable).with_name("govarchive")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]
    proc = subprocess.Popen(
        [*command, "serve", "--db", data.db_url, "--warc-dir", str(data.warc_dir), "--port", "0",
         "--replay-url", ""],
        cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stderr.readline()
        assert line.startswith(f"serving {data.db_url} at http://127.0.0.1:"), line
        base = line.split(" at ", 1)[1].split()[0].rstrip("/")
        deadline = time.monotonic() + 20
        while True:
            try:
                home = httpx.get(base + "/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.1)
        assert home.status_code == 200 and "政务公开档案" in home.text
        found = httpx.get(base + "/api/search", params={"q": "通知"}, timeout=5).json()
        assert found["total"] > 0
        assert httpx.post(base + "/search", timeout=5).status_code == 405
        # the Host header must name this machine (DNS rebinding)
        assert httpx.get(base + "/", headers={"Host": "attacker.example"}, timeout=5).status_code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        proc.stderr.close()
    assert code == 130
