"""`govarchive search`, `show` and `export`: read the stored reports.

Thin commands over archive.store; the filters shared by search and export are one decorator.
"""

from __future__ import annotations

import functools
import json
import sys
from contextlib import contextmanager

import click

from archive.config import default_db_url

DB_OPTION = click.option(
    "--db",
    "db_url",
    default=default_db_url,
    show_default="$GOVARCHIVE_DB or ./data/govarchive.db",
    help="SQLAlchemy database URL.",
)


def filter_options(func):
    """--site/--column/--issuer/--doc-number/--since/--until/--withdrawn, passed on as `filters`."""

    @click.option("--site", help="Only this site (host name, e.g. www.example.gov.cn).")
    @click.option("--column", help="Only this column (栏目), exact name.")
    @click.option("--issuer", help="Issuing body contains this text (发布机构).")
    @click.option("--doc-number", help="Document number contains this text (文号), e.g. 国办发.")
    @click.option("--since", help="Published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY).")
    @click.option("--until", help="Published on or before this date (YYYY-MM-DD, YYYY-MM or YYYY).")
    @click.option("--withdrawn/--not-withdrawn", default=None, help="Only withdrawn / only current reports.")
    @functools.wraps(func)
    def wrapper(*args, site, column, issuer, doc_number, since, until, withdrawn, **kwargs):
        from archive.store import Filters

        try:
            filters = Filters(
                site=site,
                column=column,
                issuer=issuer,
                doc_number=doc_number,
                since=since,
                until=until,
                withdrawn=withdrawn,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since/--until") from exc
        return func(*args, filters=filters, **kwargs)

    return wrapper


@contextmanager
def open_store(db_url: str):
    """The Store, with database problems turned into a clear message and a non-zero exit."""
    from sqlalchemy.exc import SQLAlchemyError

    from archive.store import Store, StoreError

    try:
        store = Store(db_url)
    except (StoreError, SQLAlchemyError) as exc:
        raise click.ClickException(f"cannot open the database {db_url}: {exc}") from exc
    try:
        yield store
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"database error: {exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}"
        ) from exc
    finally:
        store.close()


@click.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True, metavar="QUERY")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit and line.")
@click.option(
    "--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000), help="Hits to show."
)
@filter_options
def search_cmd(words: tuple[str, ...], db_url: str, as_json: bool, limit: int, filters) -> None:
    """Full-text search in Chinese: words (AND), OR, NOT or -word, "phrases", (groups).

    The words may be given as one quoted argument or several (`search 财政 -预算` works too).

    Example: govarchive search '财政 预算 -草案' --since 2024 --site www.example.gov.cn
    """
    query = " ".join(words)
    from archive.store import QueryError

    with open_store(db_url) as store:
        try:
            hits = store.search(query, filters, limit)
        except QueryError as exc:
            raise click.ClickException(f"cannot search for {_short(query)}: {exc}") from exc
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        return
    if not hits:
        click.echo("no reports found", err=True)
        return
    _print_hits(hits)


def _print_hits(hits) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, expand=True)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("title / snippet", ratio=4, overflow="fold")
    table.add_column("issuer", ratio=1, overflow="fold")
    table.add_column("site", ratio=1, overflow="fold")
    for h in hits:
        body = Text(h.title or "(no title)", style="bold")
        if h.withdrawn:
            body.append(" [withdrawn]", style="red")
        body.append("\n")
        last = 0
        for a, b in h.marks:
            body.append(h.snippet[last:a])
            body.append(h.snippet[a:b], style="bold yellow")
            last = b
        body.append(h.snippet[last:])
        body.append(f"\n{h.url}", style="dim")
        table.add_row(str(h.id), (h.publish_time or "")[:10], body, h.issuer or "", h.site or "")
    Console().print(table)


