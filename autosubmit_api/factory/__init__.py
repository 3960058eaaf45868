"""The experiment factory: writes Autosubmit sites and experiments in the real on-disk formats.

Used by the tests, the benchmarks and the bundled examples (`autosubmit_api start` with no
`.autosubmitrc`). `make_site(root)` lays out a site (an `.autosubmitrc`, the central
`autosubmit.db` and `as_times.db`, the metadata directories); `make_experiment(site, expid,
...)` adds one experiment: its central row, pickle, history DB, structure DB, config, logs
and wrapper packages. Each format is written by its own module:

* `pickles`   job_list_<expid>.pkl in the four formats (data.md A.6)
* `history`   job_data_<expid>.db, every schema version (A.4)
* `structure` structure_<expid>.db edges (A.5)
* `packages`  job_packages_<expid>.db in its three layouts and graph_data_<expid>.db (A.7, A.11)
* `conf`      AS4 YAML / AS3 INI configuration (A.8)
* `workflow`  ready-made job lists (sections x dates x members x chunks with dependencies)
* `hostile`   what a hostile owner puts in an experiment: symlinked directories and files,
              compression bombs, a file swapped with a symlink in a loop (docs/security.md)
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from autosubmit_api.config import Settings, load_settings


@dataclass
class JobSpec:
    """A job to write: what the pickle, the structure DB and the history DB say about it."""

    name: str
    section: str
    status: int = 0
    date: Optional[datetime] = None
    member: Optional[str] = None
    chunk: Optional[int] = None
    split: Optional[int] = None
    splits: Optional[int] = None
    priority: int = 0
    id: Union[int, str] = 0
    platform: str = "LOCAL"
    parents: Tuple[str, ...] = ()
    wrapper_type: Optional[str] = None
    out_log: str = ""
    err_log: str = ""
    queue: str = ""
    wallclock: str = "00:30"
    processors: str = "1"
    tasks: str = "0"
    nodes: str = ""
    threads: str = "1"
    prev_status: int = 0
    fail_count: int = 0


@dataclass
class RunSpec:
    """One `experiment_run` row of the history DB."""

    run_id: int
    start: int
    finish: int = 0
    created: str = ""
    modified: str = ""
    chunk_unit: str = "month"
    chunk_size: int = 1
    completed: int = 0
    total: int = 0
    failed: int = 0
    queuing: int = 0
    running: int = 0
    submitted: int = 0
    suspended: int = 0
    metadata: Optional[str] = None


@dataclass
class JobDataSpec:
    """One `job_data` row (one attempt of one job)."""

    job_name: str
    counter: int = 1
    submit: int = 0
    start: int = 0
    finish: int = 0
    status: str = "COMPLETED"
    rowtype: int = 2
    ncpus: int = 1
    wallclock: str = "00:30"
    qos: str = "debug"
    energy: int = 0
    date: str = ""
    section: str = ""
    member: str = ""
    chunk: int = 0
    last: int = 1
    platform: str = "LOCAL"
    job_id: int = 0
    extra_data: str = ""
    nnodes: int = 0
    run_id: Optional[int] = None
    MaxRSS: float = 0.0
    AveRSS: float = 0.0
    out: str = ""
    err: str = ""
    rowstatus: int = 0
    children: str = ""
    platform_output: str = ""
    workflow_commit: Optional[str] = None
    split: Optional[int] = None
    splits: Optional[int] = None
    fail_count: int = 0
    created: str = ""
    modified: str = ""


@dataclass
class Site:
    """Directories and files of one Autosubmit installation, rooted in `root`."""

    root: Path

    @property
    def db_dir(self) -> Path:
        return self.root

    @property
    def central_db(self) -> Path:
        return self.root / "autosubmit.db"

    @property
    def as_times_db(self) -> Path:
        return self.root / "as_times.db"

    @property
    def local_root(self) -> Path:
        return self.root

    @property
    def jobdata_dir(self) -> Path:
        return self.root / "metadata" / "data"

    @property
    def structures_dir(self) -> Path:
        return self.root / "metadata" / "structures"

    @property
    def graph_dir(self) -> Path:
        return self.root / "metadata" / "graph"

    @property
    def historiclog_dir(self) -> Path:
        return self.root / "metadata" / "logs"

    @property
    def globallogs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def rc_path(self) -> Path:
        return self.root / ".autosubmitrc"

    def exp_dir(self, expid: str) -> Path:
        return self.local_root / expid

    def env(self, **extra: str) -> Dict[str, str]:
        """An environment that points the API at this site."""
        env = {"AUTOSUBMIT_CONFIGURATION": str(self.rc_path), "HOME": str(self.root)}
        env.update(extra)
        return env

    def settings(self, env: Optional[Mapping[str, str]] = None, **overrides: Any) -> Settings:
        full = self.env(**dict(env or {}))
        overrides.setdefault("testing", True)
        return load_settings(full, dotenv=False, **overrides)


RC_TEMPLATE = """[database]
path = {root}
filename = autosubmit.db
backend = sqlite
[local]
path = {root}
[globallogs]
path = {root}/logs
[historicdb]
path = {root}/metadata/data
[structures]
path = {root}/metadata/structures
[historiclog]
path = {root}/metadata/logs
[graph]
path = {root}/metadata/graph
"""

CENTRAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment(
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  name VARCHAR NOT NULL,
  description VARCHAR NOT NULL,
  autosubmit_version VARCHAR);
CREATE TABLE IF NOT EXISTS db_version(version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS details(
  exp_id integer PRIMARY KEY,
  user text NOT NULL,
  created text NOT NULL,
  model text NOT NULL,
  branch text NOT NULL,
  hpc text NOT NULL,
  FOREIGN KEY (exp_id) REFERENCES experiment(id));
"""

