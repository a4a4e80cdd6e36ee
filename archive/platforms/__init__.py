"""Per-platform knowledge, one module per publishing platform, its facts as the module's docstring.

A platform module declares `NAME`, `recognise(url, text) -> "list" | "detail" | None` (what recognition
cannot see in the page's structure: a shell whose list comes from an API) and `discover(url, text,
fragment) -> Discovery | None` (what its list pages lead to). Everything the general mechanisms already read
(JSON lists by shape, endpoints called by inline scripts, frames) needs no module: the next platform is a
file here only for facts no page states.
"""

from __future__ import annotations

from types import ModuleType

from archive.linktypes import Discovery
from archive.platforms import gkmlpt

PLATFORMS: tuple[ModuleType, ...] = (gkmlpt,)


def recognise(url: str, text: str) -> tuple[str, str] | None:
    """(kind, platform name) when a platform knows the page."""
    for platform in PLATFORMS:
        if kind := platform.recognise(url, text):
            return kind, platform.NAME
    return None


def discover(url: str, text: str, fragment: str | None = None) -> Discovery | None:
    for platform in PLATFORMS:
        if (found := platform.discover(url, text, fragment)) is not None:
            return found
    return None
