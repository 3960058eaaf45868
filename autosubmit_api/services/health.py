"""The health report of `/v4/health`: version, central database reachability, workers' metrics."""

from __future__ import annotations

from typing import Any, Dict

from autosubmit_api import __version__
from autosubmit_api.config import Settings
from autosubmit_api.readers import central_db


def health(settings: Settings) -> Dict[str, Any]:
    from autosubmit_api import workers

    reachable, message = central_db.ping(settings)
    return {
        "status": "ok" if reachable else "unavailable",
        "version": __version__,
        "backend": settings.db_backend,
        "examples": settings.examples,
        "central_db": {"reachable": reachable, "message": message},
        # Every background job, listed before its first run too (runs 0); under gunicorn the
        # scheduler runs in the master, which publishes its outcomes to the workers serving
        # this request. On PostgreSQL `cluster` holds the last run of each job on any host.
        "background_tasks": workers.health(settings),
    }
