"""Shared test fixtures: the fixture government site and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("GOVARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def fixture_site():
    """The bundled fixture government site on a free port, shared by the whole session."""
    from fixtures.site.server import start_site

    site = start_site(port=0)
    yield site
    site.stop()


@pytest.fixture(scope="module")
def site():
    """A fixture site of the module's own: fresh request log, the 503-once page still armed."""
    from fixtures.site.server import start_site

    site = start_site(port=0)
    yield site
    site.stop()


def _pg_reachable() -> str | None:
    try:
        import psycopg

        dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no usable server here
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One PostgreSQL database with the current schema, made once per session: each test's database is
    a copy of it (CREATE DATABASE … TEMPLATE), much faster than running the migrations every time."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    from archive.store import Store

    name = f"govarchive_template_{uuid.uuid4().hex[:12]}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    Store(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}").close()  # creates the schema
    yield name
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template) -> Iterator[str]:
    """A fresh PostgreSQL database with the govarchive schema and no rows, for one test, dropped afterwards."""
    import psycopg

    name = f"govarchive_test_{uuid.uuid4().hex[:12]}"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """The same test on the SQLite default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'govarchive.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    """An empty Store on SQLite and on PostgreSQL (a test module may define its own, pre-filled one)."""
    from archive.store import Store

    s = Store(db_url)
    yield s
    s.close()


def project_crawler(spidercls=None, **overrides):
    """A Scrapy crawler with govarchive's own settings (crawler/settings.py) plus `overrides`, as
    `govarchive crawl` builds it: components read their defaults from there, not from fallbacks."""
    from scrapy.utils.test import get_crawler

    import crawler.settings as project

    settings = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    return get_crawler(spidercls, settings_dict={**settings, **overrides})


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, which the browser path drives: its tests skip without it, except under CI=true
    (.ci/run installs it), where a missing browser is a failure rather than a silent skip."""
    import shutil

    path = shutil.which("chromium")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true and Debian's chromium package is not installed: the browser tests must run here")
    pytest.skip("Debian's chromium package is not installed (apt-get install chromium): browser tests skipped")
