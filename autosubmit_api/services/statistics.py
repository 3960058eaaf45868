"""`/stats/<expid>/<hours>/<section>`: queue, run and consumption statistics per job from
the `<job>_TOTAL_STATS` files (docs/api.md 7.7, docs/data.md B.12, A.10).

Jobs, sections, processors and wallclocks come from the shared job table (B.0.2); the
attempt lines come from readers/logs.py. Times are hours (floats).
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from autosubmit_api import cache_registry
from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, NotFound
from autosubmit_api.readers import cache, logs, paths
from autosubmit_api.readers.job_build import paused_gc
from autosubmit_api.services import rendered
from autosubmit_api.services.jobs import loading
from autosubmit_api.services.jobs.status_display import QUIET_CODES
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.jobs.times import parse_stamp
from autosubmit_api.services.metrics import section_parallelization
from autosubmit_api.services.runs import require_experiment

NO_JOBS = (
    "Autosubmit API couldn't find jobs that match your search critearia (Section: {section}) "
    "in the period from {start} to {end}."
)
SUMMARY_ROUNDED = (
    "expectedConsumption",
    "realConsumption",
    "failedRealConsumption",
    "expectedCpuConsumption",
    "cpuConsumption",
    "failedCpuConsumption",
)

Line = Tuple[int, int, int, str, int]  # submit, start, finish (epochs, 0 = missing), status, fields


def parse_period(raw: str) -> int:
    """The hours path segment; Python's own message for a non-integer, as the reference."""
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"invalid literal for int() with base 10: {raw!r}") from None


_hour_epochs: Dict[str, Optional[int]] = {}
_HOUR_EPOCHS_MAX = 200_000
cache_registry.register(
    "services.statistics.hour_epochs",
    bound=_HOUR_EPOCHS_MAX,
    entries=lambda: len(_hour_epochs),
    clear=_hour_epochs.clear,
)


def _hour_epoch(prefix: str) -> Optional[int]:
    """Epoch of the local time `YYYYMMDDhh`:00:00, memoised; None when the hour is not
    linear (an offset change inside it, e.g. a half-hour DST zone, or an invalid or
    unrepresentable date): its stamps then go through parse_stamp one by one."""
    try:
        y, m, d, h = int(prefix[0:4]), int(prefix[4:6]), int(prefix[6:8]), int(prefix[8:10])
        first = int(datetime.datetime(y, m, d, h).timestamp())
        last = int(datetime.datetime(y, m, d, h, 59, 59).timestamp())
        # Naive-local semantics (fold=0) are piecewise linear with one offset change at
        # most in an hour: equal ends 3599 s apart mean one offset for the whole hour.
        found: Optional[int] = first if last - first == 3599 else None
    except (ValueError, OverflowError, OSError):
        found = None
    if len(_hour_epochs) >= _HOUR_EPOCHS_MAX:
        _hour_epochs.clear()
    _hour_epochs[prefix] = found
    return found


def _stamp(text: str) -> int:
    """`YYYYMMDDhhmmss` local time as epoch without strptime (a big experiment has hundreds
    of thousands of these stamps), equal to parse_stamp's `strptime(...).timestamp()`; the
    other A.10 forms go through parse_stamp."""
    if len(text) == 14 and text.isascii() and text.isdigit():
        try:
            base = _hour_epochs[text[:10]]
        except KeyError:  # this hour was not probed yet
            base = _hour_epoch(text[:10])
        if base is not None:
            minute, second = divmod(int(text[10:]), 100)
            # strptime's %M/%S take 00-59 here (60 and 61 fail in datetime()): 0.
            return base + minute * 60 + second if minute < 60 and second < 60 else 0
    return parse_stamp(text)


