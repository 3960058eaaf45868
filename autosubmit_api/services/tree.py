"""The tree view `/tree/<expid>` (docs/data.md B.4) and the tree monitor `/pkltreeinfo` (B.5).

Both are built from one `JobTable`. Values that move with the clock (titles and nodes of
running or queuing jobs, the tree's `pkl_timestamp`) are `Live` holes that the route fills
per request, so the rest of the body is serialised once per input change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from autosubmit_api.job_status import COMPLETED, FAILED, HELD, QUEUING, RUNNING, SUSPENDED, WAITING
from autosubmit_api.services.jobs.badges import (
    CHECKMARK,
    COMPLETED_TAG,
    FAILED_TAG,
    HELD_TAG,
    QUEUING_TAG,
    RUNNING_TAG,
    SOURCE_TAG,
    SYNC_TAG,
    TARGET_TAG,
    folder_badges,
    wrapper_tag,
)
from autosubmit_api.services.jobs.moving import moving_resolver, with_holes
from autosubmit_api.services.jobs.record import job_record
from autosubmit_api.services.jobs.status_display import TREE_NORMAL_CODES, status_code, status_color
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import Times, running_text
from autosubmit_api.services.metrics import sypd_job
from autosubmit_api.services.rendered import Live, Resolve

TREE_ERROR = {
    "tree": [],
    "jobs": [],
    "total": 0,
    "reference": [],
    "error": True,
    "error_message": "",
    "pkl_timestamp": 0,
}
PKLTREEINFO_ERROR = {
    "pkl_file_name": "",
    "pkl_timestamp": 0,
    "has_changed": True,
    "packages": {},
    "pkl_content": [],
    "error": True,
    "error_message": "",
    "source_tag": SOURCE_TAG,
    "target_tag": TARGET_TAG,
    "sync_tag": SYNC_TAG,
    "check_mark": CHECKMARK,
}


def date_format(dates: Sequence[datetime]) -> str:
    """`YYYYMMDD`, with the hour or hour+minute when some start date needs them (B.4)."""
    fmt = "%Y%m%d"
    if any(d.hour > 1 for d in dates):
        fmt = "%Y%m%d%H"
    if any(d.minute > 1 for d in dates):
        fmt = "%Y%m%d%H%M"
    return fmt


def _counts(table: JobTable, members: Sequence[int]) -> Dict[str, int]:
    codes = [table.codes[i] for i in members]
    return {
        "completed": codes.count(COMPLETED),
        "failed": codes.count(FAILED),
        "running": codes.count(RUNNING),
        "queuing": codes.count(QUEUING),
        "held": codes.count(HELD),
        "total": len(codes),
    }


def _badges(c: Dict[str, int]) -> str:
    return folder_badges(c["completed"], c["failed"], c["running"], c["queuing"], c["held"], c["total"])


TREE_MOVING = {
    "title": "title",
    "minutes": "minutes",
    "minutes_queue": "minutes_queue",
    "submit": "submit",
    "start": "start",
    "finish": "finish",
    "SYPD": "SYPD",
    "ASYPD": "ASYPD",
}
PKL_MOVING = {
    "minutes": "minutes",
    "minutes_queue": "minutes_queue",
    "submit": "submit",
    "start": "start",
    "finish": "finish",
    "running_text": "running_text",
    "SYPD": "SYPD_last",
}


def tree_node(
    table: JobTable, i: int, t: Times, post_avg: float, tree_parents: List[str], title: Optional[str] = None
) -> Dict[str, Any]:
    """One `jobs` entry of the tree (B.4 step 8), with upstream 4.2.0's `minutes_queue`
    (queue seconds, wrapper-corrected as everywhere else: docs/decisions.md Q41)."""
    node = job_record(table, i, t, post_avg)
    node.update(
        {
            "minutes_queue": t.queue,
            "title": title if title is not None else table.tree_title(i, t),
            "wrapper": table.package[i],
            "wrapper_code": table.package_id[i],
            "tree_parents": tree_parents,
        }
    )
    return node


def build_tree(table: JobTable) -> Dict[str, Any]:
    """The `/tree` answer with `Live` holes: (field, i) for the moving values of live jobs
    (jobs/moving.py MOVING) and "now" for `pkl_timestamp`."""
    expid = table.expid
    times = table.times
    live = table.live
    jobs = table.jobs

    titles = [None if i in live else table.tree_title(i, times[i]) for i in range(len(jobs))]

    def title(i: int) -> Any:
        return Live(("title", i)) if i in live else titles[i]

    def leaf(i: int) -> Dict[str, Any]:
        return {"title": title(i), "refKey": table.names[i], "data": "Empty", "children": []}

    dates: List[datetime] = []
    members: List[str] = []
    seen_dates, seen_members = set(), set()
    groups: Dict[Tuple[datetime, str], List[int]] = {}
    by_date: Dict[datetime, List[int]] = {}
    keys: List[int] = []
    for i, job in enumerate(jobs):
        if job.date is None:
            keys.append(i)
            continue
        member = job.member if job.member is not None else "DEFAULT"
        if job.date not in seen_dates:
            seen_dates.add(job.date)
            dates.append(job.date)
        if member not in seen_members:
            seen_members.add(member)
            members.append(member)
        groups.setdefault((job.date, member), []).append(i)
        by_date.setdefault(job.date, []).append(i)
    fmt = date_format(dates)
    tree_parents: List[List[str]] = [[] for _ in jobs]
    reference: Dict[str, Any] = {}
    folders: List[Dict[str, Any]] = []
    for date in dates:
        fd = date.strftime(fmt)
        member_folders = []
        for member in members:
            group = groups.get((date, member))
            if not group:
                continue
            ref = f"{expid}_{fd}_{member}"
            counts = _counts(table, group)
            per_section: Dict[str, int] = {}
            for i in group:
                per_section[jobs[i].section] = per_section.get(jobs[i].section, 0) + 1
            direct: List[Dict[str, Any]] = []
            section_lists: Dict[str, List[Dict[str, Any]]] = {}
            expanded: Dict[str, bool] = {}
            for i in group:
                section = jobs[i].section
                normal = table.codes[i] in TREE_NORMAL_CODES
                if per_section[section] > 1:
                    target = section_lists.setdefault(section, [])
                    expanded.setdefault(section, False)
                    if not normal:
                        expanded[section] = True
                else:
                    target = direct
                if normal:
                    target.append(leaf(i))
                else:
                    target.insert(0, leaf(i))
                tree_parents[i].append(ref)
            children = direct + [
                {
                    "title": section,
                    "folder": True,
                    "refKey": f"{ref}_{section}",
                    "data": "Empty",
                    "expanded": expanded[section],
                    "children": leaves,
                }
                for section, leaves in section_lists.items()
            ]
            member_folders.append(
                {
                    "title": f"{ref} " + _badges(counts),
                    "folder": True,
                    "refKey": ref,
                    "data": "Empty",
                    "expanded": False,
                    "children": children,
                }
            )
            reference[ref] = {k: counts[k] for k in ("completed", "running", "queuing", "failed", "held", "total")}
        if not member_folders:
            continue
        in_date = by_date[date]
        codes = {table.codes[i] for i in in_date}
        all_waiting, all_suspended, all_completed = codes == {WAITING}, codes == {SUSPENDED}, codes == {COMPLETED}
        date_title = f"{expid}_{fd}"
        if all_waiting or all_suspended or all_completed:
            state, colour = ("WAITING", "#aaa") if all_waiting else ("SUSPENDED", "orange")
            if all_completed:
                state, colour = "COMPLETED", "yellow"
            n = len(in_date)
            # The total printed twice is the reference's badge (Q44).
            date_title += f" <span class='badge' style='background-color:{colour}'> {n} / {n} {state} </span>"
        uniform = all_waiting or all_suspended or all_completed
        folders.append(
            {
                # The refKey repeats the HTML title (Q24): the GUI keys on it.
                "title": date_title,
                "folder": True,
                "refKey": date_title,
                "data": "Empty",
                "expanded": not (len(dates) > 5 and uniform),
                "children": member_folders,
            }
        )
    if keys:
        folders.append(
            {
                "title": "Keys",
                "folder": True,
                "refKey": "Keys",
                "data": "Empty",
                "expanded": True,
                "children": [leaf(i) for i in keys],
            }
        )
    package_names = sorted(table.packages.package_to_jobs)
    if package_names:
        wrapper_folders = []
        for package in package_names:
            members_of = [i for i in table._members(package)]
            members_of.sort(key=lambda i: jobs[i].chunk or 0)
            counts = _counts(table, members_of)
            ref = f"Wrapper: {package}"
            wrapper_folders.append(
                {
                    "title": f"{ref} " + _badges(counts),
                    "folder": True,
                    "refKey": ref,
                    "data": dict(counts),
                    "expanded": False,
                    "children": [leaf(i) for i in members_of],
                }
            )
            reference[ref] = dict(counts)
        folders.append(
            {
                "title": "Wrappers",
                "folder": True,
                "refKey": f"Wrappers_{expid}",
                "data": "Empty",
                "expanded": False,
                "children": wrapper_folders,
            }
        )
    reference.update(
        {
            "completed_tag": COMPLETED_TAG,
            "running_tag": RUNNING_TAG,
            "queuing_tag": QUEUING_TAG,
            "failed_tag": FAILED_TAG,
            "held_tag": HELD_TAG,
            "checkmark": CHECKMARK,
            "packages": package_names,
            "chunk_unit": table.conf.chunk_unit,
            "chunk_size": table.conf.chunk_size,
        }
    )
    post_avg = table.post_avg
    nodes = [tree_node(table, i, times[i], post_avg, tree_parents[i], titles[i]) for i in range(len(jobs))]
    for i in live:
        with_holes(nodes[i], i, TREE_MOVING)
    body = {
        "tree": folders,
        "jobs": nodes,
        "total": len(jobs),
        "reference": reference,
        "error": False,
        "error_message": "",
        "pkl_timestamp": Live("now"),
    }
    return {"body": body, "tree_parents": tree_parents, "post_avg": post_avg}


def tree_resolver(table: JobTable, built: Dict[str, Any], now: int) -> Resolve:
    """Fill the holes of `build_tree` for a request at `now`."""
    return moving_resolver(table, now)


def pkl_item(table: JobTable, i: int, t: Times, tree_flavour: bool) -> Dict[str, Any]:
    """One `pkl_content` entry (B.5)."""
    job = table.jobs[i]
    last = table.last_run_unit[i]
    code = table.codes[i]
    status = table.statuses[i]
    submit, start, finish = table.exposed(i, t)
    sypd = sypd_job(last[0], last[1], job.chunk, t.run, status, job.splits) if last and last[0] and last[1] else None
    item = {
        "name": job.name,
        "rm_id": table.rm_id(i),
        "status_code": status_code(code),
        "SYPD": sypd,
        "minutes": t.run,
        "minutes_queue": t.queue,
        "submit": submit,
        "start": start,
        "finish": finish,
        "running_text": running_text(t.queue, t.run, t.text),
        "status": status,
        "status_color": status_color(status),
        "out": table.out[i],
        "err": table.err[i],
        "priority": job.priority,
        "workflow_commit": table.workflow_commit(i),
    }
    package = table.package[i]
    if tree_flavour:
        item.update(
            {
                "wrapper": package,
                "wrapper_tag": wrapper_tag(package),
                "wrapper_id": table.package_id[i],
                "title": table.tree_title(i, t),
            }
        )
    else:
        item.update({"dashed": package is not None, "shape": table.symbol[i], "package": package})
    return item


def build_pkl_info(table: JobTable, tree_flavour: bool) -> Dict[str, Any]:
    """`/pkltreeinfo` (tree flavour) or `/pklinfo`, with holes for the moving values."""
    items = [pkl_item(table, i, table.times[i], tree_flavour) for i in range(len(table.jobs))]
    moving = dict(PKL_MOVING, title="title") if tree_flavour else PKL_MOVING
    for i in table.live:
        with_holes(items[i], i, moving)
    body: Dict[str, Any] = {
        "pkl_file_name": table.pkl_path,
        "pkl_timestamp": table.pkl_mtime,
        "has_changed": True,
        "packages": {p: list(names) for p, names in table.packages.package_to_jobs.items()},
        "pkl_content": items,
        "error": False,
        "error_message": "",
    }
    if tree_flavour:
        body.update({"source_tag": SOURCE_TAG, "target_tag": TARGET_TAG, "sync_tag": SYNC_TAG, "check_mark": CHECKMARK})
    return body


def pkl_info_resolver(table: JobTable, now: int, tree_flavour: bool) -> Resolve:
    return moving_resolver(table, now)
