"""Per-experiment tables of a PostgreSQL site: the schema named after the expid (data.md A.12).

Autosubmit 4.1.16+ with `[database] backend = postgres` keeps, in schema `<expid>` of the
database at `connection_url`: `job_pkl(expid, pkl BYTEA, modified TEXT)` (the pickle bytes;
`modified` is `str(datetime.now())` or, after a migration, `%Y-%m-%d %H:%M:%S%z`),
`experiment_run` and `job_data` (the history DB of A.4), `experiment_structure` (A.5), the
wrapper tables (`job_package`/`wrapper_job_package` or the 4.1.17 `wrappers_*` tables, A.7)
and `user_metrics`. Column names are those of the SQLite versions, so the SQLite readers'
row handling applies unchanged; this module only fetches rows, read-only, with bound
parameters and quoted identifiers (the expid went through `paths.check_expid`).

Every function raises NotFound when the schema or table is missing (as a missing SQLite
file would), Unavailable when the server cannot be reached, and caches nothing itself: the
callers' caches key on `modified`/row counts where they need to.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound, Unavailable
from autosubmit_api.models import RawHistory, RawTable
from autosubmit_api.readers import backend, paths

log = logging.getLogger(__name__)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(expid: str, table: str) -> str:
    return f"{_ident(paths.check_expid(expid))}.{_ident(table)}"


def _unavailable(exc: Exception) -> Unavailable:
    log.warning("PostgreSQL read failed: %s", exc)
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return Unavailable(f"The experiment database cannot be read: {reason}")


def parse_modified(value: Optional[str]) -> int:
    """`job_pkl.modified` as epoch seconds (naive values are local time, as Autosubmit wrote
    them with `datetime.now()`); 0 when absent or unreadable."""
    if not value:
        return 0
    try:
        return int(datetime.fromisoformat(str(value).strip()).timestamp())
    except ValueError:
        return 0


def table_columns(settings: Settings, expid: str, table: str) -> Optional[List[str]]:
    """Column names of `<expid>.<table>` in table order, or None when it does not exist."""
    try:
        with backend.central_engine(settings).connect() as conn:
            rows = conn.execute(text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"),
                {"s": paths.check_expid(expid), "t": table}).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    return [r[0] for r in rows] or None


def has_table(settings: Settings, expid: str, table: str) -> bool:
    return table_columns(settings, expid, table) is not None


def job_pkl(settings: Settings, expid: str) -> Tuple[bytes, int]:
    """(pickle bytes, modified as epoch seconds) from `<expid>.job_pkl`; NotFound if none."""
    name = f"job_list_{expid}.pkl"
    try:
        with backend.central_engine(settings).connect() as conn:
            if not _exists(conn, expid, "job_pkl"):
                raise NotFound(f"{name} not found")
            row = conn.execute(text(f"SELECT pkl, modified FROM {_table(expid, 'job_pkl')} "
                                    "WHERE expid = :e"), {"e": expid}).first()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    if row is None or row[0] is None:
        raise NotFound(f"{name} not found")
    return bytes(row[0]), parse_modified(row[1])


def job_pkl_modified(settings: Settings, expid: str) -> Optional[int]:
    """Only the `modified` time of the pickle (epoch seconds), None when there is none."""
    try:
        with backend.central_engine(settings).connect() as conn:
            if not _exists(conn, expid, "job_pkl"):
                return None
            value = conn.execute(text(f"SELECT modified FROM {_table(expid, 'job_pkl')} "
                                      "WHERE expid = :e"), {"e": expid}).scalar()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    if value is None:
        return None
    return parse_modified(value) or None


def _exists(conn, expid: str, table: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:t)"), {"t": _table(expid, table)}).scalar() is not None


def fetch_rows(settings: Settings, expid: str, table: str, columns: Optional[Sequence[str]] = None,
               *, where: str = "", params: Optional[Dict[str, Any]] = None,
               order_by: str = "") -> List[Dict[str, Any]]:
    """Rows of `<expid>.<table>` as dicts (all columns, or `columns` that exist; missing
    columns read as None). `where`/`order_by` are SQL fragments written by our own callers
    (never from a request) with bound `params`. NotFound when the table is missing."""
    present = table_columns(settings, expid, table)
    if present is None:
        raise NotFound(f"{table} of {expid} not found")
    wanted = list(columns) if columns is not None else present
    selected = [c for c in wanted if c in present]
    if not selected:
        return [dict.fromkeys(wanted) for _ in range(count_rows(settings, expid, table))]
    sql = f"SELECT {', '.join(_ident(c) for c in selected)} FROM {_table(expid, table)}"
    if where:
        sql += f" WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    try:
        with backend.central_engine(settings).connect() as conn:
            rows = conn.execute(text(sql), params or {}).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    out = []
    for row in rows:
        record = dict.fromkeys(wanted)
        record.update(zip(selected, row))
        out.append(record)
    return out


def count_rows(settings: Settings, expid: str, table: str) -> int:
    try:
        with backend.central_engine(settings).connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {_table(expid, table)}")).scalar())
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None


def structure_edges(settings: Settings, expid: str) -> List[Tuple[str, str]]:
    """(e_from, e_to) rows of `<expid>.experiment_structure`; NotFound when missing."""
    rows = fetch_rows(settings, expid, "experiment_structure", ["e_from", "e_to"])
    return [(r["e_from"], r["e_to"]) for r in rows]


def table_version(settings: Settings, expid: str) -> str:
    """A cheap change marker of the experiment's history tables, for cache keys: row count,
    largest id and latest `modified` (Autosubmit updates rows in place and stamps them) of
    job_data and experiment_run; "-" for a missing table."""
    parts = []
    try:
        with backend.central_engine(settings).connect() as conn:
            for table, key in (("job_data", "id"), ("experiment_run", "run_id")):
                if not _exists(conn, expid, table):
                    parts.append("-")
                    continue
                cols = {r[0] for r in conn.execute(text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = :t"), {"s": expid, "t": table})}
                top = f"MAX({_ident(key)})" if key in cols else "NULL"
                stamp = "MAX(modified)" if "modified" in cols else "NULL"
                count, high, modified = conn.execute(text(
                    f"SELECT COUNT(*), {top}, {stamp} FROM {_table(expid, table)}")).first()
                parts.append(f"{count}:{high}:{modified}")
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    return "|".join(parts)


# --- the loaders the SQLite readers dispatch to on a PostgreSQL site ------------------------


def _pkl_identity(settings: Settings, expid: str) -> Optional[Tuple[str, int]]:
    """(modified, byte length) of the job_pkl row without fetching the bytes; None if none."""
    try:
        with backend.central_engine(settings).connect() as conn:
            if not _exists(conn, expid, "job_pkl"):
                return None
            row = conn.execute(text(f"SELECT modified, octet_length(pkl) FROM {_table(expid, 'job_pkl')} "
                                    "WHERE expid = :e"), {"e": expid}).first()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    if row is None or row[1] is None:
        return None
    return (str(row[0]), int(row[1]))


def load_job_list(settings: Settings, expid: str):
    """The JobList held by `<expid>.job_pkl`, parsed once per (modified, size) of the row.

    NotFound "job_list_<expid>.pkl not found" without a row, as for a missing file.
    """
    from autosubmit_api.readers import cache, job_list

    identity = _pkl_identity(settings, expid)
    if identity is None:
        raise NotFound(f"job_list_{expid}.pkl not found")

    def parse():
        data, mtime = job_pkl(settings, expid)
        return job_list.parse_job_list(data, expid, mtime=mtime)

    return cache.cached("pg_job_list", (settings.db_connection_url, expid) + identity, parse)


def history_user_version(columns: Sequence[str]) -> int:
    """PostgreSQL has no `PRAGMA user_version`: the schema version its columns correspond to
    (data.md A.4; Autosubmit writes PostgreSQL from 4.1.16 on, so 19 or 21 in practice)."""
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


def fetch_history(settings: Settings, expid: str, *, last_only: bool = False):
    """`job_data` and `experiment_run` of the schema as a models.RawHistory."""
    from autosubmit_api.readers.job_data import HistoryNotFound

    tables = {}
    try:
        with backend.central_engine(settings).connect() as conn:
            for table, order in (("job_data", "id"), ("experiment_run", "run_id")):
                if not _exists(conn, expid, table):
                    tables[table] = None
                    continue
                cols = tuple(r[0] for r in conn.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
                    "AND table_name = :t ORDER BY ordinal_position"), {"s": expid, "t": table}))
                sql = f"SELECT {', '.join(_ident(c) for c in cols)} FROM {_table(expid, table)}"
                if last_only and table == "job_data" and "last" in cols:
                    sql += ' WHERE "last" = 1'
                if order in cols:
                    sql += f" ORDER BY {_ident(order)}"
                tables[table] = RawTable(cols, [tuple(r) for r in conn.execute(text(sql))])
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    if tables["job_data"] is None:
        raise HistoryNotFound(f"job_data_{expid}.db not found")
    version = history_user_version(tables["job_data"].columns)
    return RawHistory(version, tables["job_data"], tables["experiment_run"], f"job_data_{expid}.db", last_only)


def load_history(settings: Settings, expid: str, *, optional: bool = False, last_only: bool = False):
    """The history of a PostgreSQL experiment, cached while its tables do not change."""
    from autosubmit_api.readers import cache, job_data

    paths.check_expid(expid)
    marker = table_version(settings, expid)
    if marker.startswith("-|"):
        if optional:
            return None
        raise job_data.HistoryNotFound(f"job_data_{expid}.db not found")
    return cache.cached("pg_job_data", (settings.db_connection_url, expid, marker, last_only),
                        lambda: job_data.build_history(expid, fetch_history(settings, expid,
                                                                            last_only=last_only)))


PACKAGE_TABLES = ("job_package", "wrappers_jobs", "wrapper_job_package", "preview_wrappers_jobs")


def fetch_package_rows(settings: Settings, expid: str) -> Tuple[Optional[str], List[Tuple[str, str]]]:
    """(table, [(package_name, job_name)]) of the first non-empty package table, in the
    readers/packages order; rows in insertion (physical) order, as SQLite's rowid order."""
    try:
        with backend.central_engine(settings).connect() as conn:
            for table in PACKAGE_TABLES:
                if not _exists(conn, expid, table):
                    continue
                rows = conn.execute(text(f"SELECT package_name, job_name FROM {_table(expid, table)} "
                                         "ORDER BY ctid")).all()
                if rows:
                    return table, [tuple(r) for r in rows]
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    return None, []


