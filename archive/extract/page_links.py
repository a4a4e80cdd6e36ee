"""Attachments (附件) and images, with absolute URLs."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from archive.extract.text import element_text, join_cjk
from archive.report import Attachment
from archive.urls import clean_href

_DOC_EXT = re.compile(
    r"\.(?:pdf|docx?|xlsx?|xlsm|pptx?|wps|et|dps|ofd|zip|rar|7z|gz|tar|csv|tiff?|ceb|rtf|txt)$", re.IGNORECASE
)
_DOWNLOAD_PATH = re.compile(r"download|downfile|filedown|getfile|attach|fileserver", re.IGNORECASE)
# The last path segment of a download route is a file id: /download/3412, /attach/get/9f3c2a7e.
_ID_SEGMENT = re.compile(r"/(?=[\w-]*\d)[\w-]{2,64}/?$")
_PAGE_EXT = re.compile(r"\.s?html?$", re.IGNORECASE)
_SKIP_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#)", re.IGNORECASE)
_ICON = re.compile(r"icon|ico_|spacer|blank\.gif|/(?:file|doc|pdf|xls|zip|rar)\.(?:gif|png)$", re.IGNORECASE)
# Images this small (declared width or height) are bullets, spacers and file-type icons.
MIN_IMAGE_SIDE = 24


# Characters a URL keeps as they are; everything else (Chinese file names, spaces) is percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def request_url(base: str, href: str) -> str:
    """`href` resolved against `base` and percent-encoded (UTF-8) as a browser or the crawler requests it,
    so an attachment's URL in the report is the very URL its fetched file is stored under."""
    url = urljoin(base, clean_href(href))
    return url if url.isascii() and " " not in url else quote(url, safe=_URL_SAFE)


def page_base(root: etree._Element, url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if present, else the page URL."""
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return urljoin(url, href.strip())
    return url


def is_attachment_link(a: etree._Element) -> bool:
    href = a.get("href") or ""
    if not href or _SKIP_HREF.match(href):
        return False
    parts = urlsplit(clean_href(href))
    if _DOC_EXT.search(parts.path):
        return True
    return bool(_DOC_EXT.search(element_text(a))) or is_download_endpoint(parts.path, parts.query)


def is_download_endpoint(path: str, query: str) -> bool:
    """A download script or route serving files without an extension: `downfile.jsp?…`, `/download/3412`.
    A static page about downloading (`/app/download.html?from=…`) is a page, not a file."""
    if _PAGE_EXT.search(path):
        return False
    return bool(_DOWNLOAD_PATH.search(path)) and bool(query or _ID_SEGMENT.search(path))


def _name(a: etree._Element, url: str) -> str:
    name = join_cjk(element_text(a)) or (a.get("title") or "").strip()
    return name or unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def extract_attachments(root: etree._Element, base: str) -> list[Attachment]:
    """Every document link of the (cleaned) page, first name wins, in page order."""
    found: dict[str, Attachment] = {}
    for a in root.iter("a"):
        if not is_attachment_link(a):
            continue
        url = request_url(base, a.get("href") or "")
        name = _name(a, url)
        if url not in found:
            found[url] = Attachment(url=url, name=name)
        elif not found[url].name:
            found[url].name = name
    return list(found.values())


def _image_src(img: etree._Element) -> str:
    for attr in ("data-original", "data-src", "original-src", "src"):
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return value
    return ""


def _too_small(img: etree._Element) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < MIN_IMAGE_SIDE:
            return True
    return False


def extract_images(body: etree._Element, base: str) -> list[str]:
    """Absolute URLs of the body's images, without icons and spacers."""
    images: list[str] = []
    for img in body.iter("img"):
        src = _image_src(img)
        if not src or _ICON.search(src) or _too_small(img):
            continue
        url = request_url(base, src)
        if url not in images:
            images.append(url)
    return images
