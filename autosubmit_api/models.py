"""Frozen dataclasses shared by readers and services.

Readers build them from Autosubmit's files; services compute on them; routes shape them
into the reference's JSON. Each group below is owned by the reader that fills it. One
exception to "dataclass": JobDataRow is a NamedTuple, because a history holds hundreds of
thousands of them and tuples build several times faster and smaller.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from operator import itemgetter
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

# --- job list (readers/job_list.py, docs/data.md A.6) -------------------------------------


@dataclass(frozen=True)
class Job:
    """One job of the pickled job list, the same fields whatever the pickle format."""

    name: str
    status: int
    section: str = ""
    id: Union[int, str, None] = 0
    priority: int = 0
    date: Optional[datetime] = None
    member: Optional[str] = None
    chunk: Optional[int] = None
    split: Optional[int] = None
    splits: Optional[int] = None
    out_path_local: Optional[str] = ""  # None: the 4.2 job table names no log yet (NULL)
    err_path_local: Optional[str] = ""
    out_path_remote: Optional[str] = ""  # None: the pickle holds no remote logs (4.1.12+)
    err_path_remote: Optional[str] = ""
    wrapper_type: Optional[str] = None
    platform: Optional[str] = None
    queue: Optional[str] = None
    wallclock: Optional[str] = None
    processors: Optional[str] = None
    tasks: Optional[str] = None
    nodes: Optional[str] = None
    threads: Optional[str] = None
    prev_status: Optional[int] = None
    fail_count: int = 0
    submit_time: Optional[float] = None
    start_time: Optional[float] = None
    finish_time: Optional[float] = None


def first_by_name(jobs: Sequence[Job]) -> Dict[str, Job]:
    """JobList.by_name of `jobs`: each name's first job (a repeated name keeps its first row)."""
    by_name: Dict[str, Job] = {}
    for job in jobs:
        by_name.setdefault(job.name, job)
    return by_name


# What of a job can change between two versions of its job list while its name stays: the
# name is built from section, date, member, chunk and split (and a change of splits adds or
# removes names). The change feed compares versions by these (services/job_feed.py).
JOB_STATE_FIELDS = (
    "status",
    "submit_time",
    "start_time",
    "finish_time",
    "priority",
    "out_path_local",
    "err_path_local",
    "out_path_remote",
    "err_path_remote",
)
# The state of a job's field dictionary (vars(job), or the values a reader builds it from).
state_of_fields = itemgetter(*JOB_STATE_FIELDS)


def job_state(job: Job) -> Tuple[Any, ...]:
    state: Tuple[Any, ...] = state_of_fields(vars(job))
    return state


@dataclass(frozen=True)
class JobList:
    """The parsed pickle: jobs in pickle order, plus the edges the pickle itself holds (F3)."""

    expid: str
    jobs: Tuple[Job, ...]
    pkl_format: str  # "F1" .. "F4"
    pkl_mtime: int  # epoch seconds of the pickle file
    pkl_path: str
    pkl_edges: Tuple[Tuple[str, str], ...] = ()
    by_name: Mapping[str, Job] = field(default_factory=dict, compare=False, repr=False)
    # "pkl" (a pickle file or a PostgreSQL job_pkl row) or "job_db" (the Autosubmit 4.2
    # `jobs` table, readers/job_db.py, whose unsplit jobs have split/splits -1 as stored and as
    # upstream 4.2.0 sends them; a pickle's have None).
    source: str = "pkl"
    # The stored version this list was parsed from, the same in every process that reads it:
    # the pickle file's (inode, mtime_ns, size) as read, or a `job_pkl` row's (modified,
    # length); "" when unknown. The change feed names pickle versions by it.
    version: str = field(default="", compare=False)
    # Each job's name and hash(job_state(job)), in list order, noted by the pickle reader
    # as it built each job (readers/job_build.Noted; docs/performance.md, "Change feed");
    # None from readers that do not note them.
    names: Optional[Tuple[str, ...]] = field(default=None, compare=False, repr=False)
    states: Optional["array[int]"] = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.jobs)

    def get(self, name: str) -> Optional[Job]:
        return self.by_name.get(name)


@dataclass(frozen=True)
class Section:
    """One row of the Autosubmit 4.2 `sections` table (docs/data.md A.13)."""

    name: str
    splits: Optional[int] = None
    dependencies: str = ""  # a Python-literal text, e.g. "{'INI': {}, 'SIM-1': {}}"
    datelist: str = ""
    members: str = ""
    numchunks: Optional[int] = None


