"""The health report of `/v4/health`: version, central database reachability, the background
jobs' state (through readers/worker_state.py) and the process's caches (autosubmit_api/cache_registry.py)."""

from __future__ import annotations

from typing import Any, Dict

from autosubmit_api import __version__, cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.readers import central_db, worker_state


def background_tasks(settings: Settings) -> Dict[str, Any]:
    """Every background job, listed before its first run too (runs 0), with its interval; under
    gunicorn the scheduler runs in the master, which publishes its outcomes to the workers
    serving this request. On PostgreSQL `cluster` holds the last run of each job on any host."""
    local = worker_state.metrics(settings)
    table = {}
    for name, _, _ in worker_state.JOBS:
        values = local.get(name, dict(worker_state.NOT_RUN))
        values["interval_seconds"] = worker_state.interval(settings, name)
        table[name] = values
    return {
        "enabled": not (settings.testing or settings.disable_background_tasks),
        "jobs": table,
        "cluster": worker_state.cluster_runs(settings),
    }


def health(settings: Settings) -> Dict[str, Any]:
    reachable, message = central_db.ping(settings)
    return {
        "status": "ok" if reachable else "unavailable",
        "version": __version__,
        "backend": settings.db_backend,
        "examples": settings.examples,
        "central_db": {"reachable": reachable, "message": message},
        "background_tasks": background_tasks(settings),
        # This process's caches: entries, bound, hits, misses (docs/performance.md, "Caches").
        "caches": cache_registry.stats(),
    }
