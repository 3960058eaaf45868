"""Reads of the central databases: `experiment`, `details`, `db_version` and `experiment_status`.

SQLite (the reference's layout, docs/data.md A.2 and A.3): `experiment`, `details` and
`db_version` in `<[database] path>/<[database] filename>` (autosubmit.db), and
`experiment_status` in `<[database] path>/as_times.db`. PostgreSQL (A.12): the same tables
in the `public` schema of `[database] connection_url`.

Everything goes through SQLAlchemy Core with bound parameters (docs/decisions.md Q20), on the
read-only engines of `readers.backend`; nothing here writes (writes live in
`readers.central_store`). The SQL is portable: `ILIKE` (rendered as `lower() LIKE lower()`
on SQLite, whose LIKE is ASCII case-insensitive anyway), explicit NULL ordering and a
binary collation on PostgreSQL, so both backends sort as the reference's SQLite does.

`details` may be missing, or written by another Autosubmit with other columns: it is read
by column name and absent columns read as NULL. A missing `experiment_status` table (or
as_times.db) means every experiment is NOT RUNNING.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    Select,
    bindparam,
    column,
    false,
    func,
    inspect,
    not_,
    null,
    nulls_first,
    nulls_last,
    or_,
    select,
    table,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import Unavailable
from autosubmit_api.models import ExperimentRow
from autosubmit_api.readers import backend, cache

log = logging.getLogger(__name__)

RUNNING = "RUNNING"
NOT_RUNNING = "NOT RUNNING"
DETAILS_FIELDS = ("user", "created", "model", "branch", "hpc")
# order_by value (docs/api.md 5.1) -> column it sorts on
ORDER_COLUMNS = {"expid": "name", "created": "created", "description": "description"}
EXP_TYPES = ("test", "operational", "experiment")

_experiment = table("experiment", column("id"), column("name"), column("description"), column("autosubmit_version"))
_details = table("details", column("exp_id"), *(column(name) for name in DETAILS_FIELDS))
# WHERE conditions, joined by AND
Conditions = List[ColumnElement[bool]]
_status = table("experiment_status", column("exp_id"), column("name"), column("status"), column("modified"))
_db_version = table("db_version", column("version"))


def _unavailable(what: str, exc: Exception) -> Unavailable:
    # The driver's text goes to the log; the client gets a short reason without server paths.
    log.warning("%s: %s", what, exc)
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    if "/" in reason or "\\" in reason:
        reason = type(orig).__name__
    return Unavailable(f"{what}: {reason}")


def _central(settings: Settings) -> Engine:
    if not backend.is_postgres(settings) and not os.path.isfile(settings.db_path):
        raise Unavailable(f"The central database {settings.db_file} does not exist")
    return backend.central_engine(settings)


def _columns(conn: Connection, name: str) -> Optional[Set[str]]:
    """Column names of a table, or None when the table does not exist."""
    inspector = inspect(conn)
    if not inspector.has_table(name):
        return None
    return {col["name"] for col in inspector.get_columns(name)}


def _text_order(conn: Connection, col: ColumnElement[Any]) -> ColumnElement[Any]:
    # PostgreSQL sorts text by locale; the reference (SQLite) compares bytes.
    return col.collate("C") if conn.dialect.name == "postgresql" else col


class _Shape:
    """Which optional tables and columns this central database has."""

    def __init__(self, conn: Connection):
        experiment_cols = _columns(conn, "experiment")
        if experiment_cols is None:
            raise Unavailable("The central database has no experiment table")
        self.version = _experiment.c.autosubmit_version if "autosubmit_version" in experiment_cols else null()
        details_cols = _columns(conn, "details")
        self.has_details = details_cols is not None and "exp_id" in details_cols
        # name -> column, or None when this details table lacks it
        self.details = {
            name: (_details.c[name] if details_cols is not None and self.has_details and name in details_cols else None)
            for name in DETAILS_FIELDS
        }

    def detail(self, name: str) -> ColumnElement[Any]:
        col = self.details[name]
        return null() if col is None else col

    def select(self) -> Select[Any]:
        query = select(
            _experiment.c.id,
            _experiment.c.name,
            _experiment.c.description,
            self.version.label("autosubmit_version"),
            *(self.detail(name).label(name) for name in DETAILS_FIELDS),
        )
        source: FromClause = _experiment
        if self.has_details:
            source = _experiment.outerjoin(_details, _details.c.exp_id == _experiment.c.id)
        return query.select_from(source)


_SHAPES_MAX = 16
_shapes: Dict[Tuple[str, int, int], "_Shape"] = {}
_shapes_counter = cache_registry.register(
    "readers.central_db.shapes", bound=_SHAPES_MAX + 1, entries=lambda: len(_shapes), clear=_shapes.clear
)


def _shape(settings: Settings, conn: Connection) -> "_Shape":
    """The table layout, inspected once per version of the SQLite file (every time on PostgreSQL)."""
    if backend.is_postgres(settings):
        return _Shape(conn)
    key = cache.file_key(settings.db_path)
    found = _shapes.get(key) if key is not None else None
    if found is None:
        _shapes_counter.misses += 1
        found = _Shape(conn)
        if key is not None:
            if len(_shapes) > _SHAPES_MAX:
                _shapes.clear()
            _shapes[key] = found
    else:
        _shapes_counter.hits += 1
    return found


def _row(record: Row[Any], statuses: Dict[int, str]) -> ExperimentRow:
    return ExperimentRow(
        id=record.id,
        name=record.name,
        description=record.description,
        autosubmit_version=record.autosubmit_version,
        user=record.user,
        created=record.created,
        model=record.model,
        branch=record.branch,
        hpc=record.hpc,
        status=statuses.get(record.id),
    )


def statuses(settings: Settings) -> Dict[int, str]:
    """experiment_status as {exp_id: status}; empty when as_times.db or the table is missing."""
    if not backend.is_postgres(settings) and not os.path.isfile(settings.as_times_db_path):
        return {}
    try:
        with backend.status_engine(settings).connect() as conn:
            present = _columns(conn, "experiment_status")
            if present is None or not {"exp_id", "status"} <= present:
                return {}
            rows = conn.execute(select(_status.c.exp_id, _status.c.status)).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The experiment status database cannot be read", exc) from None
    return {row.exp_id: row.status for row in rows}


def _like_any(shape: _Shape, text: str) -> Conditions:
    """The reference's text filter: name prefix, or description / user substring (Q41: wildcards kept)."""
    conditions = [
        _experiment.c.name.ilike(text + "%"),
        _experiment.c.description.ilike("%" + text + "%"),
    ]
    if shape.details["user"] is not None:
        conditions.append(shape.details["user"].ilike("%" + text + "%"))
    return [or_(*conditions)]


