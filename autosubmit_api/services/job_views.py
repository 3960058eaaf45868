"""Shared building blocks of the job views (docs/data.md A.9, B.0): statuses and colours, time
formats, the job-times collection and the full job table every view derives from.

Nothing here opens a file: `services.job_table.load_table` gathers the readers' results
and calls `build_table`; the views (quick, tree, graph, summary, pkl-info) only read the
`JobTable`. Everything is plain data so a view can be computed once per input change.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from autosubmit_api.job_status import (
    COMPLETED,
    FAILED,
    QUEUING,
    READY,
    RUNNING,
    STATUS_NAMES,
    SUBMITTED,
    SUSPENDED,
    WAITING,
    status_name,
)
from autosubmit_api.models import ExperimentConfig, Job, Packages
from autosubmit_api.readers.job_list import paused_gc
from autosubmit_api.services.metrics import asypd_job, parse_processors, sypd_job
from autosubmit_api.services.rendered import Live
from autosubmit_api.services.timefmt import fmt_dt, td


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic GC while building large views: they allocate millions of small
    objects and no cycles, and the collector's passes cost a third of the build."""
    with paused_gc():
        yield


# --- statuses (docs/data.md A.9, docs/api.md 1.8) ------------------------------------------------

STATUS_COLORS: Dict[str, str] = {
    "WAITING": "#aaaaaa",
    "READY": "lightblue",
    "PREPARED": "lightsalmon",
    "SUBMITTED": "cyan",
    "QUEUING": "lightpink",
    "RUNNING": "green",
    "COMPLETED": "yellow",
    "HELD": "salmon",
    "FAILED": "red",
    "SUSPENDED": "orange",
    "SKIPPED": "lightyellow",
    "UNKNOWN": "white",
    # 4.0.1 had none (its default, white); upstream 4.2.0's colour, which the GUI shows.
    "DELAYED": "lightcyan",
}
WHITE_TEXT = frozenset({"RUNNING", "FAILED", "HELD"})

# Jobs in these states keep pkl order in the quick/v4 lists; the others are moved first.
QUIET_CODES = frozenset({COMPLETED, WAITING, READY})
# The tree also keeps SUSPENDED jobs in place (B.4 "normal" statuses).
TREE_NORMAL_CODES = frozenset({COMPLETED, WAITING, READY, SUSPENDED})


def status_code(code: Any) -> int:
    """The code as served: an unknown code is served as UNKNOWN's code (-2)."""
    return code if isinstance(code, int) and code in STATUS_NAMES else -2


def status_color(name: str) -> str:
    return STATUS_COLORS.get(name, "white")


def interesting_first(indices: Sequence[int], codes: Sequence[int], quiet=QUIET_CODES) -> List[int]:
    """Jobs whose status is not quiet first, in reverse order, then the others in order (B.1.5)."""
    loud = [i for i in indices if codes[i] not in quiet]
    loud.reverse()
    return loud + [i for i in indices if codes[i] in quiet]


# --- HTML badges (docs/data.md B.0.2, B.3, B.4) ----------------------------------------------

TARGET_TAG = " <span class='badge' style='background-color:#99ff66'>TARGET</span>"
SOURCE_TAG = " <span class='badge' style='background-color:#80d4ff'>SOURCE</span>"
SYNC_TAG = " <span class='badge' style='background-color:#0066ff; color:white'>SYNC</span>"
CHECKMARK = " <span class='badge' style='background-color:#4dffa6'>&#10004;</span>"
COMPLETED_TAG = " <span class='badge' style='background-color:%B'> %C / %T COMPLETED</span>"
RUNNING_TAG = " <span class='badge' style='background-color:green; color:#fff'>%R RUNNING</span>"
QUEUING_TAG = " <span class='badge' style='background-color:pink'>%Q QUEUING</span>"
FAILED_TAG = " <span class='badge' style='background-color:red'>%F FAILED</span>"
HELD_TAG = " <span class='badge' style='background-color:#fa8072; color:#fff'>%H HELD</span>"
NA_TEXT = " <small><i><b>NA</b></i></small>"
SUSPICIOUS_TEXT = " <small><i><b>SUSPICIOUS</b></i></small>"


