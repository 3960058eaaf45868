"""The health report of `/v4/health`: version, central database reachability, workers' metrics."""
from __future__ import annotations

import copy
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
        "background_tasks": {
            "enabled": not (settings.disable_background_tasks or settings.testing),
            # The scheduler's outcomes: it runs in the gunicorn master, which publishes them
            # to the workers serving this request (workers.metrics).
            "jobs": copy.deepcopy(workers.metrics(settings)),
            # PostgreSQL: the last run of each job on any host ([] on SQLite).
            "cluster": workers.health(settings)["cluster"],
        },
    }
