"""Console entry point: archive's CLI plus the `crawl` verb, which needs Scrapy."""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from archive.cli import cli, main  # noqa: F401  (main is the console script)
from archive.cli.common import db_option, open_store_for_writing
from crawler.frontier.cli import frontier_group
from crawler.overrides import check_overrides, crawl_settings, parse_overrides

if TYPE_CHECKING:
    from crawler.profiles import Profile

SPIDER_NAME = "disclosure"
# Loggers whose one-line message says it all (an unreachable robots.txt): no traceback for users.
QUIET_TRACEBACKS = ("scrapy.downloadermiddlewares.robotstxt",)


@click.command("crawl")
@click.argument("urls", nargs=-1, metavar="[URL ...]")
@click.option("--site", "sites", multiple=True, metavar="NAME|PATH",
              help="Site profile: a name (crawler/sites/NAME.yaml) or the path of a YAML file; repeatable.")
@click.option("--base-url", metavar="URL",
              help="Base URL of the --site profiles (their relative start URLs), as `scrapy crawl -a base_url=`.")
@db_option("SQLAlchemy database URL; created when it does not exist yet.")
@click.option("--warc-dir", type=click.Path(file_okay=False, path_type=Path), help="WARC directory [default: data/warc].")
@click.option("-s", "--set", "overrides", multiple=True, metavar="SETTING=VALUE",
              help="Override a Scrapy or govarchive setting, as `scrapy crawl -s` does; repeatable.")
@click.option("--resume", is_flag=True,
              help="Carry on the last crawl of these URLs/profiles if it did not finish (interrupted, crashed, "
                   "killed): what it archived is read from its WARC files, not fetched again.")
@click.option("--frontier", "frontier_url", metavar="redis://HOST:PORT/DB",
              help="Share the queue, duplicate filter and crawl run with the other workers started with the same "
                   "URLs/--site on this Redis (as -s GOVARCHIVE_FRONTIER=…); each writes its own WARC files.")
@click.option("--explain", "explain_url", metavar="URL",
              help="Fetch one page and show what the crawler sees on it (kind and why, record links, pages, "
                   "endpoints, handlers); crawls nothing.")
def crawl_cmd(urls: tuple[str, ...], sites: tuple[str, ...], base_url: str | None, db_url: str,
              warc_dir: Path | None, overrides: tuple[str, ...], resume: bool, frontier_url: str | None,
              explain_url: str | None) -> None:
    """Crawl disclosure columns (栏目) into the database and WARC files.

    Give the column URLs a person would open (http:// or https://; a bare host/path means http://),
    or a site profile with --site. Exits 1 when the site could not be crawled at all, 2 on usage
    errors (a start URL that is not one, a -s value of the wrong type, an unknown profile).

    A start URL that yields no report (an unknown platform, an app shell, a list without records, records
    all off-site) is named in the summary with the reason, and the crawl exits 1.

    Ctrl-C stops gracefully (the requests in flight end, everything extracted is stored, the run is
    recorded "interrupted", exit 130); a second Ctrl-C stores what was extracted and stops at once.
    Either way, or after a crash or a spent budget, --resume carries on.

    Example: govarchive crawl http://127.0.0.1:8000/xxgk/tzgg/ --db sqlite:///data/demo.db
    """
    if explain_url is not None:
        explain_page(explain_url, parse_overrides(overrides))
        return
    if not urls and not sites:
        raise click.UsageError("give at least one column URL or --site NAME")
    for url in urls:
        check_start_url(url)
    if base_url is not None:
        if not sites:
            raise click.UsageError("--base-url sets the base URL of --site profiles: give --site NAME too")
        check_start_url(base_url, option="--base-url")
    profiles = check_profiles(sites, base_url)
    values = parse_overrides(overrides)
    if frontier_url is not None:
        values["GOVARCHIVE_FRONTIER"] = frontier_url
    settings = crawl_settings(values, db_url=db_url, warc_dir=warc_dir)
    check_overrides(values, settings)
    if settings.get("GOVARCHIVE_FRONTIER"):  # before the database, which a usage error must not create
        check_frontier(settings)
    check_database(settings.get("GOVARCHIVE_DB"))
    if resume:
        from crawler.profiles import site_name, start_targets

        targets = start_targets(list(urls), profiles)
        if settings.get("GOVARCHIVE_FRONTIER"):
            frontier_resume_note(settings, targets)
        else:
            resume_setting(settings, targets, site_name(profiles))
    summary = run_crawl(list(urls), list(sites), settings, base_url=base_url)
    if summary is None:
        raise click.ClickException("the crawl could not start (see the messages above)")
    if summary.get("status") == "failed":
        raise click.ClickException(failure_message(list(urls) or list(sites), summary))
    if summary.get("status") == "interrupted":
        why = f" (budget: {summary['budget']})" if summary.get("budget") else ""
        click.echo(f"interrupted{why}: crawl run {summary.get('run_id')} stopped before the end; everything "
                   f"extracted is stored. Resume with: {resume_command()}", err=True)
        raise SystemExit(130)
    silent = summary.get("silent_starts") or []
    if silent:
        raise click.ClickException("; ".join(f"nothing from {s['url']}: {s['problem']}" for s in silent))


