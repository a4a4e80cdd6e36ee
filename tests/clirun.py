"""The one way tests run the `govarchive` command, as a user would.

`govarchive(*args, cwd=…)` returns what the user sees: the exit code, stdout and stderr. Commands
that start a Scrapy reactor or a server (crawl, replay, schedule, serve) always run in a subprocess
of the installed console script; the others run in-process through the same `main` (the one error
handler included), which is much faster, unless `subprocess=True` asks for a real process.
"""

from __future__ import annotations

import os
import subprocess as sp
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Default settings, minus the politeness delays that only slow a local fixture site down.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "RETRY_BACKOFF_MAX=0.2"]
# The environment every run starts from: no database from the developer's shell, wide output.
BASE_ENV = {"GOVARCHIVE_DB": "", "COLUMNS": "200", "GOVARCHIVE_DEBUG": ""}
# Verbs that need a process of their own (the Twisted reactor starts once per process; servers).
OWN_PROCESS = {"crawl", "replay", "schedule", "serve"}


@dataclass
class Ran:
    """One run: the exit code and what was printed (named both as subprocess and click name them)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def exit_code(self) -> int:
        return self.returncode

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_line(self) -> str:
        """The first line of stderr (where the one-line error is)."""
        return self.stderr.splitlines()[0] if self.stderr else ""


def command() -> list[str]:
    """The installed console script (or `python -m crawler`, the same entry point)."""
    script = Path(sys.executable).with_name("govarchive")
    return [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]


def govarchive(*args: str, cwd: Path | None = None, timeout: float = 180, env: dict[str, str] | None = None,
               subprocess: bool | None = None, **popen: object) -> Ran:
    """Run `govarchive ARGS…` in `cwd` with BASE_ENV plus `env`; see the module docstring."""
    verb = next((a for a in args if not a.startswith("-")), "")
    own_process = subprocess if subprocess is not None else (verb in OWN_PROCESS or bool(popen))
    environment = {**BASE_ENV, **(env or {})}
    if own_process:
        done = sp.run([*command(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                      env={**os.environ, **environment}, **popen)
        return Ran(done.returncode, done.stdout, done.stderr)
    from click.testing import CliRunner

    from crawler.cli import cli

    with _cwd(cwd):
        result = CliRunner(env=environment).invoke(cli, list(args), prog_name="govarchive", catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


@contextmanager
def _cwd(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'govarchive.db'}"


def sql_rows(db_url: str, sql: str) -> list:
    """The rows a SQL statement returns from the database at `db_url` (what a test reads back)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()
