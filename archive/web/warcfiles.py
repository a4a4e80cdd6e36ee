"""Archived bytes for the web interface: one WARC record, found by the file name and offset the
database keeps, read without loading a whole attachment into memory.

Report rows store only a file's name (the crawl writes into one directory, `reprocess` may have
read files from anywhere), so names are looked up in the WARC directory and, failing that, in its
subdirectories; a name with a path in it is never followed. A file still being written by a crawl
is read under its `.open` name. The record id the database stored must match the record found, so
a stale offset never serves another page's bytes.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.headers import header_value
from archive.report import WarcRef
from archive.warc.reader import WARC_SUFFIXES
from archive.warc.writer import OPEN_SUFFIX

CHUNK = 64 * 1024


class RecordUnavailable(LookupError):
    """The record cannot be served; the message says why in words a reader understands."""


@dataclass
class ArchivedRecord:
    """An HTTP response record: status, headers as archived, and where its payload starts."""

    path: Path
    offset: int
    record_type: str
    target_uri: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    refers_to: str | None  # WARC-Refers-To of a revisit: the record holding the payload

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


class WarcFiles:
    """The WARC directory the server reads from."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._found: dict[str, Path] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.directory is not None and self.directory.is_dir()

    def locate(self, filename: str) -> Path:
        """The path of a WARC file by its stored name; RecordUnavailable if it is not there."""
        if not self.available:
            raise RecordUnavailable("the server was started without a WARC directory holding the archive")
        name = Path(filename).name
        if name != filename or not name.endswith(WARC_SUFFIXES) or name.startswith("."):
            raise RecordUnavailable(f"{filename!r} is not the name of a WARC file")
        assert self.directory is not None
        for candidate in (self.directory / name, self.directory / (name + OPEN_SUFFIX)):
            if candidate.is_file():
                return candidate
        with self._lock:
            cached = self._found.get(name)
            if cached is not None and cached.is_file():
                return cached
            for path in self.directory.rglob(name):
                if path.is_file():
                    self._found[name] = path
                    return path
        raise RecordUnavailable(f"the WARC file {name} is not in {self.directory}")

    def record(self, ref: WarcRef) -> ArchivedRecord:
        """The response (or revisit) record at `ref`, checked against the record id stored with it."""
        path = self.locate(ref.filename)
        try:
            with open(path, "rb") as fh:
                fh.seek(ref.offset)
                record = next(iter(ArchiveIterator(fh)), None)
                if record is None:
                    raise RecordUnavailable(f"no WARC record at offset {ref.offset} of {path.name}")
                return _describe(record, path, ref)
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            raise RecordUnavailable(f"cannot read the WARC record at {path.name}@{ref.offset}: {exc}") from exc

    def payload(self, record: ArchivedRecord) -> Iterator[bytes]:
        """The record's HTTP payload in chunks, de-chunked and content-decoded as a browser would see it."""
        with open(record.path, "rb") as fh:
            fh.seek(record.offset)
            stream = next(iter(ArchiveIterator(fh))).content_stream()
            while chunk := stream.read(CHUNK):
                yield chunk


def _describe(record, path: Path, ref: WarcRef) -> ArchivedRecord:
    headers = record.rec_headers
    record_id = headers.get_header("WARC-Record-ID") or ""
    if ref.record_id and record_id and record_id != ref.record_id:
        raise RecordUnavailable(
            f"the record at {path.name}@{ref.offset} is {record_id}, not {ref.record_id}: the file has changed"
        )
    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
        raise RecordUnavailable(f"the record at {path.name}@{ref.offset} is a {record.rec_type}, not a response")
    return ArchivedRecord(
        path=path,
        offset=ref.offset,
        record_type=record.rec_type,
        target_uri=(headers.get_header("WARC-Target-URI") or "").strip("<>"),
        date=headers.get_header("WARC-Date") or "",
        status=int(record.http_headers.get_statuscode() or 0),
        headers=list(record.http_headers.headers),
        refers_to=headers.get_header("WARC-Refers-To"),
    )
