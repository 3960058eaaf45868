"""Writes `job_data_<expid>.db` (docs/data.md A.4) the way each Autosubmit version leaves it.

`write_job_data(path, runs, rows, version)` creates the two tables with the DDL of that
`PRAGMA user_version`:

* 21 (4.1.17), 19 (4.1.12-4.1.16), 18 (3.14-4.1.11): the DDL of a freshly created file,
  `experiment_run.modified` third;
* 17 (3.13): an *upgraded* file, as fixture a3tb: `experiment_run.modified` added last by
  `ALTER TABLE`;
* 16, 15, 14, 12 and 11 (older writers): the column subsets the anchor's version rules
  name (no `children`/`platform_output`; no `MaxRSS..rowstatus`; no `suspended, metadata`;
  no `nnodes, run_id`).

`default_history(jobs)` makes a plausible two-run history for a job list: first attempts
in run 1, retrials and jobs still in progress in run 2, one row per attempt, `last = 1`
on the latest row of each job, times consistent with each attempt's status.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import replace
from datetime import datetime
from typing import Collection, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from autosubmit_api.job_status import STATUS_NAMES
from tests.factory.specs import JobDataSpec, JobSpec, RunSpec

# Statuses whose job has been submitted at least once, so the history holds a row for it.
_RAN = {"SUSPENDED", "FAILED", "SUBMITTED", "QUEUING", "RUNNING", "COMPLETED", "HELD"}
_IN_PROGRESS = {"SUBMITTED", "QUEUING", "RUNNING", "HELD", "SUSPENDED"}

SUPPORTED_VERSIONS = (11, 12, 13, 14, 15, 16, 17, 18, 19, 21)

# (column, DDL type) in the order of a freshly created file, with the version adding it.
_JOB_DATA_COLUMNS: Tuple[Tuple[str, str, int], ...] = (
    ("id", "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", 0),
    ("counter", "INTEGER NOT NULL", 0),
    ("job_name", "TEXT NOT NULL", 0),
    ("created", "TEXT NOT NULL", 0),
    ("modified", "TEXT NOT NULL", 0),
    ("submit", "INTEGER NOT NULL", 0),
    ("start", "INTEGER NOT NULL", 0),
    ("finish", "INTEGER NOT NULL", 0),
    ("status", "TEXT NOT NULL", 0),
    ("rowtype", "INTEGER NOT NULL", 0),
    ("ncpus", "INTEGER NOT NULL", 0),
    ("wallclock", "TEXT NOT NULL", 0),
    ("qos", "TEXT NOT NULL", 0),
    ("energy", "INTEGER NOT NULL", 0),
    ("date", "TEXT NOT NULL", 0),
    ("section", "TEXT NOT NULL", 0),
    ("member", "TEXT NOT NULL", 0),
    ("chunk", "INTEGER NOT NULL", 0),
    ("last", "INTEGER NOT NULL", 0),
    ("platform", "TEXT NOT NULL", 0),
    ("job_id", "INTEGER NOT NULL", 0),
    ("extra_data", "TEXT NOT NULL", 0),
    ("nnodes", "INTEGER NOT NULL DEFAULT 0", 12),
    ("run_id", "INTEGER", 12),
    ("MaxRSS", "REAL NOT NULL DEFAULT 0.0", 15),
    ("AveRSS", "REAL NOT NULL DEFAULT 0.0", 15),
    ("out", "TEXT NOT NULL", 15),
    ("err", "TEXT NOT NULL", 15),
    ("rowstatus", "INTEGER NOT NULL DEFAULT 0", 15),
    ("children", "TEXT", 17),
    ("platform_output", "TEXT", 17),
    ("workflow_commit", "TEXT", 19),
    ("split", "INTEGER", 21),
    ("splits", "INTEGER", 21),
    ("fail_count", "INTEGER NOT NULL DEFAULT 0", 21),
)

_RUN_COLUMNS: Tuple[Tuple[str, str, int], ...] = (
    ("run_id", "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", 0),
    ("created", "TEXT NOT NULL", 0),
    ("modified", "TEXT NOT NULL", 16),
    ("start", "INTEGER NOT NULL", 0),
    ("finish", "INTEGER", 0),
    ("chunk_unit", "TEXT NOT NULL", 0),
    ("chunk_size", "INTEGER NOT NULL", 0),
    ("completed", "INTEGER NOT NULL", 0),
    ("total", "INTEGER NOT NULL", 0),
    ("failed", "INTEGER NOT NULL", 0),
    ("queuing", "INTEGER NOT NULL", 0),
    ("running", "INTEGER NOT NULL", 0),
    ("submitted", "INTEGER NOT NULL", 0),
    ("suspended", "INTEGER NOT NULL DEFAULT 0", 14),
    ("metadata", "TEXT", 14),
)


def fmt_dash(ts: int) -> str:
    """`YYYY-MM-DD-HH:MM:SS` in local time, the format of the DB's created/modified."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d-%H:%M:%S") if ts else ""


