"""Anti-bot challenge pages: the one place that says whether a response is a challenge, not content.

The common Chinese WAFs answer a first visit with a stub that sets a cookie by script and reloads:
瑞数 (status 412, `$_ts`), 加速乐 (status 521, `__jsl_clearance` / `__jsluid`), 360 网站卫士
(`wzws_cid`, `WZWS_CONFIRM`), 安全狗, 云锁, and the generic `_guard/auto.js` / `challenge-platform`
scripts. Real pages behind the same WAF often carry the same scripts and cookies, so a marker (in the
page or in a Set-Cookie) only counts when the page shows almost no text. Challenges are recorded and
backed off from, never defeated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

CHALLENGE_STATUSES = frozenset({412, 521})
# Plain substrings first (a C-speed scan of every page), the precise regex only on a hit.
_HINTS = ("$_ts", "jsl_clearance", "__jsluid", "wzws", "WZWS", "yunsuo_session_verify", "safedog", "SafeDog",
          "_guard/auto.js", "challenge-platform")
_SCRIPT_MARKER = re.compile(
    r"\$_ts\s*=|\$_ts\.|__jsl_clearance|jsl_clearance|__jsluid|wzws_cid|wzwschallenge|WZWS_CONFIRM"
    r"|yunsuo_session_verify|safedog|_guard/auto\.js|challenge-platform",
    re.IGNORECASE,
)
# 加速乐 and 360 cookies by name; 瑞数 sets pairs of long random names ending in S/T (…80S, …80T, …OS).
_COOKIE_MARKER = re.compile(r"^\s*(?:__jsl_clearance\w*|__jsluid\w*|wzws_cid|\w{10,}(?:80|O)[ST])=", re.IGNORECASE)
# A challenge stub shows (almost) no text; a real page behind the same WAF shows its content.
MAX_VISIBLE_CHARS = 200


def challenge_reason(status: int | None, set_cookies: Iterable[str], text: str | None,
                     visible_chars: Callable[[], int] | int | None = None) -> str | None:
    """Why the response is a challenge rather than content, or None.

    `visible_chars` is the page's visible text length, or a callable computing it: it is only needed
    when a marker was found, so the common page pays for the substring scan alone.
    """
    if status in CHALLENGE_STATUSES:
        return f"HTTP {status} challenge"
    marker = _SCRIPT_MARKER.search(text) if text and any(h in text for h in _HINTS) else None
    cookie = next((c.split("=", 1)[0].strip() for c in set_cookies if _COOKIE_MARKER.match(c)), None)
    if not marker and not cookie:
        return None
    visible = visible_chars() if callable(visible_chars) else (visible_chars or 0)
    if visible > MAX_VISIBLE_CHARS:
        return None
    return f"challenge script {marker.group(0)!r}" if marker else f"challenge cookie {cookie}"
