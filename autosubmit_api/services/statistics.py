"""`/stats/<expid>/<hours>/<section>`: queue, run and consumption statistics per job from
the `<job>_TOTAL_STATS` files (api.md 7.7, data.md B.12, A.10).

Jobs, sections, processors and wallclocks come from the shared job table (B.0.2); the
attempt lines come from readers/logs.py. Times are hours (floats).
"""
from __future__ import annotations

import datetime
from typing import Dict, List, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.readers import cache, logs
from autosubmit_api.services import job_table
from autosubmit_api.services.job_views import parse_stamp
from autosubmit_api.services.runs import require_experiment

NO_JOBS = ("Autosubmit API couldn't find jobs that match your search critearia (Section: {section}) "
           "in the period from {start} to {end}.")
SUMMARY_ROUNDED = ("expectedConsumption", "realConsumption", "failedRealConsumption",
                   "expectedCpuConsumption", "cpuConsumption", "failedCpuConsumption")

Line = Tuple[int, int, int, str, int]  # submit, start, finish (epochs, 0 = missing), status, fields


def parse_period(raw: str) -> int:
    """The hours path segment; Python's own message for a non-integer, as the reference."""
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"invalid literal for int() with base 10: {raw!r}") from None


def _parse_lines(fields_per_line: Sequence[Sequence[str]]) -> Tuple[Line, ...]:
    """A.10 lines; placeholder words (4.1.17 `start`, `end`, `status`) count as missing."""
    out = []
    for fields in fields_per_line:
        stamps = [parse_stamp(f) if i < 3 else 0 for i, f in enumerate(fields[:3])]
        stamps += [0] * (3 - len(stamps))
        status = fields[3] if len(fields) >= 4 else ""
        out.append((stamps[0], stamps[1], stamps[2], status, len(fields)))
    return tuple(out)


def _stats_lines(settings: Settings, expid: str, name: str) -> Tuple[Line, ...]:
    """Parsed TOTAL_STATS lines of one job, cached by the file's identity."""
    path = logs.total_stats_path(settings, expid, name)
    key = cache.file_key(path)
    if key is None:
        return ()
    return cache.cached("total_stats_lines", key,
                        lambda: _parse_lines(logs.read_total_stats(settings, expid, name)))


def _is_completed(line: Line) -> bool:
    return line[4] == 4 and line[3] == "COMPLETED"


def last_retrials(lines: Sequence[Line]) -> List[Line]:
    """B.12 step 4: from the end, up to (not including) the second COMPLETED line."""
    collected: List[Line] = []
    completed_seen = 0
    for line in reversed(lines):
        if _is_completed(line):
            completed_seen += 1
            if completed_seen == 2:
                break
        collected.append(line)
    collected.reverse()
    return collected


def _hours(seconds: float) -> float:
    # timedelta semantics: days * 24 + seconds / 3600, microseconds ignored.
    delta = datetime.timedelta(seconds=int(seconds))
    return delta.days * 24 + delta.seconds / 3600


def wallclock_hours(text: str) -> float:
    """`HH:MM` as hours; 0 when empty or unreadable."""
    if not text:
        return 0.0
    parts = str(text).split(":")
    try:
        hours = float(parts[0])
        minutes = float(parts[1]) if len(parts) > 1 else 0.0
    except ValueError:
        return 0.0
    return hours + minutes / 60


def job_statistics(name: str, processors: int, wallclock: str, lines: Sequence[Line]) -> dict:
    """B.12 steps 5-6 for one job's collected lines."""
    completed = failed = 0
    queue = run = failed_queue = failed_run = 0
    for submit, start, finish, _status, count in lines:
        if count == 4 and _status == "COMPLETED":
            completed += 1
            queue += max(start - submit, 0) if submit and start else 0
            run += max(finish - start, 0) if start and finish else 0
        else:
            # FAILED lines and partial in-progress lines both count as failed (B.12).
            failed += 1
            if start and finish:
                failed_run += max(finish - start, 0)
            if submit and start:
                failed_queue += max(start - submit, 0)
    wall = wallclock_hours(wallclock)
    return {
        "name": name,
        "processors": processors,
        "wallclock": wall,
        "completedQueueTime": _hours(queue),
        "completedRunTime": _hours(run),
        "failedQueueTime": _hours(failed_queue),
        "failedRunTime": _hours(failed_run),
        "cpuConsumption": _hours(processors * run) + _hours(processors * failed_run),
        "failedCpuConsumption": _hours(processors * failed_run),
        "expectedCpuConsumption": wall * processors,
        "realConsumption": _hours(failed_run + run),
        "failedRealConsumption": _hours(failed_run),
        "expectedConsumption": wall,
        "retrialCount": len(lines),
        "submittedCount": len(lines),
        "completedCount": completed,
        "failedCount": failed,
    }


def summarize(entries: Sequence[dict]) -> dict:
    """B.12 step 7."""
    total = {key: sum(entry[key] for entry in entries) for key in SUMMARY_ROUNDED}
    summary = {key: round(value, 4) for key, value in total.items()}
    expected = total["expectedCpuConsumption"]
    summary.update({
        "cpuConsumptionPercentage": round(total["cpuConsumption"] / expected * 100, 2) if expected else 0.0,
        "totalQueueTime": round(sum(e["completedQueueTime"] + e["failedQueueTime"] for e in entries), 2),
        "submittedCount": sum(e["submittedCount"] for e in entries),
        "runCount": sum(e["retrialCount"] for e in entries),
        "completedCount": sum(e["completedCount"] for e in entries),
        "failedCount": sum(e["failedCount"] for e in entries),
    })
    return summary


def experiment_statistics(settings: Settings, expid: str, filter_period: str, filter_type: str,
                          now: Optional[datetime.datetime] = None) -> dict:
    """B.12: statistics of the experiment's jobs, optionally of one section and a period."""
    hours = parse_period(filter_period)
    require_experiment(settings, expid)
    table = job_table.load_table(settings, expid)
    now = now or datetime.datetime.now()
    end = now.replace(second=0, microsecond=0)
    start = end - datetime.timedelta(hours=hours) if hours > 0 else None
    start_epoch = start.timestamp() if start is not None else None

    chosen: List[Tuple[int, Tuple[Line, ...]]] = []
    for i, job in enumerate(table.jobs):
        if filter_type != "Any" and job.section != filter_type:
            continue
        lines = _stats_lines(settings, expid, job.name)
        if start_epoch is not None and not any(
                line[1] > start_epoch or line[2] > start_epoch for line in lines):
            continue
        chosen.append((i, lines))
    if not chosen:
        raise NotFound(NO_JOBS.format(section=filter_type, start=str(start), end=str(end)))

    def order(item):
        job = table.jobs[item[0]]
        return (job.date or now, job.member or "", job.section or "", job.chunk or 0)

    entries = []
    for i, lines in sorted(chosen, key=order):
        collected = last_retrials(lines)
        if not collected:
            continue
        section = table.sections[i]
        entries.append(job_statistics(table.jobs[i].name, section.processors, section.wallclock, collected))
    return {
        "error": False,
        "error_message": "",
        "Statistics": {"Period": {"From": str(start), "To": end.strftime("%Y-%m-%d %H:%M:%S")},
                       "JobStatistics": entries},
        "summary": summarize(entries),
    }