@click.command("show")
@click.argument("id_or_url")
@click.argument("diff_versions", nargs=-1, type=int, metavar="[V1 V2]")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.option("--versions", "list_versions", is_flag=True, help="List the stored versions.")
@click.option(
    "--diff", is_flag=True, help="Show what changed between versions V1 and V2 (default: the last two)."
)
def show_cmd(
    id_or_url: str,
    diff_versions: tuple[int, ...],
    db_url: str,
    as_json: bool,
    list_versions: bool,
    diff: bool,
) -> None:
    """Show one stored report by id or URL, its versions, or a diff between versions.

    Example: govarchive show 42 --versions; govarchive show 42 --diff 1 2
    """
    from archive.store import StoreError

    with open_store(db_url) as store:
        if diff_versions and (not diff or len(diff_versions) != 2):
            raise click.UsageError("give two version numbers after --diff, e.g. --diff 1 2")
        if diff:
            try:
                text = store.diff(id_or_url, *(diff_versions or (None, None)))
            except StoreError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(text, nl=False)
            return
        record = store.get_record(id_or_url)
        if record is None:
            raise click.ClickException(f"no report {id_or_url!r} in {db_url}")
        if list_versions:
            versions = store.versions(record.id)
            if as_json:
                for v in versions:
                    click.echo(json.dumps(v.to_dict(), ensure_ascii=False))
            else:
                _print_versions(versions)
            return
    if as_json:
        click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
    else:
        _print_record(record)


def _print_versions(versions) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in ("version", "fetched at", "status", "content hash", "title", "WARC record"):
        table.add_column(name)
    for v in versions:
        warc = f"{v.warc.filename}@{v.warc.offset}" if v.warc else ""
        table.add_row(
            str(v.version),
            v.fetched_at or "",
            str(v.status or ""),
            v.content_hash[:12],
            v.report.title or "",
            warc,
        )
    Console().print(table)


def _print_record(rec) -> None:
    from rich.console import Console

    r = rec.report
    console = Console(highlight=False)
    console.print(f"[bold]{r.title or '(no title)'}[/bold]", markup=True)
    state = f"withdrawn {rec.withdrawn_at} ({rec.withdrawn_reason})" if rec.withdrawn else "current"
    facts = [
        ("id", rec.id),
        ("url", r.url),
        ("site", r.site),
        ("column", r.column),
        ("published", r.publish_time),
        ("source", r.source),
        *[(k, v) for k, v in vars(r.metadata).items() if v],
        ("version", r.version),
        ("fetched", r.fetched_at),
        ("state", state),
        ("warc", f"{r.warc.filename} offset {r.warc.offset} length {r.warc.length}" if r.warc else None),
    ]
    for key, value in facts:
        if value not in (None, ""):
            console.print(f"{key:>13}: {value}", markup=False)
    console.print()
    console.print(r.body_text, markup=False)
    if r.attachments:
        console.print("\nattachments:", markup=False)
        for a in r.attachments:
            extra = ", ".join(
                x for x in (a.content_type, f"{a.size} bytes" if a.size is not None else None) if x
            )
            console.print(f"  {a.name or ''} {a.url}" + (f" ({extra})" if extra else ""), markup=False)


@click.command("export")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="Output file (default: stdout).",
)
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 BOM so Excel shows Chinese correctly.")
@filter_options
def export_cmd(db_url: str, fmt: str, output: str, bom: bool, filters) -> None:
    """Export reports as JSONL or CSV, streamed (constant memory for any number of reports).

    Example: govarchive export --format csv --bom -o reports.csv --since 2024-01-01
    """
    from archive.store.export import export

    with open_store(db_url) as store:
        records = store.iter_records(filters)
        if output == "-":
            out = sys.stdout
            count = export(records, out, fmt, bom=bom)
            out.flush()
        else:
            with open(output, "w", encoding="utf-8", newline="") as out:
                count = export(records, out, fmt, bom=bom)
    click.echo(f"exported {count} reports", err=True)


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[:width] + "…")


COMMANDS: list[click.Command] = [search_cmd, show_cmd, export_cmd]