def _stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y%m%d%H%M%S")


def job_data_columns(version: int) -> List[str]:
    return [name for name, _, since in _JOB_DATA_COLUMNS if since <= version]


def run_columns(version: int, upgraded: Optional[bool] = None) -> List[str]:
    """experiment_run columns in file order; `upgraded` puts `modified` last (ALTER TABLE)."""
    if upgraded is None:
        upgraded = version in (16, 17)
    names = [name for name, _, since in _RUN_COLUMNS if since <= version]
    if upgraded and "modified" in names:
        names.remove("modified")
        names.append("modified")
    return names


def _ddl(version: int, upgraded: Optional[bool]) -> str:
    if upgraded is None:
        upgraded = version in (16, 17)
    run_types = {name: kind for name, kind, _ in _RUN_COLUMNS}
    run_cols = run_columns(version, upgraded)
    if upgraded and "modified" in run_cols:
        # An ALTER TABLE ADD COLUMN cannot add NOT NULL without a default: the a3tb shape.
        body = ",\n  ".join(f"{n} {run_types[n]}" for n in run_cols[:-1])
        run_sql = f"CREATE TABLE experiment_run (\n  {body}\n  , modified TEXT)"
    else:
        body = ",\n  ".join(f"{n} {run_types[n]}" for n in run_cols)
        run_sql = f"CREATE TABLE experiment_run (\n  {body}\n  )"
    job_types = {name: kind for name, kind, _ in _JOB_DATA_COLUMNS}
    job_cols = job_data_columns(version)
    body = ",\n  ".join(f"{n} {job_types[n]}" for n in job_cols)
    job_sql = f"CREATE TABLE job_data (\n  {body},\n  UNIQUE(counter,job_name)\n  )"
    return f"{run_sql};\n{job_sql};\nCREATE INDEX ID_JOB_NAME ON job_data(job_name);\n"


def _sqlalchemy_type(kind: str) -> str:
    """The column type SQLAlchemy's DDL gives (fixture a1vj): no AUTOINCREMENT, no defaults."""
    kind = kind.replace(" PRIMARY KEY AUTOINCREMENT", "")
    kind = kind.replace(" DEFAULT 0.0", "").replace(" DEFAULT 0", "")
    return kind.replace("REAL", "FLOAT")


def _sqlalchemy_ddl(version: int) -> str:
    run_types = {name: kind for name, kind, _ in _RUN_COLUMNS}
    run_cols = run_columns(version, upgraded=False)
    body = ", \n\t".join(f"{n} {'TEXT' if n == 'modified' else _sqlalchemy_type(run_types[n])}" for n in run_cols)
    run_sql = f"CREATE TABLE experiment_run (\n\t{body}, \n\tPRIMARY KEY (run_id)\n)"
    job_types = {name: kind for name, kind, _ in _JOB_DATA_COLUMNS}
    body = ", \n\t".join(
        f"{chr(34) + n + chr(34) if n != n.lower() else n} {_sqlalchemy_type(job_types[n])}"
        for n in job_data_columns(version)
    )
    job_sql = (
        f"CREATE TABLE job_data (\n\t{body}, \n\tPRIMARY KEY (id), \n\t"
        "CONSTRAINT unique_counter_and_job_name UNIQUE (counter, job_name)\n)"
    )
    return f'{run_sql};\n{job_sql};\nCREATE INDEX "ID_JOB_NAME" ON job_data (job_name);\n'


def _run_values(run: RunSpec) -> Dict[str, object]:
    values = dict(vars(run))
    values["created"] = run.created or fmt_dash(run.start)
    values["modified"] = run.modified or fmt_dash(run.finish or run.start)
    return values


def _row_values(row: JobDataSpec, swap: bool) -> Dict[str, object]:
    values = dict(vars(row))
    values["created"] = row.created or fmt_dash(row.submit or row.start)
    values["modified"] = row.modified or fmt_dash(row.finish or row.start or row.submit)
    if swap:
        values["section"], values["member"] = row.member, row.section
    return values


