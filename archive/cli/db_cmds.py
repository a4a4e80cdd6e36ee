"""`govarchive db upgrade`: bring a database to the newest schema (Alembic migrations)."""

from __future__ import annotations

import click

from archive.config import default_db_url


@click.group("db")
def db() -> None:
    """Manage the govarchive database schema."""


@db.command("upgrade")
@click.option(
    "--db",
    "db_url",
    default=default_db_url,
    show_default="$GOVARCHIVE_DB or ./data/govarchive.db",
    help="SQLAlchemy database URL.",
)
def upgrade_cmd(db_url: str) -> None:
    """Apply every pending migration (safe to run repeatedly).

    Example: govarchive db upgrade --db postgresql+psycopg://user@host/govarchive
    """
    from archive.store import upgrade

    try:
        revision = upgrade(db_url)
    except Exception as exc:  # any failure to reach or migrate the database is the user's to fix
        raise click.ClickException(f"cannot upgrade {db_url}: {exc}") from exc
    click.echo(f"database schema at revision {revision}")


COMMANDS: list[click.Command] = [db]