def load_packages(settings: Settings, expid: str):
    from autosubmit_api.readers import cache, packages

    paths.check_expid(expid)
    table, rows = fetch_package_rows(settings, expid)
    return cache.cached("pg_packages", (settings.db_connection_url, expid, table, tuple(rows)),
                        lambda: packages.build_packages(table, rows))


def fetch_user_metrics(settings: Settings, expid: str, columns: Sequence[str],
                       run_id: Optional[int] = None) -> List[Tuple[Any, ...]]:
    """Rows of `<expid>.user_metrics` as tuples of `columns` (None for a column the table
    lacks), of every run or of `run_id` only, ordered by run then `user_metric_id` as the
    SQLite reader orders them (rows without a run first, as SQLite sorts NULL). NotFound
    when the schema or the table is missing."""
    paths.check_expid(expid)
    try:
        with backend.central_engine(settings).connect() as conn:
            if not _exists(conn, expid, "user_metrics"):
                raise NotFound(f"user_metrics of {expid} not found")
            present = {r[0] for r in conn.execute(text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = :s AND table_name = :t"), {"s": expid, "t": "user_metrics"})}
            select = ", ".join(_ident(c) if c in present else "NULL" for c in columns)
            sql = f"SELECT {select} FROM {_table(expid, 'user_metrics')}"
            params: Dict[str, Any] = {}
            if run_id is not None:
                if "run_id" not in present:
                    return []
                sql += " WHERE run_id = :r"
                params["r"] = int(run_id)
            order = [f"{_ident(c)} NULLS FIRST" for c in ("run_id", "user_metric_id") if c in present]
            if order:
                sql += f" ORDER BY {', '.join(order)}"
            rows = conn.execute(text(sql), params).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    return [tuple(r) for r in rows]


def structure_marker(settings: Settings, expid: str) -> Optional[str]:
    """A digest of `<expid>.experiment_structure` (row count + md5 of the sorted edges),
    computed by the server so the edges are fetched only when they changed; None when
    the table does not exist."""
    try:
        with backend.central_engine(settings).connect() as conn:
            if not _exists(conn, expid, "experiment_structure"):
                return None
            count, digest = conn.execute(text(
                "SELECT COUNT(*), md5(COALESCE(string_agg(e_from || chr(1) || e_to, chr(2) "
                f"ORDER BY e_from, e_to), '')) FROM {_table(expid, 'experiment_structure')}")).first()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable(exc) from None
    return f"{count}:{digest}"
