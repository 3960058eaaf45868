"""Gather one experiment's inputs from the readers and build its `JobTable` (docs/data.md B.0.2),
once per change of any input.

Inputs: the pkl (readers/job_list), dependency edges (readers/structure), packages
(readers/packages), the history's latest rows and runs (readers/job_data), the
configuration (readers/exp_config), the `LOG_<expid>` listing and the TOTAL_STATS lines
of the jobs that need them (readers/logs). The readers cache their parses by file
identity and hand back the same object while a file is unchanged; the table is cached
under the identities of those objects, so every view of one experiment shares one parse
and one table, and a changed pickle gives a new table on the next request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, Mapping, Optional, Tuple, TypeVar

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import APIError, DataError, NotFound
from autosubmit_api.job_status import FAILED, QUEUING, RUNNING, SUBMITTED, status_name
from autosubmit_api.models import Dependencies, ExperimentConfig, ExperimentHistory, JobDataRow, JobList, Packages
from autosubmit_api.readers import (
    cache,
    exp_config,
    exp_files,
    job_data,
    job_list,
    logs,
    packages,
    paths,
    structure,
)
from autosubmit_api.services.jobs.table import JobTable, build_table, gc_paused

STATS_CODES = (RUNNING, SUBMITTED, QUEUING, FAILED)
# Slots of the view store per large-cache entry (readers.cache.large_bound(),
# API_CACHE_ENTRIES): (kind, expid, params) combinations kept, least recently used out.
# An experiment opened in the GUI fills about four (job table, tree, graph, quick), each
# as big as its parsed pickle.
VIEWS_PER_ENTRY = 4

# What one kind of view holds: each kind is computed by one function, so one type per kind.
T = TypeVar("T")

_views_lock = threading.Lock()
_views: "OrderedDict[Hashable, Tuple[Hashable, Any]]" = OrderedDict()


class Ident:
    """Hashes and compares by object identity, keeping the object alive while cached."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Ident) and other.obj is self.obj


def check_experiment(settings: Settings, expid: str) -> str:
    """The experiment directory, or NotFound naming the experiment."""
    directory = paths.exp_dir(settings, expid)
    if not exp_files.has_exp_dir(settings, expid):
        raise NotFound(f"Experiment {expid} does not exist")
    return directory


def load_jobs(settings: Settings, expid: str) -> JobList:
    """The parsed pkl (shared, read-only); NotFound / DataError with a clear message."""
    check_experiment(settings, expid)
    return job_list.load_job_list(settings, expid)


def load_packages(settings: Settings, expid: str) -> Packages:
    return packages.load_packages(settings, expid)


def load_config(settings: Settings, expid: str) -> ExperimentConfig:
    return exp_config.load_config(settings, expid)


def _dependencies(settings: Settings, expid: str, jobs: JobList) -> Dependencies:
    return structure.load_dependencies(settings, expid, jobs)


