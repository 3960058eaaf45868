"""Every write the API makes to the central databases, in one module.

Tables written (docs/data.md A.2, A.3, B.14; docs/api.md 4.2 and 8):

* `experiment.description` in autosubmit.db (or PostgreSQL `public.experiment`): the
  `/updatedesc` route, `update_description`.
* `details` in autosubmit.db / `public.details`: the details worker, `upsert_details`,
  row by row (the reference deletes and re-inserts the whole table; we never empty it, so an
  experiment whose configuration fails to load keeps its row).
* `experiment_status` in as_times.db / `public.experiment_status`: the status worker,
  `apply_statuses`.
* `api_user_preferences` in as_times.db / `autosubmit_api.user_preferences` on PostgreSQL:
  the API's own table of per-user settings (the current GUI's preferred user name),
  `set_preferred_username`. On SQLite it sits beside `experiment_status`, the other table
  only the API writes; on PostgreSQL in the API's own schema (workers/lock.py keeps
  `worker_runs` there). Autosubmit never reads them. Created at the first write when missing.

* the audit trail, `api_audit` in as_times.db / `autosubmit_api.audit` on PostgreSQL, the
  API's own table beside the preferences (docs/audit.md): every write the routes make (the
  description, the preferred user name) appends its row in the same transaction as the write,
  so a write whose row cannot be appended changes nothing. Read by `audit_rows`.

Each call is one transaction: it commits everything or nothing. SQLite files are opened with
`mode=rw` (never created). Tables are never created in autosubmit.db, which Autosubmit owns;
`experiment_status` is created in as_times.db only when that file exists without it (the
reference does the same at start-up, and as_times.db holds nothing else the API needs).
Failures to reach a database raise `errors.Unavailable` with a one-line message.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autosubmit_api.config import Settings
from autosubmit_api.errors import Unavailable
from autosubmit_api.models import AuditOrigin, AuditRow, DetailsRow, ExperimentRef, StatusRow
from autosubmit_api.readers import backend

log = logging.getLogger(__name__)

DETAILS_COLUMNS = ("user", "created", "model", "branch", "hpc")


def _unavailable(what: str, exc: Exception) -> Unavailable:
    # The message is for the client; the full driver error (with paths) goes to the log only.
    log.warning("%s: %s", what, exc)
    orig = getattr(exc, "orig", exc)
    reason = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    if "/" in reason:  # never leak server paths (docs/decisions.md Q39)
        reason = type(orig).__name__
    return Unavailable(f"{what}: {reason}")


def update_description(settings: Settings, expid: str, description: str, origin: AuditOrigin, now: str) -> bool:
    """`UPDATE experiment SET description = ? WHERE name = ?` and its audit row (action
    `description`, the old and new text), in one transaction; True when a row changed.

    False means no experiment has that name (nothing is written, no audit row). Unavailable
    when the central DB or the audit table cannot be written (missing, read-only, locked
    longer than the busy timeout, server down): then nothing changed.

    PostgreSQL: one transaction of one database (`public.experiment` and
    `autosubmit_api.audit`). SQLite: as_times.db is attached to the autosubmit.db connection
    and `BEGIN IMMEDIATE` locks both before the old value is read; SQLite commits the two
    files atomically (with a rollback journal; in WAL mode each file commits atomically and
    a crash between the two is the only window, docs/audit.md).
    """
    postgres = backend.is_postgres(settings)
    try:
        with backend.central_engine(settings, write=True).begin() as conn:
            if not postgres:
                _attach_audit_store(conn, settings)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            table = _ensure_audit(conn, settings, attached=not postgres)
            row = conn.execute(
                text("SELECT description FROM experiment WHERE name = :expid" + (" FOR UPDATE" if postgres else "")),
                {"expid": expid},
            ).first()
            if row is None:
                return False
            conn.execute(
                text("UPDATE experiment SET description = :description WHERE name = :expid"),
                {"description": description, "expid": expid},
            )
            _append_audit(conn, table, origin, "description", expid, row[0], description, now)
            return True
    except _AuditStoreMissing as exc:
        raise _unavailable("The audit trail cannot be written", exc.cause) from None
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be written", exc) from None


# --- the experiment list the workers walk ---------------------------------------------------


def experiments(settings: Settings) -> List[ExperimentRef]:
    """Every `experiment` row (id, name, autosubmit_version), ordered by id.

    Autosubmit 3.0 beta files lack `autosubmit_version`: it reads as None there.
    """
    try:
        engine = backend.central_engine(settings)
        with engine.connect() as conn:
            rows: Sequence[Sequence[Any]]
            try:
                rows = conn.execute(text("SELECT id, name, autosubmit_version FROM experiment ORDER BY id")).all()
            except (DBAPIError, SQLAlchemyError):
                conn.rollback()
                rows = [
                    (r[0], r[1], None) for r in conn.execute(text("SELECT id, name FROM experiment ORDER BY id")).all()
                ]
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The central database cannot be read", exc) from None
    return [ExperimentRef(int(r[0]), r[1], r[2]) for r in rows]


# --- details (worker) -----------------------------------------------------------------------


def upsert_details(settings: Settings, rows: Iterable[DetailsRow], *, keep_created: bool = False) -> Dict[str, int]:
    """Write each row: UPDATE when the exp_id has a row and it differs, else INSERT.

    `keep_created` leaves the `created` of existing rows as it is (Autosubmit >= 4.1.15
    writes the real creation time there).

    Rows of experiments not in `rows` are left alone. Plain UPDATE-then-INSERT instead of an
    `ON CONFLICT` upsert because `details` may lack a primary key. Returns counts
    {"inserted", "updated", "unchanged"}. The table must exist (Autosubmit or the site
    created it); a missing table raises Unavailable so the health route shows it.
    """
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    rows = list(rows)
    try:
        with backend.central_engine(settings, write=True).begin() as conn:
            current = {
                int(r[0]): tuple(r[1:])
                for r in conn.execute(text('SELECT exp_id, "user", created, model, branch, hpc FROM details'))
            }
            for row in rows:
                old = current.get(row.exp_id)
                created = old[1] if keep_created and old is not None and old[1] else row.created
                values = (row.user, created, row.model, row.branch, row.hpc)
                params = dict(zip(DETAILS_COLUMNS, values), exp_id=row.exp_id)
                if old is None:
                    conn.execute(
                        text(
                            'INSERT INTO details(exp_id, "user", created, model, branch, hpc) '
                            "VALUES (:exp_id, :user, :created, :model, :branch, :hpc)"
                        ),
                        params,
                    )
                    counts["inserted"] += 1
                elif tuple(old) != values:
                    conn.execute(
                        text(
                            'UPDATE details SET "user" = :user, created = :created, model = :model, '
                            "branch = :branch, hpc = :hpc WHERE exp_id = :exp_id"
                        ),
                        params,
                    )
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The details table cannot be written", exc) from None
    return counts


# --- experiment_status (worker) -------------------------------------------------------------

STATUS_DDL = (
    "CREATE TABLE IF NOT EXISTS experiment_status("
    "exp_id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, "
    "seconds_diff INTEGER NOT NULL, modified TEXT NOT NULL)"
)


def read_statuses(conn: Connection) -> Dict[int, str]:
    return {int(r[0]): r[1] for r in conn.execute(text("SELECT exp_id, status FROM experiment_status"))}


def apply_statuses(
    settings: Settings,
    rows: Iterable[StatusRow],
    existing_ids: Optional[Iterable[int]] = None,
) -> Dict[str, int]:
    """Store the statuses that changed, in one transaction; drop rows of deleted experiments.

    A row is written only when its status differs from the stored one (a missing row counts
    as NOT RUNNING, as in the reference), so `modified` keeps the time of the last change.
    `existing_ids` (the experiment ids of the central DB) removes status rows whose
    experiment is gone; None keeps every row. Returns {"written", "deleted"}.
    """
    rows = list(rows)
    counts = {"written": 0, "deleted": 0}
    try:
        engine = backend.status_engine(settings, write=True)
        with engine.begin() as conn:
            if not backend.is_postgres(settings):
                conn.execute(text(STATUS_DDL))
            stored = read_statuses(conn)
            if existing_ids is not None:
                keep = set(int(i) for i in existing_ids)
                for exp_id in sorted(set(stored) - keep):
                    conn.execute(text("DELETE FROM experiment_status WHERE exp_id = :e"), {"e": exp_id})
                    counts["deleted"] += 1
            for row in rows:
                if stored.get(row.exp_id, "NOT RUNNING") == row.status:
                    continue
                params = {"e": row.exp_id, "n": row.name, "s": row.status, "d": row.seconds_diff, "m": row.modified}
                updated = conn.execute(
                    text(
                        "UPDATE experiment_status SET name = :n, status = :s, seconds_diff = :d, "
                        "modified = :m WHERE exp_id = :e"
                    ),
                    params,
                ).rowcount
                if not updated:
                    conn.execute(
                        text(
                            "INSERT INTO experiment_status(exp_id, name, status, seconds_diff, modified) "
                            "VALUES (:e, :n, :s, :d, :m)"
                        ),
                        params,
                    )
                counts["written"] += 1
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The experiment status table cannot be written", exc) from None
    return counts


def status_rows(settings: Settings) -> List[Mapping[str, object]]:
    """Every stored experiment_status row (for the worker's own comparisons and tests)."""
    try:
        with backend.status_engine(settings).connect() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(
                    text("SELECT exp_id, name, status, seconds_diff, modified FROM experiment_status ORDER BY exp_id")
                )
            ]
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The experiment status table cannot be read", exc) from None


