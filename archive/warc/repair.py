"""Close WARC files a crashed crawl left open.

`WarcWriter` writes `NAME.warc.gz.open` and flushes after every exchange, with one gzip member per
record. After a kill -9 the file ends with complete members, possibly followed by a partial one.
`repair_directory` keeps every complete record, truncates the rest, and renames the file to
`NAME.warc.gz`; a file without a single complete record is removed.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from archive.warc.writer import OPEN_SUFFIX

READ_CHUNK = 1 << 20
HEAD_LIMIT = 1 << 16  # WARC headers are far shorter; enough to read Content-Length


@dataclass
class RepairResult:
    path: Path  # the file as it is now (closed name), or the removed .open file
    action: str  # "closed" (nothing to cut), "truncated", "removed" (no complete record),
    # "skipped" (a finished file of the same name exists; nothing touched)
    records: int  # complete records kept
    bytes_kept: int
    bytes_dropped: int

    def describe(self) -> str:
        if self.action == "skipped":
            return f"{self.path.name}: skipped, {self.path.name.removesuffix(OPEN_SUFFIX)} already exists"
        return f"{self.path.name}: {self.action}, {self.records} records kept, {self.bytes_dropped} bytes dropped"


def repair_directory(directory: Path | str, prefix: str | None = None) -> list[RepairResult]:
    """Repair every `*.warc.gz.open` file directly in `directory`; with `prefix`, only the files named
    `PREFIX-<timestamp>…` (one writer's own, when several write into one directory)."""
    pattern = f"{prefix}-[0-9]*.warc.gz{OPEN_SUFFIX}" if prefix else f"*.warc.gz{OPEN_SUFFIX}"
    return [repair_file(path) for path in sorted(Path(directory).glob(pattern))]


def repair_file(path: Path) -> RepairResult:
    size = path.stat().st_size
    good_end, records = last_complete_member(path)
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if records == 0:
        path.unlink()
        return RepairResult(path, "removed", 0, 0, size)
    if final.exists():  # never overwrite a finished file: leave both for a person to look at
        return RepairResult(path, "skipped", records, good_end, 0)
    if good_end < size:
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(path, final)
    action = "truncated" if good_end < size else "closed"
    return RepairResult(final, action, records, good_end, size - good_end)


def last_complete_member(path: Path) -> tuple[int, int]:
    """(end offset of the last complete record, number of complete records) of a gzip WARC.

    A member counts when it decompresses to its end and holds a whole WARC record: the block is as
    long as its Content-Length says, followed by CRLF CRLF.
    """
    good_end = 0
    records = 0
    with open(path, "rb") as fh:
        position = 0  # compressed offset of the member being read
        pending = b""
        while True:
            member = _Member()
            consumed, pending, complete = _read_member(fh, member, pending)
            if not complete or not member.is_complete_record():
                return good_end, records
            position += consumed
            good_end = position
            records += 1
            if not pending and not _peek(fh):
                return good_end, records


class _Member:
    """Counts the decompressed bytes of one member and keeps its head for the WARC headers."""

    def __init__(self) -> None:
        self.head = b""
        self.total = 0

    def feed(self, data: bytes) -> None:
        if len(self.head) < HEAD_LIMIT:
            self.head += data[: HEAD_LIMIT - len(self.head)]
        self.total += len(data)

    def is_complete_record(self) -> bool:
        end = self.head.find(b"\r\n\r\n")
        if not self.head.startswith(b"WARC/") or end < 0:
            return False
        length = None
        for line in self.head[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return length is not None and self.total == end + 4 + length + 4


def _read_member(fh, member: _Member, pending: bytes) -> tuple[int, bytes, bool]:
    """Decompress one gzip member. Returns (compressed bytes it used, bytes read past it, complete)."""
    decomp = zlib.decompressobj(31)
    consumed = 0
    data = pending or fh.read(READ_CHUNK)
    while data:
        try:
            member.feed(decomp.decompress(data))
        except zlib.error:
            return consumed, b"", False
        if decomp.eof:
            leftover = decomp.unused_data
            return consumed + len(data) - len(leftover), leftover, True
        consumed += len(data)
        data = fh.read(READ_CHUNK)
    return consumed, b"", False


def _peek(fh) -> bool:
    here = fh.tell()
    more = bool(fh.read(1))
    fh.seek(here)
    return more
