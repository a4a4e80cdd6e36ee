"""`govarchive reprocess`: rebuild the database from WARC files without refetching."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.config import default_db_url


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--db", "db_url", default=None, help="SQLAlchemy URL (default: $GOVARCHIVE_DB or ./data/).")
def reprocess(paths: tuple[Path, ...], db_url: str | None) -> None:
    """Turn the detail pages in WARC files (ours or another tool's) into reports.

    Example: govarchive reprocess data/warc --db sqlite:///rebuilt.db
    """
    from archive.reprocess import reprocess_warcs
    from archive.store import Store

    store = Store(db_url or default_db_url())
    try:
        summary = reprocess_warcs(paths, store, on_error=lambda msg: click.echo(f"warning: {msg}", err=True))
    finally:
        store.close()
    click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    if summary.responses == 0:
        raise click.ClickException("no HTTP response records found in the given WARC files")


COMMANDS: list[click.Command] = [reprocess]
