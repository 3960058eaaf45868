"""The job status views as ready JSON bodies (docs/api.md 5.6, 6.1-6.6, 7.8).

Each function takes Settings and an expid and returns the body bytes, or for the views with
values that move with the clock (tree, graph, pkl-info) the body's `Version` (its bytes
joined on first use, its entity tag; services/rendered.py). Bodies are computed
once per input change and kept in the readers' cache (keyed by the identities of the
cached inputs plus the view's parameters); per request only the values that move with
the clock are re-encoded (services/rendered.py). Errors are raised as `errors.*`; the
routes shape them (v3 legacy bodies, v4 handler).
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.readers import central_db, graph_layout, paths
from autosubmit_api.services import graph as graph_service
from autosubmit_api.services import layout
from autosubmit_api.services import summary as summary_service
from autosubmit_api.services import tree as tree_service
from autosubmit_api.services.jobs import list_views
from autosubmit_api.services.jobs.loading import (
    cached_view,
    check_experiment,
    load_jobs,
    load_packages,
    load_table,
    require_history_ready,
)
from autosubmit_api.services.rendered import Rendered, Version, render


def _now(now: Optional[int]) -> int:
    return int(time.time()) if now is None else int(now)


def pkl_file_name(settings: Settings, expid: str) -> str:
    """The pkl path the pkl-info answers name, "" for an expid that cannot name one."""
    return paths.job_list_pkl(settings, expid) if paths.is_valid_expid(expid) else ""


def quick(settings: Settings, expid: str) -> bytes:
    jobs = load_jobs(settings, expid)
    pkgs = load_packages(settings, expid)
    log_dir = paths.job_logs_dir(settings, expid)
    rendered = cached_view(
        "view_quick",
        jobs,
        log_dir,
        lambda: render(list_views.quick_view(expid, log_dir, jobs.jobs, pkgs)),
        also=(pkgs,),
    )
    return rendered.body()


def expcount(settings: Settings, expid: str) -> bytes:
    jobs = load_jobs(settings, expid)
    return cached_view(
        "view_expcount", jobs, expid, lambda: render(list_views.status_counters(expid, jobs.jobs))
    ).body()


def v4_jobs(settings: Settings, expid: str, view: str, page: int = 1, page_size: Optional[int] = None) -> bytes:
    jobs = load_jobs(settings, expid)
    shape = view if view in ("base", "quick") else "other"
    if page_size is None:
        return cached_view("view_v4_jobs", jobs, shape, lambda: render(list_views.v4_jobs(jobs.jobs, shape))).body()
    # One page: built per request from the cached order, so paging through a big list does
    # not fill the view store (each entry of it can weigh as much as the whole list).
    order = cached_view("v4_jobs_order", jobs, None, lambda: list_views.v4_job_order(jobs.jobs))
    return render(list_views.v4_jobs(jobs.jobs, shape, page, page_size, order)).body()


def wrappers(settings: Settings, expid: str) -> bytes:
    check_experiment(settings, expid)
    pkgs = load_packages(settings, expid)
    return cached_view(
        "view_wrappers", pkgs, paths.packages_db(settings, expid), lambda: render(list_views.wrappers(pkgs))
    ).body()


def summary(settings: Settings, expid: str, now: Optional[int] = None) -> Dict[str, Any]:
    table = load_table(settings, expid, need_config=False)
    fixed = cached_view(
        "view_summary",
        table,
        None,
        lambda: summary_service.accumulate(
            table, table.times, (i for i in range(len(table.names)) if i not in table.live)
        ),
    )
    if not table.live:
        return summary_service.finish(table, fixed)
    fresh = table.compute_times(_now(now), table.live)
    return summary_service.finish(table, fixed, summary_service.accumulate(table, fresh, sorted(table.live)))


def tree(settings: Settings, expid: str, now: Optional[int] = None) -> Version:
    if paths.is_valid_expid(expid) and central_db.lacks_experiment(settings, expid):
        # The reference reads the version column of the missing row first; clients see
        # exactly this message for an unknown experiment (golden v3__tree__zzzz).
        raise NotFound("'NoneType' object has no attribute 'strip'")
    table = load_table(settings, expid)
    require_history_ready(table.conf)

    def build() -> Tuple[Rendered, Dict[str, Any]]:
        built = tree_service.build_tree(table)
        return render(built["body"]), built

    rendered, built = cached_view("view_tree", table, None, build)
    return rendered.version_at(_now(now), lambda at: tree_service.tree_resolver(table, built, at))


def pkl_info(settings: Settings, expid: str, timestamp: str, tree_flavour: bool, now: Optional[int] = None) -> Version:
    try:
        int(timestamp)
    except ValueError:
        raise BadRequest(f"The timestamp {timestamp!r} is not a number") from None
    table = load_table(settings, expid)
    rendered: Rendered = cached_view(
        "view_pkl_info", table, tree_flavour, lambda: render(tree_service.build_pkl_info(table, tree_flavour))
    )
    return rendered.version_at(_now(now), lambda at: tree_service.pkl_info_resolver(table, at, tree_flavour))


def graph(settings: Settings, expid: str, layout_name: str, grouped: str, now: Optional[int] = None) -> Version:
    graph_service.check_arguments(layout_name, grouped)
    table = load_table(settings, expid)
    require_history_ready(table.conf)
    saved = graph_layout.load_layout(settings, expid) if layout_name == "standard" else None

    def build() -> Tuple[Rendered, List[int], List[Tuple[int, int]]]:
        level = cached_view("graph_levels", table, None, lambda: layout.levels(table))
        from_saved = False
        if layout_name == "standard":
            coords = graph_service.saved_coordinates(table, saved)
            if coords is not None:
                from_saved = True
            else:
                coords = cached_view("graph_standard", table, None, lambda: layout.layered_layout(table, level))
        else:
            coords = cached_view(
                "graph_laplacian", table, None, lambda: layout.laplacian_layout(table, graph_service.edge_list(table))
            )
        body = graph_service.build_graph(table, layout_name, grouped, coords, from_saved, level)
        return render(body), level, coords

    # An empty saved layout is a fresh {} per call: key it as "none saved".
    rendered, level, coords = cached_view("view_graph", table, (layout_name, grouped), build, also=(saved or None,))
    return rendered.version_at(_now(now), lambda at: graph_service.graph_resolver(table, at, level, coords))


def warm(settings: Settings, expid: str) -> None:
    """Build the views the GUI opens first (quick, tree, standard graph, both monitors,
    summary), so a background worker can pay the cold cost after a pickle change instead
    of the next visitor. Errors propagate (the caller logs them)."""
    quick(settings, expid)
    summary(settings, expid)
    tree(settings, expid)
    pkl_info(settings, expid, "0", tree_flavour=True)
    pkl_info(settings, expid, "0", tree_flavour=False)
    graph(settings, expid, "standard", "none")
