"""Engines and schema migrations: one place that knows how to open a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 7_402_551  # advisory lock id: two processes migrating one database take turns


class StoreError(Exception):
    """A problem the user can act on (wrong URL, old schema, unknown report): shown as a clear message."""


def make_engine(db_url: str, *, writer: bool = True) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, a busy timeout and, for the writer,
    `BEGIN IMMEDIATE` (readers keep plain deferred transactions so they never wait for a crawl)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_setup(engine, immediate=writer)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


def _sqlite_setup(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn) -> None:
        # IMMEDIATE takes the write lock up front: two writers wait for each other instead of
        # failing with "database is locked" when a read transaction tries to upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _alembic_config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_engine(engine: Engine) -> str:
    """Apply every pending migration; returns the revision the database is at afterwards."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        command.upgrade(_alembic_config(conn), "head")
    return head_revision()


def upgrade(db_url: str) -> str:
    """`govarchive db upgrade`: bring the database at db_url to the newest schema."""
    engine = make_engine(db_url)
    try:
        return upgrade_engine(engine)
    finally:
        engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """Create the schema in an empty database; refuse to work on one that is behind or unknown."""
    tables = set(inspect(engine).get_table_names())
    if not tables or tables == {"alembic_version"}:
        upgrade_engine(engine)
        return
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise StoreError(
            f"{engine.url.render_as_string(hide_password=True)} is not a govarchive database "
            "(it has tables but no schema version)"
        )
    if current != head:
        raise StoreError(
            f"the database schema is at revision {current}, this version needs {head}: "
            "run `govarchive db upgrade`"
        )
