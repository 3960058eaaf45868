"""The job table every job view derives from (docs/data.md B.0.2): every current job in pickle
order with its edges, package, section settings, logs and times.

Nothing here opens a file: `services/jobs/loading.py:load_table` gathers the readers' results
and calls `build_table`; the views (quick, tree, graph, summary, pkl-info) only read the
`JobTable`. Everything is plain data so a view can be computed once per input change.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Tuple

from autosubmit_api.job_status import (
    COMPLETED,
    FAILED,
    QUEUING,
    RUNNING,
    SUBMITTED,
    status_name,
)
from autosubmit_api.models import ExperimentConfig, Job, Packages
from autosubmit_api.readers.job_build import paused_gc
from autosubmit_api.services.jobs.badges import SOURCE_TAG, SYNC_TAG, TARGET_TAG, wrapper_tag
from autosubmit_api.services.jobs.sections import SectionConf, section_conf
from autosubmit_api.services.jobs.status_display import WHITE_TEXT, status_color
from autosubmit_api.services.jobs.times import LatestRow, Times, raw_times, running_text, wrapper_corrections
from autosubmit_api.services.timefmt import fmt_dt


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building large views: they allocate millions of small
    objects and no cycles, and the collector's passes cost a third of the build."""
    with paused_gc():
        yield


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
    rows: Mapping[str, LatestRow]
    stats: Dict[str, Tuple[str, ...]]
    times: List[Times] = field(default_factory=list)
    live: FrozenSet[int] = frozenset()
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

    def compute_times(self, now: int, only: Optional[FrozenSet[int]] = None) -> Dict[int, Times]:
        """Times of the jobs `only` (default: all) at `now`, wrapper correction included."""
        wanted = range(len(self.jobs)) if only is None else only
        need = set(wanted)
        if self.packages.package_to_jobs and only is not None:
            for i in list(need):
                package = self.package[i]
                if package is not None:
                    need.update(self._members(package))
        raw: Dict[int, Times] = {}
        for i in need:
            job = self.jobs[i]
            raw[i], _ = raw_times(job.name, self.codes[i], self.rows.get(job.name), self.stats.get(job.name, ()), now)
        if self.packages.package_to_jobs:
            queue = _Lookup(raw, _queue_of)
            run = _Lookup(raw, _run_of)
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

    def exposed(
        self, i: int, t: Times, fmt: Optional[Callable[[int], Optional[str]]] = None
    ) -> Tuple[Optional[str], Optional[str], Optional[str]]:
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


def _queue_of(t: Times) -> int:
    return t.queue


def _run_of(t: Times) -> int:
    return t.run


class _Lookup:
    """queue/run columns of a dict of Times, indexable by job index."""

    def __init__(self, raw: Dict[int, Times], column: Callable[[Times], int]):
        self.raw, self.column = raw, column

    def __getitem__(self, i: int) -> int:
        t = self.raw.get(i)
        return self.column(t) if t is not None else 0


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
    rows: Mapping[str, LatestRow],
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
            package_name = package[i]
            if package_name is not None:
                live.update(table._members(package_name))
    table.live = frozenset(live)
    table.times = [raw[i] for i in range(len(jobs))]
    if packages.package_to_jobs:
        table.times = [t for _, t in sorted(table.compute_times(now).items())]
    table.post_avg = table.post_average(table.times)
    return table