@dataclass(frozen=True)
class Dependencies:
    """Parent/child adjacency between jobs that exist in the job list."""

    children: Mapping[str, Tuple[str, ...]]
    parents: Mapping[str, Tuple[str, ...]]
    source: str  # "structure_db", "pkl", "job_data" or "none"

    def edges(self) -> Tuple[Tuple[str, str], ...]:
        return tuple((parent, child) for parent, kids in self.children.items() for child in kids)


EMPTY_MAP: Dict[str, Tuple[str, ...]] = {}


# --- central db (readers/central_db.py, docs/data.md A.2, A.3) ------------------------------


@dataclass(frozen=True)
class ExperimentRow:
    """One `experiment` row with its `details` row and `experiment_status` (None when absent)."""

    id: int
    name: str
    description: str
    autosubmit_version: Optional[str] = None
    user: Optional[str] = None
    created: Optional[str] = None
    model: Optional[str] = None
    branch: Optional[str] = None
    hpc: Optional[str] = None
    status: Optional[str] = None

    @property
    def is_running(self) -> bool:
        return self.status == "RUNNING"


# --- history, packages, graph layout, experiment config (readers/job_data.py,
# --- readers/packages.py, readers/graph_layout.py, readers/exp_config/; docs/data.md A.4, A.7, A.8)


@dataclass(frozen=True)
class ExperimentRun:
    """One `experiment_run` row; `finish` 0 while running, `metadata` the raw JSON text."""

    run_id: int
    created: str = ""
    modified: str = ""
    start: int = 0
    finish: int = 0
    chunk_unit: str = ""
    chunk_size: int = 0
    completed: int = 0
    total: int = 0
    failed: int = 0
    queuing: int = 0
    running: int = 0
    submitted: int = 0
    suspended: int = 0
    metadata: Optional[str] = None


class JobDataRow(NamedTuple):
    """One `job_data` row (one attempt of a job), every schema version in one shape.

    A NamedTuple rather than a frozen dataclass: histories reach 200,000 rows, and a
    frozen dataclass's __init__ is 3-4x slower to build. `raw_section`/`raw_member` are
    the columns as stored; `section`/`member` are corrected for the Autosubmit 3.12
    swap (`swapped` says whether this row was swapped). Columns a version lacks hold
    their DDL default (0, 0.0, "") or None.
    """

    id: int
    counter: int
    job_name: str
    created: str
    modified: str
    submit: int
    start: int
    finish: int
    status: str
    rowtype: int
    ncpus: int
    wallclock: str
    qos: str
    energy: int
    date: str
    raw_section: str
    raw_member: str
    chunk: int
    last: int
    platform: str
    job_id: int
    extra_data: str
    nnodes: int
    run_id: Optional[int]
    MaxRSS: float
    AveRSS: float
    out: str
    err: str
    rowstatus: int
    children: Optional[str]
    platform_output: Optional[str]
    workflow_commit: Optional[str]
    split: Optional[int]
    splits: Optional[int]
    fail_count: int
    section: str
    member: str
    swapped: bool

    @property
    def queue_time(self) -> int:
        """start - submit when both are set and positive, else 0 (docs/data.md A.4 "new")."""
        if self.submit and self.start and self.start > self.submit:
            return self.start - self.submit
        return 0

    @property
    def run_time(self) -> int:
        """finish - start when both are set and positive, else 0 (no "now" substitution)."""
        if self.start and self.finish and self.finish > self.start:
            return self.finish - self.start
        return 0

    @property
    def children_names(self) -> Tuple[str, ...]:
        return tuple(c.strip() for c in (self.children or "").split(",") if c.strip())


