"""Run views from the history DB (docs/api.md 7.1, 7.4, 7.5; docs/data.md B.8.1-B.8.3).

* `v3_runs`: `/runs/<expid>`, every run with its counters and SYPD/ASYPD;
* `v4_runs`: `/v4/experiments/<expid>/runs`, run ids with UTC start/finish;
* `run_config`: `/v4/experiments/<expid>/runs/<run_id>/config`, the configuration saved
  in `experiment_run.metadata` when the run started.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, DataError, NotFound
from autosubmit_api.models import ExperimentHistory, ExperimentRun, JobDataRow
from autosubmit_api.readers import central_db, exp_config, job_data, job_list, paths
from autosubmit_api.services.history import RowGroups, qpkg, row_groups, run_time_of
from autosubmit_api.services.metrics import chsy_job, sim_parallelization, split_outliers, years_per_chunk
from autosubmit_api.services.timefmt import fmt_dt, fmt_utc_iso

# Run lookups by id need the `run_id` column (B.8.3).
MIN_RUN_VERSION = 12


def contains_nones(config: Mapping[str, Any]) -> bool:
    """Empty, or a null among the top-level values (B.8.3, B.13)."""
    return not config or any(value is None for value in config.values())


def run_with_header(history: ExperimentHistory, run_id: int) -> Optional[ExperimentRun]:
    """The run by id, only when its counters were written (`total > 0`, B.8.3). In a history
    written by Autosubmit 4.2, also a run its jobs' rows belong to: 4.2 opens a run on `run`
    and leaves its counters at 0 (docs/data.md A.13), and upstream 4.2.0 gives their configuration."""
    if history.user_version < MIN_RUN_VERSION:
        return None
    run = history.run(run_id)
    if run is None:
        return None
    if not (run.total or 0) > 0 and not (history.as42 and any(row.run_id == run.run_id for row in history.rows)):
        return None
    return run


def parse_metadata(text: Optional[str]) -> Dict[str, Any]:
    """The run's saved configuration; {} when empty or not a JSON object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def run_config(settings: Settings, expid: str, run_id: str) -> Dict[str, Any]:
    """B.8.3; every failure is `{"run_id": null, "config": {"contains_nones": true}}` (Q2)."""
    empty = {"run_id": None, "config": {"contains_nones": True}}
    try:
        number = int(run_id)
        paths.check_expid(expid)
        history = job_data.load_history(settings, expid, optional=True)
    except (ValueError, APIError):
        return empty
    if history is None:
        return empty
    run = run_with_header(history, number)
    if run is None:
        return empty
    config = parse_metadata(run.metadata)
    config["contains_nones"] = contains_nones(config)
    return {"run_id": run.run_id, "config": config}


def require_experiment(settings: Settings, expid: str) -> None:
    """NotFound with the reference's text unless the central DB knows the experiment."""
    paths.check_expid(expid)
    if central_db.lacks_experiment(settings, expid):
        raise NotFound(f"Experiment {expid} does not exist")


def v4_runs(settings: Settings, expid: str) -> Dict[str, Any]:
    """B.8.2: runs in table order with UTC ISO times; 404 for an unknown experiment."""
    require_experiment(settings, expid)
    history = job_data.load_history(settings, expid)
    return {
        "runs": [
            {"run_id": run.run_id, "start": fmt_utc_iso(run.start), "finish": fmt_utc_iso(run.finish)}
            for run in history.runs
        ]
    }


def _run_metrics(
    run: ExperimentRun, sims: Sequence[JobDataRow], posts: Sequence[JobDataRow], groups: RowGroups, now: int
) -> Tuple[Optional[float], Optional[float], Optional[float]]:
    """(SYPD, ASYPD, CHSY) of one run from its COMPLETED SIM and POST rows (B.8.1).

    CHSY (upstream 4.2.0, docs/gui-fields.md): the mean over the considered SIM rows of
    each row's core hours per simulated year, `round(ncpus x run / years / 3600, 2)`."""
    ypc = years_per_chunk(run.chunk_unit, run.chunk_size)
    valid, _ = split_outliers(sims, lambda row: row.run_time)
    chsy = None
    if valid and ypc > 0:
        chsy = round(sum(chsy_job(row.ncpus, row.run_time, ypc) for row in valid) / len(valid), 2)
    sypd = None
    if valid:
        total = sum(row.run_time for row in valid)
        if total > 0:
            sypd = round(ypc * len(valid) * 86400 / total, 2)
    asypd = None
    names = {row.job_name for row in valid}
    kept = [row for row in sims if row.job_name in names]
    if kept and posts:
        avg_post = round(sum(qpkg(p, groups.package_of(p), now) + run_time_of(p, now) for p in posts) / len(posts), 2)
        sum_sim = round(sum(qpkg(s, groups.package_of(s), now) + run_time_of(s, now) for s in kept), 2)
        if sum_sim + avg_post > 0:
            asypd = round(ypc * len(kept) * 86400 / (sum_sim + avg_post), 2)
    return sypd, asypd, chsy


def v3_runs(settings: Settings, expid: str, now: Optional[int] = None) -> Dict[str, Any]:
    """B.8.1: every run, newest first, with the counters stored on the run row.

    Preconditions as the reference: the experiment's configuration and job list must be
    readable and the history DB must exist. The reference's attempt to back-fill (and write) missing SIM
    finish times from the pkl is not reproduced (Q29).
    """
    require_experiment(settings, expid)
    conf = exp_config.load_config(settings, expid)
    job_list.load_job_list(settings, expid)
    history = job_data.load_history(settings, expid, optional=True)
    if history is None:
        raise NotFound("Job/Runs database does not exist")
    if not history.runs:
        raise DataError("No data")
    now = int(time.time()) if now is None else now
    groups = row_groups(settings, expid, history)
    parallelization, _ = sim_parallelization(conf)
    result: List[Dict[str, Any]] = []
    for run in history.runs:
        sims = groups.sim_by_run.get(run.run_id, [])
        posts = groups.post_by_run.get(run.run_id, [])
        sypd, asypd, chsy = _run_metrics(run, sims, posts, groups, now)
        result.append(
            {
                "run_id": run.run_id,
                "created": run.created,
                "finish": fmt_dt(run.finish),
                "chunk_unit": run.chunk_unit,
                "chunk_size": run.chunk_size,
                "submitted": run.submitted,
                "queuing": run.queuing,
                "running": run.running,
                "completed": run.completed,
                "failed": run.failed,
                "total": run.total,
                "suspended": run.suspended,
                "SYPD": sypd,
                "ASYPD": asypd,
                "CHSY": chsy,
                # The SIM section's processing elements, as /performance (upstream 4.2.0).
                "Parallelization": parallelization,
            }
        )
    result.sort(key=lambda item: item["run_id"], reverse=True)
    return {"error": False, "error_message": "", "runs": result}
