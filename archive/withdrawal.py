"""Withdrawals: the one place that says a document is gone, from its status or from a notice page.

A withdrawn document answers 404/410, or its page is replaced by a short notice (该信息已撤销 / 已删除 /
已撤回 / 已失效 / 已下线 / 已废止). Either way the stored report is flagged withdrawn with the date seen and
the reason; nothing is deleted and a notice never becomes a version of the report.
"""

from __future__ import annotations

import re

from archive.report import Report

WITHDRAWN_STATUSES = frozenset({404, 410})
_NOTICE = re.compile(
    r"(?:该|此|本)?条?(?:信息|内容|文章|页面|文件|稿件)?(?:已经?|已被)(?:被)?"
    r"(?:撤销|删除|撤回|失效|撤稿|下线|废止)"
)
# A notice is a short page; a long article that mentions 已失效 or 已废止 is still an article.
NOTICE_MAX_CHARS = 120


def status_reason(status: int | None) -> str | None:
    """"HTTP 404" / "HTTP 410" for an answer that means the document is gone, else None."""
    return f"HTTP {status}" if status in WITHDRAWN_STATUSES else None


def notice_reason(report: Report) -> str | None:
    """The withdrawal reason when `report` is a "该信息已撤销" notice rather than a document, else None."""
    body = report.body_text or ""
    if len(body) > NOTICE_MAX_CHARS:
        return None
    if _NOTICE.search(body) or (not body and _NOTICE.search(report.title or "")):
        return "withdrawal notice: " + " ".join((report.title or body[:80]).split())
    return None
