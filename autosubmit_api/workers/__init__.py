"""Background jobs: each a plain `run(settings) -> None`, listed in `jobs()` with its interval.

| name            | reference id     | module                     | interval setting (env variable, default s)        |
|-----------------|------------------|----------------------------|---------------------------------------------------|
| `status`        | `TASK_STTSUPDTR` | `workers/status.py`        | `worker_interval_seconds`                         |
|                 |                  |                            | (API_WORKER_INTERVAL, 300)                        |
| `details`       | `TASK_POPDET`    | `workers/details.py`       | `details_worker_interval_seconds`                 |
|                 |                  |                            | (API_DETAILS_WORKER_INTERVAL, 14400)              |
| `graph_layouts` | `TASK_POPGRPH`   | `workers/graph_layouts.py` | `graph_worker_interval_seconds`                   |
|                 |                  |                            | (API_GRAPH_WORKER_INTERVAL, 3600)                 |

`start_scheduler(settings)` runs them with APScheduler in the process that builds the app (the
gunicorn master, thanks to preload), never in tests unless a test asks. Every run goes through
`run_job`, which takes the job's lock (`workers.lock`: a PostgreSQL advisory lock when several
hosts share the site), logs and records the outcome in METRICS, and never raises.
`python -m autosubmit_api.workers` runs the scheduler alone, in the foreground.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, List, Optional

from autosubmit_api.config import Settings
from autosubmit_api.readers import worker_state

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerJob:
    name: str
    run: Callable[[Settings], None]
    interval: Callable[[Settings], int]
    reference_id: str = ""


def _module_run(module: str) -> Callable[[Settings], None]:
    """`autosubmit_api.workers.<module>.run`, imported when the job first runs, so a job
    whose module cannot be imported fails alone (recorded in METRICS) and the app starts
    without importing the services the jobs use."""

    def run(settings: Settings) -> None:
        importlib.import_module(f"autosubmit_api.workers.{module}").run(settings)

    run.__qualname__ = run.__name__ = f"{module}.run"
    return run


def _interval(attribute: str) -> Callable[[Settings], int]:
    return lambda settings: getattr(settings, attribute)


def jobs() -> List[WorkerJob]:
    """The table of background jobs (readers/worker_state.py `JOBS`). Each entry's module
    holds its `run(settings)`."""
    return [
        WorkerJob(name, _module_run(name), _interval(attribute), reference_id)
        for name, reference_id, attribute in worker_state.JOBS
    ]


def job(name: str) -> WorkerJob:
    for entry in jobs():
        if entry.name == name:
            return entry
    raise KeyError(name)


# Last outcome of each job in this process (readers/worker_state.py keeps it for the health route).
METRICS = worker_state.METRICS


def _publish(settings: Settings) -> None:
    """Write this process's METRICS to the state file the other processes of the site read
    (readers/worker_state.py `state_file`)."""
    snapshot = json.dumps(worker_state.snapshot(), sort_keys=True)
    path = worker_state.state_file(settings)
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".autosubmit_api-workers-")
        with os.fdopen(fd, "w") as handle:
            handle.write(snapshot)
        os.replace(tmp, path)
    except OSError as exc:  # metrics are a convenience: never fail a run for them
        log.warning("cannot publish worker metrics to %s: %s", path, exc)


def _record(job: WorkerJob, settings: Settings, **changes) -> None:
    defaults = {
        "interval_seconds": job.interval(settings),
        "reference_id": job.reference_id,
        "last_run": None,
        "duration_seconds": None,
        "ok": None,
        "last_error": None,
        "last_error_time": None,
        "runs": 0,
        "errors": 0,
        "skipped": 0,
        "last_skip_reason": None,
    }
    changes.update(updated=time.time(), pid=os.getpid(), host=socket.gethostname())
    worker_state.record(job.name, defaults, changes)
    _publish(settings)


def run_job(job: WorkerJob, settings: Settings, *, force: bool = False) -> bool:
    """Run one job once, under its lock; log and record the outcome; never raise.

    Returns True when the job ran and succeeded. `force` runs even when another host already
    ran this interval (the start-up run), but never at the same time as another run.
    """
    from autosubmit_api.workers import lock

    interval = job.interval(settings)
    try:
        with lock.claim(settings, job.name, interval, force=force) as claim:
            if not claim.acquired:
                log.info("background job %s skipped: %s", job.name, claim.reason)
                skipped = worker_state.entry(job.name).get("skipped", 0) + 1
                _record(job, settings, skipped=skipped, last_skip_reason=claim.reason)
                return False
            started = time.time()
            try:
                job.run(settings)
                claim.ok, claim.error = True, None
            except Exception as exc:  # noqa: BLE001 - a worker survives its own failure
                log.exception("background job %s failed", job.name)
                claim.ok, claim.error = False, f"{type(exc).__name__}: {_message(exc)}"
            _finish(job, settings, started, claim.ok, claim.error, claim.slot)
            return claim.ok
    except Exception as exc:  # noqa: BLE001 - the lock itself failed (database down)
        log.exception("background job %s could not take its lock", job.name)
        now = time.time()
        _finish(job, settings, now, False, f"lock: {type(exc).__name__}: {_message(exc)}", None)
        return False


def _message(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else ""


def _finish(
    job: WorkerJob, settings: Settings, started: float, ok: bool, error: Optional[str], slot: Optional[int]
) -> None:
    previous = worker_state.entry(job.name)
    changes = {
        "last_run": started,
        "duration_seconds": round(time.time() - started, 3),
        "ok": ok,
        "runs": previous.get("runs", 0) + 1,
        "errors": previous.get("errors", 0) + (0 if ok else 1),
        "slot": slot,
    }
    if ok:
        changes["last_success"] = started
        changes["last_error"] = None
    else:
        changes["last_error"] = error
        changes["last_error_time"] = started
    _record(job, settings, **changes)
    log.info(
        "background job %s %s in %.3f s (slot %s)",
        job.name,
        "ok" if ok else "failed",
        changes["duration_seconds"],
        slot,
    )


def start_scheduler(settings: Settings) -> BackgroundScheduler:
    """Start the interval jobs (and first run them once when `run_background_tasks_on_start`).

    Every process fires at the same aligned times (just after each multiple of the interval),
    so on several hosts the first to take the lock runs the job and the others skip it.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from autosubmit_api.workers import lock

    table = jobs()
    if settings.run_background_tasks_on_start:
        for entry in table:
            run_job(entry, settings, force=True)
    scheduler = BackgroundScheduler(daemon=True, timezone=timezone.utc)
    now = time.time()
    for entry in table:
        interval = entry.interval(settings)
        start = datetime.fromtimestamp(lock.first_fire(now, interval), tz=timezone.utc)
        scheduler.add_job(
            run_job,
            "interval",
            seconds=interval,
            start_date=start,
            args=(entry, settings),
            id=entry.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, interval // 2),
        )
    scheduler.start()
    log.info("background jobs scheduled: %s", ", ".join(f"{e.name} every {e.interval(settings)} s" for e in table))
    return scheduler
