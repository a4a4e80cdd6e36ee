"""The payload-digest index that turns repeated payloads into revisit records.

`WarcWriter` only needs `lookup` and `add`; the store implements the same protocol on a database table
so deduplication works across crawls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Original:
    """The first capture of a payload: what a revisit record refers to."""

    uri: str
    date: str  # its WARC-Date, e.g. "2024-02-29T09:29:00.000000Z"
    record_id: str  # its WARC-Record-ID, "<urn:uuid:…>"


@runtime_checkable
class DigestIndex(Protocol):
    def lookup(self, payload_digest: str) -> Original | None: ...

    def add(self, payload_digest: str, original: Original) -> None: ...


class MemoryDigestIndex:
    """An in-process digest index; the first capture of a digest wins."""

    def __init__(self) -> None:
        self._originals: dict[str, Original] = {}

    def lookup(self, payload_digest: str) -> Original | None:
        return self._originals.get(payload_digest)

    def add(self, payload_digest: str, original: Original) -> None:
        self._originals.setdefault(payload_digest, original)

    def __len__(self) -> int:
        return len(self._originals)
