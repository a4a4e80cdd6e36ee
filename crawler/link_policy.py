"""Link policy: which URLs the spider may follow, and which of them are attachments.

Pure functions over URL strings, so the spider and the tests share one definition of "stays on the
site" and "is a trap". (Whether a fetched response is a file is `archive.page.is_file_response`'s.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from archive.extract.page_links import is_download_endpoint
from archive.urls import host_of

# Extensions of documents government sites publish as 附件 (et = WPS spreadsheet, ceb = Apabi e-book).
ATTACHMENT_EXTENSIONS = frozenset({
    "pdf", "doc", "docx", "xls", "xlsx", "xlsm", "ppt", "pptx", "wps", "et", "dps", "ofd", "zip", "rar", "7z",
    "gz", "tar", "csv", "rtf", "txt", "ceb", "caj", "tif", "tiff",
})
# Download endpoints that serve files without an extension in the path (Hanweb downfile.jsp, /download/3412):
# one definition, archive.extract.page_links.is_download_endpoint, shared with the extractor.

# Navigation, search, login, interaction and calendar pages: never part of a column's records.
NAVIGATION_PATTERNS = (
    r"/(?:search|so|sousuo|jsearch|fulltextsearch|solr|was5/web/search)(?:[/?.]|$)",
    r"(?:^|[/?&_.])(?:login|logon|signin|sign_in|register|logout|passport|sso|cas)(?:[/?&=.]|$)",
    r"/(?:calendar|rili|huodongrili)(?:[/?.]|$)",
    r"[?&](?:date|day|month|year|ym|riqi)=\d{4}(?:-\d{1,2}){0,2}(?:&|$)",  # query-date calendars
    r"[?&](?:q|query|keyword|keywords|searchword|wd|kw)=",
    r"/(?:hdjl|interact|mailbox|xfxx|zxts|liuyan|guestbook)(?:[/?.]|$)",  # 互动交流, 信箱, 投诉
    r"/cgi-bin/",
    r"/(?:rss|feed)(?:\.xml)?(?:[/?]|$)",
    r"[?&](?:print|share|lang)=",
)
# Session ids in the URL make every visit a new URL: an infinite space.
SESSION_PATTERN = re.compile(r"(?:;jsessionid=|[?&](?:jsessionid|phpsessid|sid|sessionid|aspsessionid\w*)=)",
                             re.IGNORECASE)
# Trap safety nets: deep paths and a path segment repeated (a/b/a/b/…) come from relative-link loops.
MAX_PATH_SEGMENTS = 12
MAX_SEGMENT_REPEATS = 2
MAX_URL_LENGTH = 1024


@dataclass
class LinkPolicy:
    """Where a crawl may go. `allowed_hosts` entries starting with "." also allow their subdomains."""

    allowed_hosts: set[str]
    ignore_patterns: list[re.Pattern[str]] = field(default_factory=list)
    # Registrable domains of the start hosts (beijing.gov.cn for www.beijing.gov.cn): a column's records
    # and attachments often live on a sibling host (xxgk.…, file.…); pagination and navigation never do.
    site_domains: set[str] = field(default_factory=set)
    navigation_patterns: list[re.Pattern[str]] = field(
        default_factory=lambda: [re.compile(p, re.IGNORECASE) for p in NAVIGATION_PATTERNS])

    @classmethod
    def for_start_urls(cls, urls: Iterable[str], *, extra_hosts: Iterable[str] = (),
                       ignore: Iterable[str] = ()) -> LinkPolicy:
        hosts = {host_of(u) for u in urls if host_of(u)} | {h.lower() for h in extra_hosts}
        domains = {d for u in urls if (d := registrable_domain(urlsplit(u).hostname or ""))}
        return cls(allowed_hosts=hosts, ignore_patterns=[re.compile(p) for p in ignore], site_domains=domains)

    def host_allowed(self, url: str) -> bool:
        host = host_of(url)
        if not host:
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        for allowed in self.allowed_hosts:
            if allowed.startswith("."):  # the domain and its subdomains, any port
                if name == allowed[1:] or name.endswith(allowed):
                    return True
            elif host == allowed or (":" not in allowed and name == allowed and host == name):
                return True
        return False

    def same_site(self, url: str) -> bool:
        """On a start host, or on another host of the same registrable domain (default port only)."""
        if self.host_allowed(url):
            return True
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        domain = registrable_domain(parts.hostname or "")
        return bool(domain) and domain in self.site_domains and port in (None, 80, 443) and "." in domain \
            and not _IP_HOST.match(parts.hostname or "")

    def reject_reason(self, url: str, *, record: bool = False, endpoint: bool = False) -> str | None:
        """Why `url` must not be followed, or None when it may be. A `record` (a list's record link)
        may sit on a sibling host of the site. An `endpoint` (the list API a list page's own script
        calls, `search.jsp?…&sid=…`) is part of the list: search and session-id patterns do not apply."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return "scheme"
        if not (self.same_site(url) if record else self.host_allowed(url)):
            return "offsite"
        if len(url) > MAX_URL_LENGTH:
            return "too_long"
        if SESSION_PATTERN.search(url) and not endpoint:
            return "session_id"
        if is_deep_or_looping(parts.path):
            return "path_trap"
        target = parts.path + ("?" + parts.query if parts.query else "")
        if any(p.search(target) for p in self.ignore_patterns):
            return "ignored"
        if any(p.search(target) for p in self.navigation_patterns) and not endpoint:
            return "navigation"
        return None

    def allows(self, url: str) -> bool:
        return self.reject_reason(url) is None

    def allows_attachment(self, url: str) -> bool:
        """Attachments need only stay on the site: a download endpoint may look like anything."""
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and self.same_site(url) and len(url) <= MAX_URL_LENGTH \
            and not any(p.search(parts.path + "?" + parts.query) for p in self.ignore_patterns)




# Second-level suffixes under which a name is registered one level deeper (www.beijing.gov.cn → beijing.gov.cn).
_SECOND_LEVEL = frozenset({"gov", "com", "org", "net", "edu", "ac", "mil"})
_IP_HOST = re.compile(r"^[\d.]+$|:")


def registrable_domain(hostname: str) -> str:
    """The domain a site registered: `beijing.gov.cn` for `fgw.beijing.gov.cn`, `example.com` for
    `www.example.com`; an IP address (or a one-label name) is its own domain."""
    hostname = hostname.lower().rstrip(".")
    if not hostname or _IP_HOST.match(hostname):
        return hostname
    labels = hostname.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def is_deep_or_looping(path: str) -> bool:
    segments = [s for s in path.split("/") if s]
    if len(segments) > MAX_PATH_SEGMENTS:
        return True
    counts: dict[str, int] = {}
    for seg in segments:
        counts[seg] = counts.get(seg, 0) + 1
        if counts[seg] > MAX_SEGMENT_REPEATS and not seg.isdigit():
            return True
    return False


def extension(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_attachment_url(url: str) -> bool:
    """A document link by its extension, or a download endpoint's file name in the query."""
    if extension(url) in ATTACHMENT_EXTENSIONS:
        return True
    parts = urlsplit(url)
    if is_download_endpoint(parts.path, parts.query):
        return True
    return any(extension("/" + v) in ATTACHMENT_EXTENSIONS for _, v in parse_qsl(parts.query))
