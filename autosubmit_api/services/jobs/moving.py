"""The job values that move with the clock (queue time of queued jobs, run time of running
ones and what derives from them): served as holes filled per request (services/rendered.py).
"""

from __future__ import annotations

from typing import Any, Dict, Hashable, List, Mapping, Tuple, cast

from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import Times, running_text
from autosubmit_api.services.metrics import asypd_job, sypd_job
from autosubmit_api.services.rendered import Live, Resolve

MOVING = (
    "title",
    "minutes",
    "minutes_queue",
    "submit",
    "start",
    "finish",
    "SYPD",
    "ASYPD",
    "running_text",
    "SYPD_last",
)


def moving_fields(table: JobTable, i: int, t: Times) -> Dict[str, Any]:
    """Every served value of job `i` that depends on its times `t`."""
    job = table.jobs[i]
    unit, size = table.effective_unit(i)
    status = table.statuses[i]
    submit, start, finish = table.exposed(i, t)
    last = table.last_run_unit[i]
    return {
        "title": table.tree_title(i, t),
        "minutes": t.run,
        "minutes_queue": t.queue,
        "submit": submit,
        "start": start,
        "finish": finish,
        "SYPD": sypd_job(unit, size, job.chunk, t.run, status, job.splits),
        "ASYPD": asypd_job(unit, size, job.chunk, t.queue + t.run, table.post_avg, status, job.splits),
        "running_text": running_text(t.queue, t.run, t.text),
        "SYPD_last": (
            sypd_job(last[0], last[1], job.chunk, t.run, status, job.splits) if last and last[0] and last[1] else None
        ),
    }


def with_holes(item: Dict[str, Any], i: int, mapping: Mapping[str, str]) -> Dict[str, Any]:
    """Replace the clock-dependent keys of job `i`'s item by holes (key -> MOVING field)."""
    for key, name in mapping.items():
        item[key] = Live((name, i))
    return item


def moving_resolver(table: JobTable, now: int) -> Resolve:
    """Resolve ("now") and (field, job index) holes for a request at `now`."""
    memo: Dict[int, Dict[str, Any]] = {}
    fresh: Dict[int, Times] = {}

    def resolve(keys: List[Hashable]) -> Dict[Hashable, Any]:
        out: Dict[Hashable, Any] = {}
        for key in keys:
            if key == "now":
                out[key] = now
                continue
            # Every other hole is (field name, job index) (with_holes).
            field_name, i = cast(Tuple[str, int], key)
            values = memo.get(i)
            if values is None:
                if not fresh:
                    fresh.update(table.compute_times(now, table.live))
                values = memo[i] = moving_fields(table, i, fresh[i])
            out[key] = values[field_name]
        return out

    return resolve