def write_job_data(
    path: Union[str, os.PathLike],
    runs: Sequence[RunSpec],
    rows: Sequence[JobDataSpec],
    version: int = 18,
    *,
    swapped: Union[bool, Collection[int]] = False,
    upgraded: Optional[bool] = None,
    style: str = "autosubmit",
) -> None:
    """Write a history DB with `PRAGMA user_version = version`, replacing any existing file.

    `swapped` writes rows the way the Autosubmit 3.12 legacy writer did (member in
    `section`, section in `member`): True for every row, or a collection of row indexes
    (0-based positions in `rows`). `upgraded` forces (or suppresses) the ALTER TABLE
    column order of `experiment_run` (default: only for versions 16 and 17).
    `style="sqlalchemy"` writes the DDL SQLAlchemy emits (Autosubmit 4.1.12+ creating the
    file through its ORM, fixture a1vj) instead of Autosubmit's hand-written one.
    Rows get ids 1.. in the given order.
    """
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported job_data version {version}")
    if style not in ("autosubmit", "sqlalchemy"):
        raise ValueError(f"unknown DDL style {style!r}")
    if style == "sqlalchemy":
        upgraded = False
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    run_cols = run_columns(version, upgraded)
    job_cols = [c for c in job_data_columns(version) if c != "id"]
    conn = sqlite3.connect(path)
    try:
        conn.executescript(_sqlalchemy_ddl(version) if style == "sqlalchemy" else _ddl(version, upgraded))
        conn.executemany(
            f"INSERT INTO experiment_run ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})",
            [tuple(_run_values(r)[c] for c in run_cols) for r in runs],
        )
        quoted = ", ".join(f'"{c}"' for c in job_cols)
        conn.executemany(
            f"INSERT INTO job_data ({quoted}) VALUES ({', '.join('?' * len(job_cols))})",
            [
                tuple(v[c] for c in job_cols)
                for i, row in enumerate(rows)
                for v in (_row_values(row, swapped is True or (swapped is not False and i in swapped)),)
            ],
        )
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.commit()
    finally:
        conn.close()


STRUCTURE_DATA_DDL = (
    "CREATE TABLE structure_data (run_id INTEGER NOT NULL, e_from VARCHAR NOT NULL, "
    "e_to VARCHAR NOT NULL, min_trigger_status VARCHAR, completion_status VARCHAR, "
    "from_step INTEGER, fail_ok BOOLEAN, PRIMARY KEY (run_id, e_from, e_to))"
)


def write_structure_data(path: Union[str, os.PathLike], edges_by_run: Mapping[int, Sequence[Tuple[str, str]]]) -> None:
    """Add Autosubmit 4.2's `structure_data` table to an existing history DB: each run's
    own (parent, child) edges (docs/data.md A.13). An empty mapping writes the bare table,
    as a 4.2 history whose runs stored no edges has it."""
    with contextlib.closing(sqlite3.connect(os.fspath(path))) as conn, conn:
        conn.execute(STRUCTURE_DATA_DDL)
        conn.executemany(
            "INSERT INTO structure_data (run_id, e_from, e_to, min_trigger_status, completion_status, "
            "from_step, fail_ok) VALUES (?, ?, ?, 'COMPLETED', 'WAITING', 0, 0)",
            [(run_id, a, b) for run_id, edges in edges_by_run.items() for a, b in edges],
        )


def package_code(package_name: str) -> int:
    """The `rowtype` Autosubmit <= 4.1.16 stores for a wrapped job (docs/data.md A.4)."""
    return int(package_name.split("_")[-3])


