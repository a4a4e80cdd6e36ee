"""Site profiles: YAML data under crawler/sites/ that tune the generic spider for one site.

A profile never needs code. It names the columns to crawl (absolute URLs, or paths relative to
`base_url`, which `-a base_url=` overrides), the hosts the crawl may visit, optional URL patterns and
XPath/CSS selectors that override recognition, politeness and a cron schedule. `load_profile(name)`
validates everything and raises `ProfileError` with the file and the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from archive.endpoints import Endpoint
from archive.urls import host_of

SITES_DIR = Path(__file__).resolve().parent / "sites"
_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")

TOP_KEYS = {"name", "description", "base_url", "start_urls", "allowed_hosts", "patterns", "selectors",
            "politeness", "schedule", "endpoints"}
ENDPOINT_KEYS = {"url", "method", "body", "first_page", "pages", "records", "url_field", "title", "date", "column"}
PATTERN_KEYS = {"detail", "list", "ignore"}
SELECTOR_KEYS = {"list_links", "next_page", "column_name"}
# Profile politeness key -> (Scrapy setting, type).
POLITENESS_KEYS: dict[str, tuple[str, type]] = {
    "download_delay": ("DOWNLOAD_DELAY", float),
    "concurrent_requests_per_domain": ("CONCURRENT_REQUESTS_PER_DOMAIN", int),
    "autothrottle": ("AUTOTHROTTLE_ENABLED", bool),
    "autothrottle_target_concurrency": ("AUTOTHROTTLE_TARGET_CONCURRENCY", float),
    "autothrottle_max_delay": ("AUTOTHROTTLE_MAX_DELAY", float),
    "retry_times": ("RETRY_TIMES", int),
    "download_timeout": ("DOWNLOAD_TIMEOUT", int),
    "depth_limit": ("DEPTH_LIMIT", int),
    # incremental crawls: how often known documents are asked for again (crawler/middlewares/conditional.py)
    "recheck_young_days": ("GOVARCHIVE_RECHECK_YOUNG_DAYS", int),
    "recheck_old_every_days": ("GOVARCHIVE_RECHECK_OLD_EVERY_DAYS", int),
}


class ProfileError(ValueError):
    """A profile that cannot be used: missing, malformed YAML, or a bad field (named in the message)."""


class ProfileNotFound(ProfileError):
    """No profile by that name or path (a usage error for the command line)."""


@dataclass
class Profile:
    name: str
    start_urls: list[str]
    base_url: str | None = None
    description: str = ""
    allowed_hosts: list[str] = field(default_factory=list)
    detail_patterns: list[re.Pattern[str]] = field(default_factory=list)
    list_patterns: list[re.Pattern[str]] = field(default_factory=list)
    ignore_patterns: list[str] = field(default_factory=list)
    selectors: dict[str, str] = field(default_factory=dict)  # name -> XPath (CSS already translated)
    politeness: dict[str, Any] = field(default_factory=dict)  # Scrapy setting name -> value
    schedule: str | None = None
    endpoints: list[Endpoint] = field(default_factory=list)  # declared list APIs (archive/endpoints.py)

    @property
    def hosts(self) -> list[str]:
        """Hosts the crawl may visit: the declared ones, else those of the start URLs."""
        if self.allowed_hosts:
            return list(self.allowed_hosts)
        return sorted({host_of(u) for u in self.start_urls} - {""})


def start_targets(urls: list[str], profiles: list[Profile]) -> list[str]:
    """A crawl's start URLs: the URLs given (a bare host/path means http://), then the profiles', each
    once. What names a crawl: its resumable run, its key on a frontier."""
    given = [u if "://" in u else "http://" + u for u in urls]
    return list(dict.fromkeys([*given, *(u for p in profiles for u in p.start_urls)]))


def site_name(profiles: list[Profile]) -> str | None:
    """The name a crawl of these profiles records its runs under (None for start URLs alone)."""
    return ",".join(p.name for p in profiles) or None


def available_profiles(directory: Path = SITES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_profile(name_or_path: str, *, base_url: str | None = None, directory: Path = SITES_DIR) -> Profile:
    """Load and validate a profile by name (crawler/sites/NAME.yaml) or by path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        if not _NAME.match(name_or_path):
            raise ProfileNotFound(f"{name_or_path!r} is not a profile name (letters, digits, '-', '_', '.') "
                              "nor the path of a .yaml file")
        path = directory / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(available_profiles(directory)) or "none"
        raise ProfileNotFound(f"no site profile {name_or_path!r} ({path} not found; available: {known})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML{yaml_problem(exc)}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read: {exc}") from exc
    return parse_profile(data, source=str(path), default_name=path.stem, base_url=base_url)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one clause: where, and what was wrong."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f": {' '.join(str(exc).split())}"
    mark = exc.problem_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = exc.problem or "syntax error"
    context = ""
    if exc.context:
        start = exc.context_mark
        since = f" started at line {start.line + 1}" if start is not None and start.line != getattr(mark, "line", None) else ""
        context = f" ({exc.context}{since})"
    return f"{where}: {problem}{context}"


