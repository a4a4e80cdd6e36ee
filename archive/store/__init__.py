"""Storage, history, search and export (SQLite by default, PostgreSQL to scale out)."""

from archive.store.engine import StoreError, upgrade
from archive.store.filters import Filters
from archive.store.history import ReportVersion
from archive.store.query import QueryError
from archive.store.store import Store, open_existing_store
from archive.store.stored import StoredReport

__all__ = ["Filters", "QueryError", "ReportVersion", "Store", "StoreError", "StoredReport", "open_existing_store", "upgrade"]
