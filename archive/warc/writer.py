"""WarcWriter: exchanges in, rotated gzip WARC files out.

- one gzip member per record; a warcinfo record opens every file;
- files are named PREFIX-YYYYMMDDhhmmssfff-SERIAL-HOST.warc.gz and written as NAME.open, renamed on
  close, so a reader never mistakes a file being written for a finished one;
- the file is flushed after every exchange: a kill -9 leaves only complete records (see repair.py);
- a payload already captured (same WARC-Payload-Digest, looked up in the `DigestIndex`) is written as
  an identical-payload-digest revisit; a 304 to a conditional request as a server-not-modified one.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from archive import __version__
from archive.report import WarcRef
from archive.warc import records
from archive.warc.digests import DigestIndex, MemoryDigestIndex, Original
from archive.warc.exchange import Exchange, WrittenExchange

logger = logging.getLogger(__name__)
DEFAULT_MAX_SIZE = 1_000_000_000  # bytes; the customary 1 GB WARC file
OPEN_SUFFIX = ".open"
# URLs whose latest capture the writer remembers for server-not-modified revisits.
LAST_CAPTURES_MAX = 100_000


def default_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_dedupable(ex: Exchange) -> bool:
    """Only non-empty 2xx payloads become identical-payload revisits.

    Empty bodies (redirects, 204s) would all share one digest, and an error page repeated under many
    URLs replays more plainly as its own response.
    """
    return 200 <= ex.status < 300 and ex.status != 206 and bool(ex.body)


class WarcWriter:
    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "govarchive",
        max_size: int = DEFAULT_MAX_SIZE,
        warcinfo: dict[str, str] | None = None,
        digest_index: DigestIndex | None = None,
        host: str | None = None,
        clock: Callable[[], datetime] | None = None,
        record_id_factory: Callable[[], str] | None = None,
        fsync: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.digest_index: DigestIndex = digest_index if digest_index is not None else MemoryDigestIndex()
        self.host = _safe_host(host or socket.gethostname())
        self.clock = clock or utc_now
        self.new_id = record_id_factory or default_record_id
        self.fsync = fsync
        self.files: list[Path] = []  # finished files, in order
        self._serial = 0
        self._file: BinaryIO | None = None
        self._path: Path | None = None  # final name of the file being written
        self._size = 0
        self._exchanges_in_file = 0
        # URL -> latest 200 capture, for 304 revisits; the oldest URLs are forgotten past LAST_CAPTURES_MAX
        # (their 304 revisits then carry no WARC-Refers-To-*), so memory does not grow with the site.
        self._last_capture: dict[str, Original] = {}
        self._lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------------

    def write_exchange(self, ex: Exchange, *, not_modified_of: Original | None = None) -> WrittenExchange:
        """Write the request and response records of `ex`; a 304 to a conditional request becomes a
        server-not-modified revisit of `not_modified_of` (the capture its validators came from, perhaps in
        an earlier crawl), else of this writer's last capture of the URL."""
        with self._lock:
            return self._write_exchange(ex, not_modified_of)

    def close(self) -> None:
        with self._lock:
            self._close_file()

    @property
    def current_path(self) -> Path | None:
        """The `.open` file being written, if any."""
        return self._open_path(self._path) if self._path else None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------

    def _write_exchange(self, ex: Exchange, not_modified_of: Original | None = None) -> WrittenExchange:
        payload_digest = records.sha1_digest(ex.body)
        uri = records.target_uri(ex.url)
        response_id, request_id = self.new_id(), self.new_id()
        original = self._lookup(payload_digest) if is_dedupable(ex) else None

        if records.is_not_modified(ex):
            main = records.build_revisit(
                ex, response_id, profile=records.PROFILE_NOT_MODIFIED,
                original=not_modified_of or self._last_capture.get(uri)
            )
        elif original is not None:
            main = records.build_revisit(
                ex, response_id, profile=records.PROFILE_IDENTICAL, original=original
            )
        else:
            main = records.build_response(ex, response_id)
        request = records.build_request(ex, request_id, concurrent_to=response_id)
        main_bytes, request_bytes = main.to_gzip_member(), request.to_gzip_member()

        if (
            self._file is not None
            and self._exchanges_in_file
            and (self._size + len(main_bytes) + len(request_bytes) > self.max_size)
        ):
            self._close_file()
        if self._file is None:
            self._open_file()
        assert self._file is not None and self._path is not None
        offset = self._size
        try:
            self._file.write(main_bytes + request_bytes)
            self._file.flush()
        except OSError:
            self._undo_partial_write(offset)
            raise
        self._size += len(main_bytes) + len(request_bytes)
        self._exchanges_in_file += 1

        revisit = main.header("WARC-Type") == "revisit"
        if not revisit:
            captured = Original(uri, records.warc_date(ex.started_at), response_id)
            if is_dedupable(ex):
                self._remember(payload_digest, captured)
            if ex.status == 200:
                self._last_capture.pop(uri, None)  # re-inserted as the newest
                self._last_capture[uri] = captured
                if len(self._last_capture) > LAST_CAPTURES_MAX:
                    del self._last_capture[next(iter(self._last_capture))]
        ref = WarcRef(self._path.name, offset, len(main_bytes), response_id)
        return WrittenExchange(ref=ref, payload_digest=payload_digest, revisit=revisit)

    def _lookup(self, payload_digest: str) -> Original | None:
        """A failing digest index costs deduplication, never the record."""
        try:
            return self.digest_index.lookup(payload_digest)
        except Exception:
            logger.exception("digest index lookup failed; writing a full response record")
            return None

    def _remember(self, payload_digest: str, original: Original) -> None:
        try:
            self.digest_index.add(payload_digest, original)
        except Exception:
            logger.exception("digest index update failed; later copies of this payload stay full records")

    def _undo_partial_write(self, offset: int) -> None:
        """After a failed write (disk full), cut the file back so it ends with a whole record."""
        assert self._file is not None
        try:
            self._file.seek(offset)
            self._file.truncate()
        except OSError:
            logger.exception("could not cut a partial record from %s; `warc repair` will", self.current_path)

    def _open_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = self.clock()
        stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp
        while True:
            name = (
                f"{self.prefix}-{stamp.strftime('%Y%m%d%H%M%S')}{stamp.microsecond // 1000:03d}"
                f"-{self._serial:05d}-{self.host}.warc.gz"
            )
            self._serial += 1
            path = self.directory / name
            if not path.exists() and not self._open_path(path).exists():
                break
        self._file = open(self._open_path(path), "xb")  # noqa: SIM115 - closed in _close_file
        self._path = path
        info = records.build_warcinfo(name, self._warcinfo_fields(), records.warc_date(stamp), self.new_id())
        data = info.to_gzip_member()
        self._file.write(data)
        self._file.flush()
        self._size = len(data)
        self._exchanges_in_file = 0

    def _warcinfo_fields(self) -> dict[str, str]:
        fields = {
            "software": f"govarchive/{__version__}",
            "format": "WARC File Format 1.1",
            "conformsTo": "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
        }
        fields.update({k: v for k, v in self.warcinfo.items() if v is not None and k != "software"})
        if self.warcinfo.get("software"):
            fields["software"] = f"govarchive/{__version__} ({self.warcinfo['software']})"
        return fields

    def _close_file(self) -> None:
        if self._file is None or self._path is None:
            return
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._open_path(self._path), self._path)
        self.files.append(self._path)
        self._file = None
        self._path = None

    @staticmethod
    def _open_path(path: Path) -> Path:
        return path.with_name(path.name + OPEN_SUFFIX)


def _safe_host(host: str) -> str:
    """The host part of a file name: letters, digits, dots and dashes only."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", host).strip("-") or "localhost"
