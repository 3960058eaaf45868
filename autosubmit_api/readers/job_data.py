"""The history DB `<jobdata_dir>/job_data_<expid>.db` (docs/data.md A.4): tables `experiment_run`
and `job_data`, every `PRAGMA user_version` (17, 18, 19, 21 and older ones).

Two steps, kept apart so another storage can feed the same models:

* **fetch** (`fetch`, over a readers/store.py Store: the history file, or on a PostgreSQL
  site, Autosubmit 4.1.16+, docs/data.md A.12, the same tables in the schema named after the
  expid). It returns a `RawHistory`: the schema version (`PRAGMA user_version`, or on
  PostgreSQL the version the columns correspond to) and, per table, the column names and
  the row tuples in id (resp. table) order.
* **build** (`build_history`): storage-independent. Columns are matched *by name* (files
  upgraded with ALTER TABLE have a different column order, e.g. a3tb's
  `experiment_run.modified` is last), missing columns get their DDL default, and every
  row's section/member swap (Autosubmit 3.12 legacy writer) is detected.

`load_history` caches the result by the file's (path, mtime, size).
"""

from __future__ import annotations

import contextlib
import operator
import os
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Sequence, Tuple, overload

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound
from autosubmit_api.models import ExperimentHistory, ExperimentRun, JobDataRow, RawHistory, RawTable
from autosubmit_api.readers import backend, cache, paths, store
from autosubmit_api.readers.job_build import paused_gc
from autosubmit_api.readers.sqlite import quote_ident
from autosubmit_api.readers.store import Store


class HistoryNotFound(NotFound):
    """The experiment has no history DB (normal for Autosubmit 3 experiments)."""


# Model field -> (DB column, default when the column does not exist), in JobDataRow order
# up to fail_count; section, member and swapped are derived.
_JOB_FIELDS: Tuple[Tuple[str, Any], ...] = (
    ("id", None),
    ("counter", 0),
    ("job_name", ""),
    ("created", ""),
    ("modified", ""),
    ("submit", 0),
    ("start", 0),
    ("finish", 0),
    ("status", "UNKNOWN"),
    ("rowtype", 2),
    ("ncpus", 0),
    ("wallclock", ""),
    ("qos", ""),
    ("energy", 0),
    ("date", ""),
    ("section", ""),
    ("member", ""),
    ("chunk", 0),
    ("last", 0),
    ("platform", ""),
    ("job_id", 0),
    ("extra_data", ""),
    ("nnodes", 0),
    ("run_id", None),
    ("MaxRSS", 0.0),
    ("AveRSS", 0.0),
    ("out", ""),
    ("err", ""),
    ("rowstatus", 0),
    ("children", None),
    ("platform_output", None),
    ("workflow_commit", None),
    ("split", None),
    ("splits", None),
    ("fail_count", 0),
)
_RUN_FIELDS: Tuple[Tuple[str, Any], ...] = (
    ("run_id", 0),
    ("created", ""),
    ("modified", ""),
    ("start", 0),
    ("finish", 0),
    ("chunk_unit", ""),
    ("chunk_size", 0),
    ("completed", 0),
    ("total", 0),
    ("failed", 0),
    ("queuing", 0),
    ("running", 0),
    ("submitted", 0),
    ("suspended", 0),
    ("metadata", None),
)
_SECTION_POS = 15
_MEMBER_POS = 16
_NAME_POS = 2


def history_user_version(columns: Sequence[str]) -> int:
    """PostgreSQL has no `PRAGMA user_version`: the schema version its columns correspond to
    (docs/data.md A.4; Autosubmit writes PostgreSQL from 4.1.16 on, so 19 or 21 in practice)."""
    cols = {c.lower() for c in columns}
    if "fail_count" in cols or "splits" in cols:
        return 21
    if "workflow_commit" in cols:
        return 19
    if "children" in cols:
        return 18
    if "rowstatus" in cols:
        return 15
    if "nnodes" in cols:
        return 12
    return 0


def fetch(st: Store, *, last_only: bool = False) -> RawHistory:
    """Read both tables as they are: the history DB file or the expid's PostgreSQL schema.

    `last_only` keeps only the `last = 1` rows of job_data (the current attempt of each
    job), which is all the times/tree/graph views need and a fraction of a long history.
    HistoryNotFound without a job_data table.
    """
    tables: Dict[str, Optional[RawTable]] = {}
    for table, order in (("job_data", "id"), ("experiment_run", "run_id")):
        found = st.columns(table)
        if found is None:
            tables[table] = None
            continue
        cols = tuple(found)
        order_by = f" ORDER BY {quote_ident(order)}" if order in cols else ""
        where = ' WHERE "last" = 1' if last_only and table == "job_data" and "last" in cols else ""
        select = ", ".join(quote_ident(c) for c in cols)
        rows = st.rows(f"SELECT {select} FROM {st.table(table)}{where}{order_by}")
        tables[table] = RawTable(cols, rows)
    job_data = tables["job_data"]
    if job_data is None:
        raise HistoryNotFound(f"{st.label} has no job_data table")
    version = st.user_version()
    stored = version is not None
    if version is None:
        version = history_user_version(job_data.columns)
    return RawHistory(
        int(version or 0),
        job_data,
        tables["experiment_run"],
        st.label,
        last_only,
        as42=st.has_table("structure_data"),
        version_stored=stored,
    )