def resume_setting(settings: Any, targets: list[str], site: str | None) -> None:
    """GOVARCHIVE_RESUME_RUN: the last run of the same crawl, when it did not finish."""
    from archive.resume import resumable_run
    from archive.store import Store

    store = Store(settings["GOVARCHIVE_DB"])
    try:
        run_id = resumable_run(store, site, targets)
    finally:
        store.close()
    if run_id is None:
        click.echo("nothing to resume: the last crawl of these start URLs finished (or there was none); "
                   "crawling afresh", err=True)
        return
    click.echo(f"resuming crawl run {run_id}", err=True)
    settings.set("GOVARCHIVE_RESUME_RUN", run_id, priority="cmdline")


def frontier_resume_note(settings: Any, targets: list[str]) -> None:
    """With a frontier, the crawl's state in Redis is what carries on (any worker started with the same
    targets joins it, --resume or not); say whether there is one to carry on."""
    from crawler.frontier.state import connect, crawl_id, crawl_status

    url = settings["GOVARCHIVE_FRONTIER"]
    client = connect(url)
    try:
        status = crawl_status(client, settings["GOVARCHIVE_FRONTIER_PREFIX"], crawl_id(targets))
    finally:
        client.close()
    if status is None:
        click.echo(f"nothing to resume on the frontier {url}: no unfinished crawl of these start URLs; "
                   "crawling afresh", err=True)
        return
    click.echo(f"resuming the distributed crawl {status.key} (run {status.run_id}): {status.queued} requests "
               f"queued, {status.seen} seen", err=True)


def resume_command() -> str:
    """This command line with --resume, for the operator to copy."""
    import shlex
    import sys

    args = [a for a in sys.argv[1:] if a != "--resume"]
    return " ".join(shlex.quote(a) for a in ["govarchive", *args, "--resume"])


def explain_page(url: str, overrides: dict[str, str]) -> None:
    """`crawl --explain URL`: one fetch with the crawl's User-Agent, read as the crawl reads a start URL."""
    from crawler.explain import explain, fetch

    check_start_url(url, option="--explain")
    full = url if "://" in url else "http://" + url
    user_agent = overrides.get("USER_AGENT") or crawl_settings({}, db_url=None, warc_dir=None).get("USER_AGENT")
    try:
        fetched = fetch(full, user_agent)
    except OSError as exc:
        raise click.ClickException(f"cannot fetch {full}: {getattr(exc, 'reason', exc)}") from None
    _reading, lines = explain(fetched)
    click.echo("\n".join(lines))


_HOST_LABEL = re.compile(r"^(?!-)[\w-]{1,63}(?<!-)$")


