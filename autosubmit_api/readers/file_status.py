"""The archive file-system probe's DB `<root>/as_metadata/test/<[statusdb] filename>` (Q22):
the last row of table `archive_status(status, avg_latency, avg_bandwidth, current_latency,
current_bandwidth, response_time, modified)` (docs/data.md B.14, docs/api.md 7.13). Read-only."""

from __future__ import annotations

import sqlite3
from typing import Any, Dict, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.readers import paths
from autosubmit_api.readers.sqlite import connect_ro, has_table, table_columns

COLUMNS = (
    "status",
    "avg_latency",
    "avg_bandwidth",
    "current_latency",
    "current_bandwidth",
    "response_time",
    "modified",
)


def last_probe(settings: Settings) -> Optional[Dict[str, Any]]:
    """The newest probe row as a dict (missing columns None); None without DB, table or row."""
    path = paths.file_status_db(settings)
    try:
        with connect_ro(settings, path) as conn:
            if not has_table(conn, "archive_status"):
                return None
            present = [c for c in COLUMNS if c in set(table_columns(conn, "archive_status"))]
            if not present:
                return None
            select = ", ".join(f'"{c}"' for c in present)
            row = conn.execute(f"SELECT {select} FROM archive_status ORDER BY rowid DESC LIMIT 1").fetchone()
    except (APIError, sqlite3.Error):
        # An absent or unreadable probe DB means "no probe result": the route says OFFLINE.
        return None
    if row is None:
        return None
    values = dict.fromkeys(COLUMNS)
    values.update(zip(present, row))
    return values