def _job_logs(settings: Settings, expid: str) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Newest `.out`/`.err` per job, listed once per change of the directory."""
    directory = paths.job_logs_dir(settings, expid)
    key = cache.file_key(directory)
    if key is None:
        return {}, {}

    def scan() -> Tuple[Dict[str, str], Dict[str, str]]:
        try:
            return logs.newest_job_logs(settings, expid)
        except NotFound:
            return {}, {}

    return cache.cached("job_logs", key, scan)


def _stats_lines(
    settings: Settings, expid: str, jobs: JobList, rows: Mapping[str, JobDataRow]
) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """Last TOTAL_STATS line of every job whose times come from that file (B.0.3 step 2)."""

    def wanted() -> Tuple[str, ...]:
        out = []
        for job in jobs.jobs:
            if job.status in STATS_CODES:
                row = rows.get(job.name)
                if row is None or row.status != status_name(job.status):
                    out.append(job.name)
        return tuple(out)

    names = cache.cached("stats_names", (Ident(jobs), Ident(rows)), wanted)
    if not names:
        return ()
    # One stat per file per request; the lines are re-read only when a file changed.
    keys = tuple(cache.file_key(logs.total_stats_path(settings, expid, name)) for name in names)

    def read() -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
        return tuple(
            (name, tuple(logs.last_total_stats_line(settings, expid, name)) if key else ())
            for name, key in zip(names, keys)
        )

    return cache.cached("total_stats", (expid, names, keys), read)


def _last_rows(history: Optional[ExperimentHistory]) -> Dict[str, JobDataRow]:
    return history.last_rows if history is not None else {}


def _runs(history: Optional[ExperimentHistory]) -> Dict[int, Tuple[str, int]]:
    if history is None:
        return {}
    return {run.run_id: (run.chunk_unit, run.chunk_size) for run in history.runs}


def load_table(settings: Settings, expid: str, *, need_config: bool = True) -> JobTable:
    """The experiment's job table, cached by the identity of every input.

    `need_config=False` (the summary) builds the table with an empty configuration when the
    experiment's configuration cannot be read, since no value it serves comes from it.
    """
    jobs = load_jobs(settings, expid)
    deps = _dependencies(settings, expid, jobs)
    pkgs = load_packages(settings, expid)
    # Only each job's current row (and the runs) feed the table: the `last = 1` rows are a
    # fraction of a long history (24,598 of 200,000 rows: 1.3-1.6 s -> 0.3 s CPU cold).
    history = job_data.load_history(settings, expid, optional=True, last_only=True)
    try:
        conf = load_config(settings, expid)
    except APIError:
        if need_config:
            raise
        conf = ExperimentConfig(expid=expid, layout="", raw={})
    rows = _last_rows(history)
    stats = _stats_lines(settings, expid, jobs, rows)
    outs, errs = _job_logs(settings, expid)
    key: Hashable = (expid, Ident(jobs), Ident(deps), Ident(pkgs), Ident(history), Ident(conf), stats, Ident(outs))

    def build() -> JobTable:
        return build_table(
            expid=expid,
            exp_dir=paths.exp_dir(settings, expid),
            pkl_path=jobs.pkl_path or paths.job_list_pkl(settings, expid),
            pkl_mtime=int(jobs.pkl_mtime),
            log_dir=paths.job_logs_dir(settings, expid),
            jobs=jobs.jobs,
            children=deps.children,
            has_structure=bool(deps.children) and deps.source != "none",
            packages=pkgs,
            conf=conf,
            rows=rows,
            runs=_runs(history),
            stats=dict(stats),
            outs=outs,
            errs=errs,
            now=int(time.time()),
            pkl_format=jobs.pkl_format,
        )

    return stored("job_table", paths.exp_dir(settings, expid), need_config, key, build)


def stored(kind: str, where: str, params: Hashable, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` kept in one slot per (kind, expid, params), valid while `key` is unchanged.

    A view of a 50,000-job experiment weighs tens of megabytes, and a running experiment
    rewrites its pickle every few minutes: one slot per view means a new version replaces
    the old one instead of piling up in an entry-counted LRU.
    """
    slot = (kind, where, params)
    with _views_lock:
        hit = _views.get(slot)
        if hit is not None and hit[0] == key:
            _views.move_to_end(slot)
            _views_counter.hits += 1
            stored_value: T = hit[1]  # stored by compute() of the same kind
            return stored_value
    # Threads that miss the same view version together build it once (readers/cache.py).
    with cache.single_flight(("view", slot, key)):
        with _views_lock:
            hit = _views.get(slot)
            if hit is not None and hit[0] == key:
                _views.move_to_end(slot)
                _views_counter.hits += 1
                found: T = hit[1]  # stored by compute() of the same kind
                return found
            _views_counter.misses += 1
        with gc_paused():
            value = compute()
        with _views_lock:
            _views[slot] = (key, value)
            _views.move_to_end(slot)
            bound = VIEWS_PER_ENTRY * cache.large_bound()
            while len(_views) > bound:
                _views.popitem(last=False)
    return value


def cached_view(
    kind: str, inputs: object, params: Hashable, compute: Callable[[], T], also: Tuple[object, ...] = ()
) -> T:
    """A view computed from `inputs` (a JobTable or JobList, or a reader's cached object
    with the experiment named in `params`) and the other cached objects `also`."""
    where = getattr(inputs, "exp_dir", None) or getattr(inputs, "pkl_path", None) or ""
    key = (Ident(inputs),) + tuple(Ident(o) if o is not None else None for o in also)
    return stored(kind, where, params, key, compute)


def clear_views() -> None:
    with _views_lock:
        _views.clear()


_views_counter = cache_registry.register(
    "services.jobs.loading.views",
    bound=lambda: VIEWS_PER_ENTRY * cache.large_bound(),
    entries=lambda: len(_views),
    clear=clear_views,
)


def history_version(settings: Settings, expid: str) -> Optional[int]:
    history = job_data.load_history(settings, expid, optional=True, last_only=True)
    return history.user_version if history is not None else None


def version_supported(version: Any) -> bool:
    """The configuration's Autosubmit version is >= 3.13 or 4.x (B.4 gate)."""
    try:
        parts = str(version).strip().split(".")
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        return False
    return major >= 4 or (major >= 3 and minor >= 13)


def require_history_ready(conf: ExperimentConfig) -> None:
    if not version_supported(conf.autosubmit_version):
        raise DataError("Autosubmit version is not supported")
