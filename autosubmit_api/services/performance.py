"""`/performance/<expid>`: SYPD, ASYPD, RSYPD, CHSY, JPSY and parallelization (docs/data.md B.9).

`compute` is the pure part (B.9.4 steps 1-9 on jobs whose times are known);
`experiment_performance` gathers its inputs: the job list (readers/job_list.py), the
configuration (readers/exp_config/), the history DB and TOTAL_STATS times
(services/job_times.py, B.0.3).
"""

from __future__ import annotations

import time
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.models import ExperimentConfig, ExperimentHistory
from autosubmit_api.readers import job_data
from autosubmit_api.services import rendered
from autosubmit_api.services.jobs import loading
from autosubmit_api.services.jobs.table import JobTable
from autosubmit_api.services.metrics import chsy_job, sim_parallelization, split_outliers, years_per_chunk
from autosubmit_api.services.runs import require_experiment

WARN_NO_SIM = "We couldn't find COMPLETED SIM jobs in the experiment."
WARN_NO_POST = "We couldn't find COMPLETED POST jobs in the experiment. ASYPD can't be calculated."
WARN_NO_SUPPORT = (
    "RSYPD | There are no TRANSFER nor CLEAN (COMPLETED) jobs in the experiment, RSYPD cannot be computed."
)
WARN_CLEAN_ONLY = (
    "RSYPD | There are no TRANSFER (COMPLETED) jobs in the experiment. We will use "
    "(COMPLETED) CLEAN jobs to compute RSYPD."
)

# The answer when the inputs cannot be gathered (Q31: `PE` added, no `not_considered`).
ERROR_BODY: Dict[str, Any] = {
    "SYPD": None,
    "ASYPD": None,
    "RSYPD": None,
    "CHSY": None,
    "JPSY": None,
    "Parallelization": None,
    "PE": None,
    "considered": [],
    "error": True,
    "error_message": "",
    "warnings_job_data": [],
}


class TimedJob(NamedTuple):
    """A pickle job of section SIM/POST/TRANSFER/CLEAN with its B.0.3 times (a NamedTuple:
    one is built per SIM job per computation, 25,000 in a big experiment)."""

    name: str
    section: str
    status: str  # status name from the pickle
    chunk: Optional[int] = None
    queue: float = 0
    run: float = 0
    energy: float = 0
    start: int = 0
    finish: int = 0
    run_id: Optional[int] = None
    package: Optional[str] = None
    splits: Optional[int] = None


class PlatformInfo(NamedTuple):
    """The SIM platform's carbon factors (upstream 4.2.0's `platform_info`): `CF` in gCO2
    per kWh and `PUE` (power usage effectiveness), 0.0 when not configured."""

    name: str
    cf: float
    pue: float

    def footprint(self, energy: float) -> float:
        """kg CO2 of `energy` joules: kWh x CF x PUE / 1000 (docs/gui-fields.md)."""
        return energy / 3_600_000 * self.cf * self.pue / 1000


NO_PLATFORM = PlatformInfo("", 0.0, 0.0)


def _sim_entry(
    job: TimedJob, ncpus: int, yps: float, post: float, platform: PlatformInfo = NO_PLATFORM
) -> Dict[str, Any]:
    run, queue = job.run, job.queue
    # A split simulates 1/splits of the chunk (docs/decisions.md Q44).
    share = job.splits if job.splits and job.splits > 1 else 1
    return {
        "name": job.name,
        "queue": queue,
        "running": run,
        "CHSY": chsy_job(ncpus, run, yps) if yps > 0 else 0,
        "JPSY": round(job.energy / yps, 2) if yps > 0 else 0,
        "SYPD": round(yps * 86400 / run / share, 2) if yps > 0 and run > 0 else 0,
        "ASYPD": (round(yps * 86400 / (queue + run + post) / share, 2) if (queue + run + post) > 0 else 0),
        "energy": job.energy,
        "footprint": platform.footprint(job.energy),
        "yps": yps,
        "ncpus": ncpus,
        "chunk": job.chunk,
    }


