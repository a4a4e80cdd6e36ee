"""Where each record of a WARC file starts and ends, read by its own framing, damage or not.

A WARC file is a sequence of records, each either uncompressed (`WARC/1.x` headers, a block of exactly
`Content-Length` bytes, CRLF CRLF) or one gzip member holding one such record. `iter_records` reads the
records one at a time from their offsets: every record is checked (a version line, a `Content-Length`
that is a number, a block as long as it says, the member or the separator where they must end, the block
digest when there is one) and only then parsed by warcio. A damaged record is one `WarcReadError`
(file, offset, what was wrong, how many bytes were skipped) through `on_error`; the reader then scans
forward for the next record that reads whole and goes on from there. Offsets only ever increase, so a
damaged file is read to its end once: no loop, no seek before the start, no silent skip.

A file gzipped as a whole (one member holding every record) cannot be addressed record by record (warcio
and pywb refuse it too): it is one damaged "record" at offset 0 with the way to make it readable.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecordLoader

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGICS = (b"WARC/1.1\r\n", b"WARC/1.0\r\n")
# Headers of a WARC record are a few hundred bytes; a header block without its end in this many bytes
# is damaged data, not a record.
MAX_HEADER_BYTES = 64 * 1024
READ_CHUNK = 1 << 20
_LOADER = ArcWarcRecordLoader()
FIRST_READ = 16 * 1024  # most records are small: read a member in growing steps
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_BLOCK_DIGEST = re.compile(rb"^warc-block-digest[ \t]*:[ \t]*(sha1|sha256):(\S+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


class WarcReadError(ValueError):
    """A place in a WARC file that cannot be read: `str()` is "offset N: what was wrong"."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"offset {offset}: {problem}")
        self.path, self.offset, self.problem = path, offset, problem


class DamagedRecord(ValueError):
    """What is wrong with the record at an offset, in words; `end` when its framing was still whole."""

    def __init__(self, problem: str, end: int | None = None) -> None:
        super().__init__(problem)
        self.end = end


class Record:
    """One record read whole: warcio's parsed headers and the block (HTTP headers already parsed off)."""

    def __init__(self, record, offset: int, length: int) -> None:
        self.rec_type = record.rec_type
        self.rec_headers = record.rec_headers
        self.http_headers = record.http_headers
        self.raw_stream: io.BytesIO = record.raw_stream  # already read whole (_plain_record)
        self.offset, self.length = offset, length


