"""`govarchive runs`: the crawl runs and how each ended."""

from __future__ import annotations

import json

import click

from archive.cli.common import db_option, reading_store


def outcome_text(run: dict) -> str:
    budget = run.get("budget")
    return f"{run['outcome']} (budget)" if run["outcome"] == "interrupted" and budget else run["outcome"]


def run_line(run: dict) -> str:
    failures = run["failures"] or {}
    failed = ", ".join(f"{kind} {n}" for kind, n in sorted(failures.items())) or "none"
    end = run["finished_at"] or (f"last seen {run['last_seen']}" if run["last_seen"] else "-")
    resumed = f" resumes run {run['resumes']}" if run.get("resumes") else ""
    return (f"{run['id']:>5}  {run['site'] or ', '.join(run['start_urls'])[:60]}  {outcome_text(run)}{resumed}\n"
            f"       {run['started_at']} → {end}\n"
            f"       pages {run['pages']}, reports new {run['reports_new']} / changed {run['reports_changed']} / "
            f"unchanged {run['reports_unchanged']}, failures: {failed}\n"
            f"       {run['requests']} requests ({run['not_modified']} not modified, {run['not_due']} known documents "
            f"not due, {run['from_archive']} read from the archive), {run['bytes']} bytes fetched\n"
            f"       {len(run['warc_files'])} WARC file(s), {run['warc_bytes']} bytes"
            + "".join(f"\n         {name}" for name in run["warc_files"]))


@click.command("runs")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run and line.")
@click.option("--site", metavar="S", help="Only runs of this site profile or start-URL host.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="At most N runs, newest first.")
def runs_cmd(db_url: str, as_json: bool, site: str | None, limit: int) -> None:
    """Crawl runs, newest first: start, end, outcome (running, finished, interrupted, failed, crashed),
    pages, reports new/changed/unchanged, failures by kind, bytes and WARC files.

    A run whose process died (kill -9, power loss) shows as crashed once a later crawl has started.

    Example: govarchive runs --site fixture --limit 5
    """
    with reading_store(db_url) as store:
        found = store.list_runs(site=site, limit=limit)
    for info in found:
        run = {**info.as_dict(), "budget": info.summary.get("budget")}
        click.echo(json.dumps(run, ensure_ascii=False) if as_json else run_line(run))
    if not found and not as_json:
        click.echo("no crawl runs" + (f" of {site}" if site else ""), err=True)


COMMANDS = [runs_cmd]
