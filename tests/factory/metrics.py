"""Writes `<exp>/tmp/metrics_<expid>.db`, the user metrics DB of Autosubmit 4.x (docs/data.md A.10)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from typing import Iterable, Optional, Tuple, Union

MetricRow = Tuple[Optional[int], str, str, str, str]  # run_id, job_name, metric_name, value, modified


def write_user_metrics(path: Union[str, "os.PathLike[str]"], rows: Iterable[MetricRow]) -> None:
    """The `user_metrics` table as Autosubmit writes it, ids given in row order."""
    with closing(sqlite3.connect(os.fspath(path))) as conn:
        conn.execute(
            "CREATE TABLE user_metrics (user_metric_id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "run_id INTEGER, job_name TEXT, metric_name TEXT, metric_value TEXT, modified TEXT)"
        )
        conn.executemany(
            "INSERT INTO user_metrics(run_id, job_name, metric_name, metric_value, modified) VALUES (?, ?, ?, ?, ?)",
            list(rows),
        )
        conn.commit()