def _parse_lines(fields_per_line: Sequence[Sequence[str]]) -> Tuple[Line, ...]:
    """A.10 lines; placeholder words (4.1.17 `start`, `end`, `status`) count as missing."""
    stamp = _stamp
    out = []
    for fields in fields_per_line:
        count = len(fields)
        if count >= 4:
            out.append((stamp(fields[0]), stamp(fields[1]), stamp(fields[2]), fields[3], count))
        elif count == 3:
            out.append((stamp(fields[0]), stamp(fields[1]), stamp(fields[2]), "", 3))
        elif count == 2:
            out.append((stamp(fields[0]), stamp(fields[1]), 0, "", 2))
        elif count == 1:
            out.append((stamp(fields[0]), 0, 0, "", 1))
        else:
            out.append((0, 0, 0, "", 0))
    return tuple(out)


# Per experiment tmp dir, the last parse of each stats file: a new snapshot re-reads only
# the files whose (mtime, size) changed. Bounded to a few experiments.
_previous: "OrderedDict[str, Dict[str, Tuple[Tuple[int, int], Tuple[Line, ...]]]]" = OrderedDict()
_previous_lock = threading.Lock()
_PREVIOUS_MAX = 8


def _clear_previous() -> None:
    with _previous_lock:
        _previous.clear()


_previous_counter = cache_registry.register(
    "services.statistics.previous_stats", bound=_PREVIOUS_MAX, entries=lambda: len(_previous), clear=_clear_previous
)


def _parse_snapshot(
    settings: Settings, expid: str, where: str, snapshot: Tuple[Tuple[str, int, int], ...]
) -> Dict[str, Tuple[Line, ...]]:
    """Parse every file of a snapshot, reusing the last parse of files that did not change."""
    with _previous_lock:
        found = _previous.get(where)
        if found is None:
            _previous_counter.misses += 1
        else:
            _previous_counter.hits += 1
        before = found if found is not None else {}
    parsed: Dict[str, Tuple[Tuple[int, int], Tuple[Line, ...]]] = {}
    changed = []
    for name, mtime, size in snapshot:
        old = before.get(name)
        if old is not None and old[0] == (mtime, size):
            parsed[name] = old
        else:
            changed.append((name, mtime, size))
    # Hundreds of thousands of acyclic lists and tuples: without the pause the collector
    # walks the growing heap (the job table included) again and again.
    with paused_gc():
        read = logs.read_total_stats_of(settings, expid, (name for name, _, _ in changed))
        for (name, mtime, size), fields in zip(changed, read):
            parsed[name] = ((mtime, size), _parse_lines(fields))
        del read
    # In the snapshot's (sorted) order.
    now = {name: parsed[name] for name, _, _ in snapshot}
    with _previous_lock:
        _previous[where] = now
        _previous.move_to_end(where)
        while len(_previous) > _PREVIOUS_MAX:
            _previous.popitem(last=False)
    return {name: entry[1] for name, entry in now.items()}


def all_stats_lines(settings: Settings, expid: str, table: JobTable) -> Dict[str, Tuple[Line, ...]]:
    """job name -> parsed TOTAL_STATS lines, for every stats file of the experiment.

    Autosubmit appends to a job's stats file only while the job is submitted, queuing or
    running; a job that is COMPLETED, WAITING or READY in the pkl must change status (and
    so the pkl, and so the job table) before its file changes again. So the whole tmp/
    directory is listed and stat'ed once per job table, and on later requests only the
    files of the jobs in the other states are stat'ed again.
    """
    where = paths.tmp_dir(settings, expid)
    snapshot = loading.cached_view(
        "total_stats_snapshot", table, where, lambda: logs.total_stats_snapshot(settings, expid)
    )
    base = cache.cached("total_stats_all", (where, snapshot), lambda: _parse_snapshot(settings, expid, where, snapshot))

    def active_names() -> Tuple[Tuple[str, Optional[Tuple[str, int, int]]], ...]:
        known = {entry[0]: entry for entry in snapshot}
        return tuple(
            (job.name, known.get(job.name)) for i, job in enumerate(table.jobs) if table.codes[i] not in QUIET_CODES
        )

    active = loading.cached_view("total_stats_active", table, where, active_names)
    changed = []
    for name, was in active:
        key = logs.total_stats_key(settings, expid, name)
        if key != was:
            changed.append((name, key))
    if not changed:
        return base

    def merged() -> Dict[str, Tuple[Line, ...]]:
        out = dict(base)
        for name, key in changed:
            if key is None:
                out.pop(name, None)
            else:
                out[name] = _parse_lines(logs.read_total_stats(settings, expid, name))
        return out

    return cache.cached("total_stats_live", (where, loading.Ident(base), tuple(changed)), merged)


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
    # timedelta semantics (days * 24 + seconds / 3600 of timedelta(seconds=int(x)), whose
    # normalisation is this floor divmod) without building a timedelta.
    days, rest = divmod(int(seconds), 86400)
    return days * 24 + rest / 3600


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


