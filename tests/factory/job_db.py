"""Writes the Autosubmit 4.2 job list database `<exp>/db/job_list.db` (docs/data.md A.13,
docs/storage.md) from JobSpec lists, with the DDL Autosubmit 4.2.0 creates: `jobs` (status as
a name, ISO dates, `modified` UTC text), `experiment_structure`, `sections` and the wrapper
tables (`wrappers_info`, `wrappers_jobs`).

`update_jobs` saves some rows again as a running Autosubmit 4.2 does: new values and a newer
`modified`, in one write transaction, leaving every other row as it was.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from autosubmit_api.job_status import STATUS_NAMES
from tests.factory.specs import JobSpec


JOBS_DDL = """CREATE TABLE jobs (
    name VARCHAR NOT NULL, id INTEGER, script_name VARCHAR, priority INTEGER, status TEXT NOT NULL,
    frequency VARCHAR, synchronize BOOLEAN, section VARCHAR, chunk INTEGER, member TEXT,
    splits INTEGER, split INTEGER, date VARCHAR, date_split VARCHAR,
    max_checkpoint_step INTEGER NOT NULL, start_time VARCHAR, start_time_timestamp INTEGER,
    submit_time_timestamp INTEGER, finish_time_timestamp INTEGER, ready_date VARCHAR,
    local_logs_out VARCHAR, local_logs_err VARCHAR, remote_logs_out VARCHAR, remote_logs_err VARCHAR,
    updated_log INTEGER, updated_stats INTEGER, fail_count INTEGER NOT NULL, retrials INTEGER NOT NULL,
    log_recovery_call_count INTEGER NOT NULL, wrapper_type TEXT, wallclock VARCHAR, packed BOOLEAN,
    current_checkpoint_step INTEGER NOT NULL, platform_name VARCHAR, created TEXT NOT NULL,
    modified TEXT NOT NULL, PRIMARY KEY (name))"""
STRUCTURE_DDL = """CREATE TABLE experiment_structure (
    e_from VARCHAR NOT NULL, e_to VARCHAR NOT NULL, min_trigger_status VARCHAR,
    completion_status VARCHAR, from_step INTEGER, fail_ok BOOLEAN, PRIMARY KEY (e_from, e_to))"""
SECTIONS_DDL = """CREATE TABLE sections (
    name VARCHAR NOT NULL, splits INTEGER, dependencies VARCHAR, datelist VARCHAR, members VARCHAR,
    numchunks INTEGER, expid VARCHAR, PRIMARY KEY (name))"""
WRAPPERS_JOBS_DDL = """CREATE TABLE wrappers_jobs (
    package_id INTEGER NOT NULL, package_name VARCHAR NOT NULL, job_name VARCHAR NOT NULL,
    timestamp VARCHAR, run_id INTEGER, PRIMARY KEY (package_id, package_name, job_name))"""
WRAPPERS_INFO_DDL = """CREATE TABLE wrappers_info (
    name VARCHAR NOT NULL, id INTEGER, script_name VARCHAR, status TEXT NOT NULL,
    local_logs_out VARCHAR, local_logs_err VARCHAR, remote_logs_out VARCHAR, remote_logs_err VARCHAR,
    updated_log INTEGER, updated_stats INTEGER, platform_name VARCHAR, wallclock VARCHAR,
    num_processors INTEGER, type TEXT, sections TEXT, method TEXT, run_id INTEGER, PRIMARY KEY (name))"""

# A fixed "now" keeps factory output reproducible; tests move it forward explicitly.
BASE_MODIFIED = datetime(2026, 12, 6, 2, 54, 41, tzinfo=timezone.utc)


def utc_text(when: datetime) -> str:
    """`modified`/`created` as Autosubmit 4.2 writes them: UTC `YYYY-MM-DD HH:MM:SS`."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _stamp(ts: Optional[float]) -> Optional[int]:
    if not ts:
        return None
    return int(datetime.fromtimestamp(ts).strftime("%Y%m%d%H%M%S"))


def job_row(
    job: JobSpec,
    modified: str,
    *,
    times: Tuple[Optional[float], ...] = (None, None, None),
    status_name: Optional[str] = None,
) -> Dict[str, Any]:
    """The `jobs` row of one job (times: submit, start, finish epoch seconds or None)."""
    submit, start, finish = times
    return {
        "name": job.name,
        "id": job.id if isinstance(job.id, int) and job.id else None,
        "script_name": f"{job.name}.cmd",
        "priority": job.priority,
        "status": status_name or STATUS_NAMES.get(job.status, "UNKNOWN"),
        "section": job.section,
        "chunk": job.chunk,
        "member": job.member,
        "splits": job.splits if job.splits is not None else -1,
        "split": job.split if job.split is not None else -1,
        "date": job.date.strftime("%Y-%m-%dT%H:%M:%S") if job.date else None,
        "max_checkpoint_step": 0,
        "submit_time_timestamp": _stamp(submit),
        "start_time_timestamp": _stamp(start),
        "finish_time_timestamp": _stamp(finish),
        "local_logs_out": job.out_log or None,
        "local_logs_err": job.err_log or None,
        "remote_logs_out": job.out_log or "",
        "remote_logs_err": job.err_log or "",
        "updated_log": 0,
        "updated_stats": 0,
        "fail_count": job.fail_count,
        "retrials": 0,
        "log_recovery_call_count": 0,
        "wrapper_type": job.wrapper_type,
        "wallclock": job.wallclock,
        "packed": 0,
        "current_checkpoint_step": 0,
        "platform_name": job.platform,
        "created": modified,
        "modified": modified,
    }


