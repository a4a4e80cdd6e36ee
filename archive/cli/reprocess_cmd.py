"""`govarchive reprocess`: rebuild the database from WARC files without refetching."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.cli.common import db_option, quiet_warcio, require_warc_files, writing_store


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="WARC_OR_DIR...", type=click.Path(exists=True, path_type=Path))
@db_option("SQLAlchemy database URL; created when it does not exist yet.")
def reprocess(paths: tuple[Path, ...], db_url: str) -> None:
    """Turn the detail pages in WARC files (ours or another tool's) into reports.

    A record that cannot be read is a warning naming the file and offset; the reader goes on with the
    next readable record, and the command ends with the summary and exit status 1.

    Example: govarchive reprocess data/warc --db sqlite:///rebuilt.db
    """
    from archive.reprocess import reprocess_warcs
    from archive.warc.reader import looks_like_warc

    for path in paths:  # before the database is created: a mistyped path must not leave one behind
        if path.is_dir():
            require_warc_files(path)
        elif not looks_like_warc(path):
            raise click.ClickException(f"{path} is not a WARC file (it starts with neither a WARC record nor "
                                       "gzip, and its name does not end in .warc or .warc.gz)")
    quiet_warcio()
    with writing_store(db_url) as store:
        summary = reprocess_warcs(paths, store, on_error=lambda msg: click.echo(f"warning: {msg}", err=True))
    click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    if summary.responses == 0:
        raise click.ClickException("no HTTP response records found in the given WARC files")
    if summary.damaged:
        raise click.ClickException(f"{summary.damaged} damaged place(s) in the WARC files could not be read "
                                   "(see the warnings above); everything else was read")


COMMANDS: list[click.Command] = [reprocess]
