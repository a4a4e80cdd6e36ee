"""`govarchive extract FILE`: run the extraction on a saved page and print the report as JSON."""

from __future__ import annotations

from pathlib import Path

import click

from archive.extract import ExtractionError, extract


@click.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="URL the page was fetched from (default: file:// URL of FILE).")
@click.option("--encoding", default=None, help="Decode with this charset instead of detecting it.")
def extract_command(file: Path, url: str | None, encoding: str | None) -> None:
    """Extract one detail page FILE into a report printed as one JSON object.

    Example: govarchive extract t20240229_123456.html --url http://www.example.gov.cn/zwgk/t20240229_123456.html
    """
    try:
        report = extract(file.read_bytes(), url or file.resolve().as_uri(), encoding=encoding)
    except ExtractionError as exc:
        raise click.ClickException(str(exc)) from exc
    except LookupError as exc:
        raise click.ClickException(f"unknown encoding {encoding!r}") from exc
    except Exception as exc:  # the parser giving up on the file: say which file (-v shows the traceback)
        from archive.cli.errors import describe

        raise click.ClickException(f"{file}: cannot extract a report ({describe(exc)})") from exc
    click.echo(report.to_json())


COMMANDS: list[click.Command] = [extract_command]