def job_statistics(name: str, processors: int, wallclock: str, lines: Sequence[Line]) -> Dict[str, Any]:
    """B.12 steps 5-6 for one job's collected lines."""
    completed = failed = 0
    queue = run = failed_queue = failed_run = 0
    for submit, start, finish, _status, count in lines:
        if count == 4 and _status == "COMPLETED":
            completed += 1
            # `x if x > 0 else 0`: max(x, 0) without a call per line (ints: same value).
            if submit and start:
                delta = start - submit
                queue += delta if delta > 0 else 0
            if start and finish:
                delta = finish - start
                run += delta if delta > 0 else 0
        else:
            # FAILED lines and partial in-progress lines both count as failed (B.12).
            failed += 1
            if start and finish:
                delta = finish - start
                failed_run += delta if delta > 0 else 0
            if submit and start:
                delta = start - submit
                failed_queue += delta if delta > 0 else 0
    wall = wallclock_hours(wallclock)
    failed_run_hours = _hours(failed_run)
    failed_cpu_hours = _hours(processors * failed_run)
    return {
        "name": name,
        "processors": processors,
        "wallclock": wall,
        "completedQueueTime": _hours(queue),
        "completedRunTime": _hours(run),
        "failedQueueTime": _hours(failed_queue),
        "failedRunTime": failed_run_hours,
        "cpuConsumption": _hours(processors * run) + failed_cpu_hours,
        "failedCpuConsumption": failed_cpu_hours,
        "expectedCpuConsumption": wall * processors,
        "realConsumption": _hours(failed_run + run),
        "failedRealConsumption": failed_run_hours,
        "expectedConsumption": wall,
        "retrialCount": len(lines),
        "submittedCount": len(lines),
        "completedCount": completed,
        "failedCount": failed,
    }


