"""The two per-experiment facts the experiment lists need, read as cheaply as possible.

* the counters of the latest run: `experiment_run` row with the highest `run_id` of
  `<jobdata_dir>/job_data_<expid>.db` (docs/data.md A.4; PostgreSQL: `<expid>.experiment_run`);
* the job list's modification time (readers/job_list.py `job_list_mtime`: the pickle's
  mtime, `job_pkl.modified`, or the 4.2 `MAX(jobs.modified)`).

A list shows up to hundreds of experiments per request, so this reads one row of
`experiment_run` (columns by name, absent counters read 0) instead of the whole history
that `readers.job_data` builds. The counters are cached by the file's (path, mtime, size)
in their own LRU (a few hundred bytes per experiment), not in `readers.cache`: listing
thousands of experiments must not evict the big parsed job lists kept there.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from typing import Any, Dict, Hashable, Mapping, Optional

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError
from autosubmit_api.readers import backend, cache, job_list, paths, store
from autosubmit_api.readers.sqlite import connect_ro, has_table, quote_ident, table_columns

log = logging.getLogger(__name__)

COUNTERS = ("completed", "total", "submitted", "queuing", "running", "failed", "suspended")
MAX_ENTRIES = 20000

_lock = threading.Lock()
_counters_cache: "OrderedDict[Hashable, Optional[Dict[str, int]]]" = OrderedDict()


def _cached_counters(settings: Settings, path: str) -> Optional[Dict[str, int]]:
    key = cache.file_key(path)
    if key is None:
        return None
    with _lock:
        if key in _counters_cache:
            _counters_cache.move_to_end(key)
            _counter.hits += 1
            return _counters_cache[key]
        _counter.misses += 1
    value = _read_sqlite(settings, path)
    with _lock:
        _counters_cache[key] = value
        while len(_counters_cache) > MAX_ENTRIES:
            _counters_cache.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _counters_cache.clear()


def size() -> int:
    with _lock:
        return len(_counters_cache)


_counter = cache_registry.register("readers.list_facts.counters", bound=MAX_ENTRIES, entries=size, clear=clear)


def _counters(record: Mapping[str, Any]) -> Dict[str, int]:
    return {name: int(record.get(name) or 0) for name in COUNTERS}


def _read_sqlite(settings: Settings, path: str) -> Optional[Dict[str, int]]:
    with connect_ro(settings, path) as conn:
        if not has_table(conn, "experiment_run"):
            return None
        present = [c for c in COUNTERS if c in set(table_columns(conn, "experiment_run"))]
        if not present:
            return None
        row = conn.execute(
            f"SELECT {', '.join(quote_ident(c) for c in present)} FROM experiment_run ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
    return None if row is None else _counters(dict(zip(present, row)))


def latest_run_counters(settings: Settings, expid: str) -> Optional[Dict[str, int]]:
    """{completed, total, submitted, queuing, running, failed, suspended} of the latest run.

    None when the experiment has no history, no run, or the history cannot be read (the
    lists then show zeros; the reason is logged).
    """
    if not paths.is_valid_expid(expid):
        return None
    try:
        if backend.is_postgres(settings):
            with store.open_schema(settings, expid, "experiment_run") as st:
                if not st.has_table("experiment_run"):
                    return None
                row = st.first(
                    st.select_sql(
                        "experiment_run", ("run_id",) + COUNTERS, where="run_id IS NOT NULL", order_by="run_id DESC"
                    )
                    + " LIMIT 1"
                )
            return None if row is None else _counters(dict(zip(COUNTERS, row[1:])))
        path = paths.job_data_db(settings, expid)
        return _cached_counters(settings, path)
    except (APIError, sqlite3.Error) as exc:
        log.info("latest run of %s not read: %s", expid, exc)
        return None


def pkl_mtime(settings: Settings, expid: str) -> Optional[int]:
    """Epoch seconds of the job list's last change, None when there is no job list."""
    if not paths.is_valid_expid(expid):
        return None
    try:
        mtime = job_list.job_list_mtime(settings, expid)
    except APIError as exc:
        log.info("job list time of %s not read: %s", expid, exc)
        return None
    return None if mtime is None else int(mtime)
