"""The last job-list load of this process, per source kind, for the `/metrics` route
(docs/metrics.md). A plain in-process holder: the readers record, the metrics collector reads.

A load is a real read and parse (a cache hit is not one): its seconds, the number of jobs it
gave and, for a pickle, the bytes parsed. Kinds (`SOURCES`): `pickle` (a `job_list_<expid>.pkl`
file), `pickle_postgres` (a PostgreSQL `job_pkl` row), `job_db` (Autosubmit 4.2's
`db/job_list.db`) and `job_db_postgres` (the expid schema's `jobs` table); a changed 4.2 job
list re-read by its changed rows counts as a load too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Dict, Optional

SOURCES = ("pickle", "pickle_postgres", "job_db", "job_db_postgres")


@dataclass(frozen=True)
class LastLoad:
    """The last load of one source kind, and how many there were."""

    seconds: float
    jobs: int
    size_bytes: Optional[int]
    time: float
    loads: int


_lock = threading.Lock()
_last: Dict[str, LastLoad] = {}


def record(source: str, seconds: float, jobs: int, size_bytes: Optional[int] = None) -> None:
    """Note a load of `source` that took `seconds` and gave `jobs` jobs (`size_bytes`: the
    bytes parsed, when known)."""
    with _lock:
        previous = _last.get(source)
        _last[source] = LastLoad(seconds, jobs, size_bytes, time.time(), (previous.loads if previous else 0) + 1)


def snapshot() -> Dict[str, LastLoad]:
    """The last load of each kind loaded since the process started."""
    with _lock:
        return dict(_last)
