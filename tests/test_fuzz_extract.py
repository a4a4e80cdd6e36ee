"""Seeded fuzzing of the one page reader (`read_page`, which `govarchive extract` calls): truncations,
shuffles, nesting, NULs, huge text nodes and pathological whitespace on the fixture pages, and the
hostile pages of `fixtures/pathological.py`. Each case is bounded in time and must end in a report or a
named failure: never a hang, never an exception caught as a bug."""

from __future__ import annotations

import logging
import random
import re

import pytest

from archive.page import DETAIL, FAILED, FILE, LIST, OTHER, RECORD, WITHDRAWN, Fetched, PageContext, read_page
from fixtures import pathological
from tests.clirun import govarchive
from tests.test_extract import PAGES, load

SEED = 12
SOURCES = sorted(PAGES)[::9]  # a dozen fixture pages of every family
HEADERS = [("Content-Type", "text/html; charset=utf-8")]
LABELS = ("索引号", "发文字号", "来源：", "发布日期：", "附件：", "【打印】", "页次：", "当前位置：", "2024-03-01", "责任编辑：")
SPACES = ("&nbsp;", "\u3000", " ", "\xa0", "\r\n", "&#12288;")


def _truncate(body: bytes, rng: random.Random) -> bytes:
    return body[: rng.randrange(1, len(body))]


def _shuffle(body: bytes, rng: random.Random) -> bytes:
    parts = re.split(rb"(?=<)", body)
    rng.shuffle(parts)
    return b"".join(parts)


def _nest(body: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((50, 300, 3000))
    at = body.find(b"<body")
    at = body.find(b">", at) + 1 if at >= 0 else 0
    return body[:at] + b"<div><table><tr><td>" * depth + body[at:]


def _nuls(body: bytes, rng: random.Random) -> bytes:
    data = bytearray(body)
    for _ in range(rng.choice((1, 3, 40))):
        data.insert(rng.randrange(len(data)), 0)
    return bytes(data)


def _huge_text(body: bytes, rng: random.Random) -> bytes:
    text = (rng.choice(LABELS) + rng.choice(SPACES) * 7 + "政务公开") * rng.choice((5_000, 20_000))
    at = body.rfind(b"</body>")
    return body[:at] + f"<div>{text}</div>".encode() + body[at:]


def _whitespace(body: bytes, rng: random.Random) -> bytes:
    label, space = rng.choice(LABELS), rng.choice(SPACES)
    run = (space * rng.choice((3_000, 20_000))).encode()
    at = body.rfind(b"</body>")
    return body[:at] + f"<table><tr><td>{label}".encode() + run + b"x</td><td>" + run + b"</td></tr></table>" + body[at:]


MUTATIONS = {"truncate": _truncate, "shuffle": _shuffle, "nest": _nest, "nuls": _nuls, "huge-text": _huge_text,
             "whitespace": _whitespace}
CASES = [(name, mutation, n) for name in SOURCES for mutation in MUTATIONS for n in range(2)]


def _read(body: bytes, url: str) -> object:
    return read_page(Fetched(url, 200, HEADERS, body), PageContext(RECORD))


def _assert_clean(reading, caplog) -> None:
    """A report with its fields, or a named failure; nothing that read_page caught as a bug."""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "failed" in r.getMessage()], \
        [r.getMessage() for r in caplog.records]
    assert reading.kind in (DETAIL, FAILED, FILE, LIST, OTHER, WITHDRAWN), reading
    if reading.kind == FAILED:
        assert reading.failure_kind and reading.message
    if reading.kind == DETAIL:
        report = reading.report
        assert report is not None and report.content_hash and isinstance(report.body_text, str)
        assert "\x00" not in report.body_text + (report.title or "")


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("name", "mutation", "n"), CASES, ids=[f"{m}-{n}-{p}" for p, m, n in CASES])
def test_mutated_fixture_page_reads_cleanly(name, mutation, n, caplog):
    body, expected = load(name)
    rng = random.Random(f"{SEED}-{name}-{mutation}-{n}")
    _assert_clean(_read(MUTATIONS[mutation](body, rng), expected["url"]), caplog)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", SOURCES)
def test_a_stray_nul_near_the_top_changes_nothing(name):
    body, expected = load(name)
    at = body.find(b">", 100) + 1  # between two tags in the first 2 KB
    got, again = _read(body, expected["url"]), _read(body[:at] + b"\x00" + body[at:], expected["url"])
    assert again.kind == got.kind
    if got.kind == DETAIL:
        assert again.report.to_json() == got.report.to_json()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("page", [name for name in pathological.PAGES if name != "huge-page"])
def test_hostile_pages_read_cleanly(page, caplog):
    reading = _read(pathological.PAGES[page](), "http://www.example.gov.cn/art/2024/3/1/art_1_1.html")
    _assert_clean(reading, caplog)
    if page in ("label-spaces", "bracket-spaces", "nul-in-head", "huge-text-node"):
        assert reading.kind == DETAIL and "规范政务公开工作" in reading.report.body_text


@pytest.mark.timeout(30)
def test_label_followed_by_whitespace_still_gives_its_value():
    reading = _read(pathological.label_then_spaces(), "http://www.example.gov.cn/art/2024/3/1/art_1_1.html")
    assert reading.report.metadata.doc_number == "某政发〔2024〕1号"


@pytest.mark.timeout(30)
def test_a_page_above_the_limit_is_a_named_failure_without_parsing(tmp_path):
    path = tmp_path / "huge.html"
    path.write_bytes(pathological.huge_page(6 * 1024 * 1024))
    result = govarchive("extract", str(path), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "page too large to read" in result.error_line


@pytest.mark.timeout(60)
def test_extract_command_on_damaged_pages_is_a_report_or_one_error_line(tmp_path):
    rng = random.Random(SEED)
    for i, name in enumerate(SOURCES[:4]):
        body, _ = load(name)
        path = tmp_path / f"page{i}.html"
        path.write_bytes(_nuls(_truncate(body, rng), rng))
        result = govarchive("extract", str(path), cwd=tmp_path)
        assert "Traceback" not in result.stderr
        if result.returncode == 0:
            assert result.stdout.startswith("{")
        else:
            assert result.returncode == 1 and result.error_line.startswith("Error: ")
