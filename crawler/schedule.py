"""`govarchive schedule`: run the site profiles' cron schedules, one crawl of a site at a time.

A profile is due when its `schedule:` (cron syntax, read by croniter, in this machine's local time)
has fired since the end of its last finished run, or when it never finished one. Each due crawl runs
as a `govarchive crawl --site NAME` child process (a Twisted reactor starts once per process) while
this process holds the site's lock in the database and renews its lease; a holder that died frees the
site when its lease expires, at once on the same host (archive/store/runs.py). A site whose last run
did not finish (interrupted, crashed, a spent budget) is crawled with --resume.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from archive.cli.common import db_option
from archive.store import Store

# Longest sleep of the loop between two looks at the schedules (a profile edited meanwhile is seen).
MAX_SLEEP = 60.0


@dataclass
class Scheduled:
    """A profile to schedule: `argument` as `crawl --site` takes it, `name` as its runs record it."""

    argument: str
    name: str
    schedule: str
    lock: str = ""  # the site lock a scheduler holds while crawling it (lock_name); the name when empty


@dataclass
class Due:
    name: str
    due: bool
    next_at: datetime
    resume: bool


def local_now() -> datetime:
    return datetime.now().astimezone()


def next_fire(schedule: str, after: datetime) -> datetime:
    from croniter import croniter

    return croniter(schedule, after).get_next(datetime)


def check_due(store: Store, name: str, schedule: str, now: datetime) -> Due:
    """Whether profile `name` is due now, when it is due next, and whether its last run must be resumed."""
    finished = store.last_run(name, "finished")
    latest = store.last_run(name)
    resume = latest is not None and latest.outcome in ("interrupted", "crashed", "failed")
    if finished is None or not finished.finished_at:
        return Due(name, True, now, resume)
    ended = datetime.fromisoformat(finished.finished_at).astimezone(now.tzinfo)
    upcoming = next_fire(schedule, ended)
    return Due(name, upcoming <= now, upcoming, resume)


def crawl_command(name: str, *, db_url: str, warc_dir: Path | None, base_url: str | None, resume: bool,
                  overrides: tuple[str, ...]) -> list[str]:
    command = [sys.executable, "-m", "crawler", "crawl", "--site", name, "--db", db_url]
    if warc_dir is not None:
        command += ["--warc-dir", str(warc_dir)]
    if base_url:
        command += ["--base-url", base_url]
    for item in overrides:
        command += ["-s", item]
    if resume:
        command.append("--resume")
    return command


def lock_name(site: str, settings: Any) -> str:
    """The lock a scheduler takes to crawl `site`: the site's, or with a frontier the site's for this
    worker (schedulers on several machines each start their worker of the one distributed crawl, and
    never two workers of the same id)."""
    if not settings.get("GOVARCHIVE_FRONTIER"):
        return site
    from crawler.frontier.state import default_worker_id

    return f"{site}@{settings.get('GOVARCHIVE_FRONTIER_WORKER') or default_worker_id()}"


def crawl_if_due(store: Store, item: Scheduled, command_for: Callable[[str, bool], list[str]],
                 lease: float, echo: Callable[[str], None]) -> int | None:
    """Take the site's lock, check again that it is due (another process may have just crawled it), and
    run its crawl while renewing the lease; the crawl's exit code, None when another process holds the
    lock, -1 when it is no longer due."""
    name = item.name
    lock = item.lock or name
    if not store.acquire_site_lock(lock, lease):
        return None
    try:
        state = check_due(store, name, item.schedule, local_now())
        if not state.due:
            return -1
        echo(f"{name}: due, crawling" + (" (resuming its unfinished run)" if state.resume else ""))
        child = subprocess.Popen(command_for(item.argument, state.resume))
        while True:
            try:
                return child.wait(timeout=max(1.0, lease / 3))
            except subprocess.TimeoutExpired:
                if not store.renew_site_lock(lock, lease):
                    echo(f"warning: the lock of {lock} was taken over while its crawl ran")
            except KeyboardInterrupt:
                # the terminal sent the child the same Ctrl-C: let it stop gracefully and record its run
                child.wait()
                raise
    finally:
        store.release_site_lock(lock)


def schedule_once(store: Store, profiles: list[Scheduled], *, lease: float, stale_seconds: float,
                  command_for: Callable[[str, bool], list[str]], echo: Callable[[str], None]) -> tuple[int, list[Due]]:
    """Crawl every due profile once; (worst exit code of the crawls, the state of each profile)."""
    for crashed in store.mark_crashed_runs(stale_seconds):  # so that their site is resumed
        echo(f"crawl run {crashed} ended without a record of its end: marked crashed")
    worst = 0
    checked: list[Due] = []
    for item in profiles:
        name = item.name
        state = check_due(store, name, item.schedule, local_now())
        if not state.due:
            echo(f"{name}: not due (next at {state.next_at.isoformat(timespec='seconds')})")
        else:
            code = crawl_if_due(store, item, command_for, lease, echo)
            if code is None:
                echo(f"{name}: skipped, another process is crawling it")
            elif code == -1:
                echo(f"{name}: crawled meanwhile by another process")
            else:
                echo(f"{name}: crawl ended with exit status {code}")
                worst = max(worst, code)
            state = check_due(store, name, item.schedule, local_now())
        checked.append(state)
    return worst, checked


def sleep_until_due(checked: list[Due]) -> None:
    upcoming = min((d.next_at for d in checked), default=None)
    wait = MAX_SLEEP if upcoming is None else (upcoming - local_now()).total_seconds()
    time.sleep(min(MAX_SLEEP, max(1.0, wait)))
def scheduled_profiles(sites: tuple[str, ...], base_url: str | None) -> list[Scheduled]:
    """The profiles given (all of crawler/sites/ by default) that have a schedule."""
    from crawler.profiles import ProfileError, ProfileNotFound, available_profiles, load_profile

    names = [p.strip() for s in sites for p in s.split(",") if p.strip()] or available_profiles()
    found: list[Scheduled] = []
    for name in names:
        try:
            profile = load_profile(name, base_url=base_url)
        except ProfileNotFound as exc:
            raise click.UsageError(str(exc)) from exc
        except ProfileError as exc:
            raise click.ClickException(str(exc)) from exc
        if profile.schedule:
            found.append(Scheduled(name, profile.name, profile.schedule))
        elif sites:
            raise click.UsageError(f"site profile {name!r} has no schedule: (add e.g. schedule: \"@daily\")")
    if not found:
        raise click.ClickException("no site profile with a schedule: to run")
    return found


@click.command("schedule")
@click.option("--site", "sites", multiple=True, metavar="NAME_OR_PATH",
              help="A site profile to schedule (a name or a YAML path); repeatable [default: every profile "
                   "in crawler/sites with a schedule:].")
@click.option("--once", is_flag=True, help="Crawl what is due now, then exit (for cron and systemd timers).")
@click.option("--base-url", metavar="URL", help="Base URL of the profiles, as `crawl --base-url`.")
@db_option("SQLAlchemy database URL; created when it does not exist yet.")
@click.option("--warc-dir", type=click.Path(file_okay=False, path_type=Path), help="WARC directory [default: data/warc].")
@click.option("-s", "--set", "overrides", multiple=True, metavar="SETTING=VALUE",
              help="A setting for every crawl, as `crawl -s`; repeatable.")
def schedule_cmd(sites: tuple[str, ...], once: bool, base_url: str | None, db_url: str, warc_dir: Path | None,
                 overrides: tuple[str, ...]) -> None:
    """Run the site profiles' cron schedules: each profile is crawled when its schedule has fired since
    its last finished run (or it never ran), never twice at once across processes (a lock in the
    database). Without --once it keeps running, sleeping until the next crawl is due. With
    -s GOVARCHIVE_FRONTIER=redis://… every machine's scheduler starts its own worker of the one distributed
    crawl (the lock is the site's for that worker id).

    Example: govarchive schedule --site fixture --once --db sqlite:///data/govarchive.db
    """
    from archive.cli.common import open_store_for_writing
    from crawler.overrides import crawl_settings, parse_overrides

    profiles = scheduled_profiles(sites, base_url)
    values = parse_overrides(overrides)
    settings = crawl_settings(values, db_url=db_url, warc_dir=warc_dir)
    profiles = [replace(p, lock=lock_name(p.name, settings)) for p in profiles]
    lease = settings.getfloat("GOVARCHIVE_LOCK_LEASE")
    stale = settings.getfloat("GOVARCHIVE_RUN_STALE_SECONDS")
    store = open_store_for_writing(db_url)

    def command_for(name: str, resume: bool) -> list[str]:
        return crawl_command(name, db_url=db_url, warc_dir=warc_dir, base_url=base_url, resume=resume,
                             overrides=overrides)

    def echo(line: str) -> None:
        click.echo(f"[{local_now().isoformat(timespec='seconds')}] {line}", err=True)

    try:
        while True:
            worst, checked = schedule_once(store, profiles, lease=lease, stale_seconds=stale, command_for=command_for,
                                           echo=echo)
            if once:
                if worst:
                    raise SystemExit(worst)
                return
            sleep_until_due(checked)
    finally:
        store.close()
