"""`govarchive warc index|pack|repair` and `govarchive replay`: thin wrappers over archive.warc."""

from __future__ import annotations

import errno
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from archive.cli.common import output_option, quiet_warcio, reading_store, require_warc_files
from archive.config import default_warc_dir

REPLAY_HOST = "127.0.0.1"
REPLAY_START_TIMEOUT = 90.0  # seconds pywb may take to answer its first request

warc_dir_option = click.option(
    "--warc-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of WARC files [default: ./data/warc/].",
)


def _warc_dir(value: Path | None, *, with_warcs: bool = True) -> Path:
    """The WARC directory, which must exist and (`with_warcs`) hold WARC files."""
    path = value or default_warc_dir()
    if not path.is_dir():
        raise click.ClickException(f"WARC directory not found: {path}")
    if with_warcs:
        require_warc_files(path)
    return path


@contextmanager
def _readable_warcs(what: str) -> Iterator[None]:
    """A WARC that cannot be read is one line naming the file and the offset; nothing is written."""
    from archive.warc.reader import WarcReadError

    quiet_warcio()
    try:
        yield
    except WarcReadError as exc:
        raise click.ClickException(f"{exc.path}: {exc}; no {what} written") from exc


@click.group("warc")
def warc_group() -> None:
    """Index, package and repair the WARC files of the archive."""


@warc_group.command("index")
@warc_dir_option
@output_option("CDXJ file to write [default: stdout]; its directory must exist.")
def index_cmd(warc_dir: Path | None, output: str) -> None:
    """Write a sorted CDXJ index (SURT keys) of every WARC in the directory.

    Example: govarchive warc index --warc-dir data/warc -o data/index.cdxj
    """
    from archive.warc.indexer import write_cdxj

    directory = _warc_dir(warc_dir)
    with _readable_warcs("index"):
        count = write_cdxj(directory, sys.stdout if output == "-" else Path(output))
    if output != "-":
        click.echo(f"{count} index lines written to {output}", err=True)


@warc_group.command("pack")
@warc_dir_option
@output_option("WACZ file to write; its directory must exist [default: govarchive.wacz beside the WARC "
               "directory, ./data/govarchive.wacz].", stdout=False)
@click.option("--db", "db_url", metavar="DBURL", default=None,
              help="Existing database whose reports (title, date) become the pages list [default: the WARCs' HTML pages].")
@click.option("--title", default="", help="Title of the package shown by ReplayWeb.page [default: the file name].")
def pack_cmd(warc_dir: Path | None, output: str | None, db_url: str | None, title: str) -> None:
    """Package the WARCs as a WACZ that ReplayWeb.page opens.

    The pages list (pages/pages.jsonl) holds the stored reports (title and date) when --db is
    given, else every HTML page found in the WARCs.

    Example: govarchive warc pack --warc-dir data/warc --db sqlite:///data/govarchive.db -o gov.wacz
    """
    from archive.warc.wacz import write_wacz

    directory = _warc_dir(warc_dir)
    out = Path(output) if output else directory.parent / "govarchive.wacz"
    pages = _report_pages(db_url) if db_url else None
    with _readable_warcs("WACZ"):
        path = write_wacz(directory, out, pages, title=title)
    click.echo(f"wrote {path}", err=True)


@warc_group.command("repair")
@warc_dir_option
def repair_cmd(warc_dir: Path | None) -> None:
    """Close WARC files a crashed crawl left as *.warc.gz.open (truncated at the last whole record).

    Example: govarchive warc repair --warc-dir data/warc
    """
    from archive.warc.repair import repair_directory

    results = repair_directory(_warc_dir(warc_dir, with_warcs=False))
    for result in results:
        click.echo(result.describe())
    if not results:
        click.echo("no unfinished WARC files", err=True)


@click.command("replay")
@warc_dir_option
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help=f"Port pywb listens on ({REPLAY_HOST}); it must be free.")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="pywb working directory (its collection and index) [default: next to the WARC directory, ./data/pywb].",
)
def replay_cmd(warc_dir: Path | None, port: int, workdir: Path | None) -> None:
    """Browse the archive in pywb (installed on first use into its own virtualenv).

    pywb lives in ~/.cache/govarchive/pywb-venv (or $GOVARCHIVE_PYWB_VENV), never in the project's
    environment. Open http://127.0.0.1:PORT/govarchive/URL to replay a page. Exits non-zero when the
    port is taken or pywb stops on its own; Ctrl-C stops it.

    Example: govarchive replay --warc-dir data/warc --port 8080
    """
    from archive.warc import replay

    directory = _warc_dir(warc_dir)
    _check_port_free(port)
    workdir = workdir or directory.parent / "pywb"
    try:
        replay.prepare_collection(
            directory, workdir, venv=replay.ensure_pywb(log=lambda m: click.echo(m, err=True))
        )
    except (replay.PywbUnavailable, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot prepare the pywb collection in {workdir}: {exc}") from exc
    process = replay.serve(workdir, port, bind=REPLAY_HOST)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop pywb with us, not only on Ctrl-C
    try:
        try:
            replay.wait_until_up(port, bind=REPLAY_HOST, timeout=REPLAY_START_TIMEOUT, process=process)
        except (replay.PywbUnavailable, TimeoutError) as exc:
            raise click.ClickException(f"the replay server did not start: {exc}") from exc
        click.echo(
            f"replaying {directory} at http://{REPLAY_HOST}:{port}/{replay.COLLECTION}/ (Ctrl-C stops)", err=True
        )
        code = process.wait()
        raise click.ClickException(f"the replay server (pywb) stopped unexpectedly with exit code {code}")
    except (KeyboardInterrupt, SystemExit):
        pass  # stopped on request (Ctrl-C, SIGTERM): a normal end
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait()


def _check_port_free(port: int) -> None:
    """The replay port must be free before anything is announced or installed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((REPLAY_HOST, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise click.ClickException(f"port {port} on {REPLAY_HOST} {why}: choose another with --port") from exc


def _report_pages(db_url: str) -> list[dict[str, str | None]]:
    """Pages (url, title, fetch time) of the reports stored in an existing database."""
    with reading_store(db_url) as store:
        return [{"url": r.url, "title": r.title, "ts": r.fetched_at} for r in store.iter_reports()]


COMMANDS: list[click.Command] = [warc_group, replay_cmd]
