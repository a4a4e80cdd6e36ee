"""What an interrupted crawl already archived, so that `crawl --resume` never fetches it again.

The WARC files are the source of truth, the database their index: a crawl killed with `kill -9`
loses whatever its pipeline had not committed, but every exchange it finished is in a WARC file
(`archive.warc.repair` cuts the record that was being written when it died). A resumed crawl walks
the site again from its start URLs; each request whose response one of the resumed runs archived is
answered from that record, read by the same reader as a crawl (`archive.page.read_page`, through the
crawler's page reader) in the context the spider gives it. List pages so rediscover their records,
detail pages give their reports again (stored once: the store keeps a version per content), and only
what was in flight when the crawl stopped, plus what it never reached, goes to the network.

A WARC file belongs to the run named in its `warcinfo` record (`crawl-run-id`); a run that resumed
another (`crawl_runs.resumes`) carries its archive on, so a second resume sees both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive.report import WarcRef
from archive.store import Store
from archive.store.models import CrawlRun
from archive.warc.reader import ArchivedResponse, iter_responses, iter_warc_files

logger = logging.getLogger(__name__)

ROBOTS_PATH = "/robots.txt"
# Response headers that describe the bytes on the wire, not the decoded payload served again.
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass
class Archived:
    """One archived answer to a GET of `url`: status, headers for the decoded payload, the payload."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    payload: bytes
    date: str  # WARC-Date of the record
    ref: WarcRef


def warcinfo_run_id(path: Path) -> int | None:
    """The crawl run that wrote a WARC file (its warcinfo's `crawl-run-id`), or None."""
    from warcio.archiveiterator import ArchiveIterator

    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "warcinfo":
                    return None
                for line in record.content_stream().read().decode("utf-8", "replace").splitlines():
                    name, _, value = line.partition(":")
                    if name.strip() == "crawl-run-id":
                        return int(value.strip()) if value.strip().isdigit() else None
                return None
    except Exception as exc:  # an unreadable file is not one of ours to resume from
        logger.warning("cannot read the warcinfo of %s: %s", path, exc)
    return None


def run_chain(store: Store, run_id: int) -> list[int]:
    """`run_id` and every run it resumed, transitively (newest first)."""
    chain: list[int] = []
    current: int | None = run_id
    with store.read_engine.connect() as conn:
        while current is not None and current not in chain:
            chain.append(current)
            current = conn.execute(select(CrawlRun.resumes).where(CrawlRun.id == current)).scalar_one_or_none()
    return chain


def resumable_run(store: Store, site: str | None, start_urls: list[str]) -> int | None:
    """The newest run of the same crawl (site profile, or the same start URLs) if it did not finish:
    interrupted, crashed, failed part-way or still marked running. None when the last one finished."""
    C = CrawlRun.__table__
    wanted = sorted(start_urls)
    with store.read_engine.connect() as conn:
        for row in conn.execute(select(C.c.id, C.c.site, C.c.start_urls, C.c.status).order_by(C.c.id.desc())):
            same = (site is not None and row.site == site) or (
                site is None and row.site is None and sorted(json.loads(row.start_urls or "[]")) == wanted)
            if not same:
                continue
            return None if row.status == "finished" else row.id
    return None


def run_files(directory: Path, run_ids: Iterable[int]) -> list[Path]:
    """The WARC files under `directory` written by these runs."""
    wanted = set(run_ids)
    return [p for p in iter_warc_files(directory) if not p.name.endswith(".open") and warcinfo_run_id(p) in wanted]


def archived_index(files: list[Path], refetch_statuses: frozenset[int] = frozenset()) -> dict[str, Archived]:
    """URL -> its newest archived answer in `files` (a 3xx is followed again by the crawl, a 404 is a
    withdrawal again); robots.txt (re-read at every crawl), answers with a status in `refetch_statuses`
    (transient errors, anti-bot challenges) and revisits whose original is not among them are left
    to the network."""
    index: dict[str, Archived] = {}

    def skip(path: Path, exc: Exception) -> None:
        logger.warning("resume: %s: %s", path, exc)

    for item in iter_responses(files, on_error=skip):
        if item.status in refetch_statuses or item.status >= 500 or not item.resolved or item.url.split("?", 1)[0].endswith(ROBOTS_PATH):
            continue
        index[item.url] = as_archived(item)
    return index


def as_archived(item: ArchivedResponse) -> Archived:
    headers = [(k, v) for k, v in item.headers if k.lower() not in WIRE_HEADERS]
    return Archived(item.url, item.status, headers, item.payload, item.date, item.ref)
