"""Views that need only the pickled job list (and the packages): `/quick` (docs/data.md B.3),
`/expcount` (B.1.4), `/v4/experiments/<expid>/jobs` (B.1.5), `/v4/.../wrappers` (B.7)."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

from autosubmit_api.job_status import ALL_STATUS_NAMES, COMPLETED, FAILED, QUEUING, RUNNING, status_name
from autosubmit_api.models import Job, Packages
from autosubmit_api.services.jobs.badges import quick_title
from autosubmit_api.services.jobs.status_display import interesting_first


def _codes(jobs: Sequence[Job]) -> List[int]:
    return [job.status if isinstance(job.status, int) else -2 for job in jobs]


def quick_view(expid: str, log_dir: str, jobs: Sequence[Job], packages: Packages) -> Dict[str, Any]:
    codes = _codes(jobs)
    ids = packages.package_to_package_id
    tree_view = []
    for i in interesting_first(range(len(jobs)), codes):
        job = jobs[i]
        status = status_name(codes[i])
        package = packages.job_to_package.get(job.name)
        tree_view.append(
            {
                "title": quick_title(job.name, status, ids.get(package) if package else None),
                "refKey": job.name,
                "data": "Empty",
                "children": [],
                "status": status,
            }
        )
    view_data = [
        {
            "name": job.name,
            "path_log": log_dir,
            # "/" + the pkl's log name, so "/" when it is empty (Q18).
            "out": "/" + (job.out_path_local or ""),
            "err": "/" + (job.err_path_local or ""),
        }
        for job in jobs
    ]
    return {
        "error": False,
        "error_message": "",
        "total": len(jobs),
        "completed": codes.count(COMPLETED),
        "failed": codes.count(FAILED),
        "running": codes.count(RUNNING),
        "queuing": codes.count(QUEUING),
        "view_data": view_data,
        "tree_view": tree_view,
    }


def status_counters(expid: str, jobs: Sequence[Job]) -> Dict[str, Any]:
    counters = {name: 0 for name in ALL_STATUS_NAMES}
    for code in _codes(jobs):
        counters[status_name(code)] += 1
    return {"expid": expid, "total": len(jobs), "counters": counters, "error": False, "error_message": ""}


def v4_job_order(jobs: Sequence[Job]) -> List[int]:
    """Indices of the jobs in the v4 list's order (not COMPLETED/WAITING/READY first)."""
    return interesting_first(range(len(jobs)), _codes(jobs))


def v4_jobs(
    jobs: Sequence[Job],
    view: str,
    page: int = 1,
    page_size: Optional[int] = None,
    order: Optional[Sequence[int]] = None,
) -> Dict[str, Any]:
    """`view=base` (the default) or anything else for the quick shape (docs/api.md 6.5), one
    page of `page_size` jobs (all of them without a page size), with upstream 4.2.0's
    `pagination` block (docs/gui-fields.md). `order`: `v4_job_order(jobs)`, if known."""
    codes = _codes(jobs)
    if order is None:
        order = v4_job_order(jobs)
    total = len(order)
    if page_size is None:
        chosen, total_pages = order, 1
    else:
        chosen = order[(page - 1) * page_size : page * page_size]
        total_pages = math.ceil(total / page_size)
    out = [_v4_item(jobs[i], codes[i], view) for i in chosen]
    if view not in ("base", "quick"):
        # An unknown view: 4.0.1's answer (the quick shape) exactly; 4.2.0 refuses it.
        return {"jobs": out}
    return {
        "jobs": out,
        "pagination": {
            "page": page,
            "page_size": page_size,
            "page_items": len(out),
            "total_items": total,
            "total_pages": total_pages,
        },
    }


def _v4_item(job: Job, code: int, view: str) -> Dict[str, Any]:
    item: Dict[str, Any] = {"name": job.name, "status": status_name(code)}
    if view == "base":
        item.update(
            {
                "priority": job.priority,
                "section": job.section,
                "date": job.date.strftime("%Y-%m-%d") if job.date is not None else None,
                "member": job.member,
                "chunk": job.chunk,
                # A pickle's empty name stays ""; the 4.2 table's NULL (no log yet) is null,
                # as upstream 4.2.0 sends it.
                "out_path_local": job.out_path_local,
                "err_path_local": job.err_path_local,
                "out_path_remote": job.out_path_remote,
                "err_path_remote": job.err_path_remote,
                "split": job.split,
                "splits": job.splits,
            }
        )
    return item


def _epoch(value: Optional[float]) -> Optional[int]:
    return int(value) if value else None


def v4_feed_items(jobs: Sequence[Job], view: str, order: Optional[Sequence[int]] = None) -> List[Dict[str, Any]]:
    """The change feed's items (docs/api-usage.md, "Following changes"): the v4 list's item of
    `view` plus the job's submit, start and finish times (epoch seconds, null when unknown),
    in `order` (indices into `jobs`; all of them in list order without it)."""
    codes = _codes(jobs)
    out = []
    for i in range(len(jobs)) if order is None else order:
        job = jobs[i]
        item = _v4_item(job, codes[i], view)
        item["submit_time"] = _epoch(job.submit_time)
        item["start_time"] = _epoch(job.start_time)
        item["finish_time"] = _epoch(job.finish_time)
        out.append(item)
    return out


def wrappers(packages: Packages) -> Dict[str, Any]:
    return {
        "wrappers": [
            {"wrapper_name": name, "job_names": list(names)} for name, names in packages.package_to_jobs.items()
        ]
    }