# --- the API's user preferences (the /v4/user-settings routes) -------------------------------
#
# SQLite: table api_user_preferences in as_times.db. PostgreSQL: user_preferences in the
# API's own schema autosubmit_api (where workers/lock.py keeps worker_runs), never public.

PG_SCHEMA = "autosubmit_api"
_PREFERENCE_COLUMNS = ("user_id", "preferred_username", "created", "modified")


def _preference(row: Sequence[Any]) -> Dict[str, str]:
    """A preferences row by column name (every column is text)."""
    return dict(zip(_PREFERENCE_COLUMNS, row))


_PREFERENCES_COLUMNS_DDL = (
    "(user_id TEXT NOT NULL PRIMARY KEY, preferred_username TEXT NOT NULL, "
    "created TEXT NOT NULL, modified TEXT NOT NULL)"
)


def preferences_table(settings: Settings) -> str:
    return f"{PG_SCHEMA}.user_preferences" if backend.is_postgres(settings) else "api_user_preferences"


def _preferences_exist(conn: Connection, settings: Settings) -> bool:
    if backend.is_postgres(settings):
        return inspect(conn).has_table("user_preferences", schema=PG_SCHEMA)
    return inspect(conn).has_table("api_user_preferences")


def _create_preferences(conn: Connection, settings: Settings) -> None:
    if backend.is_postgres(settings):
        # Serialise the first CREATE across hosts: concurrent CREATE ... IF NOT EXISTS races.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('autosubmit_api.user_preferences'))"))
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {preferences_table(settings)}{_PREFERENCES_COLUMNS_DDL}"))


