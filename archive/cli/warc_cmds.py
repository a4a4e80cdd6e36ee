"""`govarchive warc index|pack|repair` and `govarchive replay`: thin wrappers over archive.warc."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from archive.config import default_warc_dir

warc_dir_option = click.option(
    "--warc-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of WARC files [default: ./data/warc/].",
)


def _warc_dir(value: Path | None) -> Path:
    path = value or default_warc_dir()
    if not path.is_dir():
        raise click.ClickException(f"WARC directory not found: {path}")
    return path


@click.group("warc")
def warc_group() -> None:
    """Index, package and repair the WARC files of the archive."""


@warc_group.command("index")
@warc_dir_option
@click.option("-o", "--output", "out", default="-", help="CDXJ file to write [default: stdout].")
def index_cmd(warc_dir: Path | None, out: str) -> None:
    """Write a sorted CDXJ index (SURT keys) of every WARC in the directory.

    Example: govarchive warc index --warc-dir data/warc -o data/index.cdxj
    """
    from archive.warc.indexer import write_cdxj

    count = write_cdxj(_warc_dir(warc_dir), sys.stdout if out == "-" else Path(out))
    if out != "-":
        click.echo(f"{count} index lines written to {out}", err=True)


@warc_group.command("pack")
@warc_dir_option
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="WACZ file to write [default: ./data/govarchive.wacz].",
)
@click.option("--db", "db_url", default=None, help="Database whose reports become the pages list.")
@click.option("--title", default="", help="Title of the package.")
def pack_cmd(warc_dir: Path | None, out: Path | None, db_url: str | None, title: str) -> None:
    """Package the WARCs as a WACZ that ReplayWeb.page opens.

    The pages list (pages/pages.jsonl) holds the stored reports (title and date) when --db is
    given, else every HTML page found in the WARCs.

    Example: govarchive warc pack --warc-dir data/warc --db sqlite:///data/govarchive.db -o gov.wacz
    """
    from archive.warc.wacz import write_wacz

    directory = _warc_dir(warc_dir)
    out = out or directory.parent / "govarchive.wacz"
    pages = _report_pages(db_url) if db_url else None
    try:
        path = write_wacz(directory, out, pages, title=title)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {path}", err=True)


@warc_group.command("repair")
@warc_dir_option
def repair_cmd(warc_dir: Path | None) -> None:
    """Close WARC files a crashed crawl left as *.warc.gz.open (truncated at the last whole record).

    Example: govarchive warc repair --warc-dir data/warc
    """
    from archive.warc.repair import repair_directory

    results = repair_directory(_warc_dir(warc_dir))
    for result in results:
        click.echo(result.describe())
    if not results:
        click.echo("no unfinished WARC files", err=True)


@click.command("replay")
@warc_dir_option
@click.option("--port", default=8080, show_default=True, help="Port pywb listens on (127.0.0.1).")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="pywb working directory [default: next to the WARC directory, ./data/pywb].",
)
def replay_cmd(warc_dir: Path | None, port: int, workdir: Path | None) -> None:
    """Browse the archive in pywb (installed on first use into its own virtualenv).

    pywb lives in ~/.cache/govarchive/pywb-venv (or $GOVARCHIVE_PYWB_VENV), never in the project's
    environment. Open http://127.0.0.1:PORT/govarchive/URL to replay a page.

    Example: govarchive replay --warc-dir data/warc --port 8080
    """
    from archive.warc import replay

    directory = _warc_dir(warc_dir)
    workdir = workdir or directory.parent / "pywb"
    try:
        replay.prepare_collection(
            directory, workdir, venv=replay.ensure_pywb(log=lambda m: click.echo(m, err=True))
        )
    except (replay.PywbUnavailable, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    process = replay.serve(workdir, port)
    click.echo(
        f"replaying {directory} at http://127.0.0.1:{port}/{replay.COLLECTION}/ (Ctrl-C stops)", err=True
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop pywb with us, not only on Ctrl-C
    try:
        process.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        process.terminate()
        process.wait()


def _report_pages(db_url: str) -> list[dict[str, str | None]] | None:
    """Pages (url, title, fetch time) of the stored reports; None (the WARC fallback) if the store fails."""
    try:
        from archive.store import Store

        store = Store(db_url)
        try:
            return [{"url": r.url, "title": r.title, "ts": r.fetched_at} for r in store.iter_reports()]
        finally:
            store.close()
    except Exception as exc:  # store missing or unreadable: list the WARCs' own HTML pages instead
        click.echo(f"cannot read reports from {db_url} ({exc}); listing HTML pages from the WARCs", err=True)
        return None


COMMANDS: list[click.Command] = [warc_group, replay_cmd]
