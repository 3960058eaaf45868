"""The graph view `/graph/<expid>/<layout>/<grouped>` (docs/data.md B.6) and the graph monitor
`/pklinfo` (B.5), built from one `JobTable` and a layout (services/layout.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, TypedDict

from autosubmit_api.errors import BadRequest
from autosubmit_api.job_status import COMPLETED, FAILED, QUEUING, RUNNING, SUBMITTED, SUSPENDED
from autosubmit_api.services.jobs.moving import moving_resolver, with_holes
from autosubmit_api.services.jobs.record import job_record
from autosubmit_api.services.jobs.status_display import status_color
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import Times
from autosubmit_api.services.rendered import Resolve
from autosubmit_api.services.tree import date_format

LAYOUTS = ("standard", "laplacian")
GROUPINGS = ("none", "date-member", "status")
GRAPH_ERROR = {
    "nodes": [],
    "edges": [],
    "fake_edges": [],
    "groups": [],
    "groups_data": {},
    "error": True,
    "error_message": "",
    "graphviz": False,
    "max_children": 0,
    "max_parents": 0,
    "total_jobs": 0,
    "pkl_timestamp": 0,
}
STATUS_GROUPS = {"WAITING": {"color": "#aaaaaa"}, "COMPLETED": {"color": "yellow"}, "SUSPENDED": {"color": "orange"}}
# Colour precedence of a date-member group (B.6).
GROUP_PRECEDENCE = (FAILED, RUNNING, SUSPENDED, SUBMITTED, QUEUING, COMPLETED)
GROUP_DISTANCE = 250
GRAPH_MOVING = {
    "minutes_queue": "minutes_queue",
    "minutes": "minutes",
    "submit": "submit",
    "start": "start",
    "finish": "finish",
    "SYPD": "SYPD",
    "ASYPD": "ASYPD",
}


def check_arguments(layout: str, grouped: str) -> None:
    if layout not in LAYOUTS:
        raise BadRequest(f"You have requested a {layout} layout, which is not implemented.")
    if grouped not in GROUPINGS:
        raise BadRequest(f"You have provided an invalid grouping selection: {grouped}")


def edge_list(table: JobTable) -> List[Tuple[int, int, bool]]:
    """(from, to, is_wrapper) in loader order, children by name, self-loops skipped."""
    out = []
    package = table.package
    for i, kids in enumerate(table.children):
        for c in kids:
            if c != i:
                out.append((i, c, package[i] is not None and package[i] == package[c]))
    return out


def graph_node(table: JobTable, i: int, t: Times, post_avg: float, level: int, xy: Tuple[int, int]) -> Dict[str, Any]:
    package = table.package[i]
    node = job_record(table, i, t, post_avg)
    node.update(
        {
            "package": package,
            "wrapper": package,
            "dashed": package is not None,
            "minutes_queue": t.queue,
            "level": level,
            "shape": table.symbol[i],
            "x": int(xy[0]),
            "y": int(xy[1]),
        }
    )
    return node


class GroupCentre(TypedDict):
    """A date-member group of the graph: its colour and where its folder sits."""

    color: str
    x: int
    y: int


def date_member_groups(table: JobTable, coords: Sequence[Tuple[int, int]]) -> Dict[str, GroupCentre]:
    dates = sorted({job.date for job in table.jobs if job.date is not None})
    members = sorted({job.member for job in table.jobs if job.member is not None})
    if not dates or not members:
        # The reference refuses (with a message); no date-member folders means no groups.
        return {}
    fmt = date_format(dates)
    prefixes: Dict[str, List[int]] = {}
    names = []
    for date in dates:
        for member in members:
            name = f"{table.expid}_{date.strftime(fmt)}_{member}_"
            names.append((name, date, member))
            prefixes[name] = []
    # One pass over the jobs instead of one scan per date x member.
    lengths = sorted({len(name) for name, _, _ in names})
    for i, job_name in enumerate(table.names):
        for length in lengths:
            bucket = prefixes.get(job_name[:length])
            if bucket is not None:
                bucket.append(i)
    centres: Dict[str, GroupCentre] = {}
    for name, date, member in names:
        jobs = prefixes[name]
        if not jobs:
            # The reference fails the whole view when one date x member pair has no jobs
            # (members that differ per date); that pair simply has no group.
            continue
        codes = {table.codes[i] for i in jobs}
        colour = "#aaaaaa"
        for code in GROUP_PRECEDENCE:
            if code in codes:
                colour = status_color(table.statuses[next(i for i in jobs if table.codes[i] == code)])
                break
        x = int(sum(coords[i][0] for i in jobs) / len(jobs))
        y = int(sum(coords[i][1] for i in jobs) / len(jobs))
        centres[name] = {"color": colour, "x": x, "y": y}
    ordered = sorted(centres, key=lambda g: centres[g]["y"], reverse=True)
    for k, name in enumerate(ordered):
        current = centres[name]
        for other_name in ordered[k + 1 :]:
            other = centres[other_name]
            dx, dy = abs(current["x"] - other["x"]), abs(current["y"] - other["y"])
            if dx <= GROUP_DISTANCE and dy <= GROUP_DISTANCE:
                push = GROUP_DISTANCE - dy
                current["y"] += push if current["y"] >= other["y"] else -push
    return centres


def build_graph(
    table: JobTable,
    layout: str,
    grouped: str,
    coords: Sequence[Tuple[int, int]],
    from_saved: bool,
    level: Sequence[int],
) -> Dict[str, Any]:
    """The `/graph` answer, with holes for the moving values of live jobs."""
    times = table.times
    post_avg = table.post_avg
    nodes = [graph_node(table, i, times[i], post_avg, level[i], coords[i]) for i in range(len(table.jobs))]
    for i in table.live:
        with_holes(nodes[i], i, GRAPH_MOVING)
    names = table.names
    edges = [
        {"id": f"{names[a]}-{names[b]}", "from": names[a], "to": names[b], "is_wrapper": w, "dashed": False}
        for a, b, w in edge_list(table)
    ]
    groups: List[str]
    groups_data: Mapping[str, Mapping[str, object]]
    if grouped == "status":
        groups, groups_data = list(STATUS_GROUPS), {k: dict(v) for k, v in STATUS_GROUPS.items()}
    elif grouped == "date-member":
        groups_data = date_member_groups(table, coords)
        groups = list(groups_data)
    else:
        groups, groups_data = [], {}
    return {
        "nodes": nodes,
        "edges": edges,
        "packages": {p: list(ns) for p, ns in table.packages.package_to_jobs.items()},
        "fake_edges": [],
        "groups": groups,
        "groups_data": groups_data,
        "graphviz": bool(from_saved),
        "max_children": max((len(c) for c in table.children), default=0),
        "max_parents": max((len(p) for p in table.parents), default=0),
        "chunk_unit": table.conf.chunk_unit,
        "chunk_size": table.conf.chunk_size,
        "total_jobs": len(table.jobs),
        "error": False,
        "error_message": "",
        # A constant in the reference (Q19).
        "pkl_timestamp": 10000000,
    }


def graph_resolver(table: JobTable, now: int, level: Sequence[int], coords: Sequence[Tuple[int, int]]) -> Resolve:
    return moving_resolver(table, now)


def saved_coordinates(
    table: JobTable, saved: Optional[Mapping[str, Tuple[float, float]]]
) -> Optional[List[Tuple[int, int]]]:
    """The saved layout's coordinates if it covers every current job, else None."""
    if not saved:
        return None
    out = []
    for name in table.names:
        xy = saved.get(name)
        if xy is None:
            return None
        out.append((int(xy[0]), int(xy[1])))
    return out
