"""WACZ packaging (https://specs.webrecorder.net/wacz/1.1.1/) for ReplayWeb.page.

Layout: `archive/*.warc.gz` (stored, not re-compressed, so offsets in the index stay valid),
`indexes/index.cdxj`, `pages/pages.jsonl`, `datapackage.json` (sha256 and size of every file) and
`datapackage-digest.json` (sha256 of datapackage.json).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive import __version__
from archive.warc.indexer import iter_cdxj_lines
from archive.warc.reader import iter_responses, iter_warc_files

WACZ_VERSION = "1.1.1"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
COPY_CHUNK = 1 << 20
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


@dataclass
class Page:
    url: str
    title: str | None = None
    ts: str | None = None  # ISO 8601; the capture time ReplayWeb.page opens


def write_wacz(
    warc_dir: Path | str,
    out: Path | str,
    pages: Iterable[Page | dict[str, Any]] | None = None,
    *,
    title: str = "",
) -> Path:
    """Package every WARC under `warc_dir` into the WACZ file `out`; returns its path.

    `pages` lists what ReplayWeb.page shows (url, title, ts); with None, the HTML responses found
    in the WARCs are listed. Pages whose URL is not in the archive are left out.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    warcs = list(iter_warc_files([warc_dir]))
    if not warcs:
        raise FileNotFoundError(f"no WARC files under {warc_dir}")
    index_lines = sorted(iter_cdxj_lines(warc_dir))
    captures = _latest_captures(index_lines)
    page_list = list(_page_entries(pages if pages is not None else pages_from_warcs(warc_dir), captures))

    resources: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        for path in warcs:
            resources.append(_add_file(zf, path, f"archive/{path.name}"))
        index_bytes = "".join(index_lines).encode("utf-8")
        resources.append(_add_bytes(zf, "indexes/index.cdxj", index_bytes))
        pages_bytes = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [PAGES_HEADER, *page_list])
        resources.append(_add_bytes(zf, "pages/pages.jsonl", pages_bytes.encode("utf-8")))
        package = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title or out.stem,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": f"govarchive {__version__}",
            "resources": resources,
        }
        if page_list:
            package["mainPageURL"] = page_list[0]["url"]
            package["mainPageDate"] = page_list[0]["ts"]
        package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        zf.writestr(_info("datapackage.json", zipfile.ZIP_DEFLATED), package_bytes)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        zf.writestr(_info("datapackage-digest.json", zipfile.ZIP_DEFLATED), json.dumps(digest, indent=2))
    return out


def pages_from_warcs(warc_dir: Path | str) -> Iterator[Page]:
    """HTML pages answered 200 in the WARCs, with their <title>: the pages list without a database."""
    seen: set[str] = set()
    for response in iter_responses([warc_dir]):
        content_type = (response.header("Content-Type") or "").lower()
        if response.status != 200 or "html" not in content_type or response.url in seen:
            continue
        seen.add(response.url)
        yield Page(url=response.url, title=html_title(response.payload, content_type), ts=response.date)


def html_title(payload: bytes, content_type: str = "") -> str | None:
    found = _TITLE.search(payload[:200_000])
    if not found:
        return None
    declared = _CHARSET.search(content_type.encode("latin-1", "ignore")) or _CHARSET.search(payload[:4096])
    encodings = [declared.group(1).decode("ascii")] if declared else []
    for encoding in [*encodings, "utf-8", "gb18030"]:
        try:
            return " ".join(html.unescape(found.group(1).decode(encoding)).split()) or None
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def _latest_captures(index_lines: list[str]) -> dict[str, str]:
    """URL -> ISO time of its latest capture with a 2xx/3xx status (or a revisit)."""
    latest: dict[str, str] = {}
    for line in index_lines:
        _, stamp, blob = line.split(" ", 2)
        entry = json.loads(blob)
        if (
            entry.get("url")
            and entry.get("status", "200")[:1] in "23"
            and stamp > latest.get(entry["url"], "")
        ):
            latest[entry["url"]] = stamp
    return {url: _stamp_to_iso(stamp) for url, stamp in latest.items()}


def _page_entries(
    pages: Iterable[Page | dict[str, Any]], captures: dict[str, str]
) -> Iterator[dict[str, Any]]:
    for page in pages:
        if isinstance(page, dict):
            page = Page(url=page["url"], title=page.get("title"), ts=page.get("ts"))
        if page.url not in captures:
            continue
        entry: dict[str, Any] = {"id": uuid.uuid5(uuid.NAMESPACE_URL, page.url).hex, "url": page.url}
        entry["ts"] = page.ts or captures[page.url]
        if page.title:
            entry["title"] = page.title
        yield entry


def _stamp_to_iso(stamp: str) -> str:
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}Z"


def _info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.compress_type = compression
    return info


def _add_file(zf: zipfile.ZipFile, path: Path, name: str) -> dict[str, Any]:
    """Copy a WARC in uncompressed (ZIP_STORED), hashing it on the way."""
    sha256 = hashlib.sha256()
    size = 0
    with open(path, "rb") as src, zf.open(_info(name, zipfile.ZIP_STORED), "w", force_zip64=True) as dst:
        while chunk := src.read(COPY_CHUNK):
            sha256.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return {"name": path.name, "path": name, "hash": f"sha256:{sha256.hexdigest()}", "bytes": size}


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> dict[str, Any]:
    zf.writestr(_info(name, zipfile.ZIP_DEFLATED), data)
    return {
        "name": name.rsplit("/", 1)[-1],
        "path": name,
        "hash": f"sha256:{hashlib.sha256(data).hexdigest()}",
        "bytes": len(data),
    }
