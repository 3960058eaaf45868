"""The fields a tree `jobs` entry and a graph node share (docs/data.md B.4 step 8, B.6): the
job detail panel of the GUI reads the same ones from either.
"""

from __future__ import annotations

from typing import Any, Dict

from autosubmit_api.services.jobs.chunk_dates import chunk_range
from autosubmit_api.services.jobs.status_display import status_code, status_color
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import Times
from autosubmit_api.services.metrics import asypd_job, sypd_job


def job_record(table: JobTable, i: int, t: Times, post_avg: float) -> Dict[str, Any]:
    """The fields a tree `jobs` entry and a graph node share (B.4 step 8, B.6): the job
    detail panel of the GUI reads the same ones from either."""
    job = table.jobs[i]
    unit, size = table.effective_unit(i)
    date, date_plus = chunk_range(job.date, job.chunk, unit, size)
    submit, start, finish = table.exposed(i, t)
    sc = table.sections[i]
    code = table.codes[i]
    status = table.statuses[i]
    return {
        "id": job.name,
        "internal_id": job.name,
        "label": job.name,
        "status": status,
        "status_code": status_code(code),
        "status_color": status_color(status),
        "platform_name": sc.platform,
        "chunk": job.chunk,
        "chunk_size": size,
        "chunk_unit": unit,
        "member": job.member,
        "date": date,
        "date_plus": date_plus,
        "SYPD": sypd_job(unit, size, job.chunk, t.run, status, job.splits),
        "ASYPD": asypd_job(unit, size, job.chunk, t.queue + t.run, post_avg, status, job.splits),
        "minutes": t.run,
        "submit": submit,
        "start": start,
        "finish": finish,
        "section": job.section,
        "queue": sc.queue,
        "processors": sc.processors,
        "wallclock": sc.wallclock,
        "children": len(table.children[i]),
        "children_list": table.children_names(i),
        "parents": len(table.parents[i]),
        "parent_list": table.parent_names(i),
        "out": table.out[i],
        "err": table.err[i],
        "custom_directives": None,
        "rm_id": table.rm_id(i),
        # Added by upstream 4.2.0 (docs/gui-fields.md): the GUI's job panel shows them.
        "split": job.split,
        "splits": job.splits,
        "workflow_commit": table.workflow_commit(i),
    }