AS_TIMES_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment_status(
  exp_id INTEGER NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  seconds_diff INTEGER NOT NULL,
  modified TEXT NOT NULL);
"""


def make_site(root: Union[str, Path]) -> Site:
    """An empty site: `.autosubmitrc`, central DBs and metadata directories under `root`."""
    site = Site(Path(root))
    for directory in (site.root, site.jobdata_dir, site.structures_dir, site.graph_dir,
                      site.historiclog_dir, site.globallogs_dir):
        directory.mkdir(parents=True, exist_ok=True)
    site.rc_path.write_text(RC_TEMPLATE.format(root=site.root))
    with sqlite3.connect(site.central_db) as conn:
        conn.executescript(CENTRAL_SCHEMA)
        if conn.execute("SELECT COUNT(*) FROM db_version").fetchone()[0] == 0:
            conn.execute("INSERT INTO db_version(version) VALUES (1)")
    with sqlite3.connect(site.as_times_db) as conn:
        conn.executescript(AS_TIMES_SCHEMA)
    return site


def add_central_row(
    site: Site,
    expid: str,
    *,
    description: str = "",
    autosubmit_version: Optional[str] = "4.1.12",
    details: Optional[Mapping[str, str]] = None,
    status: Optional[str] = None,
    status_modified: str = "2024-01-01-00:00:00",
) -> int:
    """The experiment's row in autosubmit.db (+ details, + as_times status); returns its id."""
    with sqlite3.connect(site.central_db) as conn:
        cur = conn.execute(
            "INSERT INTO experiment(name, description, autosubmit_version) VALUES (?, ?, ?)",
            (expid, description, autosubmit_version),
        )
        exp_id = cur.lastrowid
        if details is not None:
            conn.execute(
                "INSERT INTO details(exp_id, user, created, model, branch, hpc) VALUES (?,?,?,?,?,?)",
                (exp_id, details.get("user", "tester"), details.get("created", "2024-01-01 00:00:00"),
                 details.get("model", "NA"), details.get("branch", "NA"), details.get("hpc", "LOCAL")),
            )
    if status is not None:
        with sqlite3.connect(site.as_times_db) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO experiment_status(exp_id, name, status, seconds_diff, modified)"
                " VALUES (?, ?, ?, 0, ?)",
                (exp_id, expid, status, status_modified),
            )
    return exp_id


@dataclass
class Experiment:
    """What make_experiment wrote, for tests to refer to."""

    site: Site
    expid: str
    exp_id: int
    jobs: List[JobSpec] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.site.exp_dir(self.expid)

    @property
    def pkl_path(self) -> Path:
        return self.path / "pkl" / f"job_list_{self.expid}.pkl"

    @property
    def job_db_path(self) -> Path:
        """`db/job_list.db`, the Autosubmit 4.2 job list (make_experiment job_list_layout)."""
        return self.path / "db" / "job_list.db"


