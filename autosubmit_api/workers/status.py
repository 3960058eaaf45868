"""Status worker (reference TASK_STTSUPDTR, docs/data.md B.14.2): which experiments are running.

Reads the `experiment` table, each experiment's job list time (`<exp>/pkl/job_list_<expid>.pkl`
mtime, `job_pkl.modified` in PostgreSQL, or the 4.2 `MAX(jobs.modified)`, docs/storage.md)
and its newest `*_run.log` (`<exp>/tmp/ASLOGS/`,
`<exp>/tmp/`); writes only `experiment_status` (as_times.db or `public.experiment_status`),
in one transaction, and only the rows whose status changed.

Rule (as the reference): pickle younger than 600 s -> RUNNING; younger than 3600 s ->
RUNNING iff a run log changed less than 300 s ago (B.14.1); otherwise, or without a
pickle, NOT RUNNING. Rows of experiments no longer in `experiment` are deleted.

Deliberate difference: B.14.1 orders the log directories by the version in the experiment
*configuration* (tmp/ first for 3.9, 3.11, 3.12); this worker takes the version from the
`experiment.autosubmit_version` column instead, so it never parses every experiment's
configuration every five minutes. The order only matters when both directories hold a
run log.
"""

from __future__ import annotations

import logging
import time
from typing import List, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.models import ExperimentRef, StatusRow
from autosubmit_api.readers import central_store, job_list, logs, paths
from autosubmit_api.services.timefmt import fmt_dt_dash

log = logging.getLogger(__name__)

RUNNING = "RUNNING"
NOT_RUNNING = "NOT RUNNING"
PKL_RECENT_SECONDS = 600
PKL_STALE_SECONDS = 3600
LOG_RECENT_SECONDS = 300
TMP_FIRST_VERSIONS = ("3.9", "3.11", "3.12")


def pkl_time(settings: Settings, expid: str) -> Optional[float]:
    """When the job list was last written (epoch seconds), None when there is none."""
    return job_list.job_list_mtime(settings, expid)


def log_is_recent(settings: Settings, expid: str, version: Optional[str], now: float) -> bool:
    tmp_first = bool(version) and str(version).startswith(TMP_FIRST_VERSIONS)
    newest = logs.newest_run_log(settings, expid, paths.AS_RUN_LOG, tmp_first=tmp_first)
    return newest is not None and int(now - newest.mtime) < LOG_RECENT_SECONDS


def status_of(settings: Settings, experiment: ExperimentRef, now: float) -> str:
    """RUNNING or NOT RUNNING for one experiment, by the reference's rule."""
    if not paths.is_valid_expid(experiment.name):
        return NOT_RUNNING
    written = pkl_time(settings, experiment.name)
    if written is None:
        return NOT_RUNNING
    age = now - written
    if age < PKL_RECENT_SECONDS:
        return RUNNING
    if age < PKL_STALE_SECONDS and log_is_recent(settings, experiment.name, experiment.autosubmit_version, now):
        return RUNNING
    return NOT_RUNNING


def compute(
    settings: Settings, experiments: Optional[List[ExperimentRef]] = None, now: Optional[float] = None
) -> List[StatusRow]:
    """The status of every experiment now, without writing anything."""
    now = time.time() if now is None else now
    stamp = fmt_dt_dash(now)
    assert stamp is not None, "the current time is a positive time, which always formats"
    if experiments is None:
        experiments = central_store.experiments(settings)
    rows = []
    for experiment in experiments:
        try:
            status = status_of(settings, experiment, now)
        except (APIError, OSError) as exc:
            # One unreadable experiment must not stop the others; it keeps its stored row.
            log.warning("status of %s unknown: %s", experiment.name, exc)
            continue
        rows.append(StatusRow(experiment.id, experiment.name, status, stamp))
    return rows


def run(settings: Settings) -> None:
    experiments = central_store.experiments(settings)
    rows = compute(settings, experiments)
    counts = central_store.apply_statuses(settings, rows, existing_ids=[e.id for e in experiments])
    log.info(
        "experiment status: %d experiments, %d changed, %d removed", len(rows), counts["written"], counts["deleted"]
    )
