"""The wrapper tables: `<exp>/pkl/job_packages_<expid>.db` (docs/data.md A.7), the 4.2
`db/job_list.db` (A.13) or the expid's PostgreSQL schema (A.12), as readers/storage.py says.

Tables, whichever the Autosubmit version left: `job_package` / `wrapper_job_package`
(3.x-4.1.16, with or without the 4th `wallclock` column) and the 4.1.17 `wrappers_jobs` /
`preview_wrappers_jobs`. The anchor's rule: the real wrappers (`job_package`), else, when
that table is missing or empty, the preview (`wrapper_job_package`). The 4.1.17 tables
are mapped the same way (`wrappers_jobs` is real, `preview_wrappers_jobs` the preview);
real wrappers of either era come before any preview. A missing file, or one without any
of these tables, means "no wrappers": an empty `Packages`, not an error. The file is
only ever opened read-only (never created, docs/decisions.md Q28).
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.models import Packages
from autosubmit_api.readers import cache, storage, store
from autosubmit_api.readers.store import Store

# Real wrappers first (3.x-4.1.16, then 4.1.17), then the previews.
TABLE_ORDER = ("job_package", "wrappers_jobs", "wrapper_job_package", "preview_wrappers_jobs")
EMPTY = Packages()


def fetch_package_rows(st: Store) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """(table, [(package_name, job_name), ...] in row order) of the first non-empty table."""
    for table in TABLE_ORDER:
        cols = {c.lower() for c in st.columns(table) or ()}
        if not {"package_name", "job_name"} <= cols:
            continue
        rows = st.rows(f"SELECT package_name, job_name FROM {st.table(table)} ORDER BY {st.physical_order}")
        if rows:
            return table, [(r[0], r[1]) for r in rows]
    return None, []


def build_packages(table: Optional[str], rows: Sequence[Tuple[object, object]]) -> Packages:
    """The anchor's maps (docs/data.md A.7), including its symbol-parity quirk."""
    job_to_package: Dict[str, str] = {}
    package_to_jobs: Dict[str, List[str]] = {}
    for package, job in rows:
        if package is None or not str(package).strip():
            continue
        package, job = str(package), str(job)
        job_to_package[job] = package
        package_to_jobs.setdefault(package, []).append(job)
    package_to_package_id = {
        package: package.split("_")[2] for package in package_to_jobs if len(package.split("_")) >= 3
    }
    # One entry per job in job_to_package's order (a re-assigned job keeps its first
    # position); the last assignment of each package wins.
    package_to_symbol: Dict[str, str] = {}
    for index, package in enumerate(job_to_package.values()):
        package_to_symbol[package] = "square" if index % 2 == 0 else "hexagon"
    return Packages(
        job_to_package=job_to_package,
        package_to_jobs={k: tuple(v) for k, v in package_to_jobs.items()},
        package_to_package_id=package_to_package_id,
        package_to_symbol=package_to_symbol,
        table=table if job_to_package else None,
    )


def load_packages(settings: Settings, expid: str) -> Packages:
    """The experiment's packages; empty when its layout has no wrapper tables or no rows."""
    where = storage.locate(settings, expid)
    path = storage.packages_path(settings, where)
    if where.postgres:
        # The rows themselves are the cache key: a few per wrapped job, read in one query.
        with store.open_schema(settings, expid, "the wrapper tables") as st:
            table, rows = fetch_package_rows(st)
        return cache.cached(
            "packages", (settings.db_connection_url, expid, table, tuple(rows)), lambda: build_packages(table, rows)
        )

    def parse(p: str) -> Packages:
        with store.open_file(settings, p, os.path.basename(p)) as st:
            return build_packages(*fetch_package_rows(st))

    try:
        return cache.cached_file("packages", path, parse)
    except FileNotFoundError:
        return EMPTY