def make_experiment(
    site: Site,
    expid: str,
    jobs: Optional[Sequence[JobSpec]] = None,
    *,
    pkl_format: str = "F4",
    description: Optional[str] = None,
    autosubmit_version: Optional[str] = "4.1.12",
    details: Optional[Mapping[str, str]] = None,
    status: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
    as3_config: bool = False,
    runs: Optional[Sequence[RunSpec]] = None,
    job_data: Optional[Sequence[JobDataSpec]] = None,
    job_data_version: int = 18,
    structure: bool = True,
    packages: Optional[Mapping[str, Sequence[str]]] = None,
    packages_layout: str = "job_package",
    job_list_layout: str = "pkl",
) -> Experiment:
    """Write one experiment in the real formats. `jobs=None` writes a small default workflow.

    `job_list_layout`: "pkl" (Autosubmit <= 4.1: the pickle, `structure_<expid>.db`,
    `job_packages_<expid>.db`), "db" (Autosubmit 4.2: `db/job_list.db` holds the jobs, edges,
    sections and wrappers, no `pkl/` folder) or "upgraded" (4.2 after an upgrade: the
    database plus a stale pickle and structure DB of the same jobs).

    `runs`/`job_data` None writes a plausible history derived from the jobs; pass `[]` for
    an experiment without history rows, and `job_data_version=0` for no history DB at all.
    """
    # Aliased: the `structure` and `packages` parameters would otherwise be shadowed.
    from autosubmit_api.factory import conf, history, job_db, pickles, workflow
    from autosubmit_api.factory import packages as packages_mod
    from autosubmit_api.factory import structure as structure_mod

    if jobs is None:
        jobs = workflow.standard_jobs(expid)
    jobs = list(jobs)
    exp_id = add_central_row(
        site, expid,
        description=description if description is not None else f"test experiment {expid}",
        autosubmit_version=autosubmit_version, details=details, status=status,
    )
    exp_dir = site.exp_dir(expid)
    if job_list_layout not in ("pkl", "db", "upgraded"):
        raise ValueError(f"unknown job list layout {job_list_layout!r}")
    with_pkl = job_list_layout != "db"
    for sub in ("conf", "tmp", f"tmp/LOG_{expid}", "tmp/ASLOGS", "proj") + (("pkl",) if with_pkl else ()):
        (exp_dir / sub).mkdir(parents=True, exist_ok=True)
    if with_pkl:
        pickles.write_job_list(exp_dir / "pkl" / f"job_list_{expid}.pkl", jobs, pkl_format)
        if structure:
            structure_mod.write_structure(site.structures_dir / f"structure_{expid}.db", jobs)
    if job_list_layout != "pkl":
        job_db.write_job_list_db(exp_dir / "db" / "job_list.db", expid, jobs,
                                 packages=packages if job_list_layout == "db" else None)
    if job_data_version:
        if runs is None or job_data is None:
            default_runs, default_rows = history.default_history(jobs)
            runs = default_runs if runs is None else runs
            job_data = default_rows if job_data is None else job_data
        history.write_job_data(site.jobdata_dir / f"job_data_{expid}.db", runs, job_data,
                               version=job_data_version)
    conf.write_config(exp_dir, expid, config, as3=as3_config)
    if packages and with_pkl:
        packages_mod.write_packages(exp_dir / "pkl" / f"job_packages_{expid}.db", expid, packages,
                                layout=packages_layout)
    return Experiment(site=site, expid=expid, exp_id=exp_id, jobs=jobs)


def set_statuses(experiment: Experiment, statuses: Mapping[str, int], pkl_format: str = "F4") -> None:
    """Rewrite the pickle with some statuses changed, as a running Autosubmit does."""
    from autosubmit_api.factory import pickles

    for job in experiment.jobs:
        if job.name in statuses:
            job.status = statuses[job.name]
    path = experiment.pkl_path
    before = os.stat(path).st_mtime_ns if path.exists() else 0
    pickles.write_job_list(path, experiment.jobs, pkl_format)
    after = os.stat(path).st_mtime_ns
    if after <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))
