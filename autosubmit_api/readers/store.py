"""Rows of an experiment's tables, whichever database holds them: one SQLite file
(`db/job_list.db`, `job_data_<expid>.db`, `structure_<expid>.db`, `job_packages_<expid>.db`,
`metrics_<expid>.db`) or one PostgreSQL schema (named after the expid, docs/storage.md).

Readers write their SQL once, with `:name` parameters and `store.table(name)` for the table,
and get plain row tuples back; SQLite and PostgreSQL differ only here, in how rows are
fetched. Both are read-only and never wait long:

* SQLite: `readers.sqlite.connect_ro` (a `mode=ro` URI, `query_only`, the site's busy
  timeout): a missing file is NotFound, a lock held past the timeout Unavailable, anything
  else unreadable DataError.
* PostgreSQL: a pooled SQLAlchemy Core connection of `readers.backend` (bounded pool, short
  `statement_timeout`), every transaction `SET TRANSACTION READ ONLY` and rolled back.
  A server that cannot be reached or times out is Unavailable; a query the schema cannot
  answer (a table or column that is not there) DataError.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import Any, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError, TimeoutError as PoolTimeout

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, Unavailable
from autosubmit_api.readers import backend, paths
from autosubmit_api.readers.sqlite import connect_ro, quote_ident

log = logging.getLogger(__name__)


class Store:
    """One database's tables, read-only, for the length of one `with` block."""

    kind = ""
    label = ""

    def table(self, name: str) -> str:
        """The quoted, qualified name of a table, for SQL text."""
        raise NotImplementedError

    def rows(self, sql: str, params: Optional[Mapping[str, Any]] = None) -> List[Tuple[Any, ...]]:
        raise NotImplementedError

    def tables(self) -> FrozenSet[str]:
        raise NotImplementedError

    def columns(self, name: str) -> Optional[List[str]]:
        """Column names of a table in table order; None when the table does not exist."""
        raise NotImplementedError

    def user_version(self) -> Optional[int]:
        """SQLite's `PRAGMA user_version`; None on PostgreSQL (no such thing)."""
        return None

    # Physical row order (insertion order until rows are updated), for tables whose order
    # matters and that have no key to sort by.
    physical_order = ""

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def first(self, sql: str, params: Optional[Mapping[str, Any]] = None) -> Optional[Tuple[Any, ...]]:
        found = self.rows(sql, params)
        return found[0] if found else None

    def one(self, sql: str, params: Optional[Mapping[str, Any]] = None) -> Tuple[Any, ...]:
        """The row of a query that always answers one (aggregates without GROUP BY, a SELECT
        without FROM)."""
        return self.rows(sql, params)[0]

    def select_sql(self, table: str, wanted: Sequence[str], *, where: str = "", order_by: str = "") -> str:
        """SELECT text of `wanted` columns of `table` (NULL for a column the table lacks).
        `where` and `order_by` are SQL written by our own readers, never from a request."""
        present = set(self.columns(table) or ())
        select = ", ".join(quote_ident(c) if c in present else "NULL" for c in wanted)
        sql = f"SELECT {select} FROM {self.table(table)}"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return sql

    def select(
        self,
        table: str,
        wanted: Sequence[str],
        *,
        where: str = "",
        order_by: str = "",
        params: Optional[Mapping[str, Any]] = None,
    ) -> List[Tuple[Any, ...]]:
        """Rows of `select_sql`."""
        return self.rows(self.select_sql(table, wanted, where=where, order_by=order_by), params)


