"""What several commands share: the --db option and opening the database for reading or writing.

Readers (search, show, export, warc pack --db, and a future serve) open the database with
`reading_store`, which never creates one; writers (crawl, reprocess) use `writing_store`, which
creates a new database when needed and says so on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archive.config import default_db_url

if TYPE_CHECKING:
    from rich.console import Console

    from archive.store import Store

DB_DEFAULT_TEXT = "$GOVARCHIVE_DB or sqlite:///data/govarchive.db"


def quiet_warcio() -> None:
    """warcio logs its repairs of damaged records with the raw bytes it read; the WARC commands say
    what was wrong themselves (file, offset, problem), so only its errors are let through."""
    import logging

    logging.getLogger("warcio").setLevel(logging.ERROR)


def output_console(**options: Any) -> Console:
    """A rich Console on stdout whose closed pipe (`search … | head`) is a BrokenPipeError for the one
    error handler, which ends quietly with 141; rich's own answer is SystemExit(1), a failure."""
    from rich.console import Console

    console = Console(**options)
    console.on_broken_pipe = _reader_left  # type: ignore[method-assign]
    return console


def _reader_left() -> None:
    raise BrokenPipeError


def db_option(help_text: str = "SQLAlchemy database URL.") -> Callable[[Any], Any]:
    """--db DBURL with the documented default ($GOVARCHIVE_DB, else ./data/govarchive.db)."""
    return click.option(
        "--db",
        "db_url",
        metavar="DBURL",
        default=default_db_url,
        show_default=DB_DEFAULT_TEXT,
        help=help_text,
    )


def output_option(help_text: str, *, stdout: bool = True) -> Callable[[Any], Any]:
    """-o/--output FILE (with `stdout`, '-' and the default mean stdout): a file, never a directory, in
    a directory that exists, checked before anything is read or written, so a mistyped path never
    creates directories."""
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=stdout),
                        default="-" if stdout else None, callback=_check_output, help=help_text)


def _check_output(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value == "-" and param.type is not None and not getattr(param.type, "allow_dash", True):
        raise click.BadParameter("'-' (stdout) is not possible here: give a file name", ctx=ctx, param=param)
    if value not in (None, "-") and not Path(value).absolute().parent.is_dir():
        raise click.ClickException(f"cannot write {value}: the directory {Path(value).parent} does not exist")
    return value


def require_warc_files(directory: Path) -> None:
    """A directory given for WARC files must hold some: an empty index, package, replay or reprocess of a
    mistyped directory would look like an empty archive."""
    from archive.warc.reader import iter_warc_files

    if next(iter_warc_files([directory]), None) is None:
        raise click.ClickException(f"no WARC files (*.warc, *.warc.gz) under {directory}")


@contextmanager
def reading_store(db_url: str) -> Iterator[Store]:
    """The Store of an existing govarchive database; a missing one is an error naming the URL."""
    from archive.store import StoreError, open_existing_store

    try:
        store = open_existing_store(db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    with _database_errors(store):
        yield store


@contextmanager
def writing_store(db_url: str) -> Iterator[Store]:
    """The Store at db_url, created (with a note on stderr) when it does not exist yet."""
    store = open_store_for_writing(db_url)
    with _database_errors(store):
        yield store


def open_store_for_writing(db_url: str) -> Store:
    from archive.store import Store, StoreError

    try:
        store = Store(db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if store.created:
        from archive.store.engine import shown_url

        click.echo(f"created a new govarchive database at {shown_url(db_url)}", err=True)
    return store


@contextmanager
def _database_errors(store: Store) -> Iterator[None]:
    from sqlalchemy.exc import SQLAlchemyError

    from archive.store.engine import db_error_text, shown_url

    try:
        yield
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error on {shown_url(store.db_url)}: {db_error_text(exc)}") from exc
    finally:
        store.close()