def preferred_username(settings: Settings, user_id: str) -> Optional[Dict[str, str]]:
    """The stored preference of `user_id` ({user_id, preferred_username, created, modified}),
    or None when there is none (no row, no table yet, or on SQLite no as_times.db).

    Unavailable when the database cannot be read (locked past the timeout, server down).
    """
    if not backend.is_postgres(settings) and not os.path.isfile(settings.as_times_db_path):
        return None
    try:
        with backend.status_engine(settings).connect() as conn:
            if not _preferences_exist(conn, settings):
                return None
            row = conn.execute(
                text(
                    "SELECT user_id, preferred_username, created, modified "
                    f"FROM {preferences_table(settings)} WHERE user_id = :u"
                ),
                {"u": user_id},
            ).first()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The user settings cannot be read", exc) from None
    return _preference(row) if row is not None else None


def set_preferred_username(
    settings: Settings, user_id: str, name: str, now: str, origin: Optional[AuditOrigin] = None
) -> Dict[str, str]:
    """Store `name` as the preferred user name of `user_id` (insert or update, one statement,
    so two hosts writing at once cannot collide); `now` is the modification time (and the
    creation time of a new row). The table is created at the first write. Returns the row.

    The audit row (action `preferred_username`, target `user_id`, the old name or null, the
    new one; `origin` says from where, default: the user themselves, no address) is appended
    in the same transaction.

    Unavailable when the database cannot be written (on SQLite: as_times.db missing or
    read-only, locked past the timeout; PostgreSQL down or no CREATE privilege).
    """
    table_name = preferences_table(settings)
    postgres = backend.is_postgres(settings)
    try:
        with backend.status_engine(settings, write=True).begin() as conn:
            if not postgres:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            if not _preferences_exist(conn, settings):
                _create_preferences(conn, settings)
            audit = _ensure_audit(conn, settings, attached=False)
            old = conn.execute(
                text(
                    f"SELECT preferred_username FROM {table_name} WHERE user_id = :u"
                    + (" FOR UPDATE" if postgres else "")
                ),
                {"u": user_id},
            ).first()
            conn.execute(
                text(
                    f"INSERT INTO {table_name}(user_id, preferred_username, created, modified) "
                    "VALUES (:u, :p, :now, :now) ON CONFLICT (user_id) DO UPDATE SET "
                    "preferred_username = excluded.preferred_username, modified = excluded.modified"
                ),
                {"u": user_id, "p": name, "now": now},
            )
            row = conn.execute(
                text(f"SELECT user_id, preferred_username, created, modified FROM {table_name} WHERE user_id = :u"),
                {"u": user_id},
            ).one()
            _append_audit(
                conn,
                audit,
                origin or AuditOrigin(user_id),
                "preferred_username",
                user_id,
                old[0] if old is not None else None,
                name,
                now,
            )
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The user settings cannot be written", exc) from None
    return _preference(row)


# --- the audit trail (docs/audit.md) ---------------------------------------------------------
#
# SQLite: table api_audit in as_times.db (attached as `api_audit_store` to the autosubmit.db
# connection of a description write). PostgreSQL: audit in the API's own schema.

