"""Each job's queue and run times (docs/data.md B.0.3): from its latest history row, else its
TOTAL_STATS lines, with the wrapper correction for jobs run in a package, and the running
text the tree shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, NamedTuple, Optional, Protocol, Sequence, Tuple, Union

from autosubmit_api.models import JobDataRow
from autosubmit_api.job_status import (
    FAILED,
    QUEUING,
    RUNNING,
    SUBMITTED,
    SUSPENDED,
    status_name,
)
from autosubmit_api.services.jobs.badges import NA_TEXT, SUSPICIOUS_TEXT
from autosubmit_api.services.timefmt import td


@dataclass(frozen=True)
class LastRow:
    """The latest (`last = 1`, `rowtype >= 2`) history row of a job, as the views need it."""

    status: str
    submit: int = 0
    start: int = 0
    finish: int = 0
    energy: float = 0.0
    ncpus: Optional[int] = None
    run_id: Optional[int] = None


# A job's latest history row: the history's own row (JobDataRow), or a LastRow holding
# only what the views read.
LatestRow = Union[LastRow, JobDataRow]


class Times(NamedTuple):
    queue: int
    run: int
    submit: int
    start: int
    finish: int
    text: str  # status text of the time collection (may be SUSPICIOUS)
    energy: float
    ncpus: Optional[int]
    run_id: Optional[int]


def parse_stamp(text: str) -> int:
    """Epoch of a TOTAL_STATS `YYYYMMDDhhmmss` local stamp; 0 when it is not one (A.10)."""
    formats = {
        4: "%Y",
        6: "%Y%m",
        8: "%Y%m%d",
        10: "%Y%m%d%H",
        12: "%Y%m%d%H%M",
        14: "%Y%m%d%H%M%S",
        19: "%Y-%m-%d %H:%M:%S",
    }
    fmt = formats.get(len(text))
    if fmt is None:
        return 0
    try:
        return int(datetime.strptime(text, fmt).timestamp())
    except (ValueError, OverflowError, OSError):
        return 0


def _duration(a: int, b: int) -> int:
    return b - a if a > 0 and b > 0 and b - a > 0 else 0


def raw_times(name: str, code: int, row: Optional[LatestRow], stats: Sequence[str], now: int) -> Tuple[Times, bool]:
    """(times before the wrapper correction, whether they depend on `now`)."""
    s = status_name(code)
    if row is not None and row.status == s:
        submit, start, finish = int(row.submit or 0), int(row.start or 0), int(row.finish or 0)
        live = row.status == "RUNNING"
        if live:
            finish = now
        queue, run = _duration(submit, start), _duration(start, finish)
        if code == SUSPENDED:
            submit = start = finish = 0
        energy = round(float(row.energy or 0), 2)
        return Times(queue, run, submit, start, finish, s, energy, row.ncpus, row.run_id), live
    if code in (RUNNING, SUBMITTED, QUEUING, FAILED):
        f = [parse_stamp(x) for x in stats[:3]]
        f += [0] * (3 - len(f))
        live = code != FAILED or f[0] == 0
        submit = f[0] or now
        if code == RUNNING:
            start = f[1] or submit
            queue, run, finish = start - submit, now - start, 0
        elif code == FAILED:
            start = f[1] or submit
            finish = f[2] or start
            queue, run = start - submit, finish - start
        else:
            start = finish = 0
            queue, run = now - submit, 0
        text = s
        if len(stats) >= 4:
            if len(stats[3]) != 14:
                text = stats[3]
            if text != s and text != "NA":
                text = "SUSPICIOUS"
        return Times(abs(int(queue)), abs(int(run)), submit, start, finish, text, 0.0, None, None), live
    return Times(0, 0, 0, 0, 0, s, 0.0, None, None), False


def running_text(queue: int, run: int, text: str) -> str:
    if text in ("COMPLETED", "FAILED", "RUNNING"):
        return f"( {td(queue)} ) + {td(run)}"
    if text in ("SUBMITTED", "QUEUING", "HELD", "HOLD"):
        return f"( {td(queue)} )"
    if text == "NA":
        return NA_TEXT
    if text == "SUSPICIOUS":
        return SUSPICIOUS_TEXT
    return ""


class IntColumn(Protocol):
    """One integer per job index (a list, or a view of some jobs' times)."""

    def __getitem__(self, i: int, /) -> int: ...


def wrapper_corrections(
    members: Sequence[int],
    queue: IntColumn,
    run: IntColumn,
    children: Sequence[Sequence[int]],
    has_structure: bool,
) -> Dict[int, int]:
    """Corrected queue times of one package's members (B.0.3 "wrapper correction")."""
    out: Dict[int, int] = {}
    if has_structure:
        inside = set(members)
        has_parent = set()
        for m in members:
            for c in children[m]:
                if c in inside and c != m:
                    has_parent.add(c)
        roots = [m for m in members if m not in has_parent]
        seen = set(roots)
        frontier = list(roots)
        while frontier:
            nxt = []
            for p in frontier:
                for c in children[p]:
                    if c in inside and c not in seen:
                        seen.add(c)
                        out[c] = max(queue[c] - max(queue[p] + run[p], 0), 0)
                        nxt.append(c)
            frontier = nxt
    elif len(members) >= 2:
        ordered = sorted(members, key=lambda m: queue[m] + run[m])
        for prev, m in zip(ordered, ordered[1:]):
            out[m] = max(queue[m] - (queue[prev] + run[prev]), 0)
    return out
