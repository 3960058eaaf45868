"""SQLAlchemy engines for the central databases, on SQLite (default) or PostgreSQL.

SQLite (the reference's layout): `autosubmit.db` (experiment, details) and `as_times.db`
(experiment_status) in `[database] path`. Readers get read-only engines (`mode=ro` URI,
busy timeout); the few writers the API has (background workers, the description update)
ask for `write=True`.

PostgreSQL (`[database] backend = postgres`, `connection_url`, as Autosubmit 4.1.16+):
every central table lives in the `public` schema of that database (with `job_pkl`, the
pickles of Autosubmit 4.1.16/4.1.17 keyed by expid), and each experiment's own tables
(job_data, experiment_run, experiment_structure, wrappers, user_metrics, and with Autosubmit
4.2 jobs and sections) in a schema named after the expid (docs/data.md A.12, A.13;
docs/storage.md). Experiment tables are read through readers/store.py.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any, Callable, Dict, Tuple, Union
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings

_lock = threading.Lock()
# ("pg", url) or ("sqlite", path, write) -> its engine
EngineKey = Tuple[Union[str, bool], ...]
_engines: Dict[EngineKey, Engine] = {}


def is_postgres(settings: Settings) -> bool:
    return settings.db_backend == "postgres"


def postgres_url(settings: Settings) -> str:
    url = settings.db_connection_url
    # Autosubmit writes plain postgresql:// URLs; we talk to them through psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_engine(path: str, write: bool, timeout: float) -> Engine:
    # mode=rw for writers too: a missing central DB is an error, never a new empty file.
    uri = "file:" + quote(os.path.abspath(path)) + ("?mode=rw" if write else "?mode=ro")

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        if not write:
            conn.execute("PRAGMA query_only = ON")
        return conn

    # NullPool: no connection (and so no SQLite read snapshot) outlives its use.
    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


def _postgres_engine(settings: Settings) -> Engine:
    engine = create_engine(
        postgres_url(settings),
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": max(1, int(settings.sqlite_timeout))},
    )

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_conn: Any, _record: object) -> None:  # short statement timeout: never hang a request
        with dbapi_conn.cursor() as cur:
            cur.execute("SET statement_timeout = %s" % int(max(1.0, settings.sqlite_timeout * 5) * 1000))
        dbapi_conn.commit()

    return engine


def _cached(key: EngineKey, build: Callable[[], Engine]) -> Engine:
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            _counter.misses += 1
            engine = _engines[key] = build()
        else:
            _counter.hits += 1
        return engine


def central_engine(settings: Settings, write: bool = False) -> Engine:
    """autosubmit.db (experiment, details, db_version) or the PostgreSQL public schema."""
    if is_postgres(settings):
        return _cached(("pg", postgres_url(settings)), lambda: _postgres_engine(settings))
    path = settings.db_path
    return _cached(("sqlite", path, write), lambda: _sqlite_engine(path, write, settings.sqlite_timeout))


def status_engine(settings: Settings, write: bool = False) -> Engine:
    """as_times.db (experiment_status) or the PostgreSQL public schema."""
    if is_postgres(settings):
        return central_engine(settings, write)
    path = settings.as_times_db_path
    return _cached(("sqlite", path, write), lambda: _sqlite_engine(path, write, settings.sqlite_timeout))


def _after_fork_in_child() -> None:
    """A forked process (a gunicorn worker of the preloaded app) must not use the parent's
    pooled PostgreSQL connections: drop them without closing them (they stay the parent's)
    and start with fresh ones. The registry lock may have been held by a parent thread."""
    global _lock
    _lock = threading.Lock()
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# One engine per database file (read and write apart) or PostgreSQL URL; clearing disposes them.
_counter = cache_registry.register(
    "readers.backend.engines", bound="one per database", entries=lambda: len(_engines), clear=dispose_all
)
