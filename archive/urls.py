"""URL helpers shared by the extractor, the page recogniser, the reader and the crawler: the one home
for resolving links and naming hosts."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

_SKIP_SCHEMES = re.compile(r"^\s*(?:javascript|mailto|tel|sms|data|about|ftp|file):", re.IGNORECASE)


_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def clean_href(href: str) -> str:
    """An href as a browser reads it (WHATWG URL): tabs and newlines inside dropped, `\\` as `/`."""
    href = _TAB_NEWLINE.sub("", href.strip())
    if "\\" in href and not _SKIP_SCHEMES.match(href):
        href = href.replace("\\", "/")
    return href


def absolute(base: str, href: str | None) -> str | None:
    """`href` resolved against `base`, without its fragment; None for javascript:/mailto: and empties."""
    if not href:
        return None
    href = clean_href(href)
    if not href or href.startswith("#") or _SKIP_SCHEMES.match(href):
        return None
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, _netloc(parts), parts.path or "/", parts.query, ""))


def _netloc(parts: SplitResult) -> str:
    """The host in lower case, without the scheme's default port (`http://www.x.gov.cn:80/` is `www.x.gov.cn`),
    so the same page linked both ways is one URL (one request, one report)."""
    netloc = parts.netloc
    if "@" in netloc:
        return netloc
    default = (parts.scheme == "http" and netloc.endswith(":80")) or (parts.scheme == "https" and netloc.endswith(":443"))
    if default:
        netloc = netloc.rsplit(":", 1)[0]
    return netloc.lower()


def host_of(url: str) -> str:
    """`host` or `host:port` (a non-default port is part of the site: another port is another server)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return ""
    if port and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        return f"{host}:{port}"
    return host


def site_of(url: str) -> str | None:
    """The report's `site`: the host name in lower case, without port."""
    host = urlsplit(url).hostname
    return host.lower() if host else None
