"""`/history/<expid>/<job>`: every attempt of one job across runs (docs/api.md 7.3, docs/data.md B.11).

Also the history-row helpers the run views share: queue time corrected for earlier jobs of
the same wrapper ("qpkg", B.8.1), the "new" run time with *now* for a running last row
(A.4), and the COMPLETED package/POST/SIM row groups, computed once per history file.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.models import ExperimentHistory, JobDataRow
from autosubmit_api.readers import cache, job_data, paths
from autosubmit_api.services.metrics import asypd_job, sypd_job
from autosubmit_api.services.timefmt import fmt_dt, td

# A wrapped job's queue time ignores earlier package members that started within this
# many seconds before it (B.8.1 qpkg).
PACKAGE_START_SLACK = 20
NO_DB_MESSAGE = "Job/Runs database does not exist"


def finish_of(row: JobDataRow, now: int) -> int:
    """The row's finish; *now* for the latest attempt of a job still RUNNING (A.4 "new")."""
    if row.last == 1 and row.status == "RUNNING":
        return now
    return int(row.finish or 0)


def run_time_of(row: JobDataRow, now: int) -> int:
    start, finish = int(row.start or 0), finish_of(row, now)
    return finish - start if start > 0 and finish > 0 and finish > start else 0


def qpkg(row: JobDataRow, package_rows: Sequence[JobDataRow], now: int) -> int:
    """Queue time considering the package: minus the longest earlier member's queue + run."""
    earlier = [
        other
        for other in package_rows
        if other.job_name != row.job_name and other.start < row.start - PACKAGE_START_SLACK
    ]
    if earlier:
        longest = max(other.queue_time + run_time_of(other, now) for other in earlier)
        return max(0, int(row.start - row.submit) - int(longest))
    return row.queue_time


class RowGroups:
    """COMPLETED rows grouped the ways the run views need, built once per history file."""

    def __init__(self, history: ExperimentHistory):
        self.packages: Dict[Tuple[Optional[int], int], List[JobDataRow]] = {}
        self.post_by_run: Dict[Optional[int], List[JobDataRow]] = {}
        self.sim_by_run: Dict[Optional[int], List[JobDataRow]] = {}
        for row in history.rows:
            if row.status != "COMPLETED":
                continue
            if (row.rowtype or 0) > 2:
                self.packages.setdefault((row.run_id, row.rowtype), []).append(row)
            # The reference matches the section *or* member column (the 3.12 swap, A.4).
            if "POST" in (row.raw_section, row.raw_member):
                self.post_by_run.setdefault(row.run_id, []).append(row)
            if "SIM" in (row.raw_section, row.raw_member):
                self.sim_by_run.setdefault(row.run_id, []).append(row)

    def package_of(self, row: JobDataRow) -> Sequence[JobDataRow]:
        if (row.rowtype or 0) <= 2:
            return ()
        return self.packages.get((row.run_id, row.rowtype), ())


def row_groups(settings: Settings, expid: str, history: ExperimentHistory) -> RowGroups:
    key = cache.file_key(paths.job_data_db(settings, expid))
    if key is None:
        return RowGroups(history)
    return cache.cached("history_groups", key, lambda: RowGroups(history))


def _post_time(groups: RowGroups, run_id: Optional[int], now: int) -> float:
    """B.11 post_time: mean over the run's POST rows; a wrapped POST adds only its qpkg."""
    rows = groups.post_by_run.get(run_id, [])
    if not rows:
        return 0.0
    total = 0.0
    for post in rows:
        if (post.rowtype or 0) > 2:
            total += qpkg(post, groups.package_of(post), now)
        else:
            total += post.queue_time + run_time_of(post, now)
    return total / len(rows)


def job_history(settings: Settings, expid: str, job_name: str, now: Optional[int] = None) -> Dict[str, Any]:
    """B.11: the job's rows, newest counter first, with per-attempt SYPD/ASYPD."""
    paths.check_expid(expid)
    path_to_logs = paths.job_logs_dir(settings, expid)
    history = job_data.load_history(settings, expid, optional=True)
    if history is None:
        return {"error": True, "error_message": NO_DB_MESSAGE, "history": None, "path_to_logs": path_to_logs}
    now = int(time.time()) if now is None else now
    groups = row_groups(settings, expid, history)
    rows = sorted(history.rows_of(job_name), key=lambda r: r.counter, reverse=True)
    result = []
    post_times: Dict[Optional[int], float] = {}
    for row in rows:
        run = history.run(row.run_id)
        queue = qpkg(row, groups.package_of(row), now)
        run_time = run_time_of(row, now)
        entry = {
            "counter": row.counter,
            "created": row.created,
            "submit": fmt_dt(row.submit),
            "start": fmt_dt(row.start),
            "finish": fmt_dt(finish_of(row, now)),
            "queue_time": td(queue),
            "run_time": td(run_time),
            "ncpus": row.ncpus,
            "wallclock": row.wallclock,
            "qos": row.qos or "debug",
            "platform": row.platform or "NA",
            "job_id": row.job_id or 0,
            "nodes": row.nnodes,
            "energy": round(row.energy, 2) if row.energy else 0,
            "status": row.status,
            "run_id": row.run_id,
            "out": row.out,
            "err": row.err,
        }
        if run is not None:
            if row.run_id not in post_times:
                post_times[row.run_id] = _post_time(groups, row.run_id, now)
            entry["ASYPD"] = asypd_job(
                run.chunk_unit, run.chunk_size, row.chunk, queue + run_time, post_times[row.run_id], row.status
            )
            entry["SYPD"] = sypd_job(run.chunk_unit, run.chunk_size, row.chunk, run_time, row.status)
            entry["run_created"] = run.created
        else:
            # No run row (or no run_id): the reference shows "NA" (B.11).
            entry["ASYPD"] = entry["SYPD"] = entry["run_created"] = "NA"
        result.append(entry)
    return {"error": False, "error_message": "", "history": result, "path_to_logs": path_to_logs}