def parse_profile(data: Any, *, source: str = "<profile>", default_name: str = "profile",
                  base_url: str | None = None) -> Profile:
    """Validate profile data (a mapping from YAML) into a Profile."""
    def fail(msg: str) -> ProfileError:
        return ProfileError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise fail("a profile must be a mapping of fields (name, start_urls, …)")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise fail(f"unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(TOP_KEYS))}")
    name = _string(data.get("name", default_name), "name", fail)
    base = base_url or data.get("base_url")
    if base is not None:
        base = _string(base, "base_url", fail)
        if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
            raise fail(f"base_url {base!r} must be an absolute http(s) URL")
        base = base.rstrip("/") + "/"
    raw_urls = _string_list(data.get("start_urls"), "start_urls", fail)
    if not raw_urls:
        raise fail("start_urls: give at least one column URL")
    start_urls = []
    for url in raw_urls:
        if urlsplit(url).scheme in ("http", "https"):
            start_urls.append(url)
        elif base is None:
            raise fail(f"start_urls: {url!r} is relative but the profile has no base_url")
        else:
            start_urls.append(urljoin(base, url.lstrip("/")))
    hosts = [h.lower() for h in _string_list(data.get("allowed_hosts"), "allowed_hosts", fail)]
    if base and hosts:
        if host_of(base) not in hosts:
            hosts.append(host_of(base))  # an overridden base_url is always allowed
    patterns = _mapping(data.get("patterns"), "patterns", PATTERN_KEYS, fail)
    compiled = {key: [_regex(p, f"patterns.{key}", fail) for p in _string_list(patterns.get(key), f"patterns.{key}", fail)]
                for key in PATTERN_KEYS}
    selectors = {key: _selector(value, f"selectors.{key}", fail)
                 for key, value in _mapping(data.get("selectors"), "selectors", SELECTOR_KEYS, fail).items()}
    politeness = {}
    for key, value in _mapping(data.get("politeness"), "politeness", set(POLITENESS_KEYS), fail).items():
        setting, kind = POLITENESS_KEYS[key]
        if kind is bool and not isinstance(value, bool) or kind is not bool and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise fail(f"politeness.{key}: expected a {'true/false' if kind is bool else 'non-negative number'}, got {value!r}")
        politeness[setting] = kind(value)
    schedule = data.get("schedule")
    if schedule is not None:
        schedule = _cron(_string(schedule, "schedule", fail), fail)
    return Profile(
        name=name, start_urls=start_urls, base_url=base, description=str(data.get("description") or ""),
        allowed_hosts=hosts, detail_patterns=compiled["detail"], list_patterns=compiled["list"],
        ignore_patterns=[p.pattern for p in compiled["ignore"]], selectors=selectors, politeness=politeness,
        schedule=schedule, endpoints=_endpoints(data.get("endpoints"), base, fail),
    )


def _endpoints(value: Any, base: str | None, fail) -> list[Endpoint]:
    """`endpoints:` entries validated into archive.endpoints.Endpoint (see its docstring for the fields)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail("endpoints: expected a list of endpoints (url, records, url field …)")
    found = []
    for n, entry in enumerate(value):
        key = f"endpoints[{n}]"
        entry = _mapping(entry, key, ENDPOINT_KEYS, fail)
        url = _string(entry.get("url"), f"{key}.url", fail)
        if urlsplit(url).scheme not in ("http", "https"):
            if base is None:
                raise fail(f"{key}.url: {url!r} is relative but the profile has no base_url")
            url = urljoin(base, url.lstrip("/"))
        method = _string(entry.get("method", "GET"), f"{key}.method", fail).upper()
        if method not in ("GET", "POST"):
            raise fail(f"{key}.method: GET or POST, not {method!r}")
        body = entry.get("body")
        if body is not None and method != "POST":
            raise fail(f"{key}.body: only a POST endpoint has a body")
        if "{page}" not in url and "{page}" not in str(body or ""):
            raise fail(f"{key}: put {{page}} where the page number goes (in url or body)")
        numbers = {}
        for name, least in (("first_page", 0), ("pages", 1)):
            number = entry.get(name)
            if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < least):
                raise fail(f"{key}.{name}: expected a whole number >= {least}, got {number!r}")
            numbers[name] = number
        records = _string(entry.get("records"), f"{key}.records", fail)
        found.append(Endpoint(
            url=url, records=records, record_url=_string(entry.get("url_field", "url"), f"{key}.url_field", fail),
            method=method, body=_string(body, f"{key}.body", fail) if body is not None else None,
            first_page=numbers["first_page"] if numbers["first_page"] is not None else 1, pages=numbers["pages"],
            title=entry.get("title"), date=entry.get("date"), column=entry.get("column")))
    return found


def _string(value: Any, key: str, fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _string_list(value: Any, key: str, fail) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise fail(f"{key}: expected a list of strings, got {type(value).__name__}")
    return [_string(v, f"{key}[{i}]", fail) for i, v in enumerate(value)]


def _mapping(value: Any, key: str, allowed: set[str], fail) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(f"{key}: expected a mapping, got {type(value).__name__}")
    unknown = set(value) - allowed
    if unknown:
        raise fail(f"{key}: unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
    return value


def _regex(pattern: str, key: str, fail) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise fail(f"{key}: bad regular expression {pattern!r}: {exc}") from exc


def _selector(value: Any, key: str, fail) -> str:
    """An XPath (prefix `xpath:` or starting with / or ( ) or a CSS selector, returned as XPath."""
    text = _string(value, key, fail)
    try:
        if text.startswith("xpath:"):
            xpath = text.removeprefix("xpath:").strip()
        elif text.startswith(("/", "(", "./")):
            xpath = text
        else:
            xpath = HTMLTranslator().css_to_xpath(text.removeprefix("css:").strip())
        Selector(text="<html></html>").xpath(xpath)
    except Exception as exc:
        raise fail(f"{key}: bad selector {text!r}: {exc}") from exc
    return xpath


def _cron(value: str, fail) -> str:
    """A schedule croniter (which `govarchive schedule` runs it with) reads: 5 fields or a @macro."""
    from croniter import croniter

    value = value.strip()
    if (not value.startswith("@") and len(value.split()) != 5) or not croniter.is_valid(value):
        raise fail(f"schedule: {value!r} is not a cron expression (5 fields: minute hour day month weekday)")
    return value
