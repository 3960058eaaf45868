"""The experiment summary `/summary/<expid>` (data.md B.2): counters and average queue/run
times over the job-times collection (B.0.3), so statuses are those of the times, not the pkl."""
from __future__ import annotations

from typing import Any, Dict, Sequence

from autosubmit_api.services.job_views import JobTable, Times, td

SUMMARY_ERROR = {
    "n_running": 0, "n_suspended": 0, "n_queuing": 0, "n_failed": 0, "n_submitted": 0,
    "avg_queue_time": "NA", "avg_run_time": "NA", "n_sim": 0, "avg_sim_queue_time": "NA",
    "avg_sim_run_time": "NA", "sim_queue_considered": 0, "sim_run_considered": 0,
    "failed_jobs": [], "error": True, "error_message": "",
}


def summary(table: JobTable, times: Sequence[Times]) -> Dict[str, Any]:
    counts = {"FAILED": 0, "SUBMITTED": 0, "QUEUING": 0, "SUSPENDED": 0, "RUNNING": 0}
    queue_sum = run_sum = q_count = r_count = 0
    sim_q = sim_r = sim_q_count = sim_r_count = n_sim = 0
    failed = []
    for i, name in enumerate(table.names):
        t = times[i]
        text = t.text or "UNKNOWN"
        if "SIM" in name.split("_"):
            n_sim += 1
            if text == "QUEUING":
                sim_q_count += 1
                sim_q += t.queue
            elif text in ("COMPLETED", "RUNNING", "FAILED"):
                sim_q_count += 1
                sim_r_count += 1
                sim_q += t.queue
                sim_r += t.run
        if text in counts:
            counts[text] += 1
        if text in ("FAILED", "RUNNING", "COMPLETED"):
            queue_sum += t.queue
            run_sum += t.run
            q_count += 1
            r_count += 1
        elif text in ("SUBMITTED", "QUEUING"):
            queue_sum += t.queue
            q_count += 1
        if text == "FAILED":
            failed.append(name)

    def avg(total: int, count: int) -> str:
        return td(int(total / count)) if count else td(0)

    return {
        "n_running": counts["RUNNING"], "n_suspended": counts["SUSPENDED"],
        "n_queuing": counts["QUEUING"], "n_failed": counts["FAILED"],
        "n_submitted": counts["SUBMITTED"],
        "avg_queue_time": avg(queue_sum, q_count), "avg_run_time": avg(run_sum, r_count),
        "n_sim": n_sim, "avg_sim_queue_time": avg(sim_q, sim_q_count),
        "avg_sim_run_time": avg(sim_r, sim_r_count),
        "sim_queue_considered": sim_q_count, "sim_run_considered": sim_r_count,
        "failed_jobs": failed, "error": False, "error_message": "",
    }