@dataclass(frozen=True)
class ExperimentHistory:
    """The whole history DB: runs in table order, rows in id order, plus lazy indexes."""

    expid: str
    user_version: int
    runs: Tuple[ExperimentRun, ...]
    rows: Tuple[JobDataRow, ...]
    source: str = ""  # file name (or schema) it was read from
    columns: Tuple[str, ...] = ()  # job_data columns present, in file order
    last_only: bool = False  # rows holds only the `last = 1` rows (load_history(last_only=True))
    # Written by Autosubmit >= 4.2 (the history has its `structure_data` table, docs/data.md A.13):
    # it opens a run on `run` and leaves that run's counters at 0 while recording its jobs.
    as42: bool = False
    # False when the storage keeps no schema version (PostgreSQL): user_version is then the
    # version the columns correspond to, which readers use but the expinfo card does not show.
    # Not part of equality: the same rows read from either backend are the same history.
    version_stored: bool = field(default=True, compare=False)

    @cached_property
    def runs_by_id(self) -> Dict[int, ExperimentRun]:
        return {run.run_id: run for run in self.runs}

    @cached_property
    def rows_by_name(self) -> Dict[str, Tuple[JobDataRow, ...]]:
        """Every attempt of each job, in id order."""
        grouped: Dict[str, List[JobDataRow]] = {}
        for row in self.rows:
            grouped.setdefault(row.job_name, []).append(row)
        return {name: tuple(rows) for name, rows in grouped.items()}

    @cached_property
    def last_rows(self) -> Dict[str, JobDataRow]:
        """Per job, the first row in id order with `last = 1 AND rowtype >= 2`.

        This is the row the anchor's times collection and last-run lookup use
        (docs/data.md B.0.3, B.0.6); wrapped 4.1.17 rows with rowtype 1 are invisible to it.
        """
        found: Dict[str, JobDataRow] = {}
        for row in self.rows:
            if row.last == 1 and (row.rowtype or 0) >= 2 and row.job_name not in found:
                found[row.job_name] = row
        return found

    @cached_property
    def latest_rows(self) -> Dict[str, JobDataRow]:
        """Per job, the row with the highest id whatever its flags (the newest attempt)."""
        return {row.job_name: row for row in self.rows}

    def run(self, run_id: Optional[int]) -> Optional[ExperimentRun]:
        return self.runs_by_id.get(run_id) if run_id is not None else None

    def rows_of(self, job_name: str) -> Tuple[JobDataRow, ...]:
        return self.rows_by_name.get(job_name, ())

    @property
    def max_run(self) -> Optional[ExperimentRun]:
        return max(self.runs, key=lambda r: r.run_id) if self.runs else None


@dataclass(frozen=True)
class Packages:
    """Wrapper packages of an experiment (docs/data.md A.7), empty when there are none."""

    job_to_package: Mapping[str, str] = field(default_factory=dict)
    package_to_jobs: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    package_to_package_id: Mapping[str, str] = field(default_factory=dict)
    package_to_symbol: Mapping[str, str] = field(default_factory=dict)
    table: Optional[str] = None  # table the rows came from, None when nothing was read

    def __bool__(self) -> bool:
        return bool(self.job_to_package)

    @property
    def is_preview(self) -> bool:
        return self.table in ("wrapper_job_package", "preview_wrappers_jobs")


@dataclass(frozen=True)
class SectionConfig:
    """Per-section job settings as the API reads them (docs/data.md A.8 key tables)."""

    name: str
    processors: str = "1"
    platform: str = ""
    queue: str = ""
    wallclock: str = ""
    tasks: str = ""
    threads: str = ""
    nodes: str = ""
    processors_per_node: str = ""
    exclusive: bool = False


@dataclass(frozen=True)
class PlatformConfig:
    name: str
    type: str = ""
    queue: Optional[str] = None
    serial_queue: Optional[str] = None
    max_wallclock: str = ""
    processors: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ExperimentConfig:
    """The experiment's configuration, merged as Autosubmit does, with typed accessors.

    `raw` is the merged dict: for AS4 the upper-case YAML tree (plus the synthetic keys),
    for AS3 the "full config" `{conf, exp, platforms, jobs, proj}` of INI dicts (a missing
    optional file is None). `files` lists the files read (names relative to the
    experiment directory).
    """

    expid: str
    layout: str  # "AS3" or "AS4"
    raw: Mapping[str, Any]
    files: Tuple[str, ...] = ()
    autosubmit_version: str = ""
    hpcarch: str = ""
    chunk_unit: str = ""
    chunk_size: int = 1
    datelist: Any = ""
    members: Any = ""
    num_chunks: Any = ""
    calendar: str = ""
    project_type: str = ""
    git_origin: str = ""
    git_branch: str = "master"
    git_commit: str = ""
    project_destination: str = ""
    svn_url: str = ""
    safety_sleep_time: int = 10
    wrapper_type: Optional[str] = None
    wrapper_types: Tuple[str, ...] = ()  # AS4: TYPE of each WRAPPERS.<name>, lower case
    wrapper_queue: str = ""
    sections: Mapping[str, SectionConfig] = field(default_factory=dict)
    platforms: Mapping[str, PlatformConfig] = field(default_factory=dict)

    @property
    def model(self) -> str:
        """Git origin for git projects, svn url for svn, else "NA" (docs/data.md A.8)."""
        if self.project_type == "git":
            return self.git_origin
        if self.project_type == "svn":
            return self.svn_url
        return "NA"

    @property
    def branch(self) -> str:
        if self.project_type == "git":
            return self.git_branch
        if self.project_type == "svn":
            return self.svn_url
        return "NA"

    def section(self, name: str) -> SectionConfig:
        """The section's settings; an unknown section gets the defaults on HPCARCH."""
        found = self.sections.get(name)
        if found is not None:
            return found
        return SectionConfig(name=name, platform=self.hpcarch)

    def platform(self, name: Optional[str]) -> Optional[PlatformConfig]:
        if not name:
            return None
        return self.platforms.get(name) or self.platforms.get(str(name).upper())


