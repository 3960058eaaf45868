"""Read-only SQLite access for files Autosubmit owns: never create, lock or change them.

Every connection is opened through a `file:...?mode=ro` URI (so a missing file is an
error, not a new empty database), with a short busy timeout, `query_only` on, and closed
after use so no read transaction outlives the request.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Iterator
from urllib.parse import quote

from autosubmit_api.errors import DataError, NotFound, Unavailable


def _uri(path: str) -> str:
    return "file:" + quote(os.path.abspath(path)) + "?mode=ro"


def is_busy(exc: sqlite3.Error) -> bool:
    """The file is locked by a writer (past the busy timeout), not broken."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def connect_ro(path: str, timeout: float, *, what: str | None = None) -> Iterator[sqlite3.Connection]:
    """A read-only connection to `path` that waits at most `timeout` seconds for a writer's
    lock (the site's `API_SQLITE_TIMEOUT`); NotFound when missing, Unavailable when still
    locked after the timeout (a running Autosubmit: try again), DataError when unreadable."""
    name = what or os.path.basename(path)
    if not os.path.isfile(path):
        raise NotFound(f"{name} not found")
    try:
        conn = sqlite3.connect(_uri(path), uri=True, timeout=timeout, check_same_thread=False)
    except sqlite3.Error as exc:
        raise DataError(f"{name} cannot be opened: {exc}") from None
    try:
        conn.execute("PRAGMA query_only = ON")
        yield conn
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            raise Unavailable(f"{name} is locked by another process; try again") from None
        raise DataError(f"{name} cannot be read: {exc}") from None
    finally:
        conn.close()


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({quote_ident(table)})")]


def has_table(conn: sqlite3.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
    ).fetchone()
    return row is not None


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
