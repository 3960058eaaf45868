"""User metrics per run (the GUI HEAD "User metrics" page, docs/gui.md section 8)."""

from __future__ import annotations

from typing import Any, Dict, List

from autosubmit_api.config import Settings
from autosubmit_api.readers import job_data, user_metrics
from autosubmit_api.services.jobs.loading import check_experiment
from autosubmit_api.services.timefmt import fmt_dt


def metric_runs(settings: Settings, expid: str) -> Dict[str, Any]:
    """The runs that have metrics, newest first, with their history times when known."""
    check_experiment(settings, expid)
    run_ids = sorted(
        {m.run_id for m in user_metrics.load_metrics(settings, expid) if m.run_id is not None}, reverse=True
    )
    history = job_data.load_history(settings, expid, optional=True)
    runs: List[Dict[str, Any]] = []
    for run_id in run_ids:
        run = history.run(run_id) if history is not None else None
        runs.append(
            {
                "run_id": run_id,
                "created": run.created if run is not None else None,
                "start": fmt_dt(run.start) if run is not None and run.start else None,
                "finish": fmt_dt(run.finish) if run is not None and run.finish else None,
            }
        )
    return {"expid": expid, "runs": runs}


def run_metrics(settings: Settings, expid: str, run_id: int) -> Dict[str, Any]:
    check_experiment(settings, expid)
    metrics = [
        {"job_name": m.job_name, "metric_name": m.metric_name, "metric_value": m.metric_value, "modified": m.modified}
        for m in user_metrics.load_metrics(settings, expid, run_id)
    ]
    return {"expid": expid, "run_id": run_id, "metrics": metrics}
