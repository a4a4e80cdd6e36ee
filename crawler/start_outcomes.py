"""What each start URL led to, so a crawl that found nothing says where and why instead of "0 new".

The spider counts, per start URL, how its start page was read, the record links its column gave, the
record links skipped as off-site and the reports that came of them; at the end each start URL gets a
`problem` when it yielded no report: the start page failed, it is neither a list nor a detail page (an
unknown platform, or an app shell only a browser can render), its list showed no records (or its list
endpoint's records carry only ids and no script of the page builds their links), all its records are
off-site, or none of its records gave a report. An empty column (暂无信息) is no problem.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from archive.page import CHALLENGE, DETAIL, LIST, OTHER

STARTS_STAT = "govarchive/starts"
# Discovery's note for a JSON answer whose records have no URL field and no template (archive/discover.py).
UNLINKED = "records-without-urls"


@dataclass
class StartOutcome:
    url: str
    kind: str | None = None  # how the start page was read
    notes: list[str] = field(default_factory=list)  # the reader's reasons and discovery's notes
    records: int = 0  # record links followed from its column
    offsite: int = 0  # record links skipped because they leave the site
    reports: int = 0
    failure: str | None = None  # the start page's own failure

    @property
    def problem(self) -> str | None:
        if self.reports:
            return None
        if self.failure:
            return f"the start page failed: {self.failure}"
        if self.kind == LIST:
            if "empty-column" in self.notes:
                return None
            if not self.records and UNLINKED in self.notes:
                return ("its list endpoint's records carry only ids, and no script of the page builds their links "
                        "(declare the detail URL as a template, url_field: /…/{id}.html, in a site profile)")
            if not self.records and self.offsite:
                return f"all {self.offsite} record links lead off the site"
            if not self.records:
                return "a list page, but no record links were found in it (unknown platform?)"
            return f"{self.records} record links were followed, none gave a report (see the failures)"
        if self.kind == OTHER:
            if "shell" in self.notes:
                return "an app shell whose content only a browser can render"
            return "neither a list nor a detail page (unknown platform)"
        if self.kind == CHALLENGE:
            return "the site answers with an anti-bot challenge"
        if self.kind == DETAIL:
            return None if self.reports else "a detail page that gave no report"
        return "nothing was read from it" if self.kind is None else f"read as {self.kind}, no report"

    def as_dict(self) -> dict:
        return {**asdict(self), "problem": self.problem}
