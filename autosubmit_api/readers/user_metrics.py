"""User metrics: `<exp>/tmp/metrics_<expid>.db`, table `user_metrics` (data.md A.10), or on
a PostgreSQL site the table `user_metrics` of schema `<expid>` (data.md A.12).

Written by Autosubmit 4.x when a job reports metrics; read-only here. A missing file (or
table) means the experiment has no metrics (not an error).
"""
from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound
from autosubmit_api.models import UserMetric
from autosubmit_api.readers import backend, cache, paths
from autosubmit_api.readers.sqlite import connect_ro, has_table, table_columns

COLUMNS = ("user_metric_id", "run_id", "job_name", "metric_name", "metric_value", "modified")


def _metrics(rows: Iterable[Sequence[Any]]) -> Tuple[UserMetric, ...]:
    """Rows of COLUMNS as models."""
    return tuple(
        UserMetric(id=r[0], run_id=r[1], job_name=r[2] or "", metric_name=r[3] or "",
                   metric_value=r[4], modified=r[5])
        for r in rows
    )


def _parse(settings: Settings, path: str) -> Tuple[UserMetric, ...]:
    with connect_ro(settings, path, what=os.path.basename(path)) as conn:
        if not has_table(conn, "user_metrics"):
            return ()
        present = set(table_columns(conn, "user_metrics"))
        select = ", ".join(c if c in present else "NULL" for c in COLUMNS)
        rows = conn.execute(f"SELECT {select} FROM user_metrics ORDER BY run_id, user_metric_id").fetchall()
    return _metrics(rows)


def _load_postgres(settings: Settings, expid: str, run_id: Optional[int]) -> List[UserMetric]:
    # Not cached: the table is small, so one query per request costs about what a change
    # marker would; the server applies the run filter.
    from autosubmit_api.readers import pg_experiment

    try:
        return list(_metrics(pg_experiment.fetch_user_metrics(settings, expid, COLUMNS, run_id)))
    except NotFound:
        return []


def load_metrics(settings: Settings, expid: str, run_id: Optional[int] = None) -> List[UserMetric]:
    """Every metric of the experiment (or of one run), in run and insertion order."""
    if backend.is_postgres(settings):  # data.md A.12: table user_metrics of schema <expid>
        return _load_postgres(settings, expid, run_id)
    path = paths.user_metrics_db(settings, expid)
    try:
        metrics = cache.cached_file("user_metrics", path, lambda p: _parse(settings, p))
    except FileNotFoundError:
        return []
    if run_id is None:
        return list(metrics)
    return [m for m in metrics if m.run_id == run_id]
