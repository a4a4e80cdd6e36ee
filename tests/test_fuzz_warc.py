"""Seeded fuzzing of the WARC reader and of `govarchive reprocess` / `warc index` on damaged files:
negative and non-numeric lengths, flipped bytes, garbage between records, a whole-file gzip, a corrupt
HTTP status line, truncation. Each case is bounded in time and must end in the records that are whole,
each damaged place reported with its file and offset, never a hang, a traceback or a half-written row."""

from __future__ import annotations

import gzip
import io
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.reprocess import reprocess_warcs
from archive.store import Store
from archive.warc import Exchange, WarcWriter
from archive.warc.framing import WarcReadError, iter_records
from archive.warc.reader import iter_responses
from tests.clirun import govarchive
from tests.test_extract import load

SEED = 12
DETAILS = ["trs_kjj_xmtz", "hanweb_gov_yjya", "hanweb_wjw_crb", "handwritten_county_table_layout_br"]
BASE = "http://www.example.gov.cn"
LISTING = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul>"
           + "".join(f"<li><a href='/art/2024/3/{i}/art_1_{i}.html'>关于开展第{i}批政务公开工作检查的通知</a>"
                     f"<span>2024-03-{i:02d}</span></li>" for i in range(1, 21))
           + "</ul><div>共5页 下一页</div></body></html>").encode()


def _pages() -> list[tuple[str, bytes]]:
    pages = [(f"{BASE}/col/col1/index.html", LISTING)]
    for i, name in enumerate(DETAILS, start=1):
        pages.append((f"{BASE}/art/2024/3/{i}/art_1_{i}.html", load(name)[0]))
    return pages


def ours(directory: Path) -> Path:
    """Per-record gzip, request/response pairs, as a crawl writes them."""
    writer = WarcWriter(directory, host="fuzz")
    for i, (url, body) in enumerate(_pages()):
        writer.write_exchange(Exchange(url=url, status=200, response_headers=[(b"Content-Type", b"text/html")],
                                       body=body, started_at=datetime(2024, 3, 1, 0, 0, i, tzinfo=UTC)))
    writer.close()
    return writer.files[0]