def is_gzip_file(path: Path) -> bool:
    """Per-record gzip (or gzipped as a whole): by its first bytes, else (first bytes damaged) its name."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head in (GZIP_MAGIC[:2], b"WA"):
        return head == GZIP_MAGIC[:2]
    return ".gz" in path.name


def iter_records(path: Path, on_error: Callable[[WarcReadError], None] | None = None) -> Iterator[Record]:
    """Every readable record of the file in order; each damaged one reported (see the module docstring).
    Without `on_error`, the first damaged record raises its WarcReadError (for readers that need it all)."""
    gz = is_gzip_file(path)
    with open(path, "rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        position = 0
        while True:
            position = _skip_separators(fh, position, size)
            if position >= size:
                return
            try:
                record, end = read_record(fh, position, gz)
            except DamagedRecord as damage:
                if on_error is None:
                    raise WarcReadError(path, position, str(damage)) from None
                resume = _resync(fh, position, damage, gz)
                if resume is None:
                    skipped = f"skipped the {size - position} bytes to the end of the file"
                else:
                    skipped = f"skipped {resume - position} bytes to the next record, at offset {resume}"
                on_error(WarcReadError(path, position, f"{damage}; {skipped}"))
                if resume is None:
                    return
                position = resume
                continue
            yield record
            position = end


def read_record_at(path: Path, offset: int) -> Record:
    """The record at `offset` of `path`; raises WarcReadError when it is not whole there."""
    with open(path, "rb") as fh:
        try:
            return read_record(fh, offset, is_gzip_file(path))[0]
        except DamagedRecord as damage:
            raise WarcReadError(path, offset, str(damage)) from None


def read_record(fh: BinaryIO, offset: int, gz: bool) -> tuple[Record, int]:
    """The record at `offset` and the offset where it ends; raises DamagedRecord."""
    if gz:
        data, end = _gzip_member(fh, offset)
        stream: BinaryIO = io.BytesIO(data)
        record, used = _plain_record(stream, 0, len(data), checked=False)
        if rest := data[used:].strip():
            if not rest.startswith(b"WARC/"):
                raise DamagedRecord("data after the record inside its gzip member", end)
            raise DamagedRecord(_MANY_IN_MEMBER if offset == 0 else "a gzip member holding more than one record", end)
        return Record(record, offset, end - offset), end
    size = fh.seek(0, io.SEEK_END)
    record, end = _plain_record(fh, offset, size)
    return Record(record, offset, end - offset), end


_MANY_IN_MEMBER = ("the file is gzipped as a whole, not one gzip member per record, so no record in it can be "
                   "addressed (warcio and pywb refuse it too): `gunzip -c FILE > FILE.warc` and read that")


def _plain_record(fh: BinaryIO, offset: int, size: int, checked: bool = True):
    """warcio's record for the uncompressed record at `offset`, and where it ends (its separator included).
    `checked=False` skips the block digest, for a record whose gzip CRC already vouched for its bytes."""
    fh.seek(offset)
    head = fh.read(MAX_HEADER_BYTES)
    if not head.startswith(WARC_MAGICS):
        raise DamagedRecord("no WARC record starts here (damaged data or data that is not WARC)")
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        problem = "the file ends inside the record headers" if len(head) < MAX_HEADER_BYTES else \
            f"record headers without an end in {MAX_HEADER_BYTES} bytes"
        raise DamagedRecord(problem)
    headers = head[: header_end + 4]
    match = _CONTENT_LENGTH.search(headers)
    if match is None:
        raise DamagedRecord("the record has no Content-Length")
    declared = match.group(1)
    if not declared.isdigit():
        raise DamagedRecord(f"Content-Length is {_shown(declared)}, not a length")
    length = int(declared)
    block_start = offset + len(headers)
    if block_start + length > size:
        raise DamagedRecord(f"the file ends inside this record ({size - block_start} of its {length} bytes; "
                            "truncated file?)")
    end = block_start + length
    fh.seek(end)
    trailer = fh.read(4)
    if trailer == b"\r\n\r\n":
        end += 4
    elif trailer.strip(b"\r\n") and not _starts_record(fh, end, trailer):
        raise DamagedRecord("the record does not end where its Content-Length says (a wrong length or damaged bytes)")
    if checked and (digest := _BLOCK_DIGEST.search(headers)) and not _digest_matches(digest, fh, block_start, length):
        raise DamagedRecord("the block does not match its WARC-Block-Digest (damaged bytes)", end)
    fh.seek(offset)
    try:  # warcio reads exactly this record, never past it
        record = _LOADER.parse_record_stream(LimitReader(fh, len(headers) + length), known_format="warc")
        record.raw_stream = io.BytesIO(record.raw_stream.read())
    except Exception as exc:  # warcio on headers it cannot parse (a corrupt HTTP status line…)
        raise DamagedRecord(f"unreadable record headers ({type(exc).__name__})", end) from None
    return record, end


def _starts_record(fh: BinaryIO, end: int, trailer: bytes) -> bool:
    """Whether a record (not separated by CRLF CRLF, as some tools write) starts right after `end`."""
    fh.seek(end + len(trailer) - len(trailer.lstrip(b"\r\n")))
    return fh.read(len(WARC_MAGICS[0])) in WARC_MAGICS


def _digest_matches(match: re.Match, fh: BinaryIO, start: int, length: int) -> bool:
    algorithm, value = match.group(1).lower().decode(), match.group(2).decode("ascii", "replace")
    digest = hashlib.new(algorithm)
    fh.seek(start)
    while length > 0 and (chunk := fh.read(min(length, READ_CHUNK))):
        digest.update(chunk)
        length -= len(chunk)
    raw = digest.digest()
    return value.upper() in (base64.b32encode(raw).decode(), raw.hex().upper())


def _gzip_member(fh: BinaryIO, offset: int) -> tuple[bytes, int]:
    """The inflated gzip member at `offset` and the offset where it ends."""
    fh.seek(offset)
    if fh.read(3) != GZIP_MAGIC:
        raise DamagedRecord("no gzip member starts here (damaged data, or data that is not a WARC record)")
    fh.seek(offset)
    inflate = zlib.decompressobj(31)
    out = bytearray()
    consumed, step = 0, FIRST_READ
    limit: int | None = None  # the inflated size of one record, once its headers are known
    while not inflate.eof:
        chunk = fh.read(step)
        step = min(step * 2, READ_CHUNK)
        if not chunk:
            raise DamagedRecord("the file ends inside this gzip member (truncated file?)")
        try:
            out += inflate.decompress(chunk)
        except zlib.error as exc:
            raise DamagedRecord(f"corrupt gzip data ({exc})") from None
        consumed += len(chunk)
        if limit is None:
            limit = _inflated_size(out)
        if limit is not None and len(out) > limit + 4 and not inflate.eof and out[limit:].lstrip()[:5] == b"WARC/":
            # more records in the same member: say so without inflating the whole file
            raise DamagedRecord(_MANY_IN_MEMBER if offset == 0 else "a gzip member holding more than one record")
    return bytes(out), offset + consumed - len(inflate.unused_data)


def _inflated_size(data: bytearray) -> int | None:
    """Headers plus Content-Length of the record at the start of `data`, once its headers are in."""
    header_end = data.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
    if header_end < 0:
        return None
    match = _CONTENT_LENGTH.search(bytes(data[: header_end + 4]))
    return header_end + 4 + int(match.group(1)) if match and match.group(1).isdigit() else None


def _resync(fh: BinaryIO, damaged_at: int, damage: DamagedRecord, gz: bool) -> int | None:
    """Where reading goes on after a damaged record: the next record that reads whole, or that is a record
    of its own damaged in its own way (then reported on its own); None when nothing follows."""
    candidate = damage.end if damage.end is not None and damage.end > damaged_at else damaged_at + 1
    while (start := _find_next(fh, candidate, (GZIP_MAGIC,) if gz else WARC_MAGICS)) is not None:
        try:
            read_record(fh, start, gz)
            return start
        except DamagedRecord as later:
            if later.end is not None:
                return start
            candidate = start + 1  # still inside the damaged region: it is one problem, reported once
    return None


def _find_next(fh: BinaryIO, position: int, magics: tuple[bytes, ...]) -> int | None:
    """The next position at or after `position` where a record (or gzip member) may start."""
    fh.seek(position)
    base, tail = position, b""
    while data := fh.read(READ_CHUNK):
        window = tail + data
        hits = [i for i in (window.find(m) for m in magics) if i >= 0]
        if hits:
            return base - len(tail) + min(hits)
        tail = window[-16:]
        base += len(data)
    return None


def _skip_separators(fh: BinaryIO, position: int, size: int) -> int:
    """Past blank lines between records (and at the end of an uncompressed file)."""
    fh.seek(position)
    while position < size:
        data = fh.read(64)
        stripped = data.lstrip(b"\r\n")
        position += len(data) - len(stripped)
        if stripped:
            break
    return position


def _shown(value: bytes) -> str:
    text = value[:40].decode("latin-1")
    return repr(text if text.isprintable() else text.encode("unicode_escape").decode())