def _type_filter(exp_type: Optional[str], *, operational: bool) -> Conditions:
    name = _experiment.c.name
    if exp_type == "test":
        return [name.ilike("t%")]
    if exp_type == "operational" and operational:
        return [name.ilike("o%")]
    if exp_type == "experiment":
        excluded: Conditions = [not_(name.ilike("t%"))]
        if operational:
            excluded.append(not_(name.ilike("o%")))
        return excluded
    return []


def _owner_filter(shape: _Shape, owner: str) -> Conditions:
    user = shape.details["user"]
    if user is None:
        return [false()]  # no details table: nobody owns anything
    return [user == owner]


def _hpc_filter(shape: _Shape, hpc: str) -> Conditions:
    """The current GUI's HPC filter: `details.hpc` matched case-insensitively, `*` any run of
    characters, a leading `!` negates (experiments without a known HPC then match); `%`, `_`
    and `\\` are literal."""
    col = shape.details["hpc"]
    negate = hpc.startswith("!")
    pattern = hpc[1:] if negate else hpc
    pattern = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    if col is None:
        return [] if negate else [false()]
    matches = col.ilike(pattern, escape="\\")
    return [or_(col.is_(None), not_(matches))] if negate else [matches]


def _running_filter(status_map: Dict[int, str]) -> Conditions:
    ids = sorted(exp_id for exp_id, status in status_map.items() if status == RUNNING)
    return [_experiment.c.id.in_(bindparam("running_ids", ids, expanding=True))]


