"""Which pages the browser renders, and whether there is a browser to render them.

`auto` sends a page to the browser once the reader has recognised it as an app shell (an empty mount
element and script bundles, nothing a static reader can follow: `archive.discover.looks_like_shell`);
`always` fetches every page and record through it (endpoint calls and attachments stay plain HTTP: a
browser adds nothing to JSON or a PDF); `never` keeps the static reader's answer. The browser is Debian's
`chromium` package: without it a shell is a recorded failure that says what to install, never a silent
skip.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from archive.discover import Link
from archive.page import LIST, OTHER, SHELL, PageReading

AUTO, ALWAYS, NEVER = "auto", "always", "never"
MODES = (AUTO, ALWAYS, NEVER)
# Failure kind of a page the browser should have rendered and could not.
FAILURE_KIND = "browser"
INSTALL_HINT = "install Debian's chromium package (apt-get install chromium)"
# request.meta: the request goes through the browser (scrapy-playwright's own key).
META_KEY = "playwright"


@dataclass(frozen=True)
class BrowserChoice:
    mode: str
    executable: str | None  # the resolved path, None when it is not installed
    setting: str  # GOVARCHIVE_BROWSER_EXECUTABLE as given, for messages

    @classmethod
    def from_settings(cls, settings: Any) -> BrowserChoice:
        mode = str(settings.get("GOVARCHIVE_BROWSER")).strip().lower()
        if mode not in MODES:
            raise ValueError(f"GOVARCHIVE_BROWSER must be one of {', '.join(MODES)}, not {mode!r}")
        setting = str(settings.get("GOVARCHIVE_BROWSER_EXECUTABLE"))
        choice = cls(mode, shutil.which(setting), setting)
        if mode == ALWAYS and choice.executable is None:
            raise ValueError(f"GOVARCHIVE_BROWSER=always needs a browser, and {setting!r} was not found: {INSTALL_HINT}")
        return choice

    def renders_first(self, link: Link, endpoint: bool) -> bool:
        """`always`: a page or record link goes to the browser from the start (not an endpoint's call)."""
        return self.mode == ALWAYS and link.method == "GET" and not link.body and not endpoint

    def renders_shells(self) -> bool:
        return self.mode != NEVER

    def missing(self, url: str) -> str:
        """The failure detail of a shell that no browser can render here."""
        return (f"{url} is a single-page app that only a browser can render, and no browser was found "
                f"(GOVARCHIVE_BROWSER_EXECUTABLE={self.setting!r}): {INSTALL_HINT}")


def is_shell(reading: PageReading) -> bool:
    """The reader saw an app shell: no records, nothing to follow, only script bundles."""
    if reading.kind == OTHER:
        return SHELL in reading.reasons
    return reading.kind == LIST and reading.links is not None and SHELL in reading.links.handlers


def browser_failure(url: str, error: BaseException) -> str:
    """The failure detail of a page the browser could not render: it would not start, or the page timed out."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    hint = f": {INSTALL_HINT}" if "launch" in first_line.lower() else ""
    return f"{url}: the browser could not render it ({type(error).__name__}: {first_line}){hint}"