class SqliteStore(Store):
    kind = "sqlite"
    physical_order = "rowid"

    def __init__(self, conn: sqlite3.Connection, label: str):
        self.conn = conn
        self.label = label
        self._tables: Optional[FrozenSet[str]] = None
        self._columns: Dict[str, Optional[List[str]]] = {}

    def table(self, name: str) -> str:
        return quote_ident(name)

    def rows(self, sql: str, params: Optional[Mapping[str, Any]] = None) -> List[Tuple[Any, ...]]:
        return self.conn.execute(sql, dict(params or {})).fetchall()

    def tables(self) -> FrozenSet[str]:
        if self._tables is None:
            self._tables = frozenset(
                r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            )
        return self._tables

    def columns(self, name: str) -> Optional[List[str]]:
        if name not in self._columns:
            self._columns[name] = (
                [r[1] for r in self.conn.execute(f"PRAGMA table_info({quote_ident(name)})")]
                if name in self.tables()
                else None
            )
        return self._columns[name]

    def user_version(self) -> Optional[int]:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0] or 0)


class PostgresStore(Store):
    kind = "postgres"
    physical_order = "ctid"

    def __init__(self, conn: Connection, schema: str, label: str):
        self.conn = conn
        self.schema = schema
        self.label = label
        self._columns: Optional[Dict[str, List[str]]] = None

    def table(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def rows(self, sql: str, params: Optional[Mapping[str, Any]] = None) -> List[Tuple[Any, ...]]:
        return [tuple(row) for row in self.conn.execute(text(sql), dict(params or {}))]

    def _all_columns(self) -> Dict[str, List[str]]:
        # One query answers every table and column question of the block.
        if self._columns is None:
            found: Dict[str, List[str]] = {}
            # pg_catalog rather than information_schema: the same answer, a fraction of the cost.
            for table, column in self.rows(
                "SELECT c.relname, a.attname FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON a.attrelid = c.oid "
                "JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid "
                "WHERE n.nspname = :s AND c.relkind IN ('r', 'v', 'p', 'm', 'f') "
                "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
                {"s": self.schema},
            ):
                found.setdefault(table, []).append(column)
            self._columns = found
        return self._columns

    def tables(self) -> FrozenSet[str]:
        return frozenset(self._all_columns())

    def columns(self, name: str) -> Optional[List[str]]:
        return self._all_columns().get(name)


def open_file(settings: Settings, path: str, what: Optional[str] = None) -> "contextlib.AbstractContextManager[Store]":
    """A read-only store over one SQLite file (NotFound when it does not exist; resolved
    inside the site's roots by readers/sqlite.connect_ro, through readers/confined.py)."""
    return _sqlite(settings, path, what)


@contextlib.contextmanager
def _sqlite(settings: Settings, path: str, what: Optional[str]) -> Iterator[Store]:
    with connect_ro(settings, path, what=what) as conn:
        yield SqliteStore(conn, what or path.rsplit("/", 1)[-1])


def _pg_error(exc: Exception, label: str) -> Exception:
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).splitlines() or [type(orig).__name__])[0]
    log.warning("PostgreSQL read of %s failed: %s", label, reason)
    if isinstance(exc, (OperationalError, PoolTimeout)) or not isinstance(exc, DBAPIError):
        return Unavailable(f"The experiment database cannot be read: {reason}")
    if "statement timeout" in reason or "canceling statement" in reason:
        return Unavailable(f"The experiment database cannot be read: {reason}")
    return DataError(f"{label} cannot be read: {reason}")


@contextlib.contextmanager
def open_schema(settings: Settings, schema: str, label: Optional[str] = None) -> Iterator[Store]:
    """A read-only store over the PostgreSQL schema `schema` (an expid, or `public`)."""
    if schema != "public":
        paths.check_expid(schema)
    name = label or f"the tables of {schema}"
    try:
        with backend.central_engine(settings).connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            try:
                yield PostgresStore(conn, schema, name)
            finally:
                conn.rollback()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _pg_error(exc, name) from None


def open_experiment(
    settings: Settings, expid: str, sqlite_path: str, what: Optional[str] = None
) -> "contextlib.AbstractContextManager[Store]":
    """The store holding one of an experiment's databases: the SQLite file `sqlite_path`
    on an SQLite site, the schema named after the expid on a PostgreSQL site."""
    if backend.is_postgres(settings):
        return open_schema(settings, expid, what)
    return open_file(settings, sqlite_path, what)
