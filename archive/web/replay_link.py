"""The link from a report to its replay in pywb, shown only while `govarchive replay` answers.

pywb runs as its own process (`govarchive replay --port 8080`), so the server asks it whether it is
up: one short request, remembered for a while, so report pages never wait on it more than once
every `ttl` seconds.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request


class ReplayLink:
    def __init__(self, base_url: str | None, *, ttl: float = 30.0, timeout: float = 0.3) -> None:
        self.base_url = (base_url.rstrip("/") + "/") if base_url else None
        self.ttl = ttl
        self.timeout = timeout
        self._checked_at = float("-inf")
        self._up = False
        self._lock = threading.Lock()

    def available(self) -> bool:
        if self.base_url is None:
            return False
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl:
                return self._up
            self._up = self._probe()
            self._checked_at = time.monotonic()
            return self._up

    def _probe(self) -> bool:
        assert self.base_url is not None
        try:
            with urllib.request.urlopen(self.base_url, timeout=self.timeout):
                return True
        except urllib.error.HTTPError:
            return True  # it answers, if not on this path
        except (OSError, ValueError):
            return False

    def url_for(self, url: str, captured_at: str | None) -> str | None:
        """pywb's address of `url` as captured at `captured_at` (ISO date), if replay is up."""
        if not self.available():
            return None
        stamp = re.sub(r"\D", "", captured_at or "")[:14]
        return f"{self.base_url}{stamp}/{url}" if stamp else f"{self.base_url}{url}"