def fetch_sqlite(settings: Settings, path: str, what: Optional[str] = None, *, last_only: bool = False) -> RawHistory:
    """`fetch` on one history file; NotFound/DataError/Unavailable (a lock held past the
    site's timeout is Unavailable, never a half-read history)."""
    with store.open_file(settings, path, what or os.path.basename(path)) as st:
        try:
            return fetch(st, last_only=last_only)
        except HistoryNotFound as exc:
            raise DataError(exc.message) from None


def table_marker(st: Store) -> str:
    """A cheap change marker of the history tables, for cache keys on PostgreSQL: row count,
    largest id and latest `modified` (Autosubmit updates rows in place and stamps them) of
    job_data and experiment_run; "-" for a missing table."""
    parts = []
    for table, key in (("job_data", "id"), ("experiment_run", "run_id")):
        cols = st.columns(table)
        if cols is None:
            parts.append("-")
            continue
        top = f"MAX({quote_ident(key)})" if key in cols else "NULL"
        stamp = "MAX(modified)" if "modified" in cols else "NULL"
        count, high, modified = st.one(f"SELECT COUNT(*), {top}, {stamp} FROM {st.table(table)}")
        parts.append(f"{count}:{high}:{modified}")
    return "|".join(parts)


def _getter(
    columns: Sequence[str], fields: Sequence[Tuple[str, Any]]
) -> Tuple[Callable[[Tuple[Any, ...]], Tuple[Any, ...]], Tuple[Any, ...]]:
    """(getter, tail): getter(row + tail) gives the model's values in field order."""
    index = {c.lower(): i for i, c in enumerate(columns)}
    tail: List[Any] = []
    positions = []
    for column, default in fields:
        pos = index.get(column.lower())
        if pos is None:
            pos = len(columns) + len(tail)
            tail.append(default)
        positions.append(pos)
    getter = operator.itemgetter(*positions)
    return getter, tuple(tail)


def _swapped(name: str, section: Any, member: Any) -> bool:
    """True for a 3.12-era row: the job name ends with the member column, not the section.

    Job names end in `_<SECTION>` (`a3tb_19930101_fc01_1_SIM`, `a3tb_LOCAL_SETUP`), which
    no member value does, so the suffix identifies the section column row by row.
    """
    if not member or not isinstance(member, str) or not isinstance(name, str):
        return False
    if section and isinstance(section, str) and name.endswith("_" + section):
        return False
    return name.endswith("_" + member)


def _build_rows(table: RawTable) -> Tuple[JobDataRow, ...]:
    columns = [c.lower() for c in table.columns]
    model = [f.lower() for f, _ in _JOB_FIELDS]
    new = tuple.__new__
    cls = JobDataRow
    out: List[JobDataRow] = []
    append = out.append
    if columns == model[: len(columns)]:
        # Files created with Autosubmit's own DDL hold the columns in model order (a
        # prefix of it for older versions): skip the per-row reordering, which is most
        # of the build time on large histories.
        tail = tuple(default for _, default in _JOB_FIELDS[len(columns) :])
        for raw in table.rows:
            section = raw[_SECTION_POS]
            member = raw[_MEMBER_POS]
            if _swapped(raw[_NAME_POS], section, member):
                append(new(cls, (*raw, *tail, member or "", section or "", True)))
            else:
                append(new(cls, (*raw, *tail, section or "", member or "", False)))
        return tuple(out)
    get, tail = _getter(table.columns, _JOB_FIELDS)
    for raw in table.rows:
        values = get(raw + tail) if tail else get(raw)
        section = values[_SECTION_POS]
        member = values[_MEMBER_POS]
        if _swapped(values[_NAME_POS], section, member):
            append(new(cls, values + (member or "", section or "", True)))
        else:
            append(new(cls, values + (section or "", member or "", False)))
    return tuple(out)


def _build_runs(table: Optional[RawTable]) -> Tuple[ExperimentRun, ...]:
    if table is None:
        return ()
    get, tail = _getter(table.columns, _RUN_FIELDS)
    runs = []
    for raw in table.rows:
        values = list(get(raw + tail) if tail else get(raw))
        # Columns that may be NULL in real files (finish while running, modified in
        # upgraded files) are normalised so services can compare and format them.
        for i, (_, default) in enumerate(_RUN_FIELDS):
            if values[i] is None and default is not None:
                values[i] = default
        runs.append(ExperimentRun(*values))
    return tuple(runs)