# The total a query builder counts (int), or None for one that does not count.
Total = TypeVar("Total", int, None)
# (connection, table layout, statuses) -> (the rows of the page, the total)
Build = Callable[[Connection, "_Shape", Dict[int, str]], Tuple[Sequence[Row[Any]], Total]]


def _run(settings: Settings, build: Build[Total]) -> Tuple[List[ExperimentRow], Total]:
    status_map = statuses(settings)
    try:
        with _central(settings).connect() as conn:
            shape = _shape(settings, conn)
            rows, total = build(conn, shape, status_map)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be read", exc) from None
    return [_row(record, status_map) for record in rows], total


def list_experiments(
    settings: Settings,
    *,
    query: Optional[str] = None,
    owner: Optional[str] = None,
    exp_type: Optional[str] = None,
    autosubmit_version: Optional[str] = None,
    hpc: Optional[str] = None,
    only_active: bool = False,
    order_by: Optional[str] = None,
    order_desc: bool = False,
    limit: Optional[int] = None,
    offset: int = 0,
) -> Tuple[List[ExperimentRow], int]:
    """The v4 list (docs/api.md 5.1, docs/data.md B.1.1): one page of rows and the filtered total.

    `order_by` outside ORDER_COLUMNS and `exp_type` outside EXP_TYPES apply nothing, as in
    the reference. Without an order (and between equal keys) rows come by id, which is
    the reference's SQLite natural order.
    """

    def build(conn: Connection, shape: _Shape, status_map: Dict[int, str]) -> Tuple[Sequence[Row[Any]], int]:
        conditions: Conditions = []
        if query:
            conditions += _like_any(shape, query)
        if only_active:
            conditions += _running_filter(status_map)
        if owner:
            conditions += _owner_filter(shape, owner)
        conditions += _type_filter(exp_type, operational=True)
        if autosubmit_version:
            conditions.append(shape.version == autosubmit_version)
        if hpc:
            conditions += _hpc_filter(shape, hpc)
        base = shape.select().where(*conditions)
        total: int = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        ordering: List[ColumnElement[Any]] = []
        if order_by in ORDER_COLUMNS:
            name = ORDER_COLUMNS[order_by]
            col = shape.details["created"] if name == "created" else _experiment.c[name]
            if col is not None:
                key = _text_order(conn, col)
                # SQLite puts NULLs first ascending and last descending; say so for PostgreSQL.
                ordering.append(nulls_last(key.desc()) if order_desc else nulls_first(key.asc()))
        ordering.append(_experiment.c.id.asc())
        page = base.order_by(*ordering)
        if limit is not None:
            page = page.limit(limit).offset(offset)
        return conn.execute(page).all(), total

    return _run(settings, build)


def search(
    settings: Settings,
    *,
    text: Optional[str] = None,
    owner: Optional[str] = None,
    exp_type: Optional[str] = None,
    only_active: bool = False,
) -> List[ExperimentRow]:
    """The v3 search and owner search (docs/api.md 5.2, 5.3, docs/data.md B.1.2), ordered by name DESC.

    v3 knows only the `test` and `experiment` types; any other `exp_type` filters nothing.
    """

    def build(conn: Connection, shape: _Shape, status_map: Dict[int, str]) -> Tuple[Sequence[Row[Any]], None]:
        conditions: Conditions = []
        if text is not None:
            conditions += _like_any(shape, text)
        if owner is not None:
            conditions += _owner_filter(shape, owner)
        if only_active:
            conditions += _running_filter(status_map)
        conditions += _type_filter(exp_type, operational=False)
        ordered = (
            shape.select()
            .where(*conditions)
            .order_by(nulls_last(_text_order(conn, _experiment.c.name).desc()), _experiment.c.id.asc())
        )
        return conn.execute(ordered).all(), None

    rows, _ = _run(settings, build)
    return rows


