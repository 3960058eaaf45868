"""The background jobs' state, as the health route shows it (docs/workers.md).

The workers (autosubmit_api/workers) write it, this module reads it, so the health service
never imports the workers:

- `JOBS`: the table of background jobs (name, reference id, interval setting); the workers
  build their schedule from it;
- `METRICS`: each job's latest outcome in this process, updated by the workers through
  `record`;
- the state file: under gunicorn the scheduler runs in the master, but requests are served
  by forked workers whose own METRICS stopped at the fork, so the scheduler's process
  publishes its METRICS to a JSON file of the API's own in the temporary directory
  (`state_file`), written by workers/__init__.py, read here;
- on PostgreSQL, the last run of each job on any host (`cluster_runs`), from the runs table
  the worker lock (workers/lock.py) keeps.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import tempfile
import threading
from typing import Any, Dict, List, Tuple

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autosubmit_api.config import Settings
from autosubmit_api.readers import backend

log = logging.getLogger(__name__)

# (name, reference id, the Settings attribute holding its interval in seconds); the job's
# code is `autosubmit_api.workers.<name>.run`.
JOBS: Tuple[Tuple[str, str, str], ...] = (
    ("status", "TASK_STTSUPDTR", "worker_interval_seconds"),
    ("details", "TASK_POPDET", "details_worker_interval_seconds"),
    ("graph_layouts", "TASK_POPGRPH", "graph_worker_interval_seconds"),
)

# The API's own schema and table of the workers' runs, in the central PostgreSQL database.
SCHEMA = "autosubmit_api"
RUNS_TABLE = f"{SCHEMA}.worker_runs"

# What a job that has not run yet in this process shows.
NOT_RUN = {"runs": 0, "errors": 0, "skipped": 0, "last_run": None, "ok": None, "last_error": None}

# Last outcome of each job in this process.
METRICS: Dict[str, Dict[str, Any]] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # The scheduler thread of the parent may have held the lock at the fork; it does not
    # exist in the child, so the child starts with a free lock.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def interval(settings: Settings, name: str) -> int:
    """The interval of the job `name`, in seconds."""
    for job, _, attribute in JOBS:
        if job == name:
            seconds: int = getattr(settings, attribute)
            return seconds
    raise KeyError(name)


def site_key(settings: Settings) -> str:
    """A short digest naming the site (backend, central DB, experiments root)."""
    site = "\0".join((settings.db_backend, settings.db_path, settings.db_connection_url, settings.local_root_dir))
    return hashlib.sha1(site.encode()).hexdigest()[:16]


def state_file(settings: Settings) -> str:
    """Where the scheduler's process publishes its METRICS for the other processes of the site:
    keyed by the site and the user, in the temporary directory, never next to Autosubmit's files."""
    return os.path.join(tempfile.gettempdir(), f"autosubmit_api-workers-{os.getuid()}-{site_key(settings)}.json")


def record(name: str, defaults: Dict[str, Any], changes: Dict[str, Any]) -> None:
    """Update the job's METRICS entry (created from `defaults` on its first record)."""
    with _lock:
        METRICS.setdefault(name, dict(defaults)).update(changes)


def entry(name: str) -> Dict[str, Any]:
    """A copy of the job's METRICS entry ({} before its first record)."""
    with _lock:
        return dict(METRICS.get(name, {}))


def snapshot() -> Dict[str, Dict[str, Any]]:
    """A copy of this process's METRICS."""
    with _lock:
        return copy.deepcopy(METRICS)


def published(settings: Settings) -> Dict[str, Dict[str, Any]]:
    """The METRICS the scheduler's process published ({} when there is no readable file)."""
    try:
        with open(state_file(settings)) as handle:
            found = json.load(handle)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def metrics(settings: Settings) -> Dict[str, Dict[str, Any]]:
    """Each job's latest outcome: this process's METRICS, or the published ones when those
    are newer (the gunicorn workers' case)."""
    merged = snapshot()
    for name, values in published(settings).items():
        if isinstance(values, dict) and values.get("updated", 0) > merged.get(name, {}).get("updated", 0):
            merged[name] = values
    return merged


def cluster_runs(settings: Settings) -> List[Dict[str, Any]]:
    """The last recorded run of each job on any host (PostgreSQL only; [] otherwise)."""
    if not backend.is_postgres(settings):
        return []
    try:
        with backend.central_engine(settings).connect() as conn:
            exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": RUNS_TABLE}).scalar()
            if exists is None:
                return []
            return [
                dict(r._mapping)
                for r in conn.execute(
                    text(f"SELECT job, slot, host, pid, started, finished, ok, error FROM {RUNS_TABLE} ORDER BY job")
                )
            ]
    except (DBAPIError, SQLAlchemyError) as exc:
        log.warning("cannot read %s: %s", RUNS_TABLE, getattr(exc, "orig", exc))
        return []
