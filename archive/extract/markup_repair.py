"""Repair markup that would make lxml lose the page before it is parsed.

Server-side includes often paste a whole document (header or footer fragment) into the page, leaving a
stray ``</body></html>`` in the middle. libxml2 stops building the tree at the first ``</html>`` and
silently drops everything after it, which is usually the article. Closing tags of ``body`` and ``html``
carry no information (the parser closes them at the end anyway), so they are all removed.
"""

from __future__ import annotations

import re

_DOCUMENT_CLOSERS = re.compile(r"</\s*(?:body|html)\s*>", re.IGNORECASE)
_NUL = "\x00"


def repair_markup(text: str) -> str:
    """Return `text` without ``</body>``/``</html>`` closers and NUL characters."""
    text = _DOCUMENT_CLOSERS.sub("", text)
    if _NUL in text:
        text = text.replace(_NUL, "")
    return text
