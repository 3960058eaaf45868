"""The experiment summary `/summary/<expid>` (docs/data.md B.2): counters and average queue/run
times over the job-times collection (B.0.3), so statuses are those of the times, not the pkl.

The sums over jobs whose times are fixed are computed once per table; a request adds the
few live jobs (running, queuing) at its own "now".
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Sequence

from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import Times
from autosubmit_api.services.timefmt import td

SUMMARY_ERROR = {
    "n_running": 0,
    "n_suspended": 0,
    "n_queuing": 0,
    "n_failed": 0,
    "n_submitted": 0,
    "avg_queue_time": "NA",
    "avg_run_time": "NA",
    "n_sim": 0,
    "avg_sim_queue_time": "NA",
    "avg_sim_run_time": "NA",
    "sim_queue_considered": 0,
    "sim_run_considered": 0,
    "failed_jobs": [],
    "error": True,
    "error_message": "",
}
SUMS = (
    "RUNNING",
    "SUSPENDED",
    "QUEUING",
    "FAILED",
    "SUBMITTED",
    "queue",
    "run",
    "q_count",
    "r_count",
    "sim_q",
    "sim_r",
    "sim_q_count",
    "sim_r_count",
    "n_sim",
)


def accumulate(table: JobTable, times: Mapping[int, Times] | Sequence[Times], indices: Iterable[int]) -> Dict[str, Any]:
    """Partial sums of B.2 over the jobs `indices`; `failed` lists their FAILED indices."""
    acc: Dict[str, Any] = dict.fromkeys(SUMS, 0)
    failed = []
    names = table.names
    for i in indices:
        t = times[i]
        text = t.text or "UNKNOWN"
        if "SIM" in names[i].split("_"):
            acc["n_sim"] += 1
            if text == "QUEUING":
                acc["sim_q_count"] += 1
                acc["sim_q"] += t.queue
            elif text in ("COMPLETED", "RUNNING", "FAILED"):
                acc["sim_q_count"] += 1
                acc["sim_r_count"] += 1
                acc["sim_q"] += t.queue
                acc["sim_r"] += t.run
        if text in ("RUNNING", "SUSPENDED", "QUEUING", "FAILED", "SUBMITTED"):
            acc[text] += 1
        if text in ("FAILED", "RUNNING", "COMPLETED"):
            acc["queue"] += t.queue
            acc["run"] += t.run
            acc["q_count"] += 1
            acc["r_count"] += 1
        elif text in ("SUBMITTED", "QUEUING"):
            acc["queue"] += t.queue
            acc["q_count"] += 1
        if text == "FAILED":
            failed.append(i)
    acc["failed"] = failed
    return acc


def finish(table: JobTable, *parts: Mapping[str, Any]) -> Dict[str, Any]:
    acc = {key: sum(part[key] for part in parts) for key in SUMS}
    failed = sorted(i for part in parts for i in part["failed"])

    def avg(total: int, count: int) -> str:
        return td(int(total / count)) if count else td(0)

    return {
        "n_running": acc["RUNNING"],
        "n_suspended": acc["SUSPENDED"],
        "n_queuing": acc["QUEUING"],
        "n_failed": acc["FAILED"],
        "n_submitted": acc["SUBMITTED"],
        "avg_queue_time": avg(acc["queue"], acc["q_count"]),
        "avg_run_time": avg(acc["run"], acc["r_count"]),
        "n_sim": acc["n_sim"],
        "avg_sim_queue_time": avg(acc["sim_q"], acc["sim_q_count"]),
        "avg_sim_run_time": avg(acc["sim_r"], acc["sim_r_count"]),
        "sim_queue_considered": acc["sim_q_count"],
        "sim_run_considered": acc["sim_r_count"],
        "failed_jobs": [table.names[i] for i in failed],
        "error": False,
        "error_message": "",
    }


def summary(table: JobTable, times: Sequence[Times]) -> Dict[str, Any]:
    """B.2 over every job with the given times."""
    return finish(table, accumulate(table, times, range(len(table.names))))