def summarize(entries: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """B.12 step 7."""
    total = {key: sum(entry[key] for entry in entries) for key in SUMMARY_ROUNDED}
    summary = {key: round(value, 4) for key, value in total.items()}
    expected = total["expectedCpuConsumption"]
    summary.update(
        {
            "cpuConsumptionPercentage": round(total["cpuConsumption"] / expected * 100, 2) if expected else 0.0,
            "totalQueueTime": round(sum(e["completedQueueTime"] + e["failedQueueTime"] for e in entries), 2),
            "submittedCount": sum(e["submittedCount"] for e in entries),
            "runCount": sum(e["retrialCount"] for e in entries),
            "completedCount": sum(e["completedCount"] for e in entries),
            "failedCount": sum(e["failedCount"] for e in entries),
        }
    )
    return summary


def _entries(
    table: JobTable,
    lines_of: Dict[str, Tuple[Line, ...]],
    filter_type: str,
    start_epoch: Optional[float],
    now: datetime.datetime,
) -> Optional[List[Dict[str, Any]]]:
    """JobStatistics for the jobs that pass the filters; None when no job passes (B.12 3)."""
    chosen: List[Tuple[int, Tuple[Line, ...]]] = []
    for i, job in enumerate(table.jobs):
        if filter_type != "Any" and job.section != filter_type:
            continue
        lines = lines_of.get(job.name, ())
        if start_epoch is not None and not any(line[1] > start_epoch or line[2] > start_epoch for line in lines):
            continue
        chosen.append((i, lines))
    if not chosen:
        return None

    def order(item: Tuple[int, Tuple[Line, ...]]) -> Tuple[Any, ...]:
        job = table.jobs[item[0]]
        # Undated jobs sort by "now", i.e. after every dated one (Q32: any stable order).
        return (job.date or now, job.member or "", job.section or "", job.chunk or 0)

    entries = []
    cores: Dict[str, int] = {}
    for i, lines in sorted(chosen, key=order):
        collected = last_retrials(lines)
        if collected:
            section = table.sections[i]
            name = table.jobs[i].section
            if name not in cores:
                cores[name] = section_parallelization(table.conf, name, section.processors)[0]
            entries.append(job_statistics(table.jobs[i].name, cores[name], section.wallclock, collected))
    return entries


def _answer(
    entries: List[Dict[str, Any]], start: Optional[datetime.datetime], end: Union[str, rendered.Live]
) -> Dict[str, Any]:
    return {
        "error": False,
        "error_message": "",
        "Statistics": {"Period": {"From": str(start), "To": end}, "JobStatistics": entries},
        "summary": summarize(entries),
    }


def _period(hours: int, now: datetime.datetime) -> Tuple[Optional[datetime.datetime], datetime.datetime]:
    end = now.replace(second=0, microsecond=0)
    start = end - datetime.timedelta(hours=hours) if hours > 0 else None
    return start, end


def experiment_statistics(
    settings: Settings, expid: str, filter_period: str, filter_type: str, now: Optional[datetime.datetime] = None
) -> Dict[str, Any]:
    """B.12: statistics of the experiment's jobs, optionally of one section and a period."""
    hours = parse_period(filter_period)
    require_experiment(settings, expid)
    table = loading.load_table(settings, expid)
    now = now or datetime.datetime.now()
    start, end = _period(hours, now)
    entries = _entries(
        table,
        all_stats_lines(settings, expid, table),
        filter_type,
        start.timestamp() if start is not None else None,
        now,
    )
    if entries is None:
        raise NotFound(NO_JOBS.format(section=filter_type, start=str(start), end=str(end)))
    return _answer(entries, start, end.strftime("%Y-%m-%d %H:%M:%S"))


def statistics_body(settings: Settings, expid: str, filter_period: str, filter_type: str) -> bytes:
    """The JSON body of `experiment_statistics`.

    Without a period nothing but `Period.To` moves with the clock, so the body is
    serialised once per change of the job table or of any stats file, with `To` as a hole.
    """
    hours = parse_period(filter_period)
    if hours > 0:
        return rendered.render(experiment_statistics(settings, expid, filter_period, filter_type)).body()
    require_experiment(settings, expid)
    table = loading.load_table(settings, expid)
    lines_of = all_stats_lines(settings, expid, table)
    now = datetime.datetime.now()
    start, end = _period(hours, now)

    def build() -> Optional[rendered.Rendered]:
        with paused_gc():  # 25,000 acyclic entry dicts and their serialisation
            entries = _entries(table, lines_of, filter_type, None, now)
            if entries is None:
                return None
            return rendered.render(_answer(entries, None, rendered.Live("To")))

    body: Optional[rendered.Rendered] = loading.cached_view(
        "statistics_body", table, (loading.Ident(lines_of), filter_type), build
    )
    if body is None:
        raise NotFound(NO_JOBS.format(section=filter_type, start=str(start), end=str(end)))
    to = end.strftime("%Y-%m-%d %H:%M:%S")
    return body.body(lambda keys: {key: to for key in keys})
