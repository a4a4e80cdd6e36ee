"""Read HTTP responses back out of any standard WARC files (ours or another tool's).

`iter_responses` walks files and directories (.warc, .warc.gz; an explicitly named .warc.gz.open too),
skips non-HTTP records, and yields each response with its payload de-chunked and content-decoded.
Revisit records are resolved to the original payload when the original is among the files read.
A corrupt or truncated file never stops the walk: what can be read is yielded, the rest is reported
through `on_error(path, exception)` (by default a `warnings.warn`); the exception is a `WarcReadError`
whose message gives the offset and what was wrong in words (never raw bytes).
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.headers import header_value
from archive.report import WarcRef
from archive.warc.framing import Record, WarcReadError, iter_records, read_record_at

WARC_SUFFIXES = (".warc", ".warc.gz")
ErrorCallback = Callable[[Path, Exception], None]


class TruncatedRecord(ValueError):
    """A record whose block is shorter than its Content-Length says."""


def located(path: Path, offset: int, exc: Exception) -> WarcReadError:
    return exc if isinstance(exc, WarcReadError) else WarcReadError(path, offset, warc_problem(exc))


def warc_problem(exc: BaseException) -> str:
    """What was wrong, in words: zlib's and warcio's exceptions quote raw bytes or say nothing useful."""
    text = str(exc)
    if isinstance(exc, TruncatedRecord):
        return f"{text}: the file ends inside it (truncated file?)"
    if isinstance(exc, zlib.error | EOFError):
        return f"corrupt gzip data ({_printable(text)})"
    if isinstance(exc, BadStatusLine):
        return text
    return f"unreadable record ({exc.__class__.__name__}: {_printable(text)})"


class BadStatusLine(ValueError):
    """A response whose HTTP status line is not one."""


def _status(http_headers) -> int:
    line = http_headers.statusline or ""
    code = http_headers.get_statuscode() or ""
    if not (http_headers.protocol or "").upper().startswith("HTTP/") or not (code.isdigit() and len(code) == 3):
        shown = _printable(f"{http_headers.protocol} {line}".strip(), 60)
        raise BadStatusLine(f"the HTTP status line is not one ({shown!r}): the record is damaged")
    return int(code)


def _printable(text: str, limit: int = 120) -> str:
    """The message up to the first non-printable character (quoted binary data), at most `limit` long."""
    first_line = text.strip().split("\n", 1)[0]
    cut = next((i for i, ch in enumerate(first_line) if not ch.isprintable()), len(first_line))
    short = first_line[: min(cut, limit)].rstrip(" :[,'\"")
    return short + ("…" if len(first_line) > len(short) else "")


@dataclass
class ArchivedResponse:
    url: str
    status: int
    headers: list[tuple[str, str]]
    payload: bytes  # de-chunked and content-decoded
    date: str  # WARC-Date
    ref: WarcRef  # of this record (the revisit itself for a revisit)
    record_type: str  # "response" | "revisit"
    resolved: bool = True  # False for a revisit whose original was not among the files read

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


@dataclass
class _Seen:
    path: Path
    offset: int


def warn_on_error(path: Path, exc: Exception) -> None:
    warnings.warn(f"{path}: {exc}", RuntimeWarning, stacklevel=3)


def iter_warc_files(paths: Iterable[str | Path] | str | Path) -> Iterator[Path]:
    """Files given, and WARC files (sorted by name) inside directories given."""
    if isinstance(paths, str | Path):
        paths = [paths]
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES))
        else:
            yield path


def looks_like_warc(path: Path) -> bool:
    """A WARC file by its first bytes (a gzip member, a WARC record) or, those being damaged, its name:
    what `reprocess` accepts before it creates a database (an HTML page given by mistake is refused)."""
    with open(path, "rb") as fh:
        head = fh.read(5)
    return head[:2] == b"\x1f\x8b" or head == b"WARC/" or path.name.endswith(WARC_SUFFIXES)


def iter_responses(
    paths: Iterable[str | Path] | str | Path, on_error: ErrorCallback | None = None
) -> Iterator[ArchivedResponse]:
    report = on_error or warn_on_error
    by_digest: dict[str, _Seen] = {}
    by_url: dict[str, _Seen] = {}
    deferred: list[tuple[ArchivedResponse, str | None, str | None, bytes]] = []

    for path in iter_warc_files(paths):
        for record in _iter_records(path, report):
            offset, length = record.offset, record.length
            try:
                rec_type = record.rec_type
                if rec_type not in ("response", "revisit") or not record.http_headers:
                    continue
                if rec_type == "revisit" and not record.http_headers.protocol:
                    continue  # a revisit may keep no HTTP headers at all
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                status = _status(record.http_headers)
                raw = _read_block_payload(record)
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
            except Exception as exc:  # one bad record must not stop the file
                report(path, located(path, offset, exc))
                continue
            item = ArchivedResponse(
                url=url.strip("<>"),
                status=status,
                headers=list(record.http_headers.headers),
                payload=b"",
                date=record.rec_headers.get_header("WARC-Date") or "",
                ref=WarcRef(path.name, offset, length, record.rec_headers.get_header("WARC-Record-ID") or ""),
                record_type=rec_type,
            )
            if rec_type == "response":
                item.payload = decode_payload(raw, item.headers)
                seen = _Seen(path, offset)
                if digest:
                    by_digest.setdefault(digest, seen)
                if 200 <= status < 300:
                    by_url[item.url] = seen
                yield item
                continue
            refers_uri = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
            original = _find_original(digest, refers_uri, item.url, by_digest, by_url)
            if original is None:
                deferred.append((item, digest, refers_uri, raw))
                continue
            yield _resolved(item, original, raw, report)

    for item, digest, refers_uri, raw in deferred:
        original = _find_original(digest, refers_uri, item.url, by_digest, by_url)
        if original is None:
            item.resolved = False
            item.payload = decode_payload(raw, item.headers)
            yield item
        else:
            yield _resolved(item, original, raw, report)


def _find_original(
    digest: str | None,
    refers_uri: str | None,
    url: str,
    by_digest: dict[str, _Seen],
    by_url: dict[str, _Seen],
) -> _Seen | None:
    if digest and digest in by_digest:
        return by_digest[digest]
    if not digest:  # server-not-modified: the last good capture of the URL
        return by_url.get((refers_uri or url).strip("<>"))
    return None


def _resolved(item: ArchivedResponse, original: _Seen, raw: bytes, report: ErrorCallback) -> ArchivedResponse:
    try:
        payload, orig_headers = _read_payload_at(original.path, original.offset)
        item.payload = decode_payload(payload, orig_headers)
        if item.status == 304:  # server-not-modified: the server confirmed the page it refers to, read as that
            item.status, item.headers = 200, orig_headers
    except Exception as exc:
        report(original.path, located(original.path, original.offset, exc))
        item.resolved = False
        item.payload = decode_payload(raw, item.headers)
    return item


def read_capture_at(path: Path, offset: int) -> ArchivedResponse:
    """The response or revisit record at `offset` of `path`, its payload content-decoded (a revisit's is
    empty: its payload is in the record it refers to)."""
    record = read_record_at(path, offset)
    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
        raise WarcReadError(path, offset, f"a {record.rec_type} record, not a response")
    headers = list(record.http_headers.headers)
    raw = _read_block_payload(record)
    rec = record.rec_headers
    return ArchivedResponse(
        url=(rec.get_header("WARC-Target-URI") or "").strip("<>"),
        status=int(record.http_headers.get_statuscode()),
        headers=headers,
        payload=decode_payload(raw, headers) if record.rec_type == "response" else b"",
        date=rec.get_header("WARC-Date") or "",
        ref=WarcRef(path.name, offset, record.length, rec.get_header("WARC-Record-ID") or ""),
        record_type=record.rec_type,
    )


def read_response_at(path: Path, offset: int) -> tuple[bytes, list[tuple[str, str]]]:
    """The content-decoded payload and HTTP headers of the response record at `offset` of `path`."""
    payload, headers = _read_payload_at(path, offset)
    return decode_payload(payload, headers), headers


def _read_payload_at(path: Path, offset: int) -> tuple[bytes, list[tuple[str, str]]]:
    record = read_record_at(path, offset)
    if record.http_headers is None:
        raise WarcReadError(path, offset, "not an HTTP response record")
    return _read_block_payload(record), list(record.http_headers.headers)


def _read_block_payload(record) -> bytes:
    """The raw HTTP payload; raises TruncatedRecord if the record ends early."""
    data = record.raw_stream.read()
    declared = record.rec_headers.get_header("Content-Length")
    if declared is not None and record.http_headers is not None and record.rec_type == "response":
        expected = int(declared) - record.http_headers.total_len
        if len(data) < expected:
            raise TruncatedRecord(f"record {record.rec_headers.get_header('WARC-Record-ID')} is truncated")
    return data


def _iter_records(path: Path, report: ErrorCallback) -> Iterator[Record]:
    """Every readable record of the file (`archive.warc.framing`); an unreadable file is one error."""
    try:
        yield from iter_records(path, lambda exc: report(path, exc))
    except OSError as exc:
        report(path, WarcReadError(path, 0, f"cannot read the file ({exc.strerror or exc})"))


def decode_payload(raw: bytes, headers: list[tuple[str, str]]) -> bytes:
    """De-chunk (if still chunked) and undo Content-Encoding; on failure keep what decodes."""
    names = {k.lower(): v.strip().lower() for k, v in headers}
    data = raw
    if "chunked" in names.get("transfer-encoding", ""):
        data = _dechunk(data)
    for coding in reversed([c.strip() for c in names.get("content-encoding", "").split(",") if c.strip()]):
        data = _undo_coding(data, coding)
    return data


def _dechunk(data: bytes) -> bytes:
    """Decode chunked framing; data that is not chunked after all is returned unchanged."""
    out = bytearray()
    pos = 0
    try:
        while True:
            end = data.index(b"\r\n", pos)
            size = int(data[pos:end].split(b";")[0].strip(), 16)
            if size == 0:
                return bytes(out)
            out += data[end + 2 : end + 2 + size]
            pos = end + 2 + size + 2
            if pos > len(data):
                return bytes(out)
    except ValueError:
        return bytes(out) if out else data


def _undo_coding(data: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip", "deflate"):
        for wbits in (47, -15):  # gzip or zlib (auto), then raw deflate
            try:
                decomp = zlib.decompressobj(wbits)
                out = decomp.decompress(data)
                # several gzip members in a row are legal
                while decomp.eof and decomp.unused_data:
                    rest = decomp.unused_data
                    decomp = zlib.decompressobj(wbits)
                    out += decomp.decompress(rest)
                return out
            except zlib.error:
                continue
        return data
    if coding == "br":
        try:
            import brotli  # type: ignore[import-not-found]

            return brotli.decompress(data)
        except Exception:
            return data
    return data  # identity or unknown: as stored
