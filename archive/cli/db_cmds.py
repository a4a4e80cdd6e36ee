"""`govarchive db upgrade`: bring a database to the newest schema (Alembic migrations)."""

from __future__ import annotations

import click

from archive.cli.common import db_option


@click.group("db")
def db() -> None:
    """Manage the govarchive database schema."""


@db.command("upgrade")
@db_option("SQLAlchemy database URL; created when it does not exist yet.")
def upgrade_cmd(db_url: str) -> None:
    """Apply every pending migration (safe to run repeatedly).

    Example: govarchive db upgrade --db postgresql+psycopg://user@host/govarchive
    """
    from archive.store import StoreError
    from archive.store.engine import shown_url, upgrade_from

    try:
        before, after = upgrade_from(db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if before is None:
        click.echo(f"created a new govarchive database at {shown_url(db_url)}", err=True)
    click.echo(f"database schema at revision {after}")


COMMANDS: list[click.Command] = [db]
