"""Pure formulas shared by the performance, runs and history views (docs/data.md B.0.4, B.9).

No I/O: inputs are numbers and small dataclasses, so every formula is tested on its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple, TypeVar

from autosubmit_api.models import ExperimentConfig

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+; annotations are not evaluated at run time
    from typing_extensions import TypeGuard

T = TypeVar("T")

# Modified z-score limit of the outlier filter (B.9.2).
Z_LIMIT = 7.0
MAD_FACTOR = 1.4826
MEANAD_FACTOR = 1.2533


def years_per_chunk(unit: Optional[str], size: Any) -> float:
    """B.0.4: simulated years in one chunk; unknown (or upper-case) units give 0.0. `size`
    as configured: a number, its text, or anything else (0.0)."""
    try:
        years = float(size)
    except (TypeError, ValueError):
        return 0.0
    if unit == "year":
        return years
    if unit == "month":
        return years / 12
    if unit == "day":
        return years / 365
    if unit == "hour":
        return years / 8760
    return 0.0


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    if n % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def split_outliers(items: Sequence[T], run_of: Callable[[T], float]) -> Tuple[List[T], List[T]]:
    """B.9.2: (valid, outliers) by modified z-score of the run time; input order kept."""
    positive = [run_of(item) for item in items if run_of(item) > 0]
    if len(positive) > 1:
        med = median(positive)
        mad = median([abs(x - med) for x in positive])
        mean = sum(positive) / len(positive)
        mean_ad = sum(abs(x - mean) for x in positive) / len(positive)
    else:
        mad = mean_ad = 0.0
    if len(positive) <= 1 or (mad == 0 and mean_ad == 0):
        valid = [item for item in items if run_of(item) > 0]
        outliers = [item for item in items if not run_of(item) > 0]
        return valid, outliers
    scale = MAD_FACTOR * mad if mad != 0 else MEANAD_FACTOR * mean_ad
    valid, outliers = [], []
    for item in items:
        run = run_of(item)
        z = (run - med) / scale
        (valid if abs(z) <= Z_LIMIT and run > 0 else outliers).append(item)
    return valid, outliers


def _job_years(unit: Optional[str], size: Any, splits: object) -> float:
    # A split job (Autosubmit 4.1.17+) simulates 1/splits of its chunk, as 4.2.0 counts it.
    ypc = years_per_chunk(unit, size)
    return ypc / splits if _positive_int(splits) and splits > 1 else ypc


def sypd_job(
    unit: Optional[str], size: Any, chunk: object, run: Optional[float], status: str, splits: object = None
) -> Optional[float]:
    """B.9.3: per-job SYPD, None unless COMPLETED with a positive chunk and run time."""
    if status != "COMPLETED" or not _positive_int(chunk) or not run or run <= 0:
        return None
    return round(_job_years(unit, size, splits) * 86400 / run, 2)


def asypd_job(
    unit: Optional[str],
    size: Any,
    chunk: object,
    queue_run: Optional[float],
    post_avg: Optional[float],
    status: str,
    splits: object = None,
) -> Optional[float]:
    """B.9.3: per-job ASYPD over queue + run + the average POST time."""
    divisor = (queue_run or 0) + (post_avg or 0)
    if status != "COMPLETED" or not _positive_int(chunk) or divisor <= 0:
        return None
    return round(_job_years(unit, size, splits) * 86400 / divisor, 2)


def chsy_job(ncpus: Optional[int], run: float, years: float) -> float:
    """Core hours per simulated year of one job (upstream 4.2.0, docs/gui-fields.md):
    `round(ncpus x run / years / 3600, 2)`; `years` must be > 0 (the callers answer 0 or
    skip the job otherwise), no cores count as 0."""
    return round((ncpus or 0) * run / years / 3600, 2)


def _positive_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_processors(raw: object) -> Tuple[int, Optional[str]]:
    """B.9.1: (processors, warning or None). Not set (None, blank) is one processor; `a:b`
    (heterogeneous) rounds each part up to whole 36-core nodes; else `int(raw)`; junk is 0."""
    text = "" if raw is None else str(raw)
    if not text.strip():
        return 1, None
    if ":" in text:
        try:
            total = sum(int(math.ceil(float(part) / 36.0)) * 36 for part in text.split(":"))
        except ValueError:
            return 0, "CHSY Critical | Autosubmit API could not parse the number of processors for the SIM job."
        return total, f"Parallelization parsing | {text} was interpreted as {total} cores."
    try:
        return int(text), None
    except ValueError:
        return 0, "CHSY Critical | Autosubmit API could not parse the number of processors for the SIM job."


MISSING_PPN_WARNING = (
    "Missing PROCESSORS_PER_NODE. Should be set if TASKS or NODES are defined. The SIM PROCESSORS will used instead."
)


def processing_elements(
    processors: int, tasks: Optional[int], nodes: Optional[int], ppn: Optional[int], exclusive: bool
) -> Tuple[int, Optional[str]]:
    """B.9.1: the SIM section's processing elements (`Parallelization`) and a warning."""
    if ppn:
        if nodes:
            n_nodes = nodes
        elif tasks:
            n_nodes = int(math.ceil(processors / tasks))
        elif processors > ppn:
            n_nodes = int(math.ceil(processors / ppn))
        else:
            n_nodes = 1
        if not nodes and not exclusive and n_nodes <= 1 and processors <= ppn:
            return processors, None
        return n_nodes * ppn, None
    if tasks or nodes:
        return processors, MISSING_PPN_WARNING
    return processors, None


def _int_or_none(value: object) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def sim_parallelization(conf: ExperimentConfig) -> Tuple[int, List[str]]:
    """B.9.1: (processing elements of the SIM section, configuration warnings)."""
    return section_parallelization(conf, "SIM")


def section_parallelization(
    conf: ExperimentConfig, section: str, processors: Optional[int] = None
) -> Tuple[int, List[str]]:
    """B.9.1 for any section: (the cores its jobs use, configuration warnings): NODES x
    PROCESSORS_PER_NODE where those are set (the job's, else its platform's), else its
    PROCESSORS. The statistics count cores this way, as upstream 4.2.0 ("Fix estimated
    cores used in the statistics endpoint"; docs/gui-fields.md). `processors`: the
    section's already parsed PROCESSORS, instead of parsing them here."""
    sim = conf.section(section)
    warnings: List[str] = []
    if processors is None:
        processors, warning = parse_processors(sim.processors)
        if warning:
            warnings.append(warning)
    if conf.layout != "AS4":
        return processors, warnings
    platform = conf.platform(sim.platform or conf.hpcarch)
    raw = platform.raw if platform is not None else {}

    def pick(own: object, key: str) -> Optional[int]:
        value = _int_or_none(own) if own not in (None, "") else None
        return value if value is not None else _int_or_none(raw.get(key))

    tasks = pick(sim.tasks, "TASKS")
    nodes = pick(sim.nodes, "NODES")
    ppn = pick(sim.processors_per_node, "PROCESSORS_PER_NODE")
    pe, warning = processing_elements(processors, tasks, nodes, ppn, sim.exclusive is True)
    if warning:
        warnings.append(warning)
    return pe, warnings
