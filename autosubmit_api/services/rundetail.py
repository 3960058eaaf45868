"""`/rundetail/<expid>/<run_id>`: the tree of a past run, built only from its history rows
(docs/api.md 7.2, docs/data.md B.8.4), with the "old" JobData time rules of A.4.

Kept from the reference on purpose: folders group by the `section` *column* and job nodes
swap `member`/`section` (Q30), dates use `YYYY-MM-DD-HH:MM:SS` (Q3), `minutes*` hold
seconds (Q4), `pkl_timestamp` is the constant 10000000 (Q19). Set-ordered lists are
sorted (Q40).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound
from autosubmit_api.models import JobDataRow
from autosubmit_api.readers import job_data, paths
from autosubmit_api.job_status import STATUS_CODES
from autosubmit_api.services.jobs.badges import quick_title
from autosubmit_api.services.jobs.chunk_dates import chunk_range
from autosubmit_api.services.jobs.status_display import status_color
from autosubmit_api.services.jobs.times import running_text
from autosubmit_api.services.metrics import asypd_job, sypd_job
from autosubmit_api.services.runs import MIN_RUN_VERSION
from autosubmit_api.services.timefmt import fmt_dt_dash
from autosubmit_api.services.tree import date_format

NO_HEADER = "Autosubmit couldn't fin the experiment header information necessary to complete this request."
PKL_TIMESTAMP = 10000000
COMPLETED_TAG = " <span class='badge' style='background-color:%B'> %C / %T COMPLETED</span>"
RUNNING_TAG = " <span class='badge' style='background-color:green; color:white'>%R RUNNING</span>"
QUEUING_TAG = " <span class='badge' style='background-color:pink'>%Q QUEUING</span>"
FAILED_TAG = " <span class='badge' style='background-color:red'>%F FAILED</span>"
CHECK_MARK = " <span class='badge' style='background-color:#4dffa6'>&#10004;</span>"
_QUEUE_STATES = {"SUBMITTED", "QUEUING", "RUNNING", "COMPLETED", "HELD", "PREPARED", "FAILED"}
_RUN_STATES = {"RUNNING", "COMPLETED", "FAILED"}


class OldRow:
    """A history row with the "old" JobData semantics (A.4): fallbacks for missing times."""

    __slots__ = ("row", "name", "submit", "start", "finish", "raw_start", "status", "tree_parents")

    def __init__(self, row: JobDataRow, name: str):
        self.row = row
        self.name = name
        self.status = row.status
        submit, start, finish = int(row.submit or 0), int(row.start or 0), int(row.finish or 0)
        self.raw_start = start
        self.submit = submit
        self.start = start if start > 0 else (submit if row.last == 0 and submit > 0 else start)
        if finish > 0:
            self.finish = finish
        elif row.last == 0 and start > 0:
            self.finish = start
        elif row.last == 0 and submit > 0:
            self.finish = submit
        else:
            self.finish = finish
        self.tree_parents: List[str] = []

    def running_time(self, now: int) -> int:
        if self.status not in _RUN_STATES or self.start == 0:
            return 0
        run = (self.finish if self.finish > 0 else now) - self.start
        return run if run > 0 else 0

    def plain_queue(self, now: int) -> int:
        return self.queuing_time(None, now)

    def queuing_time(self, package: Optional[Sequence[Tuple[int, int, int]]], now: int) -> int:
        """Queue time minus the earlier package member with the longest queue (+ its run)."""
        max_queue = 0
        if package:
            earlier = [entry for entry in package if entry[1] < self.raw_start - 20]
            if earlier:
                queue, start, finish = max(earlier, key=lambda entry: entry[0])
                max_queue = queue + (finish - start if finish > start else 0)
        if self.status in _QUEUE_STATES:
            queue = int((self.start if self.start > 0 else now) - self.submit) - int(max_queue)
            if queue > 0:
                return queue
        return 0


def _title(job: OldRow) -> str:
    return quick_title(job.name, job.status, None)


def _with_times(job: OldRow, queue: int, run: int) -> str:
    return _title(job) + " ~ " + running_text(queue, run, job.status)


def _counters(jobs: Sequence[OldRow]) -> Dict[str, int]:
    counts = {"completed": 0, "running": 0, "queuing": 0, "failed": 0, "total": len(jobs)}
    for job in jobs:
        key = {"COMPLETED": "completed", "RUNNING": "running", "QUEUING": "queuing", "FAILED": "failed"}.get(job.status)
        if key:
            counts[key] += 1
    return counts


def _folder_tags(c: Dict[str, int]) -> str:
    colour = "yellow" if c["completed"] == c["total"] else "#ffffb3"
    text = f" <span class='badge' style='background-color:{colour}'>{c['completed']} / {c['total']} COMPLETED</span>"
    if c["failed"] > 0:
        text += f" <span class='badge' style='background-color:red'>{c['failed']} FAILED</span>"
    if c["running"] > 0:
        text += f" <span class='badge' style='background-color:green; color:white'>{c['running']} RUNNING</span>"
    if c["queuing"] > 0:
        text += f" <span class='badge' style='background-color:pink'>{c['queuing']} QUEUING</span>"
    return text


def _parse_date(text: str) -> Optional[datetime]:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return None


def _renamed(rows: Sequence[JobDataRow]) -> List[OldRow]:
    """Rows by counter; a name seen before gets one `+` per earlier occurrence (B.8.4 step 3)."""
    seen: Dict[str, int] = {}
    result = []
    for row in sorted(rows, key=lambda r: r.counter):
        count = seen.get(row.job_name, 0)
        seen[row.job_name] = count + 1
        result.append(OldRow(row, row.job_name + "+" * count))
    return result


def _edge_fields(known: bool, children: List[str], parents: List[str]) -> Dict[str, Any]:
    """A node's children/parents: counts and sorted names where the run's edges are known,
    else the nulls 4.0.1 answers."""
    if not known:
        return {"children": None, "children_list": None, "parents": None, "parent_list": None}
    return {
        "children": len(children),
        "children_list": sorted(children),
        "parents": len(parents),
        "parent_list": sorted(parents),
    }


def run_detail(settings: Settings, expid: str, run_id: str, now: Optional[int] = None) -> Dict[str, Any]:
    """B.8.4: the run's tree, job nodes and folder counters."""
    paths.check_expid(expid)
    try:
        number = int(run_id)
    except ValueError:
        raise NotFound(NO_HEADER) from None
    history = job_data.load_history(settings, expid, optional=True)
    # A run whose counters were never written (total 0) is still a run: an empty detail,
    # as upstream 4.2.0 answers, where 4.0.1 said it had no header (issue 13).
    if history is None or history.user_version < MIN_RUN_VERSION:
        raise NotFound(NO_HEADER)
    run = history.run(number)
    if run is None:
        raise NotFound(NO_HEADER)
    now = int(time.time()) if now is None else now
    unit, size = run.chunk_unit, run.chunk_size
    rows = [row for row in history.rows if row.run_id == run.run_id and (row.rowtype or 0) >= 2]
    if not rows:
        return {
            "tree": [],
            "jobs": [],
            "total": 0,
            "reference": {},
            "error": False,
            "error_message": "",
            "pkl_timestamp": PKL_TIMESTAMP,
        }
    jobs = _renamed(rows)
    log_dir = paths.job_logs_dir(settings, expid)
    # Autosubmit 4.2 keeps each run's own edges (structure_data): the nodes list them as the
    # tree does. Older histories have none, and the nodes keep 4.0.1's nulls (B.8.4).
    edges = job_data.run_edges(settings, expid, run.run_id) if history.as42 else None
    kids: Dict[str, List[str]] = {}
    mums: Dict[str, List[str]] = {}
    for parent, child in edges or ():
        kids.setdefault(parent, []).append(child)
        mums.setdefault(child, []).append(parent)

    parsed = {job.name: _parse_date(job.row.date) for job in jobs if job.row.date}
    dates = sorted({d for d in parsed.values() if d is not None})
    fmt = date_format(dates)
    # The grouping "member" is the section column (Q30).
    members = sorted({job.row.raw_section for job in jobs if job.row.raw_section})

    packages = sorted({job.row.rowtype for job in jobs if job.row.rowtype > 2})
    package_entries = {
        code: [(job.plain_queue(now), job.start, job.finish) for job in jobs if job.row.rowtype == code]
        for code in packages
    }

    def package_queue(job: OldRow) -> int:
        return job.queuing_time(package_entries.get(job.row.rowtype), now)

    tree: List[Dict[str, Any]] = []
    reference: Dict[str, Any] = {}
    titles: Dict[str, str] = {}
    added = set()
    for date in dates:
        fd = date.strftime(fmt)
        text = str(date)
        member_folders = []
        states = set()
        total = 0
        for member in members:
            group = sorted(
                (job for job in jobs if job.row.date == text and job.row.raw_section == member),
                key=lambda job: job.row.chunk or 0,
            )
            children = []
            key = f"{expid}_{fd}_{member}"
            for job in group:
                states.add(job.status)
                total += 1
                title = _with_times(job, job.plain_queue(now), job.running_time(now))
                if job.row.rowtype > 2:
                    title += f" <span class='badge' style='background-color:#94b8b8'>Wrapped {job.row.rowtype}</span>"
                titles[job.name] = title
                children.append({"title": title, "refKey": job.name, "data": "Empty", "children": []})
                job.tree_parents.append(key)
                added.add(job.name)
            counts = _counters(group)
            member_folders.append(
                {
                    "title": key + _folder_tags(counts),
                    "folder": True,
                    "refKey": key,
                    "data": "Empty",
                    "expanded": False,
                    "children": children,
                }
            )
            reference[key] = counts
        if not member_folders:
            continue
        title = f"{expid}_{fd}"
        # With no job in any folder all three "all ..." flags stay true: COMPLETED wins.
        uniform = not states or (len(states) == 1 and next(iter(states)) in ("WAITING", "SUSPENDED", "COMPLETED"))
        if uniform:
            state = next(iter(states)) if states else "COMPLETED"
            colour = {"WAITING": "#aaa", "SUSPENDED": "orange", "COMPLETED": "yellow"}[state]
            # The total printed twice is the reference's badge (Q44).
            title += f" <span class='badge' style='background-color:{colour}'> {total} / {total} {state} </span>"
        tree.append(
            {
                "title": title,
                "folder": True,
                "refKey": f"{expid}_{fd}",
                "data": "Empty",
                "expanded": not (len(dates) > 5 and uniform),
                "children": member_folders,
            }
        )

    loose = [job for job in jobs if job.name not in added]
    if loose:
        floating = []
        seen: Dict[str, int] = {}
        for job in loose:
            titles[job.name] = _with_times(job, job.plain_queue(now), job.running_time(now))
            count = seen.get(job.name, 0)
            seen[job.name] = count + 1
            floating.append(
                {"title": titles[job.name], "refKey": job.name + "+" * count, "data": "Empty", "children": []}
            )
        tree.append(
            {"title": "Keys", "folder": True, "refKey": "Keys", "data": "Empty", "expanded": True, "children": floating}
        )

    wrappers: List[Dict[str, Any]] = []
    for code in packages:
        members_of = sorted((job for job in jobs if job.row.rowtype == code), key=lambda job: job.row.chunk or 0)
        children = []
        seen = {}
        for job in members_of:
            count = seen.get(job.name, 0)
            seen[job.name] = count + 1
            children.append(
                {
                    "title": _with_times(job, package_queue(job), job.running_time(now)),
                    "refKey": job.name + "+" * count,
                    "data": "Empty",
                    "children": [],
                }
            )
            job.tree_parents.append(f"Wrapper: {code}")
        counts = _counters(members_of)
        title = f"Wrapper: {code}" + _folder_tags(counts)
        if counts["completed"] == counts["total"]:
            title += CHECK_MARK
        wrappers.append(
            {
                "title": title,
                "folder": True,
                "refKey": f"Wrapper: {code}",
                "data": {k: counts[k] for k in ("completed", "failed", "running", "queuing", "total")},
                "expanded": False,
                "children": children,
            }
        )
        reference[f"Wrapper: {code}"] = counts
    wrappers.sort(key=lambda folder: folder["title"])
    if wrappers:
        tree.append(
            {
                "title": "Wrappers",
                "folder": True,
                "refKey": f"Wrappers_{expid}",
                "data": "Empty",
                "expanded": False,
                "children": wrappers,
            }
        )

    reference.update(
        {
            "completed_tag": COMPLETED_TAG,
            "running_tag": RUNNING_TAG,
            "queuing_tag": QUEUING_TAG,
            "failed_tag": FAILED_TAG,
            "check_mark": CHECK_MARK,
            "packages": packages,
            "chunk_unit": unit,
            "chunk_size": size,
        }
    )

    posts = [job for job in jobs if job.row.raw_member == "POST" and job.status in ("COMPLETED", "RUNNING")]
    post_avg = round(sum(package_queue(job) for job in posts) / len(posts), 2) if posts else 0

    nodes = []
    for job in jobs:
        row = job.row
        code = STATUS_CODES.get(job.status, -2)
        queue, run_time = package_queue(job), job.running_time(now)
        if row.date:
            parsed_date = parsed.get(job.name)
            chunk_date, date_plus = (
                chunk_range(parsed_date, int(row.chunk or 0), unit, size) if parsed_date else ("", "")
            )
        else:
            chunk_date, date_plus = "", ""
        wrapper = row.rowtype if row.rowtype > 2 else None
        nodes.append(
            {
                "id": job.name,
                "internal_id": job.name,
                "label": job.name,
                "status": job.status,
                "status_code": code,
                "status_color": status_color(job.status),
                "platform_name": row.platform or "NA",
                "chunk": row.chunk or 0,
                "member": row.raw_section,
                "section": row.raw_member,
                "sync": False,
                "title": titles.get(job.name, ""),
                "date": chunk_date,
                "date_plus": date_plus,
                "SYPD": sypd_job(unit, size, row.chunk, run_time, job.status),
                "ASYPD": asypd_job(unit, size, row.chunk, run_time + queue, post_avg, job.status),
                "minutes_queue": queue,
                "minutes": run_time,
                "submit": fmt_dt_dash(job.submit),
                "start": fmt_dt_dash(job.start),
                "finish": fmt_dt_dash(job.finish),
                "queue": row.qos or "debug",
                "processors": row.ncpus,
                "wallclock": row.wallclock,
                "wrapper": wrapper,
                "wrapper_code": wrapper,
                **_edge_fields(edges is not None, kids.get(row.job_name, []), mums.get(row.job_name, [])),
                "custom_directives": None,
                "out": os.path.join(log_dir, row.out) if row.out != "NA" else "NA",
                "err": os.path.join(log_dir, row.err) if row.err != "NA" else "NA",
                "tree_parents": job.tree_parents,
                "rm_id": row.job_id or 0,
            }
        )
    return {
        "tree": tree,
        "jobs": nodes,
        "total": len(nodes),
        "reference": reference,
        "error": False,
        "error_message": "",
        "pkl_timestamp": PKL_TIMESTAMP,
    }