def build_history(expid: str, raw: RawHistory) -> ExperimentHistory:
    """Storage-independent: turn fetched tables into the models."""
    if raw.job_data is None:
        raise DataError(f"{raw.source} has no job_data table")
    try:
        rows = _build_rows(raw.job_data)
        runs = _build_runs(raw.experiment_run)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{raw.source} has unexpected content: {exc}") from None
    return ExperimentHistory(
        expid=expid,
        user_version=raw.user_version,
        runs=runs,
        rows=rows,
        source=raw.source,
        columns=tuple(raw.job_data.columns),
        last_only=raw.last_only,
        as42=raw.as42,
        version_stored=raw.version_stored,
    )


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while hundreds of thousands of row tuples are
    created: each allocation burst would otherwise trigger full collections that walk
    every row built so far (measured: the build takes 2-3x longer). Rows hold no cycles,
    so nothing is left for the collector when it resumes (and `paused_gc` moves them past
    the young generations, so it does not traverse them either)."""
    with paused_gc():
        yield


@overload
def load_history(
    settings: Settings, expid: str, *, optional: Literal[False] = False, last_only: bool = False
) -> ExperimentHistory: ...


@overload
def load_history(
    settings: Settings, expid: str, *, optional: bool, last_only: bool = False
) -> Optional[ExperimentHistory]: ...


def load_history(
    settings: Settings, expid: str, *, optional: bool = False, last_only: bool = False
) -> Optional[ExperimentHistory]:
    """The experiment's history; HistoryNotFound (a NotFound) when the file is missing,
    or None in that case when `optional`. DataError when unreadable, Unavailable when
    locked beyond `settings.sqlite_timeout`.

    `last_only=True` reads only the `last = 1` rows (plus every run): enough for
    `last_rows`, `children_map` and the per-job times, and much cheaper on long histories.
    """
    if backend.is_postgres(settings):  # docs/data.md A.12: the tables of schema <expid>
        return _load_postgres(settings, expid, optional=optional, last_only=last_only)
    path = paths.job_data_db(settings, expid)

    def parse(p: str) -> ExperimentHistory:
        with _no_gc():
            return build_history(expid, fetch_sqlite(settings, p, last_only=last_only))

    try:
        return cache.cached_file("job_data", path, parse, expid, last_only)
    except (FileNotFoundError, NotFound):
        if optional:
            return None
        raise HistoryNotFound(f"job_data_{expid}.db not found") from None


def _load_postgres(settings: Settings, expid: str, *, optional: bool, last_only: bool) -> Optional[ExperimentHistory]:
    """The history of a PostgreSQL experiment, cached while its tables do not change."""
    with store.open_schema(settings, expid, f"job_data_{expid}.db") as st:
        marker = table_marker(st)
        if marker.startswith("-|"):
            if optional:
                return None
            raise HistoryNotFound(f"job_data_{expid}.db not found")

        def parse() -> ExperimentHistory:
            with _no_gc():
                return build_history(expid, fetch(st, last_only=last_only))

        return cache.cached("pg_job_data", (settings.db_connection_url, expid, marker, last_only), parse)


def _fetch_run_edges(st: Store, run_id: int) -> Optional[Tuple[Tuple[str, str], ...]]:
    if not st.has_table("structure_data"):
        return None
    rows = st.rows(
        f"SELECT e_from, e_to FROM {st.table('structure_data')} WHERE run_id = :run_id ORDER BY e_from, e_to",
        {"run_id": run_id},
    )
    return tuple((str(a), str(b)) for a, b in rows)


def run_edges(settings: Settings, expid: str, run_id: int) -> Optional[Tuple[Tuple[str, str], ...]]:
    """The dependency edges (parent, child) as they were in one run: the `structure_data`
    table Autosubmit 4.2 keeps in the history (docs/data.md A.13), sorted. None when the
    history has no such table (Autosubmit before 4.2) or does not exist."""
    if backend.is_postgres(settings):
        with store.open_schema(settings, expid, f"job_data_{expid}.db") as st:
            return _fetch_run_edges(st, run_id)
    path = paths.job_data_db(settings, expid)

    def parse(p: str) -> Optional[Tuple[Tuple[str, str], ...]]:
        with store.open_file(settings, p, os.path.basename(p)) as st:
            return _fetch_run_edges(st, run_id)

    try:
        return cache.cached_file("run_edges", path, parse, expid, run_id)
    except (FileNotFoundError, NotFound):
        return None


def children_map(settings: Settings, expid: str) -> Dict[str, Tuple[str, ...]]:
    """job name -> child names from the `children` column of `last = 1` rows (v17+).

    A fallback source of dependency edges (docs/data.md A.5); empty when the DB is missing
    or older than v17.
    """
    history = load_history(settings, expid, optional=True, last_only=True)
    if history is None or "children" not in {c.lower() for c in history.columns}:
        return {}
    result: Dict[str, Tuple[str, ...]] = {}
    for row in history.rows:
        if row.last == 1 and row.job_name not in result:
            result[row.job_name] = row.children_names
    return result