def quick_title(name: str, status: str, package_id: Optional[str]) -> str:
    title = f"{name} <span class='badge' style='background-color: {status_color(status)}'>#{status}</span>"
    if package_id is not None:
        title += f" <span class='badge' style='background-color:#94b8b8'>Wrapped {package_id}</span>"
    return title


def wrapper_tag(package: Optional[str]) -> Optional[str]:
    if package is None:
        return None
    return f" <span class='badge' style='background-color:#94b8b8'>Wrapped {package} </span>"


def folder_badges(completed: int, failed: int, running: int, queuing: int, held: int, total: int) -> str:
    """The counters part of a member or wrapper folder title (B.4 step 2)."""
    colour = "yellow" if completed == total else "#ffffb3"
    text = f"<span class='badge' style='background-color:{colour}'> {completed} / {total} COMPLETED</span>"
    if failed > 0:
        text += f" <span class='badge' style='background-color:red'>{failed} FAILED</span>"
    if running > 0:
        text += f" <span class='badge' style='background-color:green; color:#fff'>{running} RUNNING</span>"
    if queuing > 0:
        text += f" <span class='badge' style='background-color:pink'>{queuing} QUEUING</span>"
    if held > 0:
        text += f" <span class='badge' style='background-color:#fa8072; color:#fff'>{held} HELD</span>"
    if completed == total:
        text += CHECKMARK
    return text


# --- times and units (docs/api.md 1.9, docs/data.md B.0.4, B.0.5) ---------------------------------


def _add_months(d: datetime, months: int) -> datetime:
    month0 = d.month - 1 + months
    year = d.year + month0 // 12
    month = month0 % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def _shift(d: datetime, amount: int, unit: str) -> datetime:
    if unit == "year":
        return _add_months(d, 12 * amount)
    if unit == "month":
        return _add_months(d, amount)
    if unit == "day":
        return d + timedelta(days=amount)
    if unit == "hour":
        # The reference moves hour chunks by whole days (B.0.5).
        return d + timedelta(days=int(amount / 24))
    return d


@functools.lru_cache(maxsize=65536)
def chunk_range(
    date: Optional[datetime], chunk: Optional[int], unit: Any, size: Any
) -> Tuple[Optional[str], Optional[str]]:
    """(`date`, `date_plus`) as `YYYY MM DD` (B.0.5)."""
    if date is None:
        return None, None
    begin = end = date
    if chunk is not None and unit is not None:
        try:
            n = int(size)
            c = int(chunk)
        except (TypeError, ValueError):
            n = c = None
        if n is not None and c is not None and unit in ("year", "month", "day", "hour"):
            try:
                begin = _shift(date, (c - 1) * n, unit)
                end = _shift(date, c * n, unit)
            except (OverflowError, ValueError):
                begin = end = date
    return begin.strftime("%Y %m %d"), end.strftime("%Y %m %d")


# --- job times collection (docs/data.md B.0.3) ------------------------------------------------


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


def raw_times(name: str, code: int, row: Optional[LastRow], stats: Sequence[str], now: int) -> Tuple[Times, bool]:
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


