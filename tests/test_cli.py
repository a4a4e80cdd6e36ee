"""The command-line contract (DESIGN.md, issue 11): every command as a careful user runs it.

Each case: the exact command, its exit code, the first line of stderr, nothing created that should
not be, no traceback. The commands are taken from the real click group, never from a list here.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from rich.cells import cell_len

from archive.report import Metadata, Report, WarcRef
from archive.store import Store
from archive.warc import Exchange, WarcWriter
from crawler.cli import cli
from tests.clirun import BASE_ENV, FAST, govarchive, sql_rows
from tests.clirun import command as govarchive_command

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS_SECTION = README[README.index("## Commands"):README.index("## Crawling")]


def leaf_commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every runnable command of the real `govarchive` group, as (path, command)."""
    out = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out += leaf_commands(command, (*path, name))
        else:
            out.append(((*path, name), command))
    return out


COMMAND_PATHS = [path for path, _ in leaf_commands()]
DB_COMMANDS = [path for path, command in leaf_commands() if any(p.name == "db_url" for p in command.params)]
# What each command with --db needs besides it, and whether it may create the database.
DB_COMMAND_ARGS: dict[tuple[str, ...], tuple[list[str], bool]] = {
    ("crawl",): (["http://127.0.0.1:1/", *FAST, "-s", "RETRY_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False"], True),
    ("db", "upgrade"): ([], True),
    ("export",): ([], False),
    ("reprocess",): (["{warc}"], True),
    ("runs",): ([], False),
    ("schedule",): (["--site", "fixture", "--once", "--base-url", "http://127.0.0.1:1", *FAST,
                     "-s", "RETRY_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False"], True),
    ("search",): (["财政"], False),
    ("serve",): (["--port", "0"], False),
    ("show",): (["1"], False),
    ("warc", "pack"): (["--warc-dir", "{warc_dir}", "-o", "{tmp}/out.wacz"], False),
}


def files_under(path: Path) -> set[Path]:
    return set(path.rglob("*"))


def assert_clean(result, code: int, first_line: str | re.Pattern[str]) -> None:
    """Exit code, the first stderr line, and no traceback anywhere."""
    assert result.returncode == code, result.output
    if isinstance(first_line, re.Pattern):
        assert first_line.search(result.error_line), result.stderr
    else:
        assert result.error_line.startswith(first_line), result.stderr
    assert "Traceback" not in result.output


def write_warc(directory: Path, pages: int = 3) -> Path:
    writer = WarcWriter(directory, host="testhost", warcinfo={"run-id": "cli-test"})
    for i in range(pages):
        writer.write_exchange(Exchange(
            url=f"http://www.example.gov.cn/art/2024/{i}.html", status=200, reason=b"OK",
            response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
            body=f"<html><head><title>通知{i}</title></head><body>{'正文。' * 200}</body></html>".encode(),
            started_at=datetime(2024, 2, 29, 1, 2, tzinfo=UTC) + timedelta(seconds=i)))
    writer.close()
    (path,) = writer.files
    return Path(path)


def record_offsets(path: Path) -> list[int]:
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        return [it.get_record_offset() for _ in it]


@pytest.fixture
def warcs(tmp_path) -> dict[str, Path]:
    """A whole WARC, one cut inside its third record's headers, one whose third gzip member is junk."""
    good = write_warc(tmp_path / "good")
    data = good.read_bytes()
    offsets = record_offsets(good)
    truncated_dir, corrupt_dir = tmp_path / "truncated", tmp_path / "corrupt"
    truncated_dir.mkdir()
    corrupt_dir.mkdir()
    (truncated_dir / good.name).write_bytes(data[: offsets[2] + 100])  # inside its headers
    # the third gzip member replaced by one that holds binary junk, not a WARC record
    junk = gzip.compress(bytes(range(256)) * 4, mtime=0)
    (corrupt_dir / good.name).write_bytes(data[: offsets[2]] + junk + data[offsets[3]:])
    return {"good": good.parent, "truncated": truncated_dir, "corrupt": corrupt_dir, "offset": offsets[2],
            "junk": len(junk)}


LONG_TITLE = "某市人民政府办公室关于印发《某市安全生产专项整治三年行动实施方案（2024—2026年）》的通知"


@pytest.fixture
def db(tmp_path) -> str:
    """Four reports; the fourth (published in February) has a title and body longer than a line."""
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    reports = []
    for n, (title, body) in enumerate([("安全生产工作要点", "落实安全生产责任制。"),
                                        ("关于2024年财政预算的通知", "加强财政预算管理。"),
                                        ("安全生产责任制考核办法", "安全生产责任制考核。"),
                                        (LONG_TITLE, "为深入贯彻安全生产工作部署，" * 30)], 1):
        r = Report(url=f"http://www.example.gov.cn/art/2024/{n}.html", site="www.example.gov.cn", column="通知公告",
                   title=title, publish_time=f"2024-0{3 if n < 4 else 2}-0{n}", metadata=Metadata(issuer="某市应急管理局"),
                   body_text=body, fetched_at="2026-12-01T08:00:00+00:00", status=200,
                   warc=WarcRef("govarchive-20261201080000000-00000-host.warc.gz", 1000 + n, 1, f"<urn:uuid:{n}>"))
        r.content_hash = r.compute_content_hash()
        reports.append(r)
    with Store(url) as store:
        store.save_reports(reports)
    return url


