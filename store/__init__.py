"""The stancewatch database: TinyDB tables, crash-safe writes, and the query API.

`Store` is the only thing the rest of the program needs from here; the TUI
reads through its query methods and never touches TinyDB.
"""

from __future__ import annotations

from .database import SCHEMA_VERSION, Store, copy_database, database_files

__all__ = ["SCHEMA_VERSION", "Store", "copy_database", "database_files"]
