"""Ready-made job lists shaped like Autosubmit workflows, as `factory.JobSpec` lists.

Names follow Autosubmit: `<expid>_<SECTION>` (running once), `<expid>_<date>_<member>_<SECTION>`
(once per member) and `<expid>_<date>_<member>_<chunk>_<SECTION>` (once per chunk). Jobs come
in Autosubmit's pickle order (parents before children), with dependencies in `parents` and
statuses that look like an experiment in progress.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple

from tests.factory.specs import JobSpec

WAITING, READY, SUBMITTED, QUEUING, RUNNING, COMPLETED, FAILED = 0, 1, 2, 3, 4, 5, -1

# section -> (running level, parent section in the same scope or above, platform, processors,
# wallclock)
SECTIONS: Dict[str, Tuple[str, Optional[str], str, str, str]] = {
    "LOCAL_SETUP": ("once", None, "LOCAL", "1", "00:05"),
    "REMOTE_SETUP": ("once", "LOCAL_SETUP", "MARENOSTRUM4", "1", "00:10"),
    "INI": ("member", "REMOTE_SETUP", "MARENOSTRUM4", "1", "00:30"),
    "SIM": ("chunk", "INI", "MARENOSTRUM4", "48", "02:00"),
    "POST": ("chunk", "SIM", "MARENOSTRUM4", "1", "00:20"),
    "CLEAN": ("member", "POST", "LOCAL", "1", "00:05"),
}
DEFAULT_SECTIONS = tuple(SECTIONS)
LOG_STAMP = "20240101120000"


def _date_text(date: datetime) -> str:
    return date.strftime("%Y%m%d")


def _parse_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d")


def _name(
    expid: str, section: str, date: Optional[datetime] = None, member: Optional[str] = None, chunk: Optional[int] = None
) -> str:
    parts = [expid]
    if date is not None:
        parts.append(_date_text(date))
    if member is not None:
        parts.append(member)
    if chunk is not None:
        parts.append(str(chunk))
    parts.append(section)
    return "_".join(parts)


def _build(
    expid: str, dates: Sequence[datetime], members: Sequence[str], chunks: int, sections: Sequence[str]
) -> List[JobSpec]:
    """Every job of the workflow, statuses left WAITING."""
    chosen = [s for s in DEFAULT_SECTIONS if s in sections]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}; known: {DEFAULT_SECTIONS}")

    def parent_section(section: str) -> Optional[str]:
        parent = SECTIONS[section][1]
        while parent is not None and parent not in chosen:
            parent = SECTIONS[parent][1]
        return parent

    jobs: List[JobSpec] = []
    # latest job of each section per scope, to find parents: (section, date, member) -> name
    latest: Dict[Tuple[str, Optional[datetime], Optional[str]], List[str]] = {}

    def add(section: str, date=None, member=None, chunk=None) -> None:
        level, _parent, platform, processors, wallclock = SECTIONS[section]
        parents: List[str] = []
        parent = parent_section(section)
        if parent is not None:
            parent_level = SECTIONS[parent][0]
            scope = (parent, None, None) if parent_level == "once" else (parent, date, member)
            found = latest.get(scope, [])
            if parent_level == "chunk" and level == "chunk":
                found = [n for n in found if n.endswith(f"_{chunk}_{parent}")]
            elif parent_level == "chunk" and level != "chunk":
                found = found[-1:]  # a member-level job waits for the last chunk
            parents.extend(found)
        if section == "SIM" and chunk and chunk > 1:
            parents.append(_name(expid, "SIM", date, member, chunk - 1))
        name = _name(expid, section, date, member, chunk)
        jobs.append(
            JobSpec(
                name=name,
                section=section,
                date=date,
                member=member,
                chunk=chunk,
                priority=len(jobs),
                platform=platform,
                processors=processors,
                wallclock=wallclock,
                parents=tuple(dict.fromkeys(parents)),
            )
        )
        key = (section, None, None) if level == "once" else (section, date, member)
        latest.setdefault(key, []).append(name)

    for section in chosen:
        if SECTIONS[section][0] == "once" and section != "CLEAN":
            add(section)
    for date in dates:
        for member in members:
            if "INI" in chosen:
                add("INI", date, member)
            for chunk in range(1, chunks + 1):
                for section in ("SIM", "POST"):
                    if section in chosen:
                        add(section, date, member, chunk)
            if "CLEAN" in chosen:
                add("CLEAN", date, member)
    return jobs


def _set_status(job: JobSpec, status: int, counter: int) -> None:
    job.status = status
    if status in (SUBMITTED, QUEUING, RUNNING, COMPLETED, FAILED):
        job.id = 1_000_000 + counter
        job.prev_status = {COMPLETED: RUNNING, RUNNING: QUEUING, QUEUING: SUBMITTED, FAILED: RUNNING, SUBMITTED: READY}[
            status
        ]
    if status in (RUNNING, COMPLETED, FAILED):
        job.out_log = f"{job.name}.{LOG_STAMP}.out"
        job.err_log = f"{job.name}.{LOG_STAMP}.err"
    if status == FAILED:
        job.fail_count = 1


def standard_jobs(
    expid: str,
    dates: Sequence[str] = ("20000101",),
    members: Sequence[str] = ("fc0",),
    chunks: int = 2,
    sections: Sequence[str] = DEFAULT_SECTIONS,
) -> List[JobSpec]:
    """A small workflow: setup jobs, INI per member, SIM and POST per chunk, CLEAN per member.

    SIM n depends on SIM n-1. The first half of the jobs (pickle order) is COMPLETED, the
    next one RUNNING, the next QUEUING, then one READY, the rest WAITING. With the defaults:
    8 jobs, 4 COMPLETED, 1 RUNNING, 1 QUEUING, 1 READY, 1 WAITING.
    """
    jobs = _build(expid, [_parse_date(d) for d in dates], list(members), chunks, sections)
    done = len(jobs) // 2
    for index, job in enumerate(jobs):
        if index < done:
            _set_status(job, COMPLETED, index)
        elif index == done:
            _set_status(job, RUNNING, index)
        elif index == done + 1:
            _set_status(job, QUEUING, index)
        elif index == done + 2:
            _set_status(job, READY, index)
    return jobs


def big_workflow(expid: str, n_jobs: int, seed: int = 0) -> List[JobSpec]:
    """Exactly `n_jobs` jobs over dates x 10 members x 50 chunks x sections, for benchmarks.

    Deterministic for a given seed. Each date-member has advanced to a random chunk: earlier
    chunks COMPLETED, the current SIM RUNNING, QUEUING or FAILED, its successors WAITING, so
    all of RUNNING/QUEUING/FAILED/COMPLETED/WAITING (and READY) occur.
    """
    if n_jobs < 1:
        raise ValueError("n_jobs must be at least 1")
    members = [f"fc{i}" for i in range(10)]
    chunks = 50
    per_date = len(members) * (2 + 2 * chunks)
    n_dates = max(1, -(-(n_jobs - 2) // per_date))
    dates = [datetime(1990 + i // 12, i % 12 + 1, 1) for i in range(n_dates)]
    jobs = _build(expid, dates, members, chunks, DEFAULT_SECTIONS)[:n_jobs]
    rng = random.Random(seed)
    progress: Dict[Tuple[Optional[datetime], Optional[str]], Tuple[int, int]] = {}
    for index, job in enumerate(jobs):
        if job.date is None:
            _set_status(job, COMPLETED, index)
            continue
        key = (job.date, job.member)
        if key not in progress:
            progress[key] = (rng.randint(1, chunks), rng.choice((RUNNING, QUEUING, FAILED, RUNNING)))
        current, current_status = progress[key]
        chunk = job.chunk if job.chunk is not None else (0 if job.section == "INI" else chunks + 1)
        if chunk < current:
            _set_status(job, COMPLETED, index)
        elif chunk == current and job.section == "SIM":
            _set_status(job, current_status, index)
        elif chunk == current and job.section == "POST" and current_status == RUNNING:
            _set_status(job, READY, index)
    return jobs