def compute(
    jobs: Iterable[TimedJob],
    pe: int,
    chunk_unit: Optional[str],
    chunk_size: int,
    run_yps: Mapping[int, float],
    extra_warnings: Sequence[str] = (),
    platform: PlatformInfo = NO_PLATFORM,
    platform_warnings: Sequence[str] = (),
) -> Dict[str, Any]:
    """B.9.4 on the experiment's jobs in pickle order.

    `run_yps` maps run_id -> years per chunk of that run (its chunk unit and size);
    `extra_warnings` are the configuration and package warnings, reported last;
    `platform` gives the footprints, `platform_warnings` (why they are 0) come first.
    """
    by_section: Dict[str, List[TimedJob]] = {"SIM": [], "POST": [], "TRANSFER": [], "CLEAN": []}
    for job in jobs:
        if job.section in by_section:
            by_section[job.section].append(job)

    def completed(section: str) -> List[TimedJob]:
        return [job for job in by_section[section] if job.status == "COMPLETED"]

    sims, posts = completed("SIM"), completed("POST")
    transfers, cleans = completed("TRANSFER"), completed("CLEAN")
    warnings: List[str] = []
    if not sims:
        warnings.append(WARN_NO_SIM)
    if not posts:
        warnings.append(WARN_NO_POST)
    if not transfers and not cleans:
        warnings.append(WARN_NO_SUPPORT)
    elif not transfers:
        warnings.append(WARN_CLEAN_ONLY)

    config_yps = years_per_chunk(chunk_unit, chunk_size)

    def yps_of(job: TimedJob) -> float:
        if job.run_id is not None and run_yps.get(job.run_id, 0) > 0:
            return run_yps[job.run_id]
        return config_yps

    post_avg = round(sum(job.queue + job.run for job in posts) / len(posts), 4) if posts else 0.0
    valid, outliers = split_outliers(sims, lambda job: job.run)
    outlier_warnings = [
        f"Considered | Job {job.name} (Package {job.package or 'No Package'}) has no energy "
        "information and is not going to be considered for energy calculations."
        for job in outliers
    ]
    considered = [_sim_entry(job, pe, yps_of(job), post_avg if post_avg > 0 else 0, platform) for job in valid]
    not_considered = [_sim_entry(job, pe, yps_of(job), 0, platform) for job in outliers]

    total_run = sum(job.run for job in valid)
    total_queue = sum(job.queue for job in valid)
    total_years = sum(entry["yps"] for entry in considered)
    sypd = round(total_years * 86400 / total_run, 4) if total_run > 0 else 0
    divisor = total_run + total_queue + post_avg
    asypd = round(total_years * 86400 / divisor, 4) if valid and divisor > 0 else 0
    rsypd = 0
    support = transfers or cleans
    if valid and support:
        # "first"/"last" in pickle order: the reference sorts before times are known (B.9.4).
        span = max(support[-1].finish - valid[0].start, 0)
        if span > 0:
            rsypd = round(total_years * 86400 / span, 4)
    with_energy = [entry for entry, job in zip(considered, valid) if job.energy > 0]
    jpsy = round(sum(entry["JPSY"] for entry in with_energy) / len(with_energy), 4) if with_energy else 0
    chsy = round(sum(entry["CHSY"] for entry in considered) / len(considered), 4) if considered else 0
    return {
        "SYPD": sypd,
        "ASYPD": asypd,
        "RSYPD": rsypd,
        "CHSY": chsy,
        "JPSY": jpsy,
        "Parallelization": pe,
        "considered": considered,
        "not_considered": not_considered,
        "error": False,
        "error_message": "",
        "warnings_job_data": (list(platform_warnings) + outlier_warnings + warnings + list(extra_warnings)),
        # Upstream 4.2.0's additions (docs/gui-fields.md): simulated years, energy, CO2.
        "SY": total_years,
        "Total_energy": sum(entry["energy"] for entry in considered),
        "Total_footprint": sum(entry["footprint"] for entry in considered),
        "platform_info": {"name": platform.name, "CF": platform.cf, "PUE": platform.pue},
    }


def _factor(raw: Mapping[str, Any], key: str) -> Optional[float]:
    try:
        return float(str(raw.get(key)).strip())
    except (TypeError, ValueError):
        return None


