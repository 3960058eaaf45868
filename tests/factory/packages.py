"""Writes `job_packages_<expid>.db` (docs/data.md A.7) and `graph_data_<expid>.db` (A.11).

Package DB layouts (`layout=`), with the table that receives the rows:

* `job_package`: Autosubmit 3.x-4.1.11, rows in `job_package` (real wrappers), plus
  `db_options` and an empty `wrapper_job_package`; untyped 3-column tables.
* `wrapper_job_package`: same tables, rows only in the preview table (fixture a6zj).
* `job_package_wallclock` / `wrapper_job_package_wallclock`: 4.1.12-4.1.16, a 4th column
  `wallclock` in both tables, no `db_options` (fixture a1vj).
* `wrappers_jobs` / `preview_wrappers_jobs`: 4.1.17, the SQLAlchemy tables `wrappers_info`,
  `preview_wrappers_info`, `wrappers_jobs`, `preview_wrappers_jobs` (fixture aa6f).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Mapping, Sequence, Tuple, Union

LAYOUTS = (
    "job_package",
    "wrapper_job_package",
    "job_package_wallclock",
    "wrapper_job_package_wallclock",
    "wrappers_jobs",
    "preview_wrappers_jobs",
)

_INFO_DDL = """CREATE TABLE {table} (
	name VARCHAR NOT NULL,
	id INTEGER,
	script_name VARCHAR,
	status TEXT NOT NULL,
	local_logs_out VARCHAR,
	local_logs_err VARCHAR,
	remote_logs_out VARCHAR,
	remote_logs_err VARCHAR,
	updated_log INTEGER,
	platform_name VARCHAR,
	wallclock VARCHAR,
	num_processors INTEGER,
	type TEXT,
	sections TEXT,
	method TEXT,
	PRIMARY KEY (name)
)"""

_JOBS_DDL = """CREATE TABLE {table} (
	package_id INTEGER NOT NULL,
	package_name VARCHAR NOT NULL,
	job_name VARCHAR NOT NULL,
	timestamp VARCHAR,
	PRIMARY KEY (package_id, package_name, job_name)
)"""


def _fresh(path: Union[str, os.PathLike]) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    return path


def write_packages(
    path: Union[str, os.PathLike],
    expid: str,
    packages: Mapping[str, Sequence[str]],
    layout: str = "job_package",
    *,
    wallclock: str = "00:30",
) -> None:
    """Write `packages` ({package name: [job names]}, in order) in the given layout."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown package layout {layout!r}")
    conn = sqlite3.connect(_fresh(path))
    try:
        if layout in ("wrappers_jobs", "preview_wrappers_jobs"):
            _write_4117(conn, packages, preview=layout.startswith("preview"), wallclock=wallclock)
        else:
            with_wallclock = layout.endswith("_wallclock")
            cols = "exp_id, package_name, job_name" + (", wallclock" if with_wallclock else "")
            if not with_wallclock:
                conn.execute("CREATE TABLE db_options (option_name, option_value)")
                conn.executemany(
                    "INSERT INTO db_options VALUES (?, ?)", [("name", f"job_packages_{expid}"), ("version", "1")]
                )
            conn.execute(f"CREATE TABLE job_package ({cols})")
            conn.execute(f"CREATE TABLE wrapper_job_package ({cols})")
            table = "wrapper_job_package" if layout.startswith("wrapper_") else "job_package"
            marks = ", ".join("?" * (4 if with_wallclock else 3))
            rows = [
                (expid, package, job) + ((wallclock,) if with_wallclock else ())
                for package, jobs in packages.items()
                for job in jobs
            ]
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.commit()
    finally:
        conn.close()


def _write_4117(
    conn: sqlite3.Connection, packages: Mapping[str, Sequence[str]], *, preview: bool, wallclock: str
) -> None:
    for table in ("wrappers_info", "preview_wrappers_info"):
        conn.execute(_INFO_DDL.format(table=table))
    for table in ("wrappers_jobs", "preview_wrappers_jobs"):
        conn.execute(_JOBS_DDL.format(table=table))
    prefix = "preview_" if preview else ""
    for n, (package, jobs) in enumerate(packages.items()):
        # A preview has no scheduler id yet (-1, as in fixture aa6f); real ones get one.
        package_id = -1 if preview else 3_000_000 + n
        sections = " ".join(sorted({job.rsplit("_", 1)[-1] for job in jobs}))
        conn.execute(
            f"INSERT INTO {prefix}wrappers_info (name, id, script_name, status, local_logs_out,"
            " local_logs_err, remote_logs_out, remote_logs_err, updated_log, platform_name,"
            " wallclock, num_processors, type, sections, method)"
            " VALUES (?, ?, ?, ?, '', '', '', '', 0, ?, ?, 0, 'vertical', ?, 'ASThread')",
            (package, package_id, f"{package}.cmd", "COMPLETED", "MN5", wallclock, sections),
        )
        conn.executemany(
            f"INSERT INTO {prefix}wrappers_jobs (package_id, package_name, job_name, timestamp) VALUES (?, ?, ?, ?)",
            [(package_id, package, job, f"2026-06-09T15:28:31.{515130 + i:06d}") for i, job in enumerate(jobs)],
        )


def write_graph_layout(path: Union[str, os.PathLike], positions: Mapping[str, Tuple[float, float]]) -> None:
    """`experiment_graph_draw` with one row per job, ids 1.. in mapping order (A.11)."""
    conn = sqlite3.connect(_fresh(path))
    try:
        conn.execute(
            "CREATE TABLE experiment_graph_draw (\n  id INTEGER PRIMARY KEY,\n"
            "  job_name text NOT NULL,\n  x INTEGER NOT NULL,\n  y INTEGER NOT NULL\n  )"
        )
        conn.executemany(
            "INSERT INTO experiment_graph_draw (id, job_name, x, y) VALUES (?, ?, ?, ?)",
            [(i, name, x, y) for i, (name, (x, y)) in enumerate(positions.items(), start=1)],
        )
        conn.commit()
    finally:
        conn.close()
