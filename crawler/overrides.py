"""`-s NAME=VALUE` as the crawl commands take it: parsed, checked against the setting's type (a usage
error naming it) and its known names (a warning with the closest one), and laid over the project
settings with --db / --warc-dir. Shared by `crawl` and `schedule`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from archive.config import default_db_url, default_warc_dir

SETTINGS_MODULE = "crawler.settings"


def parse_overrides(overrides: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r}: use -s NAME=VALUE", param_hint="-s")
        values[name.strip()] = value
    return values


# Settings read by our components that have no default in crawler/settings.py.
EXTRA_SETTING_NAMES = ("GOVARCHIVE_PROGRESS_ENABLED",)
CHOICE_SETTINGS: dict[str, tuple[str, ...]] = {
    "GOVARCHIVE_PROGRESS": ("auto", "on", "off", "true", "false", "1", "0", "yes", "no", "always", "never"),
}
_BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False}
_SECONDS = ("TIMEOUT", "DELAY", "INTERVAL")


def check_overrides(values: dict[str, str], settings: Any) -> None:
    """-s values of the setting's type (usage error naming it, exit 2); a warning with the closest
    known name for a name that is neither Scrapy's nor ours (`DOWNLOAD_DELAI` → DOWNLOAD_DELAY)."""
    import difflib

    from scrapy.settings import default_settings

    project_defaults = {k: v for k, v in vars(default_settings).items() if k.isupper()}
    from importlib import import_module

    ours = {k: v for k, v in vars(import_module(SETTINGS_MODULE)).items() if k.isupper()}
    known = {**project_defaults, **ours, **{name: None for name in EXTRA_SETTING_NAMES}}
    for name, value in values.items():
        if name not in known and name.isupper() and (deprecated := _deprecated_scrapy_default(name)) is not None:
            known[name] = deprecated  # still honoured by Scrapy (CONCURRENT_REQUESTS_PER_IP), which warns itself
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else ""
            click.echo(f"warning: -s {name}: neither a Scrapy nor a govarchive setting, ignored by both{hint}",
                       err=True)
            continue
        problem = setting_value_problem(name, value, known[name])
        if problem:
            raise click.UsageError(f"-s {name}={value}: {problem}")


def _deprecated_scrapy_default(name: str) -> Any:
    """The default of a deprecated Scrapy setting its settings module still answers for, else None."""
    import warnings

    from scrapy.settings import default_settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(default_settings, name)
        except AttributeError:
            return None


def setting_value_problem(name: str, value: str, default: Any) -> str | None:
    """Why `value` cannot be the setting `name` (whose default is `default`), or None."""
    text = value.strip()
    if name == "GOVARCHIVE_EXTRACT_WORKERS":
        return None if text == "auto" or text.isdigit() else f"{name} is auto or a number of processes (0: inline)"
    if name in CHOICE_SETTINGS:
        choices = CHOICE_SETTINGS[name]
        return None if text.lower() in choices else f"{name} is one of {', '.join(choices[:3])}"
    if isinstance(default, bool) or name.endswith("_ENABLED"):  # Scrapy's flags may default to 1/0
        return None if text in _BOOL_VALUES or text in ("True", "False") else (
            f"{name} is true or false (also True/False, 1/0)")
    if isinstance(default, int) and not (name.endswith(_SECONDS) or any(w in name for w in _SECONDS)):
        try:
            number = int(text)
        except ValueError:
            return f"{name} is a whole number"
        return f"{name} cannot be negative" if number < 0 and name.startswith("CONCURRENT_") else None
    if isinstance(default, int | float):
        seconds = any(w in name for w in _SECONDS)
        try:
            number = float(text)
        except ValueError:
            return f"{name} is a number" + (" of seconds" if seconds else "")
        if number < 0 and (seconds or name.startswith("CONCURRENT_")):
            return f"{name} cannot be negative"
    return None


def crawl_settings(overrides: dict[str, str], *, db_url: str | None, warc_dir: Path | None) -> Any:
    """The project settings (found from anywhere), then -s, then --db/--warc-dir, at cmdline priority."""
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if db_url and not ("GOVARCHIVE_DB" in overrides and db_url == default_db_url()):
        settings.set("GOVARCHIVE_DB", db_url, priority="cmdline")
    if warc_dir:
        settings.set("GOVARCHIVE_WARC_DIR", str(warc_dir), priority="cmdline")
    elif "GOVARCHIVE_WARC_DIR" not in overrides:
        settings.set("GOVARCHIVE_WARC_DIR", str(default_warc_dir()), priority="cmdline")
    if "LOG_LEVEL" not in overrides:
        # The progress line and the summary say what happened; keep Scrapy's INFO chatter out.
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    return settings
