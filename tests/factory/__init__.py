"""The experiment factory: writes Autosubmit sites and experiments in the real on-disk formats.

Used by the tests and the benchmarks, and to build the bundled examples that `autosubmit_api
start` serves with no `.autosubmitrc` (shipped as package data: `examples` below). Not part of
the installed package. `make_site(root)` lays out a site (an `.autosubmitrc`, the central
`autosubmit.db` and `as_times.db`, the metadata directories); `make_experiment(site, expid,
...)` adds one experiment: its central row, job list (pickle, or the 4.2 database), history
DB, structure DB, config, logs and wrapper packages. Each format is written by its own module:

* `specs`     what to write (JobSpec, RunSpec, JobDataSpec) and where (Site)
* `pickles`   job_list_<expid>.pkl in the four formats (docs/data.md A.6)
* `job_db`    the Autosubmit 4.2 db/job_list.db (A.13)
* `postgres`  a site copied into PostgreSQL as Autosubmit 4.1.16+/4.2 keep it (A.12, A.13)
* `history`   job_data_<expid>.db, every schema version (A.4)
* `structure` structure_<expid>.db edges (A.5)
* `packages`  job_packages_<expid>.db in its three layouts and graph_data_<expid>.db (A.7, A.11)
* `conf`      AS4 YAML / AS3 INI configuration (A.8)
* `workflow`  ready-made job lists (sections x dates x members x chunks with dependencies)
* `examples`  the bundled example site, and `python -m tests.factory.examples` to ship it
* `hostile`   what a hostile owner puts in an experiment: symlinked directories and files,
              compression bombs, a file swapped with a symlink in a loop (docs/security.md)
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union


# The `.autosubmitrc` layout has one home, the runtime's (the bundled examples write it too).
from autosubmit_api.examples import RC_TEMPLATE  # noqa: F401 (re-exported)
from tests.factory.specs import JobDataSpec, JobSpec, RunSpec, Site  # noqa: F401 (re-exported)


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


def make_site(root: Union[str, Path], recorded_root: Optional[str] = None) -> Site:
    """An empty site: `.autosubmitrc`, central DBs and metadata directories under `root`.

    `recorded_root`: the root the job list pickles record (Site.recorded_root).
    """
    site = Site(Path(root), recorded_root=recorded_root)
    for directory in (
        site.root,
        site.jobdata_dir,
        site.structures_dir,
        site.graph_dir,
        site.historiclog_dir,
        site.globallogs_dir,
    ):
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
                (
                    exp_id,
                    details.get("user", "tester"),
                    details.get("created", "2024-01-01 00:00:00"),
                    details.get("model", "NA"),
                    details.get("branch", "NA"),
                    details.get("hpc", "LOCAL"),
                ),
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
    from tests.factory import conf, history, job_db, pickles, workflow
    from tests.factory import packages as packages_mod
    from tests.factory import structure as structure_mod

    if jobs is None:
        jobs = workflow.standard_jobs(expid)
    jobs = list(jobs)
    exp_id = add_central_row(
        site,
        expid,
        description=description if description is not None else f"test experiment {expid}",
        autosubmit_version=autosubmit_version,
        details=details,
        status=status,
    )
    exp_dir = site.exp_dir(expid)
    if job_list_layout not in ("pkl", "db", "upgraded"):
        raise ValueError(f"unknown job list layout {job_list_layout!r}")
    with_pkl = job_list_layout != "db"
    for sub in ("conf", "tmp", f"tmp/LOG_{expid}", "tmp/ASLOGS", "proj") + (("pkl",) if with_pkl else ()):
        (exp_dir / sub).mkdir(parents=True, exist_ok=True)
    if with_pkl:
        pickles.write_job_list(
            exp_dir / "pkl" / f"job_list_{expid}.pkl", jobs, pkl_format, recorded_root=site.recorded_root
        )
        if structure:
            structure_mod.write_structure(site.structures_dir / f"structure_{expid}.db", jobs)
    if job_list_layout != "pkl":
        job_db.write_job_list_db(
            exp_dir / "db" / "job_list.db", expid, jobs, packages=packages if job_list_layout == "db" else None
        )
    if job_data_version:
        if runs is None or job_data is None:
            default_runs, default_rows = history.default_history(jobs)
            runs = default_runs if runs is None else runs
            job_data = default_rows if job_data is None else job_data
        history.write_job_data(site.jobdata_dir / f"job_data_{expid}.db", runs, job_data, version=job_data_version)
    conf.write_config(exp_dir, expid, config, as3=as3_config)
    if packages and with_pkl:
        packages_mod.write_packages(
            exp_dir / "pkl" / f"job_packages_{expid}.db", expid, packages, layout=packages_layout
        )
    return Experiment(site=site, expid=expid, exp_id=exp_id, jobs=jobs)


def set_statuses(experiment: Experiment, statuses: Mapping[str, int], pkl_format: str = "F4") -> None:
    """Rewrite the pickle with some statuses changed, as a running Autosubmit does."""
    from tests.factory import pickles

    for job in experiment.jobs:
        if job.name in statuses:
            job.status = statuses[job.name]
    path = experiment.pkl_path
    before = os.stat(path).st_mtime_ns if path.exists() else 0
    pickles.write_job_list(path, experiment.jobs, pkl_format, recorded_root=experiment.site.recorded_root)
    after = os.stat(path).st_mtime_ns
    if after <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))
