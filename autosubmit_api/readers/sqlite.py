"""Read-only SQLite access for files Autosubmit owns: never create, lock or change them.

Every connection is opened through a `file:...?mode=ro` URI (so a missing file is an
error, not a new empty database), with a short busy timeout, `query_only` on, and closed
after use so no read transaction outlives the request. The file must resolve inside the
site's roots (readers/confined.py `real_path`); its real path is what SQLite opens.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Iterator
from urllib.parse import quote

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound, Unavailable
from autosubmit_api.readers import confined


def _uri(path: str) -> str:
    return "file:" + quote(os.path.abspath(path)) + "?mode=ro"


def is_busy(exc: sqlite3.Error) -> bool:
    """The file is locked by a writer (past the busy timeout), not broken."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextlib.contextmanager
def connect_ro(
    settings: Settings, path: str, timeout: float | None = None, *, what: str | None = None
) -> Iterator[sqlite3.Connection]:
    """A read-only connection to `path` that waits at most `timeout` seconds (default: the
    site's `API_SQLITE_TIMEOUT`) for a writer's lock; NotFound when missing, Forbidden
    (confined.Refused) when it resolves outside the site's roots, Unavailable when still
    locked after the timeout (a running Autosubmit: try again), DataError when unreadable."""
    name = what or os.path.basename(path)
    if timeout is None:
        timeout = settings.sqlite_timeout
    try:
        real = confined.real_path(settings, path)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        raise NotFound(f"{name} not found") from None
    try:
        conn = sqlite3.connect(_uri(real), uri=True, timeout=timeout, check_same_thread=False)
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
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)).fetchone()
    return row is not None


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
