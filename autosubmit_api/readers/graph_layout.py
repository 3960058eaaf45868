"""The graph layout DB `<graph_dir>/graph_data_<expid>.db`, table `experiment_graph_draw`
(docs/data.md A.11): saved GraphViz coordinates, one row per job.

This is the API's own file (Autosubmit never writes it). Reading never creates it (the
anchor did, on every graph request); `write_layout`, used by the layout worker, builds
the whole file under a temporary name in the same directory and renames it over the old
one, so a reader sees either the old layout or the new one, never a half-written table.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from typing import Dict, Mapping, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import Unavailable
from autosubmit_api.readers import cache, paths
from autosubmit_api.readers.sqlite import connect_ro, has_table

TABLE = "experiment_graph_draw"
DDL = (
    "CREATE TABLE experiment_graph_draw (\n  id INTEGER PRIMARY KEY,\n"
    "  job_name text NOT NULL,\n  x INTEGER NOT NULL,\n  y INTEGER NOT NULL\n  )"
)


def _parse(settings: Settings, path: str) -> Dict[str, Tuple[float, float]]:
    name = os.path.basename(path)
    with connect_ro(settings, path, what=name) as conn:
        try:
            if not has_table(conn, TABLE):
                return {}
            rows = conn.execute(f"SELECT job_name, x, y FROM {TABLE} ORDER BY id").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise Unavailable(f"{name} is locked by another process; try again") from None
            raise
    return {job: (x, y) for job, x, y in rows}


def load_layout(settings: Settings, expid: str) -> Dict[str, Tuple[float, float]]:
    """job name -> (x, y) as saved; empty when the file or the table is missing.

    The dict is shared through the cache: callers must not modify it.
    """
    path = paths.graph_db(settings, expid)
    try:
        return cache.cached_file("graph_layout", path, lambda p: _parse(settings, p))
    except FileNotFoundError:
        return {}


def write_layout(settings: Settings, expid: str, positions: Mapping[str, Tuple[float, float]]) -> str:
    """Replace the saved layout with `positions` (ids 1.. in mapping order); returns the path."""
    path = paths.graph_db(settings, expid)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".graph_data_{expid}.", suffix=".tmp")
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute(DDL)
            conn.executemany(
                f"INSERT INTO {TABLE} (id, job_name, x, y) VALUES (?, ?, ?, ?)",
                [(i, name, x, y) for i, (name, (x, y)) in enumerate(positions.items(), start=1)],
            )
            conn.commit()
        finally:
            conn.close()
        # mkstemp makes the file private (0600); other processes of the site read it.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
