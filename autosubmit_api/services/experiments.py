"""The experiment list, the v3 searches and the running list (docs/api.md 5.1-5.4, 5.9; docs/data.md B.1).

Rows come from the central databases (readers.central_db). Per row, the v4 list adds the
pickle's mtime and the counters of the latest history run; the v3 searches also read the
experiment configuration (version, wrapper type, HPCARCH). Every file read is cached by
the readers (path, mtime, size), so listing the same experiments again costs a few stats.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Mapping, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, NotFound
from autosubmit_api.models import ExperimentConfig, ExperimentRow
from autosubmit_api.readers import central_db, list_facts, paths
from autosubmit_api.services.timefmt import fmt_dt

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 12
MAX_OFFSET = 2**62
COUNTERS = list_facts.COUNTERS


@dataclass(frozen=True)
class ListQuery:
    """The v4 list's query parameters, already parsed (docs/api.md 5.1)."""

    query: Optional[str] = None
    only_active: bool = False
    owner: Optional[str] = None
    exp_type: Optional[str] = None
    autosubmit_version: Optional[str] = None
    hpc: Optional[str] = None  # the current GUI's filter; 4.0.1 ignores it
    order_by: Optional[str] = None
    order_desc: bool = False
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE  # <= 0: everything on one page


def _run_counters(settings: Settings, expid: str) -> Optional[Dict[str, int]]:
    """The latest history run's counters when its total > 0 (B.1.1), else None."""
    counters = list_facts.latest_run_counters(settings, expid)
    if counters is None or counters["total"] <= 0:
        return None
    return counters


def _experiment_config(settings: Settings, expid: str) -> Optional[ExperimentConfig]:
    """The experiment's parsed configuration, or None when it cannot be loaded (B.1.2)."""
    if not paths.is_valid_expid(expid):
        return None
    from autosubmit_api.readers import exp_config

    try:
        return exp_config.load_config(settings, expid)
    except APIError:
        return None
    except Exception:  # noqa: BLE001 - one unreadable experiment must not break the list
        log.exception("configuration of %s cannot be loaded", expid)
        return None


def list_item(settings: Settings, row: ExperimentRow) -> Dict[str, Any]:
    """One entry of `/v4/experiments` (B.1.1): central rows, pkl mtime, latest run counters."""
    mtime = list_facts.pkl_mtime(settings, row.name)
    counters = _run_counters(settings, row.name) or dict.fromkeys(COUNTERS, 0)
    item = {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "user": row.user,
        "hpc": row.hpc,
        "created": row.created,
        "version": row.autosubmit_version,
        "modified": datetime.fromtimestamp(mtime).isoformat() if mtime is not None else None,
        "status": row.status if row.status is not None else central_db.NOT_RUNNING,
    }
    item.update(counters)
    return item


def list_experiments(settings: Settings, params: ListQuery) -> Dict[str, Any]:
    """`GET /v4/experiments`: one page of experiments and the pagination block."""
    page = max(1, params.page)
    paginate = params.page_size > 0
    size = min(params.page_size, settings.max_page_size)
    page_size = size if paginate else None
    rows, total = central_db.list_experiments(
        settings,
        query=params.query,
        owner=params.owner,
        exp_type=params.exp_type,
        autosubmit_version=params.autosubmit_version,
        hpc=params.hpc,
        only_active=params.only_active,
        order_by=params.order_by,
        order_desc=params.order_desc,
        limit=page_size,
        # A page far past the end is just empty; keep the offset inside a 64-bit integer.
        offset=min((page - 1) * size, MAX_OFFSET) if paginate else 0,
    )
    items = [list_item(settings, row) for row in rows]
    return {
        "experiments": items,
        "pagination": {
            "page": page,
            "page_size": page_size,
            "total_pages": math.ceil(total / size) if paginate else 1,
            "page_items": len(items),
            "total_items": total,
        },
    }


def search_item(settings: Settings, row: ExperimentRow, *, running_list: bool = False) -> Dict[str, Any]:
    """One entry of the v3 searches and `/running/` (B.1.2).

    The configuration gives `version`, `wrapper`, `hpc` and (when it loads) `modified`;
    without it, `version` is "Unknown" and `hpc` comes from `details`. `/running/` prints
    the user as `str()` (so "None"); Q16 is fixed: each row uses only its own data.
    """
    config = _experiment_config(settings, row.name)
    version, wrapper, hpc, modified = "Unknown", None, row.hpc, None
    if config is not None:
        version = config.autosubmit_version or "Unknown"
        # The reference's wrapper type: AS3 [wrapper] TYPE / AS4 WRAPPERS.TYPE, not named wrappers.
        if config.wrapper_type and str(config.wrapper_type).upper() != "NONE":
            wrapper = str(config.wrapper_type).upper()
        hpc = config.hpcarch or row.hpc
        mtime = list_facts.pkl_mtime(settings, row.name)
        if mtime is not None:
            modified = fmt_dt(mtime)
    counters: Mapping[str, object]
    found = _run_counters(settings, row.name)
    if found is not None:
        counters = found
    else:
        absent: Dict[str, object] = dict.fromkeys(COUNTERS, 0)
        absent["completed"] = absent["total"] = "NA"
        counters = absent
    item: Dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "user": str(row.user) if running_list else row.user,
        "hpc": hpc,
        "status": central_db.RUNNING if row.is_running else central_db.NOT_RUNNING,
        "version": version,
        "wrapper": wrapper,
        "modified": modified,
    }
    item.update(counters)
    return item


V3_TYPES = ("test", "experiment")


def search(settings: Settings, text: str, exp_type: str = "all", only_active: str = "all") -> Dict[str, Any]:
    """`/search/<text>[/<exptype>/<onlyactive>]` (docs/api.md 5.2)."""
    rows = central_db.search(
        settings,
        text=text,
        exp_type=exp_type if exp_type in V3_TYPES else None,
        only_active=only_active == "active",
    )
    return {"experiment": [search_item(settings, row) for row in rows]}


def search_owner(settings: Settings, owner: str, exp_type: str = "all", only_active: str = "all") -> Dict[str, Any]:
    """`/searchowner/<owner>[/<exptype>/<onlyactive>]` (docs/api.md 5.3): exact owner match."""
    rows = central_db.search(
        settings,
        owner=owner,
        exp_type=exp_type if exp_type in V3_TYPES else None,
        only_active=only_active == "active",
    )
    return {"experiment": [search_item(settings, row) for row in rows]}


def running(settings: Settings) -> Dict[str, Any]:
    """`/running/` (docs/api.md 5.4): every experiment whose status is RUNNING."""
    rows = central_db.running(settings)
    return {"experiment": [search_item(settings, row, running_list=True) for row in rows]}


def get_experiment(settings: Settings, expid: str) -> Dict[str, Any]:
    """`/v4/experiments/<expid>` (docs/api.md 5.9): the experiment table's row; NotFound when unknown."""
    paths.check_expid(expid)
    row = central_db.get_experiment(settings, expid)
    if row is None:
        raise NotFound(f"Experiment with expid '{expid}' not found.")
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "autosubmit_version": row.autosubmit_version,
    }