def running(settings: Settings) -> List[ExperimentRow]:
    """Every experiment whose experiment_status is RUNNING (docs/api.md 5.4), ordered by name DESC."""
    return search(settings, only_active=True)


def get_experiment(settings: Settings, expid: str) -> Optional[ExperimentRow]:
    """The experiment named `expid` (with its details and status), or None."""

    def build(conn: Connection, shape: _Shape, status_map: Dict[int, str]) -> Tuple[Sequence[Row[Any]], None]:
        query = shape.select().where(_experiment.c.name == expid).order_by(_experiment.c.id).limit(1)
        return conn.execute(query).all(), None

    rows, _ = _run(settings, build)
    return rows[0] if rows else None


# The names in each recent version of an SQLite central database: an experiment view asks
# whether its experiment exists on every request, and for a listed one the answer is a stat,
# not a query. A name missing from the set is asked of the database itself, so an experiment
# created within the file's timestamp resolution of the previous write is never missed.
_NAMES_MAX = 4
_names: Dict[Tuple[Any, ...], FrozenSet[str]] = {}
_names_lock = threading.Lock()
_names_counter = cache_registry.register(
    "readers.central_db.names", bound=_NAMES_MAX, entries=lambda: len(_names), clear=_names.clear
)


def has_experiment(settings: Settings, expid: str) -> bool:
    """Whether the central database lists `expid`; Unavailable when it cannot be read."""
    key = None if backend.is_postgres(settings) else cache.sqlite_key(settings.db_path)
    if key is not None:
        found = _names.get(key)
        if found is not None and expid in found:
            _names_counter.hits += 1
            return True
        _names_counter.misses += 1
    try:
        with _central(settings).connect() as conn:
            _shape(settings, conn)  # Unavailable without an experiment table
            if key is not None and key not in _names:
                names = frozenset(row.name for row in conn.execute(select(_experiment.c.name)) if row.name is not None)
                with _names_lock:
                    if len(_names) >= _NAMES_MAX:
                        _names.clear()
                    _names[key] = names
                return expid in names  # read just now: no need to ask again
            query = select(_experiment.c.id).where(_experiment.c.name == expid).limit(1)
            return conn.execute(query).first() is not None
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be read", exc) from None


def lacks_experiment(settings: Settings, expid: str) -> bool:
    """True only when the central database answers and has no such experiment.

    When it cannot be read (missing, locked, server down), the experiment's own files
    decide, so the experiment views keep answering through a central-database outage.
    """
    try:
        return not has_experiment(settings, expid)
    except Unavailable as exc:
        log.info("central database not consulted for %s: %s", expid, exc.message)
        return False


def experiment_names(settings: Settings, expids: Sequence[str]) -> Dict[str, int]:
    """{name: id} for the given names that exist (one query, for callers with many expids)."""
    if not expids:
        return {}
    try:
        with _central(settings).connect() as conn:
            rows = conn.execute(
                select(_experiment.c.name, _experiment.c.id).where(
                    _experiment.c.name.in_(bindparam("names", list(expids), expanding=True))
                )
            ).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be read", exc) from None
    return {row.name: row.id for row in rows}


def db_version(settings: Settings) -> Optional[int]:
    """The `db_version` value, or None when the table (Autosubmit 3.0 beta and older) is missing."""
    try:
        with _central(settings).connect() as conn:
            if _columns(conn, "db_version") is None:
                return None
            return conn.execute(select(_db_version.c.version).limit(1)).scalar()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be read", exc) from None


def ping(settings: Settings) -> Tuple[bool, str]:
    """Whether the central database answers a query, with a one-line message for the health route."""
    try:
        with _central(settings).connect() as conn:
            if _columns(conn, "experiment") is None:
                return False, "The central database has no experiment table"
            count = conn.execute(select(func.count()).select_from(_experiment)).scalar_one()
    except Unavailable as exc:
        return False, exc.message
    except (DBAPIError, SQLAlchemyError) as exc:
        return False, _unavailable("The central database cannot be read", exc).message
    return True, f"{count} experiments"