def check_start_url(url: str, *, option: str = "URL") -> None:
    """A start URL the spider can fetch: http(s), a host name or IP address; else a usage error (exit 2)
    at once, instead of DNS retries on a word that was never a URL."""
    def bad(why: str) -> click.UsageError:
        return click.UsageError(f"{option} {url!r} {why}")

    text = url.strip()
    scheme, sep, _rest = text.partition("://")
    if sep and scheme.lower() not in ("http", "https"):
        raise bad(f"uses {scheme}://: only http:// and https:// pages can be crawled")
    if not sep and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", text):
        raise bad("is not an http(s) URL")
    if "," in text:
        raise bad("contains a comma, which separates start URLs for the spider: write it as %2C")
    if any(ch.isspace() for ch in text):
        raise bad("contains a space: quote it or write it as %20")
    parts = urlsplit(text if sep else "http://" + text)
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise bad("has a port that is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not host:
        raise bad("has no host name")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise bad(f"has no valid host name ({host!r})")
    if not sep and len(labels) < 2 and host != "localhost":
        raise bad("is not a URL: give a column's address, such as http://www.example.gov.cn/xxgk/tzgg/")


def check_profiles(sites: tuple[str, ...], base_url: str | None) -> list[Profile]:
    """Load each --site profile before anything is created: a missing one is a usage error (2),
    a broken one a one-line error naming the file and field (1)."""
    from crawler.profiles import ProfileError, ProfileNotFound, load_profile

    profiles = []
    for name in sites:
        for part in (p.strip() for p in name.split(",") if p.strip()):
            try:
                profiles.append(load_profile(part, base_url=base_url))
            except ProfileNotFound as exc:
                raise click.UsageError(str(exc)) from exc
            except ProfileError as exc:
                raise click.ClickException(str(exc)) from exc
    return profiles


def check_database(db_url: str) -> None:
    """Open (or create, saying so) the database once before crawling: a wrong URL, an unreachable
    server or an old schema is a one-line error up front."""
    open_store_for_writing(db_url).close()


def check_frontier(settings: Any) -> None:
    """A frontier URL that is one (else usage error, exit 2), a worker id fit for file names, and a
    Redis that answers (else exit 1), before anything is crawled."""
    from crawler.frontier.addon import check_worker_id
    from crawler.frontier.state import FrontierError, connect, default_worker_id, parse_frontier_url

    try:
        parse_frontier_url(settings["GOVARCHIVE_FRONTIER"])
        check_worker_id(settings.get("GOVARCHIVE_FRONTIER_WORKER") or default_worker_id())
    except FrontierError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        connect(settings["GOVARCHIVE_FRONTIER"]).close()
    except FrontierError as exc:
        raise click.ClickException(str(exc)) from None


def run_crawl(urls: list[str], sites: list[str], settings: Any, *, base_url: str | None = None
              ) -> dict[str, Any] | None:
    """Run the disclosure spider to the end; the crawl's summary, or None if it never started."""
    from archive.store import Store
    from crawler.extensions.crawl_run import RUN_ID_STAT, SUMMARY_STAT

    process = StoppableProcess(settings)
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
    if base_url:
        spider_args["base_url"] = base_url
    errors: list[Any] = []
    process.crawl(crawler, **spider_args).addErrback(errors.append)
    process.start()
    if errors:  # the spider could not be created (unknown profile, bad arguments) or the engine failed
        raise click.ClickException(str(errors[0].value))
    run_id = crawler.stats.get_value(RUN_ID_STAT) if crawler.stats else None
    if run_id is None:
        return None
    if crawler.stats.get_value(SUMMARY_STAT) is not None and settings.get("GOVARCHIVE_FRONTIER"):
        return crawler.stats.get_value(SUMMARY_STAT)  # this worker's, or the merged one if it was the last
    store = Store(settings["GOVARCHIVE_DB"])  # the run's record is the crawl's outcome
    try:
        run = store.get_run(run_id) or {}
        if run and not run.get("summary"):  # stopped before the engine could close the spider
            summary = {"run_id": run_id, "status": "interrupted", "finish_reason": "shutdown"}
            store.finish_run(run_id, summary)
            return summary
    finally:
        store.close()
    return run.get("summary")


def stoppable_process_class() -> type:
    """Scrapy's CrawlerProcess, except that a second Ctrl-C first sends `force_stop` (the pipeline
    commits what it holds, the WARC files are closed, the run is recorded interrupted), then stops."""
    import signal

    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.ossignal import install_shutdown_handlers

    from crawler.extensions.crawl_run import force_stop

    class _StoppableProcess(CrawlerProcess):
        def _signal_kill(self, signum: int, _: Any) -> None:
            from twisted.internet import reactor

            install_shutdown_handlers(signal.SIG_IGN)
            reactor.callFromThread(self._force_stop)  # type: ignore[attr-defined]

        def _force_stop(self) -> None:  # in the reactor thread, not the signal handler: it may log
            logging.getLogger(__name__).warning("second interrupt: storing what was extracted, then stopping")
            for crawler in list(self.crawlers):
                crawler.signals.send_catch_log(force_stop)
            self._stop_reactor()

    return _StoppableProcess


def StoppableProcess(settings: Any) -> Any:  # noqa: N802  (a class, built late: Scrapy is imported lazily)
    return stoppable_process_class()(settings)


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


def _add_schedule() -> None:
    from crawler.schedule import schedule_cmd

    cli.add_command(schedule_cmd)


_add_schedule()
cli.add_command(frontier_group)
