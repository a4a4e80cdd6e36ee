"""Defaults shared by every command: where the database and the WARC files live."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path("data")


def default_db_url() -> str:
    """`$GOVARCHIVE_DB`, else a SQLite file under ./data/ (DESIGN.md, CLI contract)."""
    return os.environ.get("GOVARCHIVE_DB") or f"sqlite:///{DATA_DIR / 'govarchive.db'}"


def default_warc_dir() -> Path:
    return DATA_DIR / "warc"
