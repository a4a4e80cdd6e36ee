"""SURT keys for CDXJ lines, matching the `surt` package's default canonicalisation.

pywb, cdxj-indexer and ReplayWeb.page look captures up by these keys, so ours must be identical to
`surt.surt(url)` (Google + IA canonicalisers: unescape/escape, lower-case, strip www and default port,
sort query arguments, drop the fragment and trailing slash). Written here so the runtime does not
depend on `surt`; tests compare both on a set of awkward URLs.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote_from_bytes, unquote_to_bytes

_SPACES = re.compile(rb"[\n\r\t]")
_HAS_SCHEME = re.compile(rb"^([a-zA-Z][a-zA-Z0-9+\-.]*):")
_MULTIPLE_PROTOCOLS = re.compile(rb"^(https?://)+")
_RFC2396 = re.compile(rb"^(([a-zA-Z][a-zA-Z0-9+\-.]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?")
_WWW = re.compile(rb"www\d*\.")
_DECIMAL_OR_OCTAL_IP = re.compile(rb"^[0-9][0-9.]*$")
_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PATH_SESSION = [
    re.compile(rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$", re.I),
    re.compile(rb"^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$", re.I),
]
_QUERY_SESSION = [
    re.compile(rb"^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$", re.I),
]
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


def surt(url: str) -> str:
    try:
        return _surt(url.encode("utf-8")).decode("utf-8")
    except Exception:  # a URL too odd to canonicalise is its own key, as cdxj-indexer does
        return url


def _surt(url: bytes) -> bytes:
    url = _SPACES.sub(b"", url.strip())
    if not url:
        return b"-"
    if url.startswith(b"filedesc"):
        return url
    if not _HAS_SCHEME.match(url):
        url = b"http://" + url
    url = _MULTIPLE_PROTOCOLS.sub(lambda m: m.group(1), url)
    m = _RFC2396.match(url)
    raw_scheme = m.group(2) or b""
    scheme = raw_scheme.lower()
    netloc, path, query = m.group(5) or b"", m.group(6) or b"", m.group(8)
    if m.group(7) is None or query == b"":
        query = None
    netloc = netloc.rstrip(b":")
    host, port = _split_host_port(netloc)
    if scheme.startswith(b"http") and not host and path:
        first, _, rest = path.lstrip(b"/").partition(b"/")
        host, path = first, b"/" + rest

    # GoogleURLCanonicalizer
    if query:
        query = _escape(_unescape(query))
    if host:
        host = _unescape(host)
        try:
            host.decode("ascii")
        except UnicodeDecodeError:
            host = host.decode("utf-8", "ignore").encode("idna")
        host = host.replace(b"..", b".").strip(b".")
        host = _ip(host) or _escape(host.lower())
    path = _unescape(path)
    if host:
        path = _normalize_path(path)
    path = _escape(path)

    # IAURLCanonicalizer
    if host:
        host = host.lower()
        www = _WWW.match(host)
        if www:
            host = host[len(www.group(0)) :]
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        port = None
    if path:
        path = path.lower()
        for pattern in _PATH_SESSION:
            found = pattern.match(path)
            if found:
                path = found.group(1) + found.group(3)
        if path.endswith(b"/") and len(path) > 1:
            path = path[:-1]
    if query:
        for pattern in _QUERY_SESSION:
            found = pattern.match(query)
            if found:
                query = found.group(1) + (found.group(2) or b"")
        query = _alpha_reorder(query.lower())
        if query == b"":
            query = None

    out = b""
    if host:
        out += _reverse_host(host)
        if port is not None:
            out += b":%d" % port
        out += b")"
    else:
        out += raw_scheme + b":"
    if path:
        out += path
    elif query is not None:
        out += b"/"
    if query is not None:
        out += b"?" + query
    return out


def _split_host_port(netloc: bytes) -> tuple[bytes, int | None]:
    hostport = netloc.rpartition(b"@")[2]
    if hostport.startswith(b"["):
        end = hostport.find(b"]")
        host, rest = hostport[1:end], hostport[end + 1 :]
        port = rest[1:] if rest.startswith(b":") else b""
    else:
        host, _, port = hostport.partition(b":")
    return host.lower(), (int(port) if port.isdigit() else None)


def _ip(host: bytes) -> bytes | None:
    if host.isdigit():
        return str(ipaddress.IPv4Address(int(host) & 0xFFFFFFFF)).encode()
    if _DECIMAL_OR_OCTAL_IP.match(host):
        try:
            return str(ipaddress.IPv4Address(host.decode())).encode()
        except ValueError:
            return None
    return None


def _reverse_host(host: bytes) -> bytes:
    return b",".join(reversed(host.split(b".")))


def _unescape(value: bytes) -> bytes:
    while True:
        unquoted = unquote_to_bytes(value)
        if unquoted == value:
            return value
        value = unquoted


def _escape(value: bytes) -> bytes:
    return quote_from_bytes(value, safe=_SAFE).encode("ascii") if value else value


def _normalize_path(path: bytes) -> bytes:
    if not path:
        return b"/"
    kept: list[bytes] = []
    for part in path.split(b"/")[1:]:
        if part == b".":
            continue
        if part == b".." and kept:
            kept.pop()
        else:
            kept.append(part)
    if not kept:
        return b"/"
    return b"/" + b"".join(p + b"/" for p in kept[:-1] if p) + kept[-1]


def _alpha_reorder(query: bytes) -> bytes:
    if len(query) <= 1:
        return query
    pairs = sorted(tuple(arg.split(b"=", 1)) for arg in query.split(b"&"))
    return b"&".join(b"=".join(p) for p in pairs)
