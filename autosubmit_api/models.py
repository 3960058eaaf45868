"""Frozen dataclasses shared by readers and services.

Readers build them from Autosubmit's files; services compute on them; routes shape them
into the reference's JSON. Each group below is owned by the reader that fills it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Mapping, Optional, Tuple, Union

# --- job list (readers/job_list.py, data.md A.6) -------------------------------------


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
    out_path_local: str = ""
    err_path_local: str = ""
    out_path_remote: str = ""
    err_path_remote: str = ""
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

    def __len__(self) -> int:
        return len(self.jobs)

    def get(self, name: str) -> Optional[Job]:
        return self.by_name.get(name)


@dataclass(frozen=True)
class Dependencies:
    """Parent/child adjacency between jobs that exist in the job list."""

    children: Mapping[str, Tuple[str, ...]]
    parents: Mapping[str, Tuple[str, ...]]
    source: str  # "structure_db", "pkl", "job_data" or "none"

    def edges(self) -> Tuple[Tuple[str, str], ...]:
        return tuple((parent, child) for parent, kids in self.children.items() for child in kids)


EMPTY_MAP: Dict[str, Tuple[str, ...]] = {}
