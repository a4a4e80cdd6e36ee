"""`govarchive frontier status`: what the shared frontier of distributed workers holds."""

from __future__ import annotations

import json

import click

from crawler.frontier.state import CrawlStatus, FrontierError, connect, crawl_status, crawls


@click.group("frontier")
def frontier_group() -> None:
    """The shared frontier of distributed crawl workers (`crawl --frontier redis://HOST:PORT/DB`)."""


@frontier_group.command("status")
@click.option("--frontier", "frontier_url", required=True, metavar="redis://HOST:PORT/DB",
              help="The Redis the workers share.")
@click.option("--prefix", default="govarchive", show_default=True,
              help="Key prefix of the crawls (GOVARCHIVE_FRONTIER_PREFIX).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per crawl.")
def status_cmd(frontier_url: str, prefix: str, as_json: bool) -> None:
    """Each crawl on the frontier: queue length, requests seen, its run, in-flight requests and pages done
    per worker (alive or not), pages per second since it began.

    Example: govarchive frontier status --frontier redis://127.0.0.1:6379/0
    """
    try:
        client = connect(frontier_url)
    except FrontierError as exc:
        message = str(exc)
        if "is not a Redis URL" in message or "port" in message or "no host" in message or "number" in message:
            raise click.BadParameter(message, param_hint="--frontier") from None
        raise click.ClickException(message) from None
    found = [status for name in crawls(client, prefix) if (status := crawl_status(client, prefix, name))]
    if as_json:
        for crawl in found:
            click.echo(json.dumps(crawl.as_dict(), ensure_ascii=False))
        return
    if not found:
        click.echo(f"no crawl on {frontier_url} (prefix {prefix!r})")
    for crawl in found:
        click.echo(describe(crawl))


def describe(crawl: CrawlStatus) -> str:
    rate = f"{crawl.pages_per_second} pages/s" if crawl.pages_per_second is not None else "no rate yet"
    lines = [f"crawl {crawl.key}  run {crawl.run_id}  queued {crawl.queued}  seen {crawl.seen}  {rate}"
             + ("" if crawl.seeded else "  (start URLs not all enqueued yet)"),
             f"  start URLs: {' '.join(crawl.start_urls)}"]
    for w in crawl.workers:
        lines.append(f"  worker {w.worker}: {'alive' if w.alive else 'gone'}, in flight {w.inflight}, done {w.acked}")
    return "\n".join(lines)
