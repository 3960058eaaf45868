"""Who runs a background job, when several API processes or hosts share one site.

PostgreSQL (several hosts): each run takes a session-level advisory lock named after the
job (`pg_try_advisory_lock`), on its own connection, for the length of the run. A process
that cannot take it skips the run. The lock belongs to the connection, so when the holder
dies (crash, kill -9, lost host) PostgreSQL drops it and the next scheduled run on another
host takes over.

A lock alone would let two hosts run one job twice per interval (one after the other), so
the runs are also counted in time slots: slot = floor(now / interval), the schedulers fire
just after each slot starts (`first_fire`), and the holder records the slot it ran in
`autosubmit_api.worker_runs` (an API-owned schema and table in the same database; nothing of
Autosubmit's). A process that gets the lock for a slot already recorded skips it. Only a
successful run closes its slot: after a failure the next process to fire may retry. If that
table cannot be created (no CREATE privilege), the lock alone still prevents concurrent
runs, and the reason is logged once.

SQLite (one machine): the same on one host with an exclusive lock (`lockf`) on a file of
the temporary directory named after the site and the job, which also holds the last slot
run; the kernel drops the lock when its holder dies. So two API processes serving one SQLite site
on one machine also run each job once per interval.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import math
import os
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Dict, Iterator, Optional

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.readers import backend, worker_state

log = logging.getLogger(__name__)

SCHEMA, RUNS_TABLE = worker_state.SCHEMA, worker_state.RUNS_TABLE
RUNS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {RUNS_TABLE}("
    "job TEXT PRIMARY KEY, slot BIGINT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, "
    "started DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION, ok BOOLEAN, error TEXT)"
)
HOST = socket.gethostname()

# PostgreSQL URL -> the runs table exists (True) or cannot be created there (False).
_table_ready: Dict[str, bool] = {}
cache_registry.register(
    "workers.lock.table_ready", bound="one per database", entries=lambda: len(_table_ready), clear=_table_ready.clear
)
_local_locks: Dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def _after_fork_in_child() -> None:
    # A run of the parent's scheduler thread may hold these; that thread is not in the child.
    global _local_guard
    _local_guard = threading.Lock()
    _local_locks.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass
class Claim:
    """The outcome of asking to run a job now: `acquired` or the reason it was skipped."""

    acquired: bool
    reason: str = ""
    slot: Optional[int] = None
    ok: bool = True
    error: Optional[str] = None


def lock_key(job_name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job (same on every host and version)."""
    digest = hashlib.blake2b(f"autosubmit_api:worker:{job_name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def slot_of(now: float, interval: int) -> int:
    return int(math.floor(now / max(1, interval)))


def fire_offset(interval: int) -> float:
    """Seconds after a slot starts at which every scheduler fires: away from the boundary,
    so small clock differences between hosts keep them in the same slot."""
    return min(interval * 0.1, 10.0)


def first_fire(now: float, interval: int) -> float:
    """The next aligned fire time (epoch seconds) after `now`."""
    start = slot_of(now, interval) * interval + fire_offset(interval)
    return start if start > now else start + interval


def _ensure_runs_table(conn) -> bool:
    """True when the runs table exists (created on first use). A failure is retried on the
    next run (it may be transient) and logged once per process."""
    url = str(conn.engine.url)
    if _table_ready.get(url):
        return True
    try:
        with conn.begin():
            # Serialise the first CREATE across hosts: concurrent CREATE ... IF NOT EXISTS races.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("__setup__")})
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            conn.execute(text(RUNS_DDL))
    except (DBAPIError, SQLAlchemyError) as exc:
        if url not in _table_ready:
            log.warning(
                "cannot create %s (%s): runs are only kept from overlapping, not counted per interval",
                RUNS_TABLE,
                getattr(exc, "orig", exc),
            )
        _table_ready[url] = False
        return False
    _table_ready[url] = True
    return True


@contextlib.contextmanager
def claim(
    settings: Settings, job_name: str, interval: int, *, force: bool = False, now: Optional[float] = None
) -> Iterator[Claim]:
    """Context manager: yields a Claim; run the job only when `claim.acquired`.

    Set `claim.ok`/`claim.error` before leaving so the run is recorded. `force` runs even if
    the slot was already run (the start-up run of `--init-bg-tasks`), never concurrently.
    """
    if backend.is_postgres(settings):
        with _pg_claim(settings, job_name, interval, force, now) as result:
            yield result
    else:
        with _file_claim(settings, job_name, interval, force, now) as result:
            yield result


def lock_file(settings: Settings, job_name: str) -> str:
    return os.path.join(
        tempfile.gettempdir(), f"autosubmit_api-lock-{os.getuid()}-{worker_state.site_key(settings)}-{job_name}"
    )


@contextlib.contextmanager
def _file_claim(settings: Settings, job_name: str, interval: int, force: bool, now: Optional[float]) -> Iterator[Claim]:
    """SQLite sites: an exclusive lock on a file of the temporary directory, holding the
    last slot run, does for the processes of one host what the advisory lock and the runs
    table do across hosts.

    The lock is a POSIX record lock (`lockf`): it belongs to the process, so a gunicorn
    worker forked during a run does not inherit it (an inherited `flock` would keep it held
    for the worker's life), and the kernel drops it when the holder dies. POSIX locks do not
    exclude threads of one process, hence the thread lock in front of it.
    """
    with _local_guard:
        local = _local_locks.setdefault(job_name, threading.Lock())
    if not local.acquire(blocking=False):
        yield Claim(False, "another process holds the lock")
        return
    try:
        fd = os.open(lock_file(settings, job_name), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield Claim(False, "another process holds the lock")
                return
            started = time.time() if now is None else now
            slot = slot_of(started, interval)
            try:
                done = int(os.pread(fd, 32, 0).decode() or -1)
            except ValueError:
                done = -1
            if done >= slot and not force:
                yield Claim(False, "already run in this interval", slot=slot)
                return
            result = Claim(True, slot=slot)
            try:
                yield result
            finally:
                if result.ok:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, str(slot).encode(), 0)
        finally:
            os.close(fd)  # releases the record lock
    finally:
        local.release()


@contextlib.contextmanager
def _pg_claim(settings: Settings, job_name: str, interval: int, force: bool, now: Optional[float]) -> Iterator[Claim]:
    engine = backend.central_engine(settings, write=True)
    key = lock_key(job_name)
    conn = engine.connect()
    locked = False
    try:
        counted = _ensure_runs_table(conn)
        with conn.begin():
            locked = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        if not locked:
            yield Claim(False, "another process holds the lock")
            return
        started = time.time() if now is None else now
        slot = slot_of(started, interval)
        if counted:
            with conn.begin():
                done = conn.execute(text(f"SELECT slot FROM {RUNS_TABLE} WHERE job = :j"), {"j": job_name}).scalar()
            if done is not None and int(done) >= slot and not force:
                yield Claim(False, "already run in this interval", slot=slot)
                return
        result = Claim(True, slot=slot)
        try:
            yield result
        finally:
            if counted:
                _record(conn, job_name, slot, started, result)
    finally:
        try:
            if locked:
                with conn.begin():
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        except (DBAPIError, SQLAlchemyError):
            # The connection is gone: PostgreSQL has dropped the lock with it.
            conn.invalidate()
        conn.close()


def _record(conn, job_name: str, slot: int, started: float, result: Claim) -> None:
    params = {
        "j": job_name,
        "s": slot if result.ok else -1,
        "h": HOST,
        "p": os.getpid(),
        "st": started,
        "f": time.time(),
        "ok": result.ok,
        "e": result.error,
    }
    try:
        with conn.begin():
            conn.execute(
                text(
                    f"INSERT INTO {RUNS_TABLE}(job, slot, host, pid, started, finished, ok, error) "
                    "VALUES (:j, :s, :h, :p, :st, :f, :ok, :e) ON CONFLICT (job) DO UPDATE SET "
                    # A failed run leaves its interval open: another host (or this one) may retry.
                    f"slot = CASE WHEN EXCLUDED.ok THEN EXCLUDED.slot ELSE {RUNS_TABLE}.slot END, "
                    "host = EXCLUDED.host, pid = EXCLUDED.pid, "
                    "started = EXCLUDED.started, finished = EXCLUDED.finished, ok = EXCLUDED.ok, "
                    "error = EXCLUDED.error"
                ),
                params,
            )
    except (DBAPIError, SQLAlchemyError) as exc:
        log.warning("cannot record the run of %s: %s", job_name, getattr(exc, "orig", exc))
