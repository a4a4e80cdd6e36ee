"""Read HTTP responses back out of any standard WARC files (ours or another tool's).

`iter_responses` walks files and directories (.warc, .warc.gz; an explicitly named .warc.gz.open too),
skips non-HTTP records, and yields each response with its payload de-chunked and content-decoded.
Revisit records are resolved to the original payload when the original is among the files read.
A corrupt or truncated file never stops the walk: what can be read is yielded, the rest is reported
through `on_error(path, exception)` (by default a `warnings.warn`); the exception is a `WarcReadError`
whose message gives the offset and what was wrong in words (never raw bytes).
"""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator, WARCIterator

from archive.headers import header_value
from archive.report import WarcRef

WARC_SUFFIXES = (".warc", ".warc.gz")
GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGICS = (b"WARC/1.1\r\n", b"WARC/1.0\r\n")
ErrorCallback = Callable[[Path, Exception], None]


class TruncatedRecord(ValueError):
    """A record whose block is shorter than its Content-Length says."""


class WarcReadError(ValueError):
    """A place in a WARC file that cannot be read: `str()` is "offset N: what was wrong"."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"offset {offset}: {problem}")
        self.path, self.offset, self.problem = path, offset, problem


def located(path: Path, offset: int, exc: Exception) -> WarcReadError:
    return exc if isinstance(exc, WarcReadError) else WarcReadError(path, offset, warc_problem(exc))


def warc_problem(exc: BaseException) -> str:
    """What was wrong, in words: warcio's and zlib's exceptions quote raw bytes or say nothing useful."""
    text = str(exc)
    if isinstance(exc, TruncatedRecord):
        return f"{text}: the file ends inside it (truncated file?)"
    if isinstance(exc, zlib.error | EOFError):
        return f"corrupt gzip data ({_printable(text)})"
    if exc.__class__.__name__ == "ArchiveLoadFailed":
        if text.startswith(("Unknown archive format", "Invalid WARC record")):
            return "no WARC record starts here (damaged gzip member or data that is not WARC)"
        return f"unreadable record ({_printable(text)})"
    if isinstance(exc, AttributeError) and "NoneType" in text:
        return "incomplete record headers (the file is truncated or damaged here)"
    return f"unreadable record ({exc.__class__.__name__}: {_printable(text)})"


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


class _QuietArchiveIterator(ArchiveIterator):
    INC_RECORD = ""  # warcio writes this warning (with the raw bytes that follow) straight to stderr


class _QuietWARCIterator(WARCIterator):
    INC_RECORD = ""


def record_iterator(fh, path: Path) -> ArchiveIterator:
    """warcio's iterator for the file: ARC (converted) only for a file named .arc, else strictly WARC,
    so damaged data is an error rather than a "record"; its raw-bytes warnings are silenced."""
    return _QuietArchiveIterator(fh, arc2warc=True) if ".arc" in path.name else _QuietWARCIterator(fh)


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


def iter_responses(
    paths: Iterable[str | Path] | str | Path, on_error: ErrorCallback | None = None
) -> Iterator[ArchivedResponse]:
    report = on_error or warn_on_error
    by_digest: dict[str, _Seen] = {}
    by_url: dict[str, _Seen] = {}
    deferred: list[tuple[ArchivedResponse, str | None, str | None, bytes]] = []

    for path in iter_warc_files(paths):
        for record, offset, length in _iter_records(path, report):
            try:
                rec_type = record.rec_type
                if rec_type not in ("response", "revisit") or not record.http_headers:
                    continue
                if not (record.http_headers.protocol or "").upper().startswith("HTTP"):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                status = int(record.http_headers.get_statuscode())
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


def read_record_at(path: Path, offset: int) -> ArchivedResponse:
    """The response or revisit record at `offset` of `path`, its payload content-decoded (a revisit's is
    empty: its payload is in the record it refers to)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
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
            ref=WarcRef(path.name, offset, 0, rec.get_header("WARC-Record-ID") or ""),
            record_type=record.rec_type,
        )


def read_response_at(path: Path, offset: int) -> tuple[bytes, list[tuple[str, str]]]:
    """The content-decoded payload and HTTP headers of the response record at `offset` of `path`."""
    payload, headers = _read_payload_at(path, offset)
    return decode_payload(payload, headers), headers


def _read_payload_at(path: Path, offset: int) -> tuple[bytes, list[tuple[str, str]]]:
    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
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


def _iter_records(path: Path, report: ErrorCallback) -> Iterator[tuple[_Buffered, int, int]]:
    """(record, offset, length) for every readable record; resynchronises after a corrupt one."""
    magic = GZIP_MAGIC if _is_gzip(path) else WARC_MAGICS
    start: int | None = 0
    while start is not None:
        position = start  # end of the last good record: the search for the next one starts after it
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                # a file not named .arc is parsed strictly as WARC, so garbage is reported, not "read"
                it = record_iterator(fh, path)
                for record in it:
                    buffered = _Buffered(record)
                    it.read_to_end()
                    offset, length = it.get_record_offset(), it.get_record_length()
                    yield buffered, offset, length
                    position = offset + length
            tail = unread_tail(path, position)
            if tail is None:
                return
            report(path, tail)  # a record cut short or damaged, where the iterator stops silently
        except Exception as exc:  # corrupt gzip, bad headers, truncated file: report and move on
            report(path, located(path, position, exc))
        start = _find_next(path, position + 1, magic)


def unread_tail(path: Path, position: int) -> WarcReadError | None:
    """What follows the last whole record (ending at `position`), if more than the blank lines that
    may end an uncompressed WARC: a record cut short or damaged data."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        left = fh.tell() - position
        if left <= 0:
            return None
        fh.seek(position)
        tail = fh.read(64)
    if left <= 64 and not tail.strip() and not tail.startswith(GZIP_MAGIC[:2]):
        return None
    return WarcReadError(path, position, f"{left} bytes that are not a whole WARC record (truncated or damaged file)")


class _Buffered:
    """A record whose block was read eagerly, so it outlives the iterator's position."""

    def __init__(self, record) -> None:
        self.rec_type = record.rec_type
        self.rec_headers = record.rec_headers
        self.http_headers = record.http_headers
        self.raw_stream = io.BytesIO(record.raw_stream.read())


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC[:2]


def _find_next(path: Path, position: int, magic: bytes | tuple[bytes, ...]) -> int | None:
    """The next position at or after `position` where a record (or gzip member) may start."""
    magics = (magic,) if isinstance(magic, bytes) else magic
    chunk = 1 << 20
    with open(path, "rb") as fh:
        fh.seek(position)
        base = position
        tail = b""
        while True:
            data = fh.read(chunk)
            if not data:
                return None
            window = tail + data
            hits = [i for i in (window.find(m) for m in magics) if i >= 0]
            if hits:
                return base - len(tail) + min(hits)
            tail = window[-16:]
            base += len(data)


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
