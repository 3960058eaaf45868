"""One job in detail, its neighbours, and a section's ETA: the v4 job routes the current
development GUI (autosubmit-gui HEAD) calls and 4.0.1 lacks (docs/gui.md section 8).

Everything comes from the experiment's one cached job table (services/jobs/loading.py), so
these answers agree with the tree and graph views of the same moment.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Dict, List, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.readers import job_data
from autosubmit_api.services.jobs.loading import load_table
from autosubmit_api.job_status import COMPLETED
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.timefmt import fmt_local_iso


def chunk_start(date: Optional[datetime]) -> Optional[str]:
    if date is None:
        return None
    return date.strftime("%Y%m%d%H%M" if (date.hour or date.minute) else "%Y%m%d")


def _index(table: JobTable, job_name: str) -> int:
    i = table.index.get(job_name)
    if i is None:
        raise NotFound(f"Job {job_name} not found in experiment {table.expid}")
    return i


def job_detail(settings: Settings, expid: str, job_name: str, now: Optional[int] = None) -> Dict[str, Any]:
    """What the GUI's job panel shows of one job (docs/gui.md section 8)."""
    table = load_table(settings, expid)
    i = _index(table, job_name)
    job = table.jobs[i]
    times = table.compute_times(int(time.time()) if now is None else int(now), frozenset({i}))[i]
    # A route 4.0.1 did not have: times as upstream 4.2.0 sends them (ISO 8601 with offset).
    submit, start, finish = table.exposed(i, times, fmt_local_iso)
    unit, size = table.effective_unit(i)
    section = table.sections[i]
    history = job_data.load_history(settings, expid, optional=True)
    latest = history.latest_rows.get(job_name) if history is not None else None
    return {
        "name": job.name,
        "status": table.statuses[i],
        "status_code": table.codes[i],
        "section": job.section,
        "member": job.member,
        "chunk": job.chunk,
        "chunk_unit": unit,
        "chunk_size": size,
        # As upstream 4.2.0 sends it (the GUI slices YYYY, MM, DD): YYYYMMDD, plus HHMM
        # for a start date with a time of day.
        "date": chunk_start(job.date),
        "split": job.split,
        "splits": job.splits,
        "platform": section.platform or job.platform,
        # The tree's `queue` keeps 4.0.1's "None" text for a section without one (docs/data.md
        # B.0.2); this route answers "" there, as upstream 4.2.0 does.
        "qos": "" if section.queue in (None, "None") else section.queue,
        # The scheduler id of the job's latest attempt, as upstream 4.2.0 answers: the history
        # row's, else the job list's (an Autosubmit 4.2 `jobs.id` can lag behind it, or be NULL).
        "remote_id": (latest.job_id if latest is not None and latest.job_id else job.id) or None,
        "processors": section.processors,
        "wallclock": section.wallclock,
        "submit": submit,
        "start": start,
        "finish": finish,
        "queue_time": times.queue,
        "run_time": times.run,
        "out_path_local": table.out[i],
        "err_path_local": table.err[i],
        "last_wrapper": table.package[i],
        "workflow_commit": latest.workflow_commit if latest is not None else None,
    }


def neighbours(settings: Settings, expid: str, job_name: str, which: str, include_status: bool) -> List[Dict[str, Any]]:
    """The job's parents or children (sorted by name), with their status when asked."""
    if which not in ("parents", "children"):
        raise BadRequest("which must be parents or children")
    table = load_table(settings, expid)
    i = _index(table, job_name)
    indices = table.parents[i] if which == "parents" else table.children[i]
    out = []
    for j in sorted(indices, key=lambda k: table.names[k]):
        item: Dict[str, Any] = {"job_name": table.names[j]}
        if include_status:
            item["status"] = table.statuses[j]
        out.append(item)
    return out


def eta(settings: Settings, expid: str, section: Optional[str], now: Optional[int] = None) -> Dict[str, Any]:
    """Time left for the chunks of one section (docs/api.md 12).

    A chunk is the set of the section's jobs with that chunk number (every start date and
    member); it is complete when all of them are. Its run time is its wall time, the last
    finish minus the first start of its jobs. The ETA is the mean run time of the completed
    chunks times the chunks not complete yet: 0 when none is left, None when none completed
    with both times known."""
    table = load_table(settings, expid)
    chunked = [i for i, job in enumerate(table.jobs) if job.chunk is not None]
    sections = sorted({table.jobs[i].section for i in chunked})
    if section is None:
        section = "SIM" if "SIM" in sections else (sections[0] if sections else None)
    if section is None or section not in sections:
        raise NotFound(f"Section {section} has no chunked jobs in experiment {expid}")
    members = [i for i in chunked if table.jobs[i].section == section]
    times = table.compute_times(int(time.time()) if now is None else int(now), frozenset(members))
    chunks: Dict[int, List[int]] = {}
    for i in members:
        chunk = table.jobs[i].chunk
        if chunk is not None:  # always: members are chunked jobs
            chunks.setdefault(chunk, []).append(i)
    runtimes = []
    completed = 0
    for jobs in chunks.values():
        if any(table.codes[i] != COMPLETED for i in jobs):
            continue
        completed += 1
        starts = [times[i].start for i in jobs if times[i].start > 0]
        finishes = [times[i].finish for i in jobs if times[i].finish > 0]
        if starts and finishes and max(finishes) >= min(starts):
            runtimes.append(max(finishes) - min(starts))
    remaining = len(chunks) - completed
    average = sum(runtimes) / len(runtimes) if runtimes else None
    if remaining == 0:
        left: Optional[float] = 0.0
    else:
        left = average * remaining if average is not None else None
    return {
        "section": section,
        "sections": sections,
        "chunks_total": len(chunks),
        "chunks_remaining": remaining,
        "avg_runtime_per_chunk_seconds": average,
        "eta_seconds": left,
    }