AUDIT_ACTIONS = ("description", "preferred_username")
_AUDIT_ALIAS = "api_audit_store"
_AUDIT_COLUMNS = "id, time, user_id, action, target, old_value, new_value, client, request_id, route"
_AUDIT_VALUES_DDL = (
    "time TEXT NOT NULL, user_id TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, "
    "old_value TEXT, new_value TEXT, client TEXT, request_id TEXT, route TEXT"
)


class _AuditStoreMissing(Exception):
    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


def audit_table(settings: Settings) -> str:
    return f"{PG_SCHEMA}.audit" if backend.is_postgres(settings) else "api_audit"


def _attach_audit_store(conn: Connection, settings: Settings) -> None:
    """Attach as_times.db (read-write, never created) to a SQLite connection, before any
    transaction begins (SQLite cannot attach inside one)."""
    uri = "file:" + quote(os.path.abspath(settings.as_times_db_path)) + "?mode=rw"
    try:
        conn.exec_driver_sql(f"ATTACH DATABASE ? AS {_AUDIT_ALIAS}", (uri,))
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _AuditStoreMissing(exc) from None


def _ensure_audit(conn: Connection, settings: Settings, *, attached: bool) -> str:
    """Create the audit table (and its indexes) when missing; returns its qualified name.
    Runs inside the write's transaction, so it is part of what commits or rolls back."""
    if backend.is_postgres(settings):
        if not inspect(conn).has_table("audit", schema=PG_SCHEMA):
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('autosubmit_api.audit'))"))
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {PG_SCHEMA}.audit"
                    f"(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_AUDIT_VALUES_DDL})"
                )
            )
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS audit_target ON {PG_SCHEMA}.audit(target, id)"))
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS audit_user ON {PG_SCHEMA}.audit(user_id, id)"))
        return f"{PG_SCHEMA}.audit"
    prefix = f"{_AUDIT_ALIAS}." if attached else ""
    conn.execute(
        text(f"CREATE TABLE IF NOT EXISTS {prefix}api_audit(id INTEGER PRIMARY KEY AUTOINCREMENT, {_AUDIT_VALUES_DDL})")
    )
    conn.execute(text(f"CREATE INDEX IF NOT EXISTS {prefix}api_audit_target ON api_audit(target, id)"))
    conn.execute(text(f"CREATE INDEX IF NOT EXISTS {prefix}api_audit_user ON api_audit(user_id, id)"))
    return f"{prefix}api_audit"


def _append_audit(
    conn: Connection,
    table: str,
    origin: AuditOrigin,
    action: str,
    target: str,
    old: Optional[str],
    new: Optional[str],
    now: str,
) -> None:
    conn.execute(
        text(
            f"INSERT INTO {table}(time, user_id, action, target, old_value, new_value, client, request_id, route) "
            "VALUES (:time, :user, :action, :target, :old, :new, :client, :rid, :route)"
        ),
        {
            "time": now,
            "user": origin.user,
            "action": action,
            "target": target,
            "old": old,
            "new": new,
            "client": origin.client,
            "rid": origin.request_id,
            "route": origin.route,
        },
    )


def audit_rows(
    settings: Settings,
    *,
    user: Optional[str] = None,
    expid: Optional[str] = None,
    limit: int,
    offset: int,
) -> Tuple[List[AuditRow], int]:
    """One page of the audit trail, newest first, and the number of rows that match.

    `user` keeps the rows of that user; `expid` the description changes of that experiment.
    No table yet (or on SQLite no as_times.db) is an empty trail. Unavailable when the
    database cannot be read.
    """
    if not backend.is_postgres(settings) and not os.path.isfile(settings.as_times_db_path):
        return [], 0
    table = audit_table(settings)
    where: List[str] = []
    params: Dict[str, Any] = {"limit": limit, "offset": offset}
    if user is not None:
        where.append("user_id = :user")
        params["user"] = user
    if expid is not None:
        where.append("action = 'description' AND target = :expid")
        params["expid"] = expid
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    try:
        with backend.status_engine(settings).connect() as conn:
            if backend.is_postgres(settings):
                exists = inspect(conn).has_table("audit", schema=PG_SCHEMA)
            else:
                exists = inspect(conn).has_table("api_audit")
            if not exists:
                return [], 0
            total: int = conn.execute(text(f"SELECT count(*) FROM {table}{clause}"), params).scalar_one()
            rows = conn.execute(
                text(f"SELECT {_AUDIT_COLUMNS} FROM {table}{clause} ORDER BY id DESC LIMIT :limit OFFSET :offset"),
                params,
            ).all()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise _unavailable("The audit trail cannot be read", exc) from None
    return [AuditRow(int(r[0]), *r[1:]) for r in rows], int(total)
