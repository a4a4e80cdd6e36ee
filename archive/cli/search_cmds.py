"""`govarchive search`, `show` and `export`: read the stored reports.

Thin commands over archive.store; the filters shared by search and export are one decorator.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from archive.cli.common import db_option, output_console, output_option, reading_store

DB_OPTION = db_option()


def filter_options(func):
    """--site/--column/--issuer/--doc-number/--since/--until/--withdrawn, passed on as `filters`."""

    @click.option("--site", help="Only this site (host name, e.g. www.example.gov.cn).")
    @click.option("--column", help="Only this column (栏目), exact name.")
    @click.option("--issuer", help="Issuing body contains this text (发布机构).")
    @click.option("--doc-number", help="Document number contains this text (文号), however it is written: "
                                       "国办发[2024]7号 finds 国办发〔２０２４〕第７号.")
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


@click.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True, metavar="QUERY")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit and line.")
@click.option(
    "--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000), help="Hits to show."
)
@click.option("--distinct-documents", is_flag=True,
              help="One hit per document: reposts of it on other sites or columns are left out.")
@filter_options
def search_cmd(words: tuple[str, ...], db_url: str, as_json: bool, limit: int, distinct_documents: bool,
               filters) -> None:
    """Full-text search in Chinese: words (AND), OR, NOT or -word, "phrases", (groups).

    The words may be given as one quoted argument or several (`search 财政 -预算` works too).
    Without --json: the number of matching reports, then each hit (title and snippet with the
    matches highlighted, date, issuer, URL), newest first after the title matches.

    Example: govarchive search '财政 预算 -草案' --since 2024 --site www.example.gov.cn
    """
    _no_mistyped_options(words)
    query = " ".join(words)
    from archive.store import QueryError

    with reading_store(db_url) as store:
        try:
            hits = store.search(query, filters, limit, distinct_documents=distinct_documents)
            total = len(hits) if as_json or len(hits) < limit else store.count_hits(
                query, filters, distinct_documents=distinct_documents)
        except QueryError as exc:
            raise click.ClickException(f"cannot search for {_short(query)}: {exc}") from exc
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit.to_dict(), ensure_ascii=False))
        return
    searched = _searched(query, filters)
    if not hits:
        click.echo(f"no reports found: nothing matches {searched}", err=True)
        return
    shown = f"all {total} shown" if total == len(hits) else f"the first {len(hits)} shown; --limit N for more"
    noun = "document" if distinct_documents else "report"
    click.echo(f"{total} {noun}{'s' if total != 1 else ''} match {searched} ({shown})")
    _print_hits(hits, query)


def _no_mistyped_options(words: tuple[str, ...]) -> None:
    """Unknown options are let through for the query's `-word` (NOT), but `--anything` is no query word:
    `--format json` searched for as words would look like "nothing matches"."""
    ctx = click.get_current_context()
    for word in words:
        if word.startswith("--") and len(word) > 2:
            options = [name for param in ctx.command.params for name in param.opts if name.startswith("--")]
            raise click.NoSuchOption(word.split("=", 1)[0], possibilities=options, ctx=ctx)


def _searched(query: str, filters) -> str:
    """What was searched, in words: the query and the filters given."""
    from dataclasses import fields

    given = [(f.name, getattr(filters, f.name)) for f in fields(filters) if getattr(filters, f.name) is not None]
    words = [f"{name.replace('_', '-')} {value}" if not isinstance(value, bool) else
             ("withdrawn only" if value else "current only") for name, value in given]
    return _short(query) + (f" ({', '.join(words)})" if words else "")


def _print_hits(hits, query: str) -> None:
    """Each hit as a short block that fits the terminal (80 columns when not a terminal): the id and
    the title (matches highlighted), date · issuer · site, the snippet, the URL whole on one line."""
    from rich.text import Text

    from archive.store.search import match_spans

    console = output_console(highlight=False)
    indent = 7
    width = max(console.width - indent, 20)
    for h in hits:
        title = h.title or "(no title)"
        heading = _marked(title, match_spans(title, query) if h.title else [], style="bold")
        if h.withdrawn:
            heading.append(" [withdrawn]", style="red")
        _print_wrapped(console, heading, width, first=Text(f"{h.id:>{indent - 2}}  ", style="bold"))
        facts = " · ".join(x for x in ((h.publish_time or "")[:10], h.issuer, h.site) if x)
        if facts:
            _print_wrapped(console, Text(facts, style="dim"), width)
        if h.attachment:
            _print_wrapped(console, Text(f"in attachment {h.attachment}:", style="italic"), width)
        if h.snippet:
            _print_wrapped(console, _marked(h.snippet, h.marks), width, max_lines=2)
        console.print(Text(" " * indent + h.url, style="dim"), no_wrap=True, overflow="ignore", crop=False)
        console.print()


def _print_wrapped(console, text, width: int, first=None, max_lines: int | None = None) -> None:
    """`text` wrapped to `width` cells, each line after a 7-cell margin (`first` on the first line);
    past `max_lines` the last line shown ends with an ellipsis."""
    from rich.text import Text

    margin = Text(" " * 7)
    lines = list(text.wrap(console, width))
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1].rstrip()
        lines[-1].truncate(width - 1)
        lines[-1].append("…")
    for i, line in enumerate(lines):
        line.rstrip()
        console.print(Text.assemble(first if i == 0 and first is not None else margin, line),
                      no_wrap=True, crop=False)


def _marked(text: str, spans: list[tuple[int, int]], style: str = ""):
    from rich.text import Text

    out = Text(style=style)
    last = 0
    for a, b in spans:
        out.append(text[last:a])
        out.append(text[a:b], style="bold yellow")
        last = b
    out.append(text[last:])
    return out


@click.command("show")
@click.argument("id_or_url")
@click.argument("diff_versions", nargs=-1, type=int, metavar="[V1 V2]")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="The report (or with --versions, each version) as JSON.")
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

    if diff_versions and not diff:
        extra = " ".join(map(str, diff_versions))
        raise click.UsageError(f"unexpected argument(s) {extra} after {id_or_url}: version numbers go "
                               f"with --diff, e.g. show {id_or_url} --diff 1 2")
    if diff and len(diff_versions) not in (0, 2):
        raise click.UsageError("give two version numbers after --diff (e.g. --diff 1 2), or none for the last two")
    if diff and list_versions:
        raise click.UsageError("--versions and --diff cannot be combined: use one, then the other")
    if diff and as_json:
        raise click.UsageError("--diff prints a text diff; --json cannot be combined with it")
    with reading_store(db_url) as store:
        if diff:
            try:
                text = store.diff(id_or_url, *(diff_versions or (None, None)))
            except StoreError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(text, nl=False)
            return
        record = store.get_record(id_or_url)
        if record is None:
            raise click.ClickException(f"no report {id_or_url!r} in {_shown(db_url)}")
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


VERSION_COLUMNS = ("version", "fetched at", "status", "content hash", "title", "WARC record")


def _print_versions(versions) -> None:
    """A table on a terminal; plain aligned columns, never cut, when piped or redirected."""
    from rich.cells import cell_len
    from rich.table import Table

    rows = [
        (
            str(v.version),
            v.fetched_at or "",
            str(v.status or ""),
            v.content_hash[:12],
            v.report.title or "",
            f"{v.warc.filename}@{v.warc.offset}" if v.warc else "",
        )
        for v in versions
    ]
    console = output_console()
    if console.is_terminal:
        table = Table()
        for name in VERSION_COLUMNS:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(cell_len(r[i]) for r in [VERSION_COLUMNS, *rows]) for i in range(len(VERSION_COLUMNS))]
    for row in [VERSION_COLUMNS, *rows]:
        cells = [value + " " * (widths[i] - cell_len(value)) for i, value in enumerate(row)]
        click.echo("  ".join(cells).rstrip())


def _shown(db_url: str) -> str:
    from archive.store.engine import shown_url

    return shown_url(db_url)


def _print_record(rec) -> None:
    r = rec.report
    console = output_console(highlight=False)
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
        ("文号 (canon.)", rec.doc_number_key if rec.doc_number_key != r.metadata.doc_number else None),
        ("document", rec.document_id),
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
            if a.text_status:
                extra += f"{', ' if extra else ''}text: {a.text_status}"
                extra += f", {a.text_length} characters" if a.text_length else ""
            console.print(f"  {a.name or ''} {a.url}" + (f" ({extra})" if extra else ""), markup=False)
    if rec.published_elsewhere:
        console.print("\nalso published at:", markup=False)
        for url in rec.published_elsewhere:
            console.print(f"  {url}", markup=False)


@click.command("export")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Output format [default: csv for -o FILE.csv, else jsonl].")
@output_option("Output file (default: stdout); its directory must exist.")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 BOM so Excel shows Chinese correctly.")
@click.option("--attachment-text", is_flag=True,
              help="Include the attachments' full text (their text status and length are always there).")
@filter_options
def export_cmd(db_url: str, fmt: str | None, output: str, bom: bool, attachment_text: bool, filters) -> None:
    """Export reports as JSONL or CSV, streamed (constant memory for any number of reports).

    Example: govarchive export --format csv --bom -o reports.csv --since 2024-01-01
    """
    from archive.store.export import export

    # `-o reports.csv` alone must not fill a .csv file with JSON lines
    fmt = fmt or ("csv" if output.lower().endswith(".csv") else "jsonl")
    with reading_store(db_url) as store:
        records = store.iter_records(filters)
        if output == "-":
            out = sys.stdout
            count = export(records, out, fmt, bom=bom, attachment_text=attachment_text)
            out.flush()
        else:
            with open(output, "w", encoding="utf-8", newline="") as out:
                count = export(records, out, fmt, bom=bom, attachment_text=attachment_text)
    click.echo(f"exported {count} reports", err=True)


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[:width] + "…")


COMMANDS: list[click.Command] = [search_cmd, show_cmd, export_cmd]
