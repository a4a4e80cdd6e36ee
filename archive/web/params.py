"""Search parameters from a URL, and URLs for the links a results page offers (facets, pages).

The pages and the JSON API read the same parameters (`q, site, column, issuer, doc_number, since,
until, withdrawn, page`; the filters of `govarchive search`), so both go through `SearchParams.parse`; a bad value becomes a `ParamError`
with a message for the reader, never a traceback or a framework's validation dump.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from archive.store import Filters

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
FILTER_NAMES = ("site", "column", "issuer", "doc_number", "since", "until", "withdrawn")
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class ParamError(ValueError):
    """A parameter the server cannot use; the message names it."""


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    site: str = ""
    column: str = ""
    issuer: str = ""
    doc_number: str = ""
    since: str = ""
    until: str = ""
    withdrawn: str = ""  # "", "true" or "false"
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def parse(cls, query: Mapping[str, str], *, sizable: bool = False) -> SearchParams:
        values = {name: (query.get(name) or "").strip() for name in ("q", *FILTER_NAMES)}
        withdrawn = values["withdrawn"].lower()
        if withdrawn in TRUE:
            values["withdrawn"] = "true"
        elif withdrawn in FALSE:
            values["withdrawn"] = "false"
        elif withdrawn:
            raise ParamError(f"withdrawn must be true or false, not {values['withdrawn']!r}")
        page = _int(query.get("page"), "page", 1, 10_000, default=1)
        size = _int(query.get("size"), "size", 1, MAX_PAGE_SIZE, default=PAGE_SIZE) if sizable else PAGE_SIZE
        params = cls(**values, page=page, size=size)
        params.filters()  # a bad date is reported now, as a parameter error
        return params

    def filters(self) -> Filters:
        try:
            return Filters(
                site=self.site or None,
                column=self.column or None,
                issuer=self.issuer or None,
                doc_number=self.doc_number or None,
                since=self.since or None,
                until=self.until or None,
                withdrawn=None if not self.withdrawn else self.withdrawn == "true",
            )
        except ValueError as exc:
            raise ParamError(str(exc)) from exc

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        return [(name, getattr(self, name)) for name in FILTER_NAMES if getattr(self, name)]

    def url(self, path: str = "/search", **changes: str | int) -> str:
        """The URL of these parameters with some changed (a facet picked, another page); page 1
        unless a page is given, and empty values left out so links stay short."""
        changed = replace(self, **{"page": 1, **changes})
        pairs = [(f.name, getattr(changed, f.name)) for f in fields(changed)]
        kept = [(k, v) for k, v in pairs if v not in ("", None) and not (k == "page" and v == 1)
                and not (k == "size" and v == PAGE_SIZE)]
        return path + ("?" + urlencode(kept) if kept else "")


def _int(raw: str | None, name: str, low: int, high: int, *, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ParamError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ParamError(f"{name} must be between {low} and {high}, not {value}")
    return value
