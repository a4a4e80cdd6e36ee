"""Console entry point: archive's CLI plus the `crawl` verb, which needs Scrapy."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import click

from archive.cli import cli, main  # noqa: F401  (main is the console script)
from archive.config import default_db_url, default_warc_dir

SETTINGS_MODULE = "crawler.settings"
SPIDER_NAME = "disclosure"
# Loggers whose one-line message says it all (an unreachable robots.txt): no traceback for users.
QUIET_TRACEBACKS = ("scrapy.downloadermiddlewares.robotstxt",)


@click.command("crawl")
@click.argument("urls", nargs=-1, metavar="[URL ...]")
@click.option("--site", "sites", multiple=True, metavar="NAME", help="Site profile (crawler/sites/NAME.yaml); repeatable.")
@click.option("--db", "db_url", metavar="DBURL", help="SQLAlchemy URL [default: $GOVARCHIVE_DB or sqlite:///data/govarchive.db].")
@click.option("--warc-dir", type=click.Path(file_okay=False, path_type=Path), help="WARC directory [default: data/warc].")
@click.option("-s", "--set", "overrides", multiple=True, metavar="SETTING=VALUE",
              help="Override a Scrapy setting, as `scrapy crawl -s` does; repeatable.")
def crawl_cmd(urls: tuple[str, ...], sites: tuple[str, ...], db_url: str | None, warc_dir: Path | None,
              overrides: tuple[str, ...]) -> None:
    """Crawl disclosure columns (栏目) into the database and WARC files.

    Give the column URLs a person would open, or a site profile with --site. Exits non-zero when the
    site could not be crawled at all.

    Example: govarchive crawl http://127.0.0.1:8000/xxgk/tzgg/ --db sqlite:///data/demo.db
    """
    if not urls and not sites:
        raise click.UsageError("give at least one column URL or --site NAME")
    settings = crawl_settings(parse_overrides(overrides), db_url=db_url, warc_dir=warc_dir)
    check_database(settings.get("GOVARCHIVE_DB"))
    summary = run_crawl(list(urls), list(sites), settings)
    if summary is None:
        raise click.ClickException("the crawl could not start (see the messages above)")
    if summary.get("status") == "failed":
        raise click.ClickException(failure_message(list(urls) or list(sites), summary))
    if summary.get("status") == "interrupted":
        click.echo(f"interrupted: crawl run {summary.get('run_id')} stopped before the end; what was read is stored",
                   err=True)
        raise SystemExit(130)


def parse_overrides(overrides: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r}: use -s NAME=VALUE", param_hint="-s")
        values[name.strip()] = value
    return values


def crawl_settings(overrides: dict[str, str], *, db_url: str | None, warc_dir: Path | None) -> Any:
    """The project settings (found from anywhere), then -s, then --db/--warc-dir, at cmdline priority."""
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if db_url:
        settings.set("GOVARCHIVE_DB", db_url, priority="cmdline")
    elif "GOVARCHIVE_DB" not in overrides:
        settings.set("GOVARCHIVE_DB", default_db_url(), priority="cmdline")
    if warc_dir:
        settings.set("GOVARCHIVE_WARC_DIR", str(warc_dir), priority="cmdline")
    elif "GOVARCHIVE_WARC_DIR" not in overrides:
        settings.set("GOVARCHIVE_WARC_DIR", str(default_warc_dir()), priority="cmdline")
    if "LOG_LEVEL" not in overrides:
        # The progress line and the summary say what happened; keep Scrapy's INFO chatter out.
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    return settings


def check_database(db_url: str) -> None:
    """Open the database once before crawling: a wrong URL or an old schema is a clear error up front."""
    from archive.store import Store
    from crawler.extensions.crawl_run import safe_url

    try:
        Store(db_url).close()
    except Exception as exc:
        raise click.ClickException(f"cannot use the database {safe_url(db_url)}: {exc}") from exc


def run_crawl(urls: list[str], sites: list[str], settings: Any) -> dict[str, Any] | None:
    """Run the disclosure spider to the end; the crawl's summary, or None if it never started."""
    from scrapy.crawler import CrawlerProcess

    from archive.store import Store
    from crawler.extensions.crawl_run import RUN_ID_STAT

    process = CrawlerProcess(settings)
    for name in QUIET_TRACEBACKS:
        logging.getLogger(name).addFilter(drop_traceback)
    try:
        crawler = process.create_crawler(SPIDER_NAME)
    except KeyError as exc:
        raise click.ClickException(f"no spider named {SPIDER_NAME!r} in {settings.getlist('SPIDER_MODULES')}") from exc
    spider_args: dict[str, str] = {}
    if urls:
        spider_args["url"] = ",".join(urls)
    if sites:
        spider_args["site"] = ",".join(sites)
    errors: list[Any] = []
    process.crawl(crawler, **spider_args).addErrback(errors.append)
    process.start()
    if errors:  # the spider could not be created (unknown profile, bad arguments) or the engine failed
        raise click.ClickException(str(errors[0].value))
    run_id = crawler.stats.get_value(RUN_ID_STAT) if crawler.stats else None
    if run_id is None:
        return None
    store = Store(settings["GOVARCHIVE_DB"])  # the run's record is the crawl's outcome
    try:
        run = store.get_run(run_id)
    finally:
        store.close()
    return (run or {}).get("summary")


def drop_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = None
    record.exc_text = None
    return True


def failure_message(targets: list[str], summary: dict[str, Any]) -> str:
    errors = summary.get("download_errors") or {}
    why = ", ".join(f"{error_words(name)} ×{n}" for name, n in sorted(errors.items()))
    if not why:
        pages = summary.get("pages", 0)
        why = f"{pages} page(s) answered, none successfully" if pages else "nothing was fetched"
    return f"could not crawl {', '.join(targets)}: {why} (crawl run {summary.get('run_id')} marked failed)"


def error_words(exception_name: str) -> str:
    """`DownloadConnectionRefusedError` -> "connection refused", `DNSLookupError` -> "dns lookup"."""
    name = exception_name.removeprefix("Download").removesuffix("Error") or exception_name
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).lower()


cli.add_command(crawl_cmd)
