"""The experiment card `/expinfo/<expid>` (docs/api.md 5.5, docs/data.md B.1.3) and `/ifrun/<expid>`
(docs/api.md 5.7): the central DB row, the configuration, the history's latest run and the
experiment directory's owner and times."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, NotFound
from autosubmit_api.models import ExperimentConfig
from autosubmit_api.readers import central_db, exp_files, job_data, list_facts, paths
from autosubmit_api.services.jobs.loading import check_experiment, load_config
from autosubmit_api.services.timefmt import fmt_dt

EXPINFO_ERROR: Dict[str, Any] = {
    "expid": "",
    "path": "NA",
    "owner_id": 0,
    "owner": "NA",
    "time_last_access": "",
    "time_last_mod": "",
    "description": "",
    "version": "",
    "model": "",
    "branch": "",
    "hpc": "",
    "updateTime": 0,
    "running": False,
    "pkl_timestamp": 0,
    "chunk_size": 0,
    "chunk_unit": "default",
    "total_jobs": 0,
    "completed_jobs": 0,
    "db_historic_version": "NA",
    "error": True,
    "error_message": "",
}


def expinfo_error(expid: str, message: str) -> Dict[str, Any]:
    body = dict(EXPINFO_ERROR)
    # The reference's error default for pkl_timestamp is the current time (docs/api.md 5.5).
    body.update({"expid": expid, "error_message": message, "pkl_timestamp": int(time.time())})
    return body


def expinfo(settings: Settings, expid: str) -> Dict[str, Any]:
    """The card; on failure the error body with every default (never raises APIError)."""
    try:
        return _expinfo(settings, expid)
    except APIError as exc:
        return expinfo_error(expid, exc.message)


def _expinfo(settings: Settings, expid: str) -> Dict[str, Any]:
    directory = check_experiment(settings, expid)
    # When the job list last changed: the pickle's mtime, job_pkl.modified or MAX(jobs.modified)
    # (docs/storage.md).
    pkl_mtime = list_facts.pkl_mtime(settings, expid)
    if pkl_mtime is None:
        raise NotFound(f"Required file job_list_{expid}.pkl not found.")
    if not exp_files.has_tmp_dir(settings, expid):
        raise NotFound(f"Required folder {expid}/tmp not found.")
    conf = load_config(settings, expid)
    row = central_db.get_experiment(settings, expid)
    st = exp_files.exp_dir_facts(settings, expid)
    if st is None:
        raise NotFound(f"Experiment {expid} does not exist")
    history = job_data.load_history(settings, expid, optional=True)
    total = completed = 0
    db_version: Any = "NA"
    last = history.max_run if history is not None else None
    if history is not None and last is not None and (last.total or 0) > 0:
        total, completed = last.total, last.completed
        # PostgreSQL keeps no schema version: "NA", as upstream 4.2.0 answers there.
        db_version = history.user_version if history.version_stored else "NA"
    return {
        "expid": expid,
        "path": directory,
        "owner_id": st.uid,
        "owner": st.owner,
        "time_last_access": fmt_dt(st.atime) or "",
        "time_last_mod": fmt_dt(st.mtime) or "",
        "description": row.description if row is not None else "NA",
        "version": str(conf.autosubmit_version or ""),
        "model": conf.model,
        "branch": conf.branch,
        "hpc": conf.hpcarch,
        "updateTime": conf.safety_sleep_time,
        "running": bool(row is not None and row.is_running),
        "pkl_timestamp": int(pkl_mtime),
        "chunk_size": conf.chunk_size,
        "chunk_unit": conf.chunk_unit,
        "total_jobs": total,
        "completed_jobs": completed,
        "db_historic_version": db_version,
        "workflow_commit": workflow_commit(conf),
        "error": False,
        "error_message": "",
    }


def workflow_commit(conf: ExperimentConfig) -> Optional[str]:
    """`AUTOSUBMIT.WORKFLOW_COMMIT` of the configuration (upstream 4.2.0's card field: the
    commit Autosubmit recorded for the workflow), or None."""
    section = conf.raw.get("AUTOSUBMIT") if conf.layout == "AS4" else None
    value = section.get("WORKFLOW_COMMIT") if isinstance(section, dict) else None
    return str(value) if value not in (None, "") else None


def ifrun(settings: Settings, expid: str) -> Dict[str, Any]:
    row = central_db.get_experiment(settings, expid) if paths.is_valid_expid(expid) else None
    return {"running": bool(row is not None and row.is_running), "error": False, "error_message": ""}
