"""Alembic environment: run against the connection handed over by `archive.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from archive.store.models import Base

SEARCH_TABLES = {"report_fts", "report_search", "file_fts", "file_search"}


def include_object(obj, name, type_, reflected, compare_to):
    """The search index is managed by hand (FTS5 / tsvector), not by autogenerate."""
    return not (type_ == "table" and (name in SEARCH_TABLES or name.startswith(("report_fts_", "file_fts_"))))


def run_migrations() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
