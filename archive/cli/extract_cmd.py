"""`govarchive extract`: read a saved page as a crawl would read a list's record and print its report."""

from __future__ import annotations

import codecs
from pathlib import Path

import click

from archive.page import DETAIL, FILE, LIST, RECORD, Fetched, PageContext, read_page


@click.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="URL the page was fetched from (default: file:// URL of FILE).")
@click.option("--encoding", default=None, help="Decode with this charset instead of detecting it.")
@click.option("--any", "any_page", is_flag=True, help="Extract the page even when it is a list or looks like no document.")
def extract_command(file: Path, url: str | None, encoding: str | None, any_page: bool) -> None:
    """Extract one detail page FILE into a report printed as one JSON object.

    A list page, an anti-bot challenge, a withdrawal notice or a page with nothing to extract is an
    error (exit 1) saying what the page is; --any extracts whatever the page holds.

    Example: govarchive extract t20240229_123456.html --url http://www.example.gov.cn/zwgk/t20240229_123456.html
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise click.BadParameter(f"unknown encoding {encoding!r}", param_hint="--encoding") from None
    page_url = url or file.resolve().as_uri()
    fetched = Fetched(page_url, 200, [], file.read_bytes())
    reading = read_page(fetched, PageContext(RECORD, force_detail=any_page, encoding=encoding))
    if reading.kind == DETAIL and reading.report is not None and not reading.report.title and not any_page:
        # a crawl has the list's record title to fall back on; a lone file without one is no document
        text = len(reading.report.body_text or "")
        raise click.ClickException(f"not a detail page: no title, and {text} characters of text "
                                   f"(--any extracts it anyway): {file}")
    if reading.kind == DETAIL and reading.report is not None:
        reading.report.fetched_at = reading.report.status = None  # a file, not a fetch
        click.echo(reading.report.to_json())
        return
    if reading.kind == LIST:
        records = len(reading.links.records) if reading.links else 0
        # against a file:// address its relative record links lead nowhere a crawl would go
        hint = "; --url gives the address its links resolve against" if url is None and not records else ""
        raise click.ClickException(f"not a detail page: list page with {records} records "
                                   f"(--any extracts it anyway{hint}): {file}")
    if reading.kind == FILE:  # its message already says what it is
        raise click.ClickException(f"{reading.message}: {file}")
    what = reading.message or reading.kind
    if reading.redirect:
        what = f"a script redirect to {reading.redirect}"
    raise click.ClickException(f"not a detail page: {what}: {file}")


COMMANDS: list[click.Command] = [extract_command]
