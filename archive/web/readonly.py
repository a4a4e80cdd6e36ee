"""Opening the database for a command that only reads: never create a file or a schema.

`Store(url)` creates an empty database's schema on first use (right for a crawl). A server that
did so on a mistyped `--db` would show an empty archive instead of saying the URL is wrong, so the
database must already exist and hold govarchive's tables before the Store is opened.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from archive.store import Store, StoreError
from archive.store.engine import make_engine

REQUIRED_TABLES = {"reports", "report_versions"}


def safe_url(db_url: str) -> str:
    """The URL as it may be shown (password hidden)."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        return db_url


def open_existing(db_url: str) -> Store:
    """A Store over an existing govarchive database; StoreError naming the URL otherwise."""
    shown = safe_url(db_url)
    try:
        url = make_url(db_url)
    except ArgumentError as exc:
        raise StoreError(f"{shown} is not a database URL (e.g. sqlite:///data/govarchive.db)") from exc
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise StoreError(f"{shown}: give the path of an existing SQLite file (sqlite:///PATH)")
        path = Path(database).expanduser()
        if not path.is_file():
            raise StoreError(f"no database at {shown}: {path} does not exist (crawl into it first, or give --db)")
    try:
        probe = make_engine(db_url, writer=False)
        try:
            tables = set(inspect(probe).get_table_names())
        finally:
            probe.dispose()
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StoreError(f"cannot open the database {shown}: {reason}") from exc
    if not REQUIRED_TABLES <= tables:
        raise StoreError(f"{shown} is not a govarchive database (no reports table): crawl into it first")
    try:
        return Store(db_url)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the database {shown}: {getattr(exc, 'orig', None) or exc}") from exc
