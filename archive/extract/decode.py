"""Turn response bytes into text, trusting the bytes over the declared charset.

Order: an explicit encoding from the caller; a byte-order mark; strict UTF-8 (GBK text with Chinese in
it is practically never valid UTF-8, so a page that decodes as UTF-8 *is* UTF-8 whatever it declares);
the declared charset (HTTP header, then ``<meta>``) if the bytes decode with it; GB18030 (the superset
of GB2312/GBK, by far the most common legacy charset on these sites); charset-normalizer; and finally
UTF-8 with replacement characters so that a damaged page still yields its readable part.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# How far into the document a <meta charset> is looked for (HTML requires it in the first 1024 bytes;
# real pages are sloppier, so look further).
META_SCAN_BYTES = 4096

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*(?:[\"']\s*)?([\w.:-]+)", re.IGNORECASE)

# A page with a few damaged bytes (a truncated multi-byte character, a stray byte) keeps its charset:
# text read with the wrong one turns nearly every Chinese character into U+FFFD, far above this share.
MAX_DAMAGE = 0.002

# Labels that mean "some flavour of GB": decode with the superset so that no character is lost.
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb18030", "cp936", "euc-cn", "hz-gb-2312"}

# Charsets web servers declare by default (Tomcat, old IIS): never the real charset of a Chinese page,
# and they decode any byte sequence, so trusting them would turn GBK into mojibake.
_SERVER_DEFAULTS = {"latin-1", "iso8859-1", "cp1252", "ascii"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def normalise_label(label: str | None) -> str | None:
    """Map a charset label to a Python codec name, or None when unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """The charsets the response declares, HTTP header first, without duplicates."""
    found: list[str] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            found.append(match.group(1))
    match = _META_CHARSET.search(body[:META_SCAN_BYTES])
    if match:
        found.append(match.group(1).decode("ascii", "ignore"))
    names = [normalise_label(label) for label in found]
    return list(dict.fromkeys(name for name in names if name))


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _slightly_damaged(text: str) -> bool:
    return text.count("\ufffd") <= MAX_DAMAGE * len(text)


def decode_body(body: bytes, content_type: str | None = None, encoding: str | None = None) -> tuple[str, str]:
    """Return ``(text, codec)`` for an HTML response body."""
    forced = normalise_label(encoding)
    if encoding and not forced:
        raise LookupError(f"unknown encoding {encoding!r}")
    if forced:
        return body.decode(forced, errors="replace"), forced
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace"), codec
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    loose = body.decode("utf-8", errors="replace")
    if _slightly_damaged(loose):
        return loose, "utf-8"
    candidates = [c for c in declared_charsets(body, content_type) if c != "utf-8" and c not in _SERVER_DEFAULTS]
    candidates = list(dict.fromkeys([*candidates, "gb18030"]))
    for codec in candidates:
        text = _strict(body, codec)
        if text is not None:
            return text, codec
    for codec in candidates:
        loose = body.decode(codec, errors="replace")
        if _slightly_damaged(loose):
            return loose, codec
    best = from_bytes(body).best()
    if best is not None and best.encoding:
        return str(best), normalise_label(best.encoding) or best.encoding
    return body.decode("utf-8", errors="replace"), "utf-8"
