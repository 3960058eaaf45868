"""The factory's data: what to write (JobSpec, RunSpec, JobDataSpec) and where (Site).

Kept apart from the package's `__init__` so the format writers import them without
importing the package that imports them (no import cycle, tests/test_layering.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

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
    """Directories and files of one Autosubmit installation, rooted in `root`.

    `recorded_root`: the root the job list pickles record in their jobs' paths, when the site
    is built in one place to be served from another (the bundled examples); None: `root`.
    """

    root: Path
    recorded_root: Optional[str] = None

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