def wrapper_corrections(
    members: Sequence[int],
    queue: Sequence[int],
    run: Sequence[int],
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


# --- the full job table (docs/data.md B.0.2) ---------------------------------------------------


@dataclass(frozen=True)
class SectionConf:
    platform: str
    queue: str
    processors: int
    wallclock: str


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def section_conf(conf: ExperimentConfig, section: str, wrapped: bool) -> SectionConf:
    """B.0.2 step 5: platform, qos, processors and wallclock of a section."""
    sec = conf.section(section)
    if _blank(sec.platform):
        platform = conf.hpcarch or ""
    else:
        # AS4 upper-cases section platforms; AS3 keeps the INI spelling (a3tb "transfer_node").
        platform = sec.platform if conf.layout == "AS3" else sec.platform.upper()
    plat = conf.platform(platform)
    raw_proc = sec.processors
    if _blank(raw_proc) and plat is not None and not _blank(plat.processors):
        raw_proc = plat.processors
    processors, _ = parse_processors(raw_proc)
    qos: Any = conf.wrapper_queue if wrapped else sec.queue
    if _blank(qos) and platform != "None":
        serial = plat.serial_queue if plat is not None else None
        queue = plat.queue if plat is not None else None
        if conf.layout == "AS3":
            # INI getters default to "": a blank serial queue falls back to the queue.
            qos = serial if processors == 1 and not _blank(serial) else (queue or "")
        else:
            # The AS4 getters the reference uses give None for a missing key, and a
            # one-processor job takes the serial queue even then (a6zj, a8qc: "None").
            qos = serial if processors == 1 else queue
    wallclock: Any = sec.wallclock
    if _blank(wallclock) and platform != "None":
        wallclock = (plat.max_wallclock if plat is not None else "") or ""
    # str(): a missing AS4 platform queue is served as the string "None" (B.0.2).
    return SectionConf(platform, str(qos), processors, "" if wallclock is None else str(wallclock))


@dataclass
class JobTable:
    """Every current job with what the views show of it, in pkl order (B.0.2)."""

    expid: str
    exp_dir: str
    pkl_path: str
    pkl_mtime: int
    log_dir: str
    jobs: Tuple[Job, ...]
    names: List[str]
    index: Dict[str, int]
    codes: List[int]
    statuses: List[str]
    children: List[List[int]]
    parents: List[List[int]]
    has_structure: bool
    packages: Packages
    package: List[Optional[str]]
    package_id: List[Optional[str]]
    symbol: List[str]
    conf: ExperimentConfig
    sections: List[SectionConf]
    last_run_unit: List[Optional[Tuple[str, int]]]
    out: List[Optional[str]]
    err: List[Optional[str]]
    rows: Dict[str, LastRow]
    stats: Dict[str, Tuple[str, ...]]
    times: List[Times] = field(default_factory=list)
    live: frozenset = frozenset()
    built_at: int = 0
    pkl_format: str = ""
    post_avg: float = 0.0

    def __len__(self) -> int:
        return len(self.jobs)

    def workflow_commit(self, i: int) -> Optional[str]:
        """The commit of the workflow the job's latest history row ran with (job_data
        `workflow_commit`, Autosubmit 4.1.12+); None without that row or column."""
        row = self.rows.get(self.names[i])
        return getattr(row, "workflow_commit", None) if row is not None else None

    # -- times ---------------------------------------------------------------------------

    def compute_times(self, now: int, only: Optional[frozenset] = None) -> Dict[int, Times]:
        """Times of the jobs `only` (default: all) at `now`, wrapper correction included."""
        wanted = range(len(self.jobs)) if only is None else only
        need = set(wanted)
        if self.packages.package_to_jobs and only is not None:
            for i in list(need):
                if self.package[i] is not None:
                    need.update(self._members(self.package[i]))
        raw: Dict[int, Times] = {}
        for i in need:
            job = self.jobs[i]
            raw[i], _ = raw_times(job.name, self.codes[i], self.rows.get(job.name), self.stats.get(job.name, ()), now)
        if self.packages.package_to_jobs:
            queue = _Lookup(raw, 0)
            run = _Lookup(raw, 1)
            fixed: Dict[int, int] = {}
            done = set()
            for i in need:
                package = self.package[i]
                if package is None or package in done:
                    continue
                done.add(package)
                fixed.update(wrapper_corrections(self._members(package), queue, run, self.children, self.has_structure))
            for i, q in fixed.items():
                if i in raw:
                    raw[i] = raw[i]._replace(queue=q)
        return {i: raw[i] for i in wanted}

    def _members(self, package: str) -> List[int]:
        seen = []
        for name in self.packages.package_to_jobs.get(package, ()):
            i = self.index.get(name)
            if i is not None and i not in seen:
                seen.append(i)
        return seen

    def times_at(self, now: int) -> List[Times]:
        """All times at `now`: the cached ones with the live jobs recomputed."""
        if not self.live:
            return self.times
        times = list(self.times)
        for i, t in self.compute_times(now, self.live).items():
            times[i] = t
        return times

    # -- derived per-job values ------------------------------------------------------------

    def effective_unit(self, i: int) -> Tuple[Any, Any]:
        """The job's last run chunk unit/size when both are set, else the configuration's."""
        last = self.last_run_unit[i]
        if last and last[0] and last[1]:
            return last
        return self.conf.chunk_unit, self.conf.chunk_size

    def exposed(self, i: int, t: Times, fmt=None) -> Tuple[Optional[str], Optional[str], Optional[str]]:
        """Submit, start and finish as a view shows them: only the times the job's status
        has reached, formatted by `fmt` (4.0.1's `YYYY-MM-DD HH:MM:SS` by default)."""
        fmt = fmt_dt if fmt is None else fmt
        code = self.codes[i]
        submit = t.submit if code in (COMPLETED, FAILED, QUEUING, RUNNING, SUBMITTED) else 0
        start = t.start if code in (COMPLETED, FAILED, RUNNING) else 0
        finish = t.finish if code in (COMPLETED, FAILED) else 0
        return fmt(submit), fmt(start), fmt(finish)

    def tree_title(self, i: int, t: Times) -> str:
        status = self.statuses[i]
        colour = "#fff" if status in WHITE_TEXT else "#000"
        title = (
            f"{self.names[i]} <span class='badge' style='background-color: "
            f"{status_color(status)}; color:{colour};'>#{status}</span>"
        )
        text = running_text(t.queue, t.run, t.text)
        if text:
            title += f" ~ {text}"
        if not self.children[i]:
            title += TARGET_TAG
        if not self.parents[i]:
            title += SOURCE_TAG
        job = self.jobs[i]
        if job.date is not None and job.member is None:
            title += SYNC_TAG
        tag = wrapper_tag(self.package[i])
        if tag:
            title += tag
        return title

    def post_average(self, times: Sequence[Times]) -> float:
        """Mean queue+run of COMPLETED jobs of section POST, rounded to 4 (B.4 step 8)."""
        totals = [
            times[i].queue + times[i].run
            for i, job in enumerate(self.jobs)
            if job.section == "POST" and self.codes[i] == COMPLETED
        ]
        return round(sum(totals) / len(totals), 4) if totals else 0.0

    def rm_id(self, i: int) -> Any:
        """The pkl job id; 4.1 pickles (F3/F4) keep it as digits text, served as a number."""
        value = self.jobs[i].id
        if self.pkl_format in ("F3", "F4") and isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    def children_names(self, i: int) -> List[str]:
        return [self.names[c] for c in self.children[i]]

    def parent_names(self, i: int) -> List[str]:
        return [self.names[p] for p in self.parents[i]]


class _Lookup:
    """queue/run columns of a dict of Times, indexable by job index."""

    def __init__(self, raw: Dict[int, Times], column: int):
        self.raw, self.column = raw, column

    def __getitem__(self, i: int) -> int:
        t = self.raw.get(i)
        return t[self.column] if t is not None else 0


def build_table(
    *,
    expid: str,
    exp_dir: str,
    pkl_path: str,
    pkl_mtime: int,
    log_dir: str,
    jobs: Sequence[Job],
    children: Mapping[str, Sequence[str]],
    has_structure: bool,
    packages: Packages,
    conf: ExperimentConfig,
    rows: Mapping[str, LastRow],
    runs: Mapping[Any, Tuple[str, int]],
    stats: Mapping[str, Sequence[str]],
    outs: Mapping[str, str],
    errs: Mapping[str, str],
    now: int,
    pkl_format: str = "",
) -> JobTable:
    """The full loader (B.0.2) on already-read inputs; times evaluated at `now`."""
    jobs = tuple(jobs)
    names = [job.name for job in jobs]
    index: Dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    codes = [job.status if isinstance(job.status, int) else -2 for job in jobs]
    statuses = [status_name(c) for c in codes]
    kids: List[List[int]] = [[] for _ in jobs]
    pars: List[List[int]] = [[] for _ in jobs]
    get = index.get
    for parent, names_of_children in children.items():
        p = get(parent)
        if p is None:
            continue
        # Sorted names (docs/decisions.md Q40); edges to jobs not in the pkl are dropped (A.5).
        # Most jobs have one child: no set or sort for those.
        ordered = names_of_children if len(names_of_children) < 2 else sorted(set(names_of_children))
        mine = kids[p]
        for child in ordered:
            c = get(child)
            if c is not None:
                mine.append(c)
    for p, cs in enumerate(kids):
        for c in cs:
            pars[c].append(p)
    by_name = names.__getitem__
    for lst in pars:
        if len(lst) > 1:
            lst.sort(key=by_name)
    package = [packages.job_to_package.get(name) for name in names]
    ids = packages.package_to_package_id
    symbols = packages.package_to_symbol
    package_id = [ids.get(p) if p is not None else None for p in package]
    symbol = [symbols.get(p, "dot") if p is not None else "dot" for p in package]
    per_section: Dict[str, SectionConf] = {}
    sections = []
    for i, job in enumerate(jobs):
        # Keyed by section only, so the first job decides the wrapper qos (B.0.2 quirk).
        sc = per_section.get(job.section)
        if sc is None:
            sc = per_section[job.section] = section_conf(conf, job.section, package[i] is not None)
        sections.append(sc)
    last_unit: List[Optional[Tuple[str, int]]] = []
    for name in names:
        row = rows.get(name)
        last_unit.append(runs.get(row.run_id) if row is not None and row.run_id is not None else None)
    out, err = [], []
    log_prefix = log_dir.rstrip("/") + "/"
    for i, name in enumerate(names):
        final = codes[i] in (COMPLETED, FAILED)
        o, e = outs.get(name), errs.get(name)
        out.append(log_prefix + o if final and o else None)
        err.append(log_prefix + e if final and e else None)
    table = JobTable(
        expid=expid,
        exp_dir=exp_dir,
        pkl_path=pkl_path,
        pkl_mtime=pkl_mtime,
        log_dir=log_dir,
        jobs=jobs,
        names=names,
        index=index,
        codes=codes,
        statuses=statuses,
        children=kids,
        parents=pars,
        has_structure=has_structure,
        packages=packages,
        package=package,
        package_id=package_id,
        symbol=symbol,
        conf=conf,
        sections=sections,
        last_run_unit=last_unit,
        out=out,
        err=err,
        rows=dict(rows),
        stats={k: tuple(v) for k, v in stats.items()},
        built_at=now,
        pkl_format=pkl_format,
    )
    live = set()
    raw: Dict[int, Times] = {}
    for i, job in enumerate(jobs):
        raw[i], is_live = raw_times(job.name, codes[i], rows.get(job.name), table.stats.get(job.name, ()), now)
        if is_live:
            live.add(i)
    if live and packages.package_to_jobs:
        for i in list(live):
            if package[i] is not None:
                live.update(table._members(package[i]))
    table.live = frozenset(live)
    table.times = [raw[i] for i in range(len(jobs))]
    if packages.package_to_jobs:
        table.times = [t for _, t in sorted(table.compute_times(now).items())]
    table.post_avg = table.post_average(table.times)
    return table


def job_record(table: JobTable, i: int, t: Times, post_avg: float) -> Dict[str, Any]:
    """The fields a tree `jobs` entry and a graph node share (B.4 step 8, B.6): the job
    detail panel of the GUI reads the same ones from either."""
    job = table.jobs[i]
    unit, size = table.effective_unit(i)
    date, date_plus = chunk_range(job.date, job.chunk, unit, size)
    submit, start, finish = table.exposed(i, t)
    sc = table.sections[i]
    code = table.codes[i]
    status = table.statuses[i]
    return {
        "id": job.name,
        "internal_id": job.name,
        "label": job.name,
        "status": status,
        "status_code": status_code(code),
        "status_color": status_color(status),
        "platform_name": sc.platform,
        "chunk": job.chunk,
        "chunk_size": size,
        "chunk_unit": unit,
        "member": job.member,
        "date": date,
        "date_plus": date_plus,
        "SYPD": sypd_job(unit, size, job.chunk, t.run, status, job.splits),
        "ASYPD": asypd_job(unit, size, job.chunk, t.queue + t.run, post_avg, status, job.splits),
        "minutes": t.run,
        "submit": submit,
        "start": start,
        "finish": finish,
        "section": job.section,
        "queue": sc.queue,
        "processors": sc.processors,
        "wallclock": sc.wallclock,
        "children": len(table.children[i]),
        "children_list": table.children_names(i),
        "parents": len(table.parents[i]),
        "parent_list": table.parent_names(i),
        "out": table.out[i],
        "err": table.err[i],
        "custom_directives": None,
        "rm_id": table.rm_id(i),
        # Added by upstream 4.2.0 (docs/gui-fields.md): the GUI's job panel shows them.
        "split": job.split,
        "splits": job.splits,
        "workflow_commit": table.workflow_commit(i),
    }


# --- values that move with the clock (services/rendered.py holes) ------------------------

MOVING = (
    "title",
    "minutes",
    "minutes_queue",
    "submit",
    "start",
    "finish",
    "SYPD",
    "ASYPD",
    "running_text",
    "SYPD_last",
)


def moving_fields(table: JobTable, i: int, t: Times) -> Dict[str, Any]:
    """Every served value of job `i` that depends on its times `t`."""
    job = table.jobs[i]
    unit, size = table.effective_unit(i)
    status = table.statuses[i]
    submit, start, finish = table.exposed(i, t)
    last = table.last_run_unit[i]
    return {
        "title": table.tree_title(i, t),
        "minutes": t.run,
        "minutes_queue": t.queue,
        "submit": submit,
        "start": start,
        "finish": finish,
        "SYPD": sypd_job(unit, size, job.chunk, t.run, status, job.splits),
        "ASYPD": asypd_job(unit, size, job.chunk, t.queue + t.run, table.post_avg, status, job.splits),
        "running_text": running_text(t.queue, t.run, t.text),
        "SYPD_last": (
            sypd_job(last[0], last[1], job.chunk, t.run, status, job.splits) if last and last[0] and last[1] else None
        ),
    }


def with_holes(item: Dict[str, Any], i: int, mapping: Mapping[str, str]) -> Dict[str, Any]:
    """Replace the clock-dependent keys of job `i`'s item by holes (key -> MOVING field)."""
    for key, name in mapping.items():
        item[key] = Live((name, i))
    return item


def moving_resolver(table: JobTable, now: int):
    """Resolve ("now") and (field, job index) holes for a request at `now`."""
    memo: Dict[int, Dict[str, Any]] = {}
    fresh: Dict[int, Times] = {}

    def resolve(keys):
        out = {}
        for key in keys:
            if key == "now":
                out[key] = now
                continue
            field_name, i = key
            values = memo.get(i)
            if values is None:
                if not fresh:
                    fresh.update(table.compute_times(now, table.live))
                values = memo[i] = moving_fields(table, i, fresh[i])
            out[key] = values[field_name]
        return out

    return resolve