def plain(path: Path) -> Path:
    """Uncompressed, written by warcio (another tool)."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for url, body in _pages():
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return path


def _spans(path: Path) -> list[tuple[int, int]]:
    return [(r.offset, r.length) for r in iter_records(path, lambda exc: pytest.fail(str(exc)))]


def _edit_record(path: Path, index: int, edit) -> bytes:
    """The file with record `index` (its uncompressed bytes) edited, gzip members re-made."""
    data = path.read_bytes()
    offset, length = _spans(path)[index]
    raw = data[offset:offset + length]
    gz = raw[:2] == b"\x1f\x8b"
    new = edit(gzip.decompress(raw) if gz else raw)
    return data[:offset] + (gzip.compress(new) if gz else new) + data[offset + length:]


def _response_index(path: Path, rng: random.Random) -> int:
    spans = _spans(path)
    data = path.read_bytes()
    candidates = [i for i, (o, n) in enumerate(spans)
                  if b"WARC-Type: response" in (gzip.decompress(data[o:o + n]) if data[o] == 0x1f else data[o:o + n])]
    return rng.choice(candidates)


def content_length(value: bytes):
    def mutate(path: Path, rng: random.Random) -> bytes:
        return _edit_record(path, _response_index(path, rng),
                            lambda raw: re.sub(rb"Content-Length: \d+", b"Content-Length: " + value, raw, count=1))
    return mutate


def flip_bytes(path: Path, rng: random.Random) -> bytes:
    data = bytearray(path.read_bytes())
    for _ in range(rng.choice((1, 3, 20))):
        data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    return bytes(data)


def garbage_between(path: Path, rng: random.Random) -> bytes:
    data = path.read_bytes()
    offset, _ = rng.choice(_spans(path)[1:])
    junk = rng.choice((b"\x00" * 100, b"WARC/1.0\r\nContent-Length: 5\r\n", b"\x1f\x8b\x08garbage" * 9,
                       bytes(rng.randrange(256) for _ in range(300))))
    return data[:offset] + junk + data[offset:]


def whole_file_gzip(path: Path, rng: random.Random) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # per-record members: inflate them all into one plain stream first
        data = b"".join(gzip.decompress(data[o:o + n]) for o, n in _spans(path))
    return gzip.compress(data)


def bad_status_line(path: Path, rng: random.Random) -> bytes:
    def edit(raw: bytes) -> bytes:
        raw = re.sub(rb"WARC-Block-Digest: [^\r]*\r\n", b"", raw)  # another tool may write no digest
        return raw.replace(b"HTTP/1.1 200 OK", rng.choice((b"HTTP/1.1 2x0 OK", b"XTTP/1.1 200 O", b"garbage here!!")), 1)
    return _edit_record(path, _response_index(path, rng), edit)


def truncate(path: Path, rng: random.Random) -> bytes:
    data = path.read_bytes()
    return data[: int(len(data) * rng.choice((0.99, 0.9, 0.5, 0.13)))]


MUTATIONS = {
    "length-negative": content_length(b"-10"), "length-abc": content_length(b"abc"),
    "length-huge": content_length(b"99999999999"), "length-short": content_length(b"100"),
    "flip": flip_bytes, "garbage": garbage_between, "whole-gzip": whole_file_gzip,
    "status-line": bad_status_line, "truncate": truncate,
}
SURELY_DAMAGED = set(MUTATIONS) - {"flip"}  # a flipped byte may land in a header value no digest covers
WRITERS = {"ours": lambda d: ours(d), "plain": lambda d: plain(d / "other.warc")}
CASES = [(w, m, n) for w in WRITERS for m in MUTATIONS for n in range(3 if m in ("flip", "truncate", "garbage") else 1)]


def damaged(tmp_path: Path, writer: str, mutation: str, n: int) -> tuple[Path, dict[str, bytes]]:
    source_dir = tmp_path / "clean"
    source_dir.mkdir()
    source = WRITERS[writer](source_dir)
    clean = {r.url: r.payload for r in iter_responses([source])}
    rng = random.Random(f"{SEED}-{writer}-{mutation}-{n}")
    broken = tmp_path / ("broken.warc.gz" if mutation == "whole-gzip" or writer == "ours" else "broken.warc")
    broken.write_bytes(MUTATIONS[mutation](source, rng))
    return broken, clean


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("writer", "mutation", "n"), CASES, ids=[f"{w}-{m}-{n}" for w, m, n in CASES])
def test_reader_yields_whole_records_and_reports_every_damaged_place(tmp_path, writer, mutation, n):
    path, clean = damaged(tmp_path, writer, mutation, n)
    errors: list[Exception] = []
    got = list(iter_responses([path], on_error=lambda p, e: errors.append(e)))
    offsets = [r.ref.offset for r in got]
    assert offsets == sorted(set(offsets))  # forward only, each record once
    for response in got:
        assert response.payload in clean.values(), response.url  # a record read is read right
    if len({r.payload for r in got}) < len(clean) or mutation in SURELY_DAMAGED:
        assert errors  # no silent skip
    size = path.stat().st_size
    for error in errors:
        assert isinstance(error, WarcReadError) and error.path == path and 0 <= error.offset < size
        assert str(error).startswith(f"offset {error.offset}: ")


def _export(db: str, cwd: Path) -> dict[str, dict]:
    result = govarchive("export", "--db", db, "--format", "jsonl", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {r["url"]: r for r in map(json.loads, result.stdout.splitlines())}


@pytest.fixture(scope="module")
def clean_reports(tmp_path_factory) -> dict[str, dict]:
    workdir = tmp_path_factory.mktemp("clean")
    source = ours(workdir)
    db = f"sqlite:///{workdir / 'clean.db'}"
    result = govarchive("reprocess", str(source), "--db", db, cwd=workdir)
    assert result.returncode == 0, result.stderr
    reports = _export(db, workdir)
    assert len(reports) == len(DETAILS)
    return reports


REPORT_FIELDS = ("title", "publish_time", "source", "metadata", "body_text", "attachments", "content_hash")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mutation", sorted(SURELY_DAMAGED))
def test_reprocess_of_a_damaged_warc_warns_keeps_the_rest_and_exits_1(tmp_path, mutation, clean_reports):
    path, _ = damaged(tmp_path, "ours", mutation, 0)
    db = f"sqlite:///{tmp_path / 'broken.db'}"
    result = govarchive("reprocess", str(path), "--db", db, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings and all(re.match(rf"warning: {re.escape(str(path))}: offset \d+: ", w) for w in warnings)
    assert result.stderr.splitlines()[-1].startswith("Error: ")
    summary = json.loads(result.stdout)
    assert summary["status"] == "finished" and summary["damaged"] == len(warnings)
    reports = _export(db, tmp_path)
    for url, report in reports.items():  # every report stored is the whole, right report
        assert {f: report[f] for f in REPORT_FIELDS} == {f: clean_reports[url][f] for f in REPORT_FIELDS}
    with Store(db) as store:
        run = store.get_run(1)
    assert run["finished_at"] and run["summary"]["damaged"] == summary["damaged"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_reprocess_stopped_midway_closes_its_run_as_failed(tmp_path, monkeypatch, stop):
    import archive.reprocess

    source = ours(tmp_path)
    calls = []
    real = archive.reprocess.read_page

    def reading(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise stop("stopped here")
        return real(*args, **kwargs)

    monkeypatch.setattr(archive.reprocess, "read_page", reading)
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        with pytest.raises(stop):
            reprocess_warcs([source], store)
        run = store.get_run(1)
    assert run["finished_at"] and run["summary"]["status"] == "failed"
    assert run["summary"]["finish_reason"] == ("interrupted" if stop is KeyboardInterrupt else "RuntimeError: stopped here")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mutation", ["length-negative", "length-abc", "garbage", "whole-gzip", "truncate"])
def test_warc_index_of_a_damaged_file_is_one_error_naming_file_and_offset(tmp_path, mutation):
    path, _ = damaged(tmp_path, "ours", mutation, 0)
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    path.rename(warc_dir / path.name)
    result = govarchive("warc", "index", "--warc-dir", str(warc_dir), "-o", str(tmp_path / "index.cdxj"),
                        cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.match(rf"Error: {re.escape(str(warc_dir / path.name))}: offset \d+: ", result.error_line)
    assert not (tmp_path / "index.cdxj").exists()
