"""Engines and schema migrations: one place that knows how to open a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 7_402_551  # advisory lock id: two processes migrating one database take turns


class StoreError(Exception):
    """A problem the user can act on (wrong URL, old schema, unknown report): shown as a clear message."""


# Who may create a database: the commands that write (crawl, reprocess, db upgrade). Readers never do.
CREATORS = "`govarchive crawl`, `reprocess` or `db upgrade` create one"


def shown_url(db_url: str | URL) -> str:
    """The URL as messages show it: the password masked."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return str(db_url)


def db_error_text(exc: BaseException) -> str:
    """The driver's own words for a database error, on one line (no SQLAlchemy background link)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    else:
        text = str(exc).split("\n(Background on this error", 1)[0]
    return "; ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def parse_db_url(db_url: str) -> URL:
    """The URL parsed, or a StoreError saying what a database URL looks like."""
    try:
        url = make_url(db_url)
        url.get_dialect()
    except (ArgumentError, ValueError) as exc:
        raise StoreError(
            f"{db_url!r} is not a database URL (e.g. sqlite:///data/govarchive.db or "
            "postgresql+psycopg://user@host/govarchive)"
        ) from exc
    except NoSuchModuleError as exc:
        raise StoreError(f"{shown_url(db_url)}: unknown database kind {url.drivername!r} "
                         "(use sqlite:/// or postgresql+psycopg://)") from exc
    return url


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL (None for an in-memory or `file:` URI database)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database).expanduser()


def make_engine(db_url: str, *, writer: bool = True, create: bool = True) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, a busy timeout and, for the writer,
    `BEGIN IMMEDIATE` (readers keep plain deferred transactions so they never wait for a crawl).

    With `create=False` a SQLite file that does not exist is a StoreError, and nothing (file or
    directory) is created."""
    url = parse_db_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None and path.is_dir():
            raise StoreError(f"{path} is a directory, not a database file: give the file, "
                             f"e.g. sqlite:///{path / 'govarchive.db'}")
        if path is not None and not create and not path.is_file():
            raise StoreError(f"no database at {shown_url(url)}: {path} does not exist ({CREATORS})")
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_setup(engine, immediate=writer, wal=create)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        raise StoreError(f"{shown_url(url)}: the database driver is not installed ({exc}); "
                         "use sqlite:/// or postgresql+psycopg://") from exc


def _sqlite_setup(engine: Engine, *, immediate: bool, wal: bool = True) -> None:
    """`wal=False` (readers, which never create a database) leaves the file's journal mode alone: a
    govarchive database is already in WAL mode, and a file that is not one must stay untouched."""
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA temp_store=MEMORY")  # sorts and the search pages' match sets (matchset.py)
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
    return upgrade_from(db_url)[1]


def upgrade_from(db_url: str) -> tuple[str | None, str]:
    """Migrate the database at db_url; (revision before, or None for a new database; revision after)."""
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        before = current_revision(engine) if tables else None
        if tables - {"alembic_version"} and before is None:
            raise StoreError(f"{shown_url(engine.url)} is not a govarchive database "
                             "(it has tables but no schema version)")
        return before, upgrade_engine(engine)
    except DBAPIError as exc:
        raise StoreError(f"cannot upgrade {shown_url(engine.url)}: {db_error_text(exc)}") from exc
    finally:
        engine.dispose()


def ensure_schema(engine: Engine, *, create: bool = True) -> bool:
    """Create the schema in an empty database (True when it did); refuse to work on one that is
    behind or unknown. With `create=False` an empty database is refused too."""
    tables = set(inspect(engine).get_table_names())
    if not tables or tables == {"alembic_version"}:
        if not create:
            raise StoreError(f"{shown_url(engine.url)} has no govarchive schema (an empty database; {CREATORS})")
        upgrade_engine(engine)
        return True
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise StoreError(
            f"{shown_url(engine.url)} is not a govarchive database "
            "(it has tables but no schema version)"
        )
    if current != head:
        raise StoreError(
            f"the database schema is at revision {current}, this version needs {head}: "
            "run `govarchive db upgrade`"
        )
    return False


def open_engine(db_url: str, *, create: bool) -> tuple[Engine, bool]:
    """An engine on a govarchive database and whether its schema was just created; every problem
    (bad URL, unreachable server, not a database, no or old schema) is a one-line StoreError.
    With `create=False` (the read-only commands) nothing is ever created."""
    engine = make_engine(db_url, create=create)
    try:
        return engine, ensure_schema(engine, create=create)
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database {shown_url(engine.url)}: {db_error_text(exc)}") from exc
