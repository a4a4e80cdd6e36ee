"""CDXJ index of a WARC directory, line for line what `cdxj-indexer --sort` writes.

`SURT TIMESTAMP {"url", "mime", "status", "digest", "length", "offset", "filename"}` for every
response, revisit, resource and metadata record (warc-fields metadata excluded), sorted, with the
file name relative to the WARC directory's own level (its base name), as pywb and WACZ expect.
An index is all or nothing: a record that cannot be read, or a file that ends inside a record, is a
`archive.warc.framing.WarcReadError` naming the file and the offset (`govarchive reprocess` reads around such damage).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from warcio.timeutils import iso_date_to_timestamp

from archive.warc.framing import Record, iter_records
from archive.warc.reader import iter_warc_files
from archive.warc.records import digest_label
from archive.warc.surtkey import surt

INDEXED_TYPES = ("response", "revisit", "resource", "metadata")
_MIME_END = re.compile(r"[;\s]")


def write_cdxj(warc_dir: Path | str, out: Path | str | TextIO) -> int:
    """Index every WARC under `warc_dir` into `out` (a path or a text stream); returns the line count."""
    lines = sorted(iter_cdxj_lines(warc_dir))
    if isinstance(out, str | Path):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
    else:
        out.writelines(lines)
    return len(lines)


def iter_cdxj_lines(warc_dir: Path | str) -> Iterator[str]:
    for path in iter_warc_files([warc_dir]):
        yield from _index_file(path)


def _index_file(path: Path) -> Iterator[str]:
    """The file's index lines; WarcReadError (file, offset, what) at the first place it cannot be read."""
    for record in iter_records(path):
        if (line := _index_line(record, path.name)) is not None:
            yield line


def _index_line(record: Record, filename: str) -> str | None:
    """The CDXJ line of one record, or None for a record type that is not indexed."""
    if record.rec_type not in INDEXED_TYPES:
        return None
    headers = record.rec_headers
    if record.rec_type in ("resource", "metadata") and headers.get_header("Content-Type") == (
        "application/warc-fields"
    ):
        return None
    url = headers.get_header("WARC-Target-URI")
    entry: dict[str, str] = {"url": url} if url is not None else {}
    mime = _mime(record)
    if mime is not None:
        entry["mime"] = mime
    if record.rec_type in ("response", "revisit") and record.http_headers:
        entry["status"] = record.http_headers.get_statuscode()
    digest = headers.get_header("WARC-Payload-Digest") or _payload_digest(record)
    if digest:
        entry["digest"] = digest
    entry["length"] = str(record.length)
    entry["offset"] = str(record.offset)
    entry["filename"] = filename
    stamp = iso_date_to_timestamp(headers.get_header("WARC-Date"))
    return f"{surt(url or '')} {stamp} {json.dumps(entry)}\n"


def _mime(record) -> str | None:
    if record.rec_type == "revisit":
        return "warc/revisit"
    if record.rec_type in ("response", "request"):
        value = record.http_headers.get_header("Content-Type") if record.http_headers else None
    else:
        value = record.rec_headers.get_header("Content-Type")
    return _MIME_END.split(value, 1)[0].strip() if value else value


def _payload_digest(record) -> str | None:
    """Another tool may omit WARC-Payload-Digest: compute it as cdxj-indexer does."""
    if record.rec_type == "revisit":
        return None
    sha1 = hashlib.sha1()
    while chunk := record.raw_stream.read(1 << 16):
        sha1.update(chunk)
    return digest_label(sha1)
