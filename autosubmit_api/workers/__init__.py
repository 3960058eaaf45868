"""Background jobs: each a plain `run(settings) -> None`, listed in JOBS with its interval.

`start_scheduler(settings)` runs them with APScheduler in the process that builds the app
(the gunicorn master, thanks to preload), never in tests unless a test asks.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from autosubmit_api.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerJob:
    name: str
    run: Callable[[Settings], None]
    interval: Callable[[Settings], int]


def jobs() -> List[WorkerJob]:
    """The table of background jobs. Each entry's module holds its `run(settings)`."""
    return []


# Last outcome of each job in this process, for the health route.
METRICS: Dict[str, dict] = {}


def run_job(job: WorkerJob, settings: Settings) -> bool:
    """Run one job, log and record its outcome; never raise (the next interval tries again)."""
    started = time.time()
    try:
        job.run(settings)
        ok, error = True, None
    except Exception as exc:  # noqa: BLE001 - a worker survives its own failure
        log.exception("background job %s failed", job.name)
        ok, error = False, f"{type(exc).__name__}: {exc}"
    previous = METRICS.get(job.name, {})
    METRICS[job.name] = {
        "last_run": started,
        "duration_seconds": round(time.time() - started, 3),
        "ok": ok,
        "last_error": error,
        "runs": previous.get("runs", 0) + 1,
        "errors": previous.get("errors", 0) + (0 if ok else 1),
    }
    return ok


def start_scheduler(settings: Settings) -> Optional[object]:
    from apscheduler.schedulers.background import BackgroundScheduler

    table = jobs()
    if settings.run_background_tasks_on_start:
        for job in table:
            run_job(job, settings)
    scheduler = BackgroundScheduler(daemon=True)
    for job in table:
        scheduler.add_job(
            run_job, "interval", seconds=job.interval(settings), args=(job, settings),
            id=job.name, max_instances=1, coalesce=True,
        )
    scheduler.start()
    return scheduler