# --- user metrics (readers/user_metrics.py) --------------------------------------------


@dataclass(frozen=True)
class UserMetric:
    """One row of `user_metrics`: a value a job reported for one run."""

    id: int
    run_id: Optional[int]
    job_name: str
    metric_name: str
    metric_value: Any
    modified: Optional[str]


# --- experiment directory (readers/exp_files.py) -----------------------------------------


@dataclass(frozen=True)
class DirFacts:
    """What `stat` says of an experiment directory: its owner and times (epoch seconds)."""

    uid: int
    owner: str  # the uid's user name, or the number as text when it has none
    atime: float
    mtime: float
    ctime: float


# --- central store (readers/central_store.py: what the workers read and write) ------------


@dataclass(frozen=True)
class DetailsRow:
    """One `details` row as the details worker computed it."""

    exp_id: int
    user: str
    created: str
    model: str
    branch: str
    hpc: str


@dataclass(frozen=True)
class StatusRow:
    """One `experiment_status` row as the status worker computed it."""

    exp_id: int
    name: str
    status: str
    modified: str
    seconds_diff: int = 0


@dataclass(frozen=True)
class AuditOrigin:
    """Who makes a write and from where, for its row of the audit trail (docs/audit.md):
    the user, the client address, the request id (X-Request-ID) and the route template."""

    user: str
    client: Optional[str] = None
    request_id: Optional[str] = None
    route: Optional[str] = None


@dataclass(frozen=True)
class AuditRow:
    """One row of the API's audit trail, as stored."""

    id: int
    time: str
    user: str
    action: str
    target: str
    old_value: Optional[str]
    new_value: Optional[str]
    client: Optional[str]
    request_id: Optional[str]
    route: Optional[str]


@dataclass(frozen=True)
class ExperimentRef:
    """One `experiment` row as the workers walk them."""

    id: int
    name: str
    autosubmit_version: Optional[str]


# --- raw history (readers/job_data.py, before interpretation) ------------------------------


@dataclass(frozen=True)
class RawTable:
    columns: Tuple[str, ...]
    rows: Sequence[Tuple[Any, ...]]


@dataclass(frozen=True)
class RawHistory:
    """What a storage holds, before any interpretation: the seam for other sources."""

    user_version: int
    job_data: Optional[RawTable]
    experiment_run: Optional[RawTable]
    source: str
    last_only: bool = False  # job_data holds only the `last = 1` rows
    as42: bool = False  # the storage also holds `structure_data` (Autosubmit >= 4.2)
    version_stored: bool = True  # False: no `PRAGMA user_version` (PostgreSQL), inferred


# --- logs (readers/logs.py, readers/recovery_logs.py, docs/data.md A.10) ---------------------------


@dataclass(frozen=True)
class LogFile:
    """A log file found on disk: its name, absolute path and mtime (epoch seconds, float)."""

    name: str
    path: str
    mtime: float
    size: int


@dataclass(frozen=True)
class Tail:
    """The last lines of a log, each still ending in its newline (the last may have none)."""

    lines: Tuple[str, ...]
    truncated: bool  # the byte bound was reached before enough lines were found


@dataclass(frozen=True)
class RecoveryLog:
    """The tail of a platform's newest log recovery file (`/v3/exp-recovery-logs`)."""

    platform: str
    filename: str
    path: str
    stamp: datetime  # from the file name
    mtime: float
    lines: Tuple[str, ...]  # the tail, each line without its terminator