def default_history(
    jobs: Sequence[JobSpec],
    *,
    t0: int = 1_704_067_200,
    chunk_unit: str = "month",
    chunk_size: int = 1,
    packages: Optional[Mapping[str, Sequence[str]]] = None,
) -> Tuple[List[RunSpec], List[JobDataSpec]]:
    """A plausible history for `jobs` (deterministic: times start at `t0`).

    Jobs that never ran (WAITING, READY, ...) have no rows. The 2nd, 6th, 10th, ...
    COMPLETED job and every job with `fail_count > 0` fail first (once, or fail_count
    times) in run 1 and are retried in run 2; jobs still SUBMITTED/QUEUING/RUNNING/HELD/
    SUSPENDED get their current attempt in run 2, which then has `finish = 0`.
    Jobs of `packages` ({package name: job names}) get the package code as `rowtype`.
    """
    codes: Dict[str, int] = {}
    for package, members in (packages or {}).items():
        for member in members:
            codes[member] = package_code(package)
    children: Dict[str, List[str]] = {}
    for job in jobs:
        for parent in job.parents:
            children.setdefault(parent, []).append(job.name)

    first: List[Tuple[JobSpec, str, int]] = []  # (job, status of attempt, previous failures)
    second: List[Tuple[JobSpec, str, int]] = []
    completed_seen = 0
    for job in jobs:
        status = STATUS_NAMES.get(job.status, "UNKNOWN")
        if status not in _RAN:
            continue
        if status == "COMPLETED":
            completed_seen += 1
        failures = job.fail_count or (1 if status == "COMPLETED" and completed_seen % 4 == 2 else 0)
        if status == "FAILED" and failures == 0:
            first.append((job, "FAILED", 0))
            continue
        for n in range(failures):
            first.append((job, "FAILED", n))
        if failures or status in _IN_PROGRESS:
            second.append((job, status, failures))
        else:
            first.append((job, status, 0))

    rows: List[JobDataSpec] = []
    counters: Dict[str, int] = {}
    clock = t0 + 60
    run_bounds = []
    for run_id, attempts in ((1, first), (2, second)):
        run_start = clock
        in_progress = False
        for k, (job, status, fails) in enumerate(attempts):
            queue = 30 + (k % 7) * 10
            duration = 120 + (k % 5) * 60
            submit = clock
            start = finish = 0
            if status in ("RUNNING", "SUSPENDED", "COMPLETED", "FAILED"):
                start = submit + queue
            if status in ("COMPLETED", "FAILED"):
                finish = start + duration
            in_progress |= status in _IN_PROGRESS
            clock = max(submit, start, finish) + 10
            counters[job.name] = counters.get(job.name, 0) + 1
            ncpus = int(job.processors) if str(job.processors).isdigit() else 1
            stamp = _stamp(submit)
            rows.append(
                JobDataSpec(
                    job_name=job.name,
                    counter=counters[job.name],
                    submit=submit,
                    start=start,
                    finish=finish,
                    status=status,
                    rowtype=codes.get(job.name, 2),
                    ncpus=ncpus,
                    wallclock=job.wallclock or "00:30",
                    qos=job.queue or "debug",
                    energy=(finish - start) * ncpus * 10 if status == "COMPLETED" else 0,
                    date=job.date.strftime("%Y-%m-%d %H:%M:%S") if job.date else "",
                    section=job.section,
                    member=job.member or "",
                    chunk=job.chunk or 0,
                    last=0,
                    platform=job.platform,
                    job_id=1000 + len(rows) + 1,
                    nnodes=1 if ncpus > 1 else 0,
                    run_id=run_id,
                    out=f"{job.name}.{stamp}.out",
                    err=f"{job.name}.{stamp}.err",
                    rowstatus=1 if status == "COMPLETED" else 0,
                    children=",".join(children.get(job.name, ())),
                    split=job.split,
                    splits=job.splits,
                    fail_count=fails,
                )
            )
        run_bounds.append((run_id, run_start, 0 if in_progress else clock))
        clock += 60

    last_index = {row.job_name: i for i, row in enumerate(rows)}
    rows = [replace(row, last=1) if last_index[row.job_name] == i else row for i, row in enumerate(rows)]

    runs: List[RunSpec] = []
    for run_id, start, finish in run_bounds:
        latest: Dict[str, str] = {}
        for row in rows:
            if row.run_id is not None and row.run_id <= run_id:
                latest[row.job_name] = row.status
        counts = {
            name: sum(1 for s in latest.values() if s == name)
            for name in ("COMPLETED", "FAILED", "QUEUING", "RUNNING", "SUBMITTED", "SUSPENDED")
        }
        runs.append(
            RunSpec(
                run_id=run_id,
                start=start,
                finish=finish,
                chunk_unit=chunk_unit,
                chunk_size=chunk_size,
                completed=counts["COMPLETED"],
                total=len(jobs),
                failed=counts["FAILED"],
                queuing=counts["QUEUING"],
                running=counts["RUNNING"],
                submitted=counts["SUBMITTED"],
                suspended=counts["SUSPENDED"],
            )
        )
    return runs, rows