def _insert(conn: sqlite3.Connection, table: str, rows: Sequence[Mapping[str, Any]], replace: bool = False) -> None:
    if not rows:
        return
    names = list(rows[0])
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    conn.executemany(
        f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [tuple(row[n] for n in names) for row in rows],
    )


def sections_of(expid: str, jobs: Sequence[JobSpec]) -> List[Dict[str, Any]]:
    found: Dict[str, Dict[str, Any]] = {}
    by_name = {job.name: job for job in jobs}
    for job in jobs:
        entry = found.setdefault(
            job.section, {"name": job.section, "deps": set(), "dates": set(), "members": set(), "chunks": 0}
        )
        entry["deps"].update(by_name[p].section for p in job.parents if p in by_name)
        if job.date:
            entry["dates"].add(job.date.strftime("%Y%m%d"))
        if job.member:
            entry["members"].add(job.member)
        if job.chunk:
            entry["chunks"] = max(entry["chunks"], job.chunk)
    return [
        {
            "name": e["name"],
            "splits": None,
            "dependencies": repr({dep: {} for dep in sorted(e["deps"] - {e["name"]})}) if e["deps"] else None,
            "datelist": " ".join(sorted(e["dates"])) or None,
            "members": " ".join(sorted(e["members"])) or None,
            "numchunks": e["chunks"] or None,
            "expid": expid,
        }
        for e in found.values()
    ]


def write_job_list_db(
    path: Union[str, Path],
    expid: str,
    jobs: Sequence[JobSpec],
    *,
    packages: Optional[Mapping[str, Sequence[str]]] = None,
    modified: datetime = BASE_MODIFIED,
    times: Optional[Mapping[str, Tuple[Optional[float], ...]]] = None,
) -> None:
    """Replace `path` with a 4.2 job list database holding `jobs`, their edges and sections."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    stamp = utc_text(modified)
    times = times or {}
    conn = sqlite3.connect(tmp)
    try:
        with conn:
            for ddl in (JOBS_DDL, STRUCTURE_DDL, WRAPPERS_JOBS_DDL, WRAPPERS_INFO_DDL, SECTIONS_DDL):
                conn.execute(ddl)
            _insert(conn, "jobs", [job_row(job, stamp, times=times.get(job.name, (None, None, None))) for job in jobs])
            conn.executemany(
                "INSERT OR IGNORE INTO experiment_structure VALUES (?, ?, 'COMPLETED', 'WAITING', 0, 0)",
                [(parent, job.name) for job in jobs for parent in job.parents],
            )
            _insert(conn, "sections", sections_of(expid, jobs))
            for n, (package, names) in enumerate((packages or {}).items()):
                conn.execute(
                    "INSERT INTO wrappers_info (name, id, script_name, status, platform_name, "
                    "wallclock, num_processors, type, sections, method) VALUES "
                    "(?, ?, ?, 'COMPLETED', 'MN5', '02:00', 0, 'vertical', ?, 'ASThread')",
                    (package, 4_000_000 + n, f"{package}.cmd", " ".join(sorted({j.rsplit("_", 1)[-1] for j in names}))),
                )
                conn.executemany(
                    "INSERT INTO wrappers_jobs VALUES (?, ?, ?, ?, 1)",
                    [(4_000_000 + n, package, job, stamp) for job in names],
                )
    finally:
        conn.close()
    os.replace(tmp, path)


def _rows(
    jobs: Iterable[JobSpec],
    stamp: str,
    statuses: Optional[Mapping[str, str]],
    times: Optional[Mapping[str, Tuple[Optional[float], ...]]],
) -> List[Dict[str, Any]]:
    return [
        job_row(
            job,
            stamp,
            status_name=(statuses or {}).get(job.name),
            times=(times or {}).get(job.name, (None, None, None)),
        )
        for job in jobs
    ]


def update_jobs(
    path: Union[str, Path],
    jobs: Iterable[JobSpec],
    modified: datetime,
    statuses: Optional[Mapping[str, str]] = None,
    times: Optional[Mapping[str, Tuple[Optional[float], ...]]] = None,
) -> int:
    """Save these jobs' rows again (insert new ones) with `modified`, as Autosubmit 4.2's
    save does; `statuses` may give raw status names (unknown ones included), `times` the
    (submit, start, finish) epoch seconds of some jobs. Returns the number of rows written."""
    stamp = utc_text(modified)
    rows = _rows(jobs, stamp, statuses, times)
    conn = sqlite3.connect(os.fspath(path))
    try:
        with conn:
            created = dict(conn.execute("SELECT name, created FROM jobs"))
            for row in rows:
                row["created"] = created.get(row["name"], stamp)
            _insert(conn, "jobs", rows, replace=True)
    finally:
        conn.close()
    return len(rows)


def update_jobs_postgres(
    url: str,
    expid: str,
    jobs: Iterable[JobSpec],
    modified: datetime,
    statuses: Optional[Mapping[str, str]] = None,
    times: Optional[Mapping[str, Tuple[Optional[float], ...]]] = None,
) -> int:
    """`update_jobs` on the expid schema's `jobs` table of a PostgreSQL site."""
    from sqlalchemy import text

    from tests.factory.postgres import engine_for

    stamp = utc_text(modified)
    rows = _rows(jobs, stamp, statuses, times)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            table = f'"{expid}".jobs'
            for row in rows:
                conn.execute(text(f"DELETE FROM {table} WHERE name = :n"), {"n": row["name"]})
                names = list(row)
                conn.execute(
                    text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"),
                    {n: (str(row[n]) if n == "packed" else row[n]) for n in names},
                )
    finally:
        engine.dispose()
    return len(rows)


def modified_after(seconds: int) -> datetime:
    """BASE_MODIFIED plus `seconds`: a later save."""
    return BASE_MODIFIED + timedelta(seconds=seconds)
