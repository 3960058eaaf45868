"""User metrics: `<exp>/tmp/metrics_<expid>.db`, table `user_metrics` (data.md A.10).

Written by Autosubmit 4.x when a job reports metrics; read-only here. A missing file means
the experiment has no metrics (not an error).
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.models import UserMetric
from autosubmit_api.readers import cache, paths
from autosubmit_api.readers.sqlite import connect_ro, has_table, table_columns

COLUMNS = ("user_metric_id", "run_id", "job_name", "metric_name", "metric_value", "modified")


def _parse(path: str) -> Tuple[UserMetric, ...]:
    with connect_ro(path, what=os.path.basename(path)) as conn:
        if not has_table(conn, "user_metrics"):
            return ()
        present = set(table_columns(conn, "user_metrics"))
        select = ", ".join(c if c in present else "NULL" for c in COLUMNS)
        rows = conn.execute(f"SELECT {select} FROM user_metrics ORDER BY run_id, user_metric_id").fetchall()
    return tuple(
        UserMetric(id=r[0], run_id=r[1], job_name=r[2] or "", metric_name=r[3] or "",
                   metric_value=r[4], modified=r[5])
        for r in rows
    )


def load_metrics(settings: Settings, expid: str, run_id: Optional[int] = None) -> List[UserMetric]:
    """Every metric of the experiment (or of one run), in run and insertion order."""
    path = paths.user_metrics_db(settings, expid)
    try:
        metrics = cache.cached_file("user_metrics", path, _parse)
    except FileNotFoundError:
        return []
    if run_id is None:
        return list(metrics)
    return [m for m in metrics if m.run_id == run_id]