# --- every command ------------------------------------------------------------------------------


def test_the_command_list_is_the_real_one():
    assert ("search",) in COMMAND_PATHS and ("warc", "index") in COMMAND_PATHS and ("crawl",) in COMMAND_PATHS
    assert set(DB_COMMAND_ARGS) == set(DB_COMMANDS), "a command with --db needs its entry in DB_COMMAND_ARGS"


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = govarchive(*path, "--help")
    assert result.returncode == 0 and "Example: govarchive " in result.stdout, result.output


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_and_option_is_in_the_readme(path):
    assert "govarchive " + " ".join(path) in COMMANDS_SECTION
    command = dict(leaf_commands())[path]
    for param in command.params:
        if isinstance(param, click.Option) and "--verbose" not in param.opts:
            names = [*param.opts, *param.secondary_opts]
            assert any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", COMMANDS_SECTION) for n in names), \
                f"{' '.join(path)} {names[-1]} is not documented in the README's Commands section"
    assert "-v" in COMMANDS_SECTION and "GOVARCHIVE_DEBUG=1" in COMMANDS_SECTION


@pytest.mark.parametrize("path", DB_COMMANDS, ids=" ".join)
def test_every_command_with_a_nonexistent_db(path, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    warc = write_warc(tmp_path / "warc")
    args, creates = DB_COMMAND_ARGS[path]
    args = [a.format(warc=warc, warc_dir=warc.parent, tmp=work) for a in args]
    url = f"sqlite:///{work / 'no' / 'such' / 'dir' / 'nope.db'}"
    before = files_under(work)
    result = govarchive(*path, *args, "--db", url, cwd=work)
    assert "Traceback" not in result.output
    if creates:
        assert "created a new govarchive database at " + url in result.stderr
        assert (work / "no" / "such" / "dir" / "nope.db").is_file()
    else:
        assert_clean(result, 1, f"Error: no database at {url}: ")
        assert files_under(work) == before  # no database, no directory, no output file


@pytest.mark.parametrize("path", [p for p in DB_COMMANDS if not DB_COMMAND_ARGS[p][1]], ids=" ".join)
@pytest.mark.parametrize("kind", ["empty file", "other schema"])
def test_readers_refuse_a_database_without_the_govarchive_schema(path, kind, tmp_path):
    file = tmp_path / "other.db"
    if kind == "empty file":
        file.touch()
    else:
        with sqlite3.connect(file) as conn:
            conn.execute("CREATE TABLE things (id INTEGER)")
    warc = write_warc(tmp_path / "warc")
    args = [a.format(warc=warc, warc_dir=warc.parent, tmp=tmp_path) for a in DB_COMMAND_ARGS[path][0]]
    result = govarchive(*path, *args, "--db", f"sqlite:///{file}", cwd=tmp_path)
    before = file.read_bytes()
    expected = "has no govarchive schema" if kind == "empty file" else "is not a govarchive database"
    assert_clean(result, 1, re.compile(f"^Error: sqlite:///{re.escape(str(file))} {expected}"))
    assert not (tmp_path / "out.wacz").exists()
    assert file.read_bytes() == before and sorted(p.name for p in tmp_path.glob("other.db*")) == ["other.db"]
    with sqlite3.connect(file) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == (set() if kind == "empty file" else {"things"})


# --- writers say when they create a database -----------------------------------------------------


def test_db_upgrade_says_it_created_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = govarchive("db", "upgrade", "--db", url)
    assert first.returncode == 0 and first.error_line == f"created a new govarchive database at {url}"
    again = govarchive("db", "upgrade", "--db", url)
    assert again.returncode == 0 and again.stderr == ""


def test_db_upgrade_on_a_file_that_is_not_a_database_is_one_line(tmp_path):
    (tmp_path / "notes.db").write_text("these are my notes, not a database\n" * 100)
    result = govarchive("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'notes.db'}")
    assert_clean(result, 1, f"Error: cannot upgrade sqlite:///{tmp_path / 'notes.db'}: file is not a database")
    assert len(result.stderr.splitlines()) == 1 and "sqlalche.me" not in result.stderr


def test_unreachable_postgresql_is_one_line_said_once():
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = govarchive("search", "财政", "--db", url)
    assert_clean(result, 1, f"Error: cannot open the database {url}: ")
    assert len(result.stderr.splitlines()) == 1 and result.stderr.count("cannot open the database") == 1


def test_crawl_into_unreachable_postgresql_says_it_once(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = govarchive("crawl", "http://127.0.0.1:1/", "--db", url, cwd=tmp_path)
    assert_clean(result, 1, f"Error: cannot open the database {url}: ")
    assert len(result.stderr.splitlines()) == 1 and "cannot use the database" not in result.stderr


def test_not_a_database_url_is_a_clear_error(tmp_path):
    result = govarchive("search", "财政", "--db", "nope.db", cwd=tmp_path)
    assert_clean(result, 1, "Error: 'nope.db' is not a database URL")
    assert not list(tmp_path.iterdir())


# --- replay --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fake_pywb(venv: Path, wayback: str) -> Path:
    """A pywb venv whose `wb-manager` makes the collection and whose `wayback` behaves as told."""
    bin_dir = venv / "bin"
    bin_dir.mkdir(parents=True)
    manager = f"""#!{sys.executable}
import sys, pathlib
if sys.argv[1] == "init":
    for sub in ("archive", "indexes"):
        (pathlib.Path("collections") / sys.argv[2] / sub).mkdir(parents=True, exist_ok=True)
"""
    scripts = {"wb-manager": manager, "wayback": f"#!{sys.executable}\n" + textwrap.dedent(wayback)}
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod((bin_dir / name).stat().st_mode | stat.S_IEXEC)
    return venv


def test_replay_port_out_of_range_is_a_usage_error(tmp_path):
    result = govarchive("replay", "--warc-dir", str(write_warc(tmp_path / "warc").parent), "--port", "99999",
                        env={"GOVARCHIVE_PYWB_VENV": str(tmp_path / "venv")})
    assert_clean(result, 2, "Error: Invalid value for '--port': 99999 is not in the range 1<=x<=65535")
    assert not (tmp_path / "venv").exists() and "replaying" not in result.stderr


def test_replay_port_in_use_is_refused_before_anything_is_announced(tmp_path):
    warc_dir = write_warc(tmp_path / "warc").parent
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = govarchive("replay", "--warc-dir", str(warc_dir), "--port", str(port),
                            env={"GOVARCHIVE_PYWB_VENV": str(tmp_path / "venv")})
    assert_clean(result, 1, f"Error: port {port} on 127.0.0.1 is in use: choose another with --port")
    assert not (tmp_path / "venv").exists() and "replaying" not in result.stderr


def test_replay_exits_non_zero_when_pywb_dies_at_start(tmp_path):
    warc_dir = write_warc(tmp_path / "warc").parent
    venv = fake_pywb(tmp_path / "venv", "import sys\nsys.exit(3)\n")
    result = govarchive("replay", "--warc-dir", str(warc_dir), "--port", str(free_port()),
                        "--workdir", str(tmp_path / "pywb"), env={"GOVARCHIVE_PYWB_VENV": str(venv)}, timeout=60)
    assert_clean(result, 1, "Error: the replay server did not start: pywb exited with code 3")
    assert "replaying" not in result.stderr and (tmp_path / "pywb" / "collections" / "govarchive").is_dir()


def test_replay_exits_non_zero_when_pywb_dies_later(tmp_path):
    warc_dir = write_warc(tmp_path / "warc").parent
    venv = fake_pywb(tmp_path / "venv", """
        import http.server, sys, threading, time
        port = int(sys.argv[sys.argv.index("-p") + 1])
        server = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        time.sleep(1.5)
        sys.exit(4)
    """)
    port = free_port()
    result = govarchive("replay", "--warc-dir", str(warc_dir), "--port", str(port),
                        env={"GOVARCHIVE_PYWB_VENV": str(venv)}, cwd=tmp_path, timeout=60)
    assert result.returncode == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"replaying {warc_dir} at http://127.0.0.1:{port}/govarchive/ (Ctrl-C stops)"
    assert lines[-1] == "Error: the replay server (pywb) stopped unexpectedly with exit code 4"


# --- crawl: arguments checked before anything is fetched or created --------------------------------


@pytest.mark.parametrize("url, first_line", [
    ("not-a-url", "Error: URL 'not-a-url' is not a URL: give a column's address"),
    ("ftp://www.example.gov.cn/pub/", "Error: URL 'ftp://www.example.gov.cn/pub/' uses ftp://: only http:// and https://"),
])
def test_crawl_start_url_is_checked_up_front(url, first_line, tmp_path):
    result = govarchive("crawl", url, "--db", f"sqlite:///{tmp_path / 'g.db'}", cwd=tmp_path)
    assert_clean(result, 2, first_line)
    assert "DNS" not in result.stderr and not list(tmp_path.iterdir())  # nothing fetched, nothing created


def test_crawl_of_an_ordinary_page_says_it_gave_nothing(tmp_path):
    """`crawl http://HOST/` on a page that is neither a list nor a detail used to end "0 new", exit 0."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<html><head><title>关于我们</title></head><body><h1>关于我们</h1>"
                                     "<p>本网站由某某单位主办。</p><a href='/'>首页</a></body></html>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        result = govarchive("crawl", url, "--db", f"sqlite:///{tmp_path / 'g.db'}", "--warc-dir", str(tmp_path / "warc"),
                            *FAST, cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == f"Error: nothing from {url}: neither a list nor a detail page (unknown platform)"


@pytest.mark.parametrize("setting, first_line", [
    ("DOWNLOAD_DELAY=abc", "Error: -s DOWNLOAD_DELAY=abc: DOWNLOAD_DELAY is a number of seconds"),
    ("GOVARCHIVE_WARC_ENABLED=maybe", "Error: -s GOVARCHIVE_WARC_ENABLED=maybe: GOVARCHIVE_WARC_ENABLED is true or false"),
    ("DOWNLOAD_DELAY=-1", "Error: -s DOWNLOAD_DELAY=-1: DOWNLOAD_DELAY cannot be negative"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN=-2", "Error: -s CONCURRENT_REQUESTS_PER_DOMAIN=-2: CONCURRENT_REQUESTS_PER_DOMAIN "
                                          "cannot be negative"),
])
def test_crawl_setting_of_the_wrong_type_names_it(setting, first_line, tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/", "-s", setting, "--db", f"sqlite:///{tmp_path / 'g.db'}",
                        cwd=tmp_path)
    assert_clean(result, 2, first_line)
    assert not list(tmp_path.iterdir())


def test_crawl_unknown_setting_name_suggests_the_closest(tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/", "-s", "DOWNLOAD_DELAI=2", "-s", "RETRY_ENABLED=False",
                        "-s", "ROBOTSTXT_OBEY=False", "--db", f"sqlite:///{tmp_path / 'g.db'}", cwd=tmp_path)
    assert result.error_line == ("warning: -s DOWNLOAD_DELAI: neither a Scrapy nor a govarchive setting, "
                                 "ignored by both; did you mean DOWNLOAD_DELAY?")
    assert result.returncode == 1 and "Traceback" not in result.output  # the crawl ran (port 1 refuses)


def test_scrapy_flags_defaulting_to_1_and_deprecated_settings_are_accepted(tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/", "-s", "TELNETCONSOLE_ENABLED=False", "-s",
                        "CONCURRENT_REQUESTS_PER_IP=0", "--db", f"sqlite:///{tmp_path / 'g.db'}", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.output  # the crawl ran (port 1 refuses)
    assert "neither a Scrapy nor a govarchive setting" not in result.stderr and "-s TELNET" not in result.stderr


def test_crawl_broken_yaml_profile_is_one_line(tmp_path):
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: broken\nstart_urls: [http://www.example.gov.cn/\n  bad: : :\n", encoding="utf-8")
    result = govarchive("crawl", "--site", str(profile), "--db", f"sqlite:///{tmp_path / 'g.db'}", cwd=tmp_path)
    assert_clean(result, 1, f"Error: {profile}: not valid YAML at line 3, column 6: expected ',' or ']'")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "g.db").exists()


def test_crawl_base_url_sets_the_profiles_base(site, tmp_path):
    result = govarchive("crawl", "--site", "fixture", "--base-url", site.url, "--db",
                        f"sqlite:///{tmp_path / 'g.db'}", "--warc-dir", str(tmp_path / "warc"), *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with Store(f"sqlite:///{tmp_path / 'g.db'}") as store:
        urls = [r.url for r in store.iter_reports()]
    assert urls and all(u.startswith(site.url + "/") for u in urls)


def test_crawl_base_url_without_a_profile_is_a_usage_error(tmp_path):
    result = govarchive("crawl", "http://127.0.0.1:1/", "--base-url", "http://127.0.0.1:2/", cwd=tmp_path)
    assert_clean(result, 2, "Error: --base-url sets the base URL of --site profiles: give --site NAME too")


def test_crawl_progress_on_without_a_terminal_logs_a_line_per_interval(site, tmp_path):
    result = govarchive("crawl", *site.start_urls, "--db", f"sqlite:///{tmp_path / 'g.db'}", "--warc-dir",
                        str(tmp_path / "warc"), *FAST, "-s", "DOWNLOAD_DELAY=0.01", "-s", "GOVARCHIVE_PROGRESS=on",
                        "-s", "GOVARCHIVE_PROGRESS_INTERVAL=0.2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if " progress: " in line]
    assert lines, result.stderr
    pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d progress: pages \d+  reports \d+  .* [\d.]+ pages/s  ")
    assert all(pattern.match(line) for line in lines), lines
    assert "\x1b[" not in result.stderr  # a log, not a terminal display


# --- the demo ------------------------------------------------------------------------------------


def test_demo_twice_stores_every_report_once(tmp_path):
    port = str(free_port())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GOVARCHIVE_DB": ""}
    runs = [subprocess.run([sys.executable, "-m", "fixtures.demo", "--port", port], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=240) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-3000:]
    assert re.search(r"reports +0 new, 0 changed, \d+ unchanged", runs[1].stderr), runs[1].stderr
    with Store(f"sqlite:///{tmp_path / 'data' / 'govarchive.db'}") as store:
        assert store.count_reports() == int(re.search(r"reports +(\d+) new", runs[0].stderr).group(1))


def test_demo_falls_back_to_a_nearby_port_when_its_own_is_taken(capsys):
    from fixtures.demo import start_demo_site

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = start_demo_site(port, fallbacks=20)
    try:
        assert port < site.port <= port + 20
        assert f"port {port} is taken" in capsys.readouterr().err
    finally:
        site.stop()


# --- WARC damage, files that cannot be written, -v ---------------------------------------------------


@pytest.mark.parametrize("damage, problem", [
    ("truncated", "the file ends inside this gzip member (truncated file?); no "),
    ("corrupt", "no WARC record starts here (damaged data or data that is not WARC); no "),
])
@pytest.mark.parametrize("verb", ["index", "pack"])
def test_warc_index_and_pack_on_a_damaged_warc(verb, damage, problem, warcs, tmp_path):
    directory = warcs[damage]
    (path,) = directory.iterdir()
    out = tmp_path / f"out.{verb}"
    result = govarchive("warc", verb, "--warc-dir", str(directory), "-o", str(out))
    assert_clean(result, 1, f"Error: {path}: offset {warcs['offset']}: {problem}")
    assert len(result.stderr.splitlines()) == 1 and not out.exists()


def test_reprocess_warnings_name_file_offset_and_problem(warcs, tmp_path):
    result = govarchive("reprocess", str(warcs["truncated"]), str(warcs["corrupt"]), "--db",
                        f"sqlite:///{tmp_path / 'r.db'}")
    assert result.returncode == 1, result.output  # everything else read, and the damage is the exit status
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    truncated, corrupt = next(warcs["truncated"].iterdir()), next(warcs["corrupt"].iterdir())
    cut = truncated.stat().st_size - warcs["offset"]
    assert warnings == [
        f"warning: {truncated}: offset {warcs['offset']}: the file ends inside this gzip member (truncated file?); "
        f"skipped the {cut} bytes to the end of the file",
        f"warning: {corrupt}: offset {warcs['offset']}: no WARC record starts here (damaged data or data that is "
        f"not WARC); skipped {warcs['junk']} bytes to the next record, at offset {warcs['offset'] + warcs['junk']}",
    ]
    assert result.stderr.splitlines()[-1] == ("Error: 2 damaged place(s) in the WARC files could not be read "
                                              "(see the warnings above); everything else was read")
    assert all(line.isprintable() for line in warnings) and "NoneType" not in result.output


OUTPUT_COMMANDS = {"export": ["export", "--db", "{db}"], "warc index": ["warc", "index", "--warc-dir", "{warc}"],
                   "warc pack": ["warc", "pack", "--warc-dir", "{warc}"]}


@pytest.mark.parametrize("verb", OUTPUT_COMMANDS)
def test_output_into_a_missing_directory(verb, db, warcs, tmp_path):
    out = tmp_path / "does" / "not" / "exist.out"
    args = [a.format(db=db, warc=warcs["good"]) for a in OUTPUT_COMMANDS[verb]]
    result = govarchive(*args, "-o", str(out))
    assert_clean(result, 1, f"Error: cannot write {out}: the directory {out.parent} does not exist")
    assert not (tmp_path / "does").exists()  # warc index used to create the directories and say "written"


@pytest.mark.parametrize("verb", OUTPUT_COMMANDS)
def test_output_into_a_directory_is_a_usage_error(verb, db, warcs, tmp_path):
    args = [a.format(db=db, warc=warcs["good"]) for a in OUTPUT_COMMANDS[verb]]
    result = govarchive(*args, "-o", str(tmp_path))
    assert_clean(result, 2, f"Error: Invalid value for '-o' / '--output': File '{tmp_path}' is a directory.")


def test_warc_pack_to_stdout_is_a_usage_error_not_a_file_named_dash(warcs, tmp_path):
    result = govarchive("warc", "pack", "--warc-dir", str(warcs["good"]), "-o", "-", cwd=tmp_path)
    assert_clean(result, 2, "Error: Invalid value for '-o' / '--output': '-' (stdout) is not possible here")
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("how", ["-v", "GOVARCHIVE_DEBUG=1"])
def test_verbose_shows_the_traceback(how, warcs):
    args = ["warc", "index", "--warc-dir", str(warcs["truncated"])]
    result = govarchive(*(["-v", *args] if how == "-v" else args), env={"GOVARCHIVE_DEBUG": "1"} if how != "-v" else None)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.splitlines()[-1].startswith(f"Error: {next(warcs['truncated'].iterdir())}: offset ")


def test_verbose_after_the_command_too(warcs):
    result = govarchive("warc", "index", "--warc-dir", str(warcs["truncated"]), "-v")
    assert result.returncode == 1 and "Traceback (most recent call last):" in result.stderr


# --- show ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, first_line", [
    (["1", "2", "3"], "Error: unexpected argument(s) 2 3 after 1: version numbers go with --diff"),
    (["1", "--versions", "--diff"], "Error: --versions and --diff cannot be combined"),
    (["1", "--diff", "1"], "Error: give two version numbers after --diff"),
])
def test_show_usage_errors(args, first_line, db):
    assert_clean(govarchive("show", *args, "--db", db), 2, first_line)


def test_show_versions_piped_is_never_cut(db):
    result = govarchive("show", "1", "--versions", "--db", db, env={"COLUMNS": "60"})
    assert result.returncode == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split() [:3] == ["version", "fetched", "at"]
    assert "2026-12-01T08:00:00+00:00" in row and "安全生产工作要点" in row
    assert "govarchive-20261201080000000-00000-host.warc.gz@1001" in row and "…" not in result.stdout


# --- search ----------------------------------------------------------------------------------------


def test_search_says_how_many_match_and_what_was_searched(db):
    result = govarchive("search", "安全生产", "--since", "2024-03", "--limit", "1", "--db", db)
    assert result.returncode == 0, result.output
    assert result.stdout.splitlines()[0] == "2 reports match '安全生产' (since 2024-03-01) (the first 1 shown; --limit N for more)"


def test_search_fits_80_columns(db):
    result = govarchive("search", "安全生产 OR 财政", "--db", db, env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0].startswith("4 reports match")
    assert max(cell_len(line) for line in lines) <= 80
    assert "       http://www.example.gov.cn/art/2024/4.html" in lines  # whole, on a line of its own
    assert len(lines) <= 1 + 4 * 7  # title (2 lines at most here), facts, snippet (2 at most), URL, blank


def test_search_highlights_matches_in_titles(db):
    result = govarchive("search", "财政", "--db", db, env={"FORCE_COLOR": "1", "COLUMNS": "80"})
    title_line = result.stdout.splitlines()[1]
    assert "\x1b[1;33m财政\x1b[0m" in title_line


def test_search_json_is_unchanged(db):
    result = govarchive("search", "财政", "--db", db, "--json")
    (hit,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(hit) == {"id", "url", "title", "site", "column", "publish_time", "issuer", "doc_number",
                        "withdrawn", "score", "snippet"}
    assert "<mark>财政</mark>" in hit["snippet"] and result.stderr == ""


def test_quoted_phrase_with_a_space_matches_the_phrase(db):
    def urls(query: str) -> list[str]:
        result = govarchive("search", query, "--db", db, "--json")
        return [json.loads(line)["url"] for line in result.stdout.splitlines()]

    assert urls('"安全生产 责任制"') == urls("安全生产责任制") != []
    assert '"安全生产 责任制"' in README


def test_options_that_were_undocumented_have_help():
    replay = govarchive("replay", "--help").stdout
    assert "--workdir" in replay and "./data/pywb" in replay
    pack = govarchive("warc", "pack", "--help").stdout
    assert "--db DBURL" in pack and "--title" in pack
    crawl = govarchive("crawl", "--help").stdout
    assert "NAME|PATH" in crawl and "--base-url URL" in crawl
    assert "sqlite:///data/govarchive.db" in govarchive("reprocess", "--help").stdout


# --- a reader that leaves early: `| head` ------------------------------------------------------------


@pytest.fixture
def big_db(tmp_path) -> str:
    """300 reports of a few KB each: any listing of them is far more than a pipe's buffer (64 KiB)."""
    url = f"sqlite:///{tmp_path / 'big.db'}"
    reports = []
    for n in range(1, 301):
        r = Report(url=f"http://www.example.gov.cn/art/2024/{n}.html", site="www.example.gov.cn", column="通知公告",
                   title=f"关于第{n}号安全生产事项的通知", publish_time="2024-03-01", body_text="安全生产责任制。" * 300,
                   fetched_at="2026-12-01T08:00:00+00:00", status=200)
        r.content_hash = r.compute_content_hash()
        reports.append(r)
    with Store(url) as store:
        store.save_reports(reports)
    return url


READERS_INTO_HEAD = {
    "search": ["search", "安全生产", "--limit", "300", "--db", "{db}"],
    "search --json": ["search", "安全生产", "--json", "--limit", "300", "--db", "{db}"],
    "export": ["export", "--db", "{db}"],
    "export csv": ["export", "--format", "csv", "--db", "{db}"],
    "show": ["show", "1", "--db", "{db}"],
    "warc index": ["warc", "index", "--warc-dir", "{warc}"],
}


@pytest.mark.parametrize("verb", READERS_INTO_HEAD)
def test_a_read_command_piped_into_head_ends_quietly_with_141(verb, big_db, tmp_path):
    """`govarchive VERB … | head -1`: the reader leaves after one line; the command ends at once with the
    status of a Unix tool ended by SIGPIPE (141), nothing on stderr (click alone said exit 1)."""
    warc = write_warc(tmp_path / "warc", pages=600).parent if verb == "warc index" else None
    args = [a.format(db=big_db, warc=warc) for a in READERS_INTO_HEAD[verb]]
    proc = subprocess.Popen([*govarchive_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **BASE_ENV}, cwd=tmp_path)
    assert proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr
    assert stderr == ""


@pytest.mark.parametrize("how", ["govarchive crawl", "scrapy crawl"])
def test_a_crawl_whose_stderr_reader_leaves_still_ends_and_records_its_run(how, site, tmp_path):
    """`govarchive crawl … 2>&1 | head -3` hung forever once head left (rich's SystemExit on the broken
    pipe escaped the reactor while the summary was printed): it must crawl to the end and record it."""
    db = f"sqlite:///{tmp_path / 'g.db'}"
    progress = ["-s", "GOVARCHIVE_PROGRESS=on", "-s", "GOVARCHIVE_PROGRESS_INTERVAL=0.1"]
    if how == "govarchive crawl":
        args = [*govarchive_command(), "crawl", *site.start_urls, "--db", db, "--warc-dir", str(tmp_path / "warc")]
    else:
        args = [sys.executable, "-m", "scrapy", "crawl", "disclosure", "-a", "url=" + ",".join(site.start_urls),
                "-s", f"GOVARCHIVE_DB={db}", "-s", f"GOVARCHIVE_WARC_DIR={tmp_path / 'warc'}", "-s", "LOG_LEVEL=WARNING"]
    proc = subprocess.Popen([*args, *FAST, *progress], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **BASE_ENV}, cwd=ROOT if how == "scrapy crawl" else tmp_path)
    try:
        assert proc.stderr.readline()
        proc.stderr.close()  # every later line (progress, summary) meets a closed pipe
        assert proc.wait(timeout=180) == 0
    finally:
        if proc.poll() is None:  # it hung: do not leave it behind
            proc.kill()
            proc.wait()
    ((status, summary),) = sql_rows(db, "SELECT status, summary FROM crawl_runs")
    assert status == "finished" and json.loads(summary)["reports_new"] > 0


# --- newcomers' mistakes -----------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [["warc", "index"], ["warc", "pack"], ["replay"]], ids=" ".join)
def test_a_warc_directory_without_warc_files_is_an_error(verb, tmp_path):
    empty = tmp_path / "warc"
    empty.mkdir()
    result = govarchive(*verb, "--warc-dir", str(empty), env={"GOVARCHIVE_PYWB_VENV": str(tmp_path / "venv")},
                        cwd=tmp_path)
    assert_clean(result, 1, f"Error: no WARC files (*.warc, *.warc.gz) under {empty}")
    assert files_under(tmp_path) == {empty}  # no empty index, no package, no pywb installed


def test_warc_repair_of_a_missing_directory_is_an_error(tmp_path):
    assert_clean(govarchive("warc", "repair", "--warc-dir", str(tmp_path / "nope")), 1,
                 f"Error: WARC directory not found: {tmp_path / 'nope'}")


@pytest.mark.parametrize("what, first_line", [
    ("an empty directory", "Error: no WARC files (*.warc, *.warc.gz) under {path}"),
    ("an HTML page", "Error: {path} is not a WARC file (it starts with neither a WARC record nor gzip, "
                     "and its name does not end in .warc or .warc.gz)"),
])
def test_reprocess_refuses_what_holds_no_warc_before_creating_a_database(what, first_line, tmp_path):
    path = tmp_path / "input"
    if what == "an empty directory":
        path.mkdir()
    else:
        path.write_text("<!DOCTYPE html><html><body>通知公告</body></html>", encoding="utf-8")
    result = govarchive("reprocess", str(path), "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert_clean(result, 1, first_line.format(path=path))
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("body, first_line", [
    ("<ul>" + "".join(f"<li><a href='/c/t2024030{d}_{d}.html'>关于第{d}号事项的通知公告内容</a><span>2024-03-0{d}</span></li>"
                      for d in range(1, 6)) + "</ul>",
     "Error: not a detail page: list page with 5 records (--any extracts it anyway): "),
    ("<body>short</body>", "Error: not a detail page: no title, and 5 characters of text (--any extracts it anyway): "),
    ("<!DOCTYPE html>", "Error: not a detail page: no parsable HTML document: "),
])
def test_extract_says_what_a_page_that_is_no_document_is(body, first_line, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(body, encoding="utf-8")
    result = govarchive("extract", str(page), "--url", "http://gov.test/c/")
    assert_clean(result, 1, first_line)
    assert result.stdout == "" and result.error_line.endswith(str(page))


@pytest.mark.parametrize("args, first_line", [
    (["--format", "json"], "Error: No such option '--format'. (see 'govarchive search --help')"),
    (["--jsno"], "Error: No such option '--jsno'. (Did you mean one of: '--json', '--since'?)"),
    (["--sine=2024"], "Error: No such option '--sine'."),
])
def test_search_a_mistyped_option_is_a_usage_error_not_query_words(args, first_line, db):
    result = govarchive("search", "安全生产", *args, "--db", db)
    assert_clean(result, 2, first_line)
    assert result.stdout == "" and "nothing matches" not in result.stderr


def test_search_a_negated_word_is_still_a_query_word(db):
    result = govarchive("search", "安全生产", "-财政", "--json", "--db", db)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3, result.output


@pytest.mark.parametrize("group", [[], ["db"], ["warc"], ["frontier"]], ids=lambda g: " ".join(["govarchive", *g]))
def test_a_group_without_its_command_prints_its_help(group):
    result = govarchive(*group)
    assert result.returncode == 2
    assert result.error_line == f"Usage: {' '.join(['govarchive', *group])} [OPTIONS] COMMAND [ARGS]..."
    assert "Commands:" in result.stderr and "Error:" not in result.stderr  # the help, not a one-line error


@pytest.mark.parametrize("path", [("search",), ("db", "upgrade"), ("crawl",), ("reprocess",)], ids=" ".join)
def test_a_directory_given_as_the_sqlite_file(path, tmp_path):
    warc = write_warc(tmp_path / "warc")
    extra = {"search": ["财政"], "crawl": ["http://127.0.0.1:1/"], "reprocess": [str(warc)]}.get(path[0], [])
    result = govarchive(*path, *extra, "--db", f"sqlite:///{tmp_path}", cwd=tmp_path)
    assert_clean(result, 1, f"Error: {tmp_path} is a directory, not a database file: give the file, "
                            f"e.g. sqlite:///{tmp_path / 'govarchive.db'}")
    assert not (tmp_path / "govarchive.db").exists()


def test_crawl_a_start_page_that_fails_is_named_with_its_failure(site, tmp_path):
    start = f"{site.url}/col/no-such-column/index.html"
    result = govarchive("crawl", start, "--db", f"sqlite:///{tmp_path / 'g.db'}", "--warc-dir", str(tmp_path / "warc"),
                        *FAST, cwd=tmp_path, env={"COLUMNS": "80"})
    assert result.returncode == 1 and "Traceback" not in result.output
    # one whole line in a log, in the failure row's words (not Scrapy's "Ignoring non-200 response")
    assert f"  nothing from {start}: the start page failed: http_404: HTTP 404" in result.stderr.splitlines()


def test_export_to_a_csv_file_writes_csv(db, tmp_path):
    """`export -o reports.csv` without --format filled the .csv file with JSON lines."""
    out = tmp_path / "reports.csv"
    result = govarchive("export", "--db", db, "-o", str(out))
    assert result.returncode == 0 and result.error_line == "exported 4 reports", result.output
    assert out.read_text(encoding="utf-8").startswith("id,url,site,column,")
    assert govarchive("export", "--db", db, "-o", str(out), "--format", "jsonl").returncode == 0
    assert out.read_text(encoding="utf-8").startswith('{"id": 1,')


def test_extract_a_list_page_without_url_says_how_to_resolve_its_links(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("<ul>" + "".join(f"<li><a href='/c/t2024030{d}_{d}.html'>关于第{d}号事项的通知公告内容</a>"
                                     f"<span>2024-03-0{d}</span></li>" for d in range(1, 6)) + "</ul>", encoding="utf-8")
    result = govarchive("extract", str(page))
    assert_clean(result, 1, "Error: not a detail page: list page with ")
    assert result.error_line.endswith("records (--any extracts it anyway; --url gives the address its links "
                                      f"resolve against): {page}")


def test_a_broken_pipe_that_is_not_stdout_is_an_error_not_a_quiet_141():
    """A server hanging up mid-command also raises BrokenPipeError: that is a failure to report, not a
    reader of our output that left (click alone said nothing and exited 1)."""
    code = textwrap.dedent("""
        from archive.cli import cli

        @cli.command("hung-up")
        def hung_up():
            raise BrokenPipeError(32, "Broken pipe")

        cli.main(["hung-up"], prog_name="govarchive")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, **BASE_ENV})
    assert (done.returncode, done.stderr) == (1, "Error: BrokenPipeError: [Errno 32] Broken pipe\n")
