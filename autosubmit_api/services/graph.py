"""The graph view `/graph/<expid>/<layout>/<grouped>` (data.md B.6) and the graph monitor
`/pklinfo` (B.5), built from one `JobTable` and a layout (services/layout.py)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from autosubmit_api.errors import BadRequest
from autosubmit_api.services.job_views import (
    COMPLETED, FAILED, QUEUING, RUNNING, SUBMITTED, SUSPENDED, JobTable, Times, chunk_range, fmt_dt,
    job_asypd, job_sypd, moving_resolver, status_code, status_color, with_holes,
)
from autosubmit_api.services.tree import date_format

LAYOUTS = ("standard", "laplacian")
GROUPINGS = ("none", "date-member", "status")
GRAPH_ERROR = {"nodes": [], "edges": [], "fake_edges": [], "groups": [], "groups_data": {}, "error": True,
               "error_message": "", "graphviz": False, "max_children": 0, "max_parents": 0,
               "total_jobs": 0, "pkl_timestamp": 0}
STATUS_GROUPS = {"WAITING": {"color": "#aaaaaa"}, "COMPLETED": {"color": "yellow"},
                 "SUSPENDED": {"color": "orange"}}
# Colour precedence of a date-member group (B.6).
GROUP_PRECEDENCE = (FAILED, RUNNING, SUSPENDED, SUBMITTED, QUEUING, COMPLETED)
GROUP_DISTANCE = 250
GRAPH_MOVING = {"minutes_queue": "minutes_queue", "minutes": "minutes", "submit": "submit",
                "start": "start", "finish": "finish", "SYPD": "SYPD", "ASYPD": "ASYPD"}


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


def graph_node(table: JobTable, i: int, t: Times, post_avg: float, level: int, xy: Tuple[int, int]
               ) -> Dict[str, Any]:
    job = table.jobs[i]
    unit, size = table.effective_unit(i)
    date, date_plus = chunk_range(job.date, job.chunk, unit, size)
    submit, start, finish = table.exposed(i, t)
    sc = table.sections[i]
    code = table.codes[i]
    status = table.statuses[i]
    package = table.package[i]
    return {
        "id": job.name, "internal_id": job.name, "label": job.name,
        "status": status, "status_code": status_code(code), "status_color": status_color(status),
        "platform_name": sc.platform, "chunk": job.chunk, "chunk_size": size, "chunk_unit": unit,
        "package": package, "wrapper": package, "member": job.member, "date": date,
        "date_plus": date_plus, "SYPD": job_sypd(unit, size, job.chunk, t.run, code, job.splits),
        "ASYPD": job_asypd(unit, size, job.chunk, t.queue + t.run + post_avg, code, job.splits),
        "minutes_queue": t.queue, "minutes": t.run, "submit": submit, "start": start,
        "finish": finish, "section": job.section, "queue": sc.queue, "level": level,
        "dashed": package is not None, "shape": table.symbol[i], "processors": sc.processors,
        "wallclock": sc.wallclock, "children": len(table.children[i]),
        "children_list": table.children_names(i), "parents": len(table.parents[i]),
        "parent_list": table.parent_names(i), "out": table.out[i], "err": table.err[i],
        "custom_directives": None, "rm_id": table.rm_id(i), "x": int(xy[0]), "y": int(xy[1]),
    }


GRAPH_NODE_KEYS = (
    "id", "internal_id", "label", "status", "status_code", "status_color", "platform_name", "chunk",
    "chunk_size", "chunk_unit", "package", "wrapper", "member", "date", "date_plus", "SYPD", "ASYPD",
    "minutes_queue", "minutes", "submit", "start", "finish", "section", "queue", "level", "dashed",
    "shape", "processors", "wallclock", "children", "children_list", "parents", "parent_list", "out",
    "err", "custom_directives", "rm_id", "x", "y",
)


def graph_nodes(table: JobTable, times: Sequence[Times], post_avg: float, level: Sequence[int],
                coords: Sequence[Tuple[int, int]]) -> List[Dict[str, Any]]:
    """Every node, as `graph_node` gives them, in one loop over the table's columns: the
    per-job method calls are hoisted and jobs that are not COMPLETED skip the SYPD/ASYPD
    calls (always None for them)."""
    conf_unit = (table.conf.chunk_unit, table.conf.chunk_size)
    names, codes, statuses, sections = table.names, table.codes, table.statuses, table.sections
    kids, pars, last_units = table.children, table.parents, table.last_run_unit
    packages, symbols, outs, errs = table.package, table.symbol, table.out, table.err
    digits_ids = table.pkl_format in ("F3", "F4")
    served_code = {c: status_code(c) for c in set(codes)}
    colours = {s: status_color(s) for s in set(statuses)}
    submit_codes = (COMPLETED, FAILED, QUEUING, RUNNING, SUBMITTED)
    start_codes = (COMPLETED, FAILED, RUNNING)
    finish_codes = (COMPLETED, FAILED)
    # Every node is a copy of one dict holding all keys in graph_node's order: a copy takes
    # the key table as a block, where a literal grows and rehashes it per node.
    template = dict.fromkeys(GRAPH_NODE_KEYS).copy
    nodes: List[Dict[str, Any]] = []
    append = nodes.append
    for i, job in enumerate(table.jobs):
        t = times[i]
        last = last_units[i]
        unit, size = last if last and last[0] and last[1] else conf_unit
        chunk = job.chunk
        date, date_plus = chunk_range(job.date, chunk, unit, size)
        code = codes[i]
        status = statuses[i]
        sc = sections[i]
        run = t.run
        if code == COMPLETED:
            sypd = job_sypd(unit, size, chunk, run, code, job.splits)
            asypd = job_asypd(unit, size, chunk, t.queue + run + post_avg, code, job.splits)
        else:
            sypd = asypd = None
        rm_id = job.id
        if digits_ids and isinstance(rm_id, str) and rm_id.isdigit():
            rm_id = int(rm_id)
        name = job.name
        package = packages[i]
        children, parents = kids[i], pars[i]
        xy = coords[i]
        node = template()
        node["id"] = node["internal_id"] = node["label"] = name
        node["status"] = status
        node["status_code"] = served_code[code]
        node["status_color"] = colours[status]
        node["platform_name"] = sc.platform
        node["chunk"] = chunk
        node["chunk_size"] = size
        node["chunk_unit"] = unit
        node["package"] = node["wrapper"] = package
        node["member"] = job.member
        node["date"] = date
        node["date_plus"] = date_plus
        node["SYPD"] = sypd
        node["ASYPD"] = asypd
        node["minutes_queue"] = t.queue
        node["minutes"] = run
        node["submit"] = fmt_dt(t.submit) if code in submit_codes else None
        node["start"] = fmt_dt(t.start) if code in start_codes else None
        node["finish"] = fmt_dt(t.finish) if code in finish_codes else None
        node["section"] = job.section
        node["queue"] = sc.queue
        node["level"] = level[i]
        node["dashed"] = package is not None
        node["shape"] = symbols[i]
        node["processors"] = sc.processors
        node["wallclock"] = sc.wallclock
        node["children"] = len(children)
        node["children_list"] = [names[c] for c in children]
        node["parents"] = len(parents)
        node["parent_list"] = [names[p] for p in parents]
        node["out"] = outs[i]
        node["err"] = errs[i]
        node["rm_id"] = rm_id
        node["x"] = int(xy[0])
        node["y"] = int(xy[1])
        append(node)
    return nodes


def date_member_groups(table: JobTable, coords: Sequence[Tuple[int, int]]) -> Dict[str, Dict[str, Any]]:
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
    centres = {}
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
        for other_name in ordered[k + 1:]:
            other = centres[other_name]
            dx, dy = abs(current["x"] - other["x"]), abs(current["y"] - other["y"])
            if dx <= GROUP_DISTANCE and dy <= GROUP_DISTANCE:
                push = GROUP_DISTANCE - dy
                current["y"] += push if current["y"] >= other["y"] else -push
    return centres


def build_graph(table: JobTable, layout: str, grouped: str, coords: Sequence[Tuple[int, int]],
                from_saved: bool, level: Sequence[int]) -> Dict[str, Any]:
    """The `/graph` answer, with holes for the moving values of live jobs."""
    times = table.times
    post_avg = table.post_avg
    nodes = graph_nodes(table, times, post_avg, level, coords)
    for i in table.live:
        with_holes(nodes[i], i, GRAPH_MOVING)
    names = table.names
    edges = [{"id": f"{names[a]}-{names[b]}", "from": names[a], "to": names[b], "is_wrapper": w,
              "dashed": False} for a, b, w in edge_list(table)]
    if grouped == "status":
        groups, groups_data = list(STATUS_GROUPS), {k: dict(v) for k, v in STATUS_GROUPS.items()}
    elif grouped == "date-member":
        groups_data = date_member_groups(table, coords)
        groups = list(groups_data)
    else:
        groups, groups_data = [], {}
    return {
        "nodes": nodes, "edges": edges,
        "packages": {p: list(ns) for p, ns in table.packages.package_to_jobs.items()},
        "fake_edges": [], "groups": groups, "groups_data": groups_data,
        "graphviz": bool(from_saved),
        "max_children": max((len(c) for c in table.children), default=0),
        "max_parents": max((len(p) for p in table.parents), default=0),
        "chunk_unit": table.conf.chunk_unit, "chunk_size": table.conf.chunk_size,
        "total_jobs": len(table.jobs), "error": False, "error_message": "",
        # A constant in the reference (Q19).
        "pkl_timestamp": 10000000,
    }


def graph_resolver(table: JobTable, now: int, level: Sequence[int], coords: Sequence[Tuple[int, int]]):
    return moving_resolver(table, now)


def saved_coordinates(table: JobTable, saved: Optional[Dict[str, Tuple[int, int]]]
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
