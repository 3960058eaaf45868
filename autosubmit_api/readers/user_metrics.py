"""User metrics: `<exp>/tmp/metrics_<expid>.db`, table `user_metrics` (docs/data.md A.10), or on
a PostgreSQL site the table `user_metrics` of schema `<expid>` (docs/data.md A.12).

Written by Autosubmit 4.x when a job reports metrics; read-only here. A missing file (or
table) means the experiment has no metrics (not an error).
"""

from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.models import UserMetric
from autosubmit_api.readers import backend, cache, paths, store
from autosubmit_api.readers.store import Store

COLUMNS = ("user_metric_id", "run_id", "job_name", "metric_name", "metric_value", "modified")


def _metrics(rows: Iterable[Sequence[Any]]) -> Tuple[UserMetric, ...]:
    """Rows of COLUMNS as models."""
    return tuple(
        UserMetric(id=r[0], run_id=r[1], job_name=r[2] or "", metric_name=r[3] or "", metric_value=r[4], modified=r[5])
        for r in rows
    )


def _fetch(st: Store, run_id: Optional[int] = None) -> Tuple[UserMetric, ...]:
    """The table's rows in run then insertion order (rows without a run first)."""
    columns = st.columns("user_metrics")
    if columns is None:
        return ()
    where, params = "", {}
    if run_id is not None:
        if "run_id" not in columns:
            return ()
        where, params = "run_id = :r", {"r": int(run_id)}
    nulls = "" if st.kind == "sqlite" else " NULLS FIRST"  # SQLite sorts NULL first already
    order = ", ".join(f"{c}{nulls}" for c in ("run_id", "user_metric_id") if c in columns)
    return _metrics(st.select("user_metrics", COLUMNS, where=where, order_by=order, params=params))


def load_metrics(settings: Settings, expid: str, run_id: Optional[int] = None) -> List[UserMetric]:
    """Every metric of the experiment (or of one run), in run and insertion order."""
    if backend.is_postgres(settings):
        # Not cached: the table is small, so one query per request costs about what a change
        # marker would; the server applies the run filter.
        with store.open_schema(settings, expid, "user_metrics") as st:
            return list(_fetch(st, run_id))
    path = paths.user_metrics_db(settings, expid)

    def parse(p: str) -> Tuple[UserMetric, ...]:
        with store.open_file(settings, p, os.path.basename(p)) as st:
            return _fetch(st)

    try:
        metrics = cache.cached_file("user_metrics", path, parse)
    except FileNotFoundError:
        return []
    if run_id is None:
        return list(metrics)
    return [m for m in metrics if m.run_id == run_id]