def sim_platform(conf: ExperimentConfig) -> Tuple[PlatformInfo, List[str]]:
    """The SIM section's platform (else HPCARCH) with its `CF` and `PUE` settings, and the
    warnings upstream 4.2.0 gives when one is missing (the footprints are then 0). An
    Autosubmit 3 configuration has no such settings: no platform."""
    if conf.layout != "AS4":
        return NO_PLATFORM, ["The platform could not be obtained; therefore the footprint will be 0."]
    name = conf.section("SIM").platform or conf.hpcarch or ""
    platform = conf.platform(name)
    raw = platform.raw if platform is not None else {}
    name = name.upper()
    warnings = []
    factors = []
    for key in ("CF", "PUE"):
        value = _factor(raw, key)
        if value is None:
            warnings.append(f"The {key} for platform {name} could not be obtained; therefore the footprint will be 0.")
        factors.append(value or 0.0)
    return PlatformInfo(name, factors[0], factors[1]), warnings


_SECTIONS = frozenset(("SIM", "POST", "TRANSFER", "CLEAN"))


def _relevant(table: JobTable) -> Tuple[int, ...]:
    """Indices of the COMPLETED jobs of the four sections: the only ones B.9.4 reads."""
    return tuple(i for i, job in enumerate(table.jobs) if table.statuses[i] == "COMPLETED" and job.section in _SECTIONS)


def _metrics(
    settings: Settings, expid: str, table: JobTable, history: Optional[ExperimentHistory], now: int
) -> Dict[str, Any]:
    times = table.times_at(now)
    jobs = []
    for i in loading.cached_view("performance_jobs", table, None, lambda: _relevant(table)):
        job, t = table.jobs[i], times[i]
        jobs.append(
            TimedJob(
                job.name,
                job.section,
                "COMPLETED",
                job.chunk,
                max(t.queue, 0),
                max(t.run, 0),
                max(t.energy or 0, 0),
                t.start or 0,
                t.finish or 0,
                t.run_id,
                table.package[i],
                job.splits,
            )
        )
    run_yps = {
        run.run_id: years_per_chunk(run.chunk_unit, run.chunk_size)
        for run in (history.runs if history is not None else ())
    }
    pe, warnings = sim_parallelization(table.conf)
    platform, platform_warnings = sim_platform(table.conf)
    return compute(
        jobs, pe, table.conf.chunk_unit, table.conf.chunk_size, run_yps, warnings, platform, platform_warnings
    )


def experiment_performance(settings: Settings, expid: str, now: Optional[int] = None) -> Dict[str, Any]:
    """`/performance/<expid>`: B.9.4 on the experiment's current job table."""
    require_experiment(settings, expid)
    table = loading.load_table(settings, expid)
    # Only the runs are read (each run's chunk size); the `last = 1` read, which the job
    # table has just parsed, carries every run, so the 200,000-row history is not parsed.
    history = job_data.load_history(settings, expid, optional=True, last_only=True)
    return _metrics(settings, expid, table, history, int(time.time()) if now is None else now)


def performance_body(settings: Settings, expid: str) -> bytes:
    """The JSON body of `experiment_performance`, serialised once per input change.

    Only COMPLETED jobs are read, whose times do not move with the clock unless one of
    them is "live" (a wrapper member corrected against a running job): then the answer
    is computed for this request.
    """
    require_experiment(settings, expid)
    table = loading.load_table(settings, expid)
    # Only the runs are read (each run's chunk size); the `last = 1` read, which the job
    # table has just parsed, carries every run, so the 200,000-row history is not parsed.
    history = job_data.load_history(settings, expid, optional=True, last_only=True)
    relevant = loading.cached_view("performance_jobs", table, None, lambda: _relevant(table))
    now = int(time.time())
    if table.live and not table.live.isdisjoint(relevant):
        return rendered.render(_metrics(settings, expid, table, history, now)).body()
    return loading.cached_view(
        "performance_body",
        table,
        loading.Ident(history),
        lambda: rendered.render(_metrics(settings, expid, table, history, now)),
    ).body()
