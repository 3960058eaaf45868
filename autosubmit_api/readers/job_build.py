"""Building `models.Job` values fast, shared by every job list reader (the pickle of
readers/job_list.py and the 4.2 job table of readers/job_table_db.py): the job factory,
the job time parser and the garbage-collector pause used
while tens of thousands of objects are built.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional

from autosubmit_api.models import Job, state_of_fields


def opt_int(value: Any) -> Optional[int]:
    """An integer column or attribute as an int; None when it is absent or not a number
    (booleans included), whichever job list it comes from."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def stamp(value: Any) -> Optional[float]:
    """Job *_time_timestamp: 'YYYYMMDDhhmmss' local time, epoch float, or None/0 for unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            return None
        if value > 10**13:  # an int written as YYYYMMDDhhmmss
            value = str(int(value))
        else:
            return float(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 14 and text.isdigit():
            try:
                # A naive datetime's timestamp() reads it as server local time, like mktime.
                return datetime(
                    int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14])
                ).timestamp()
            except (ValueError, OverflowError, OSError):
                return None
        try:
            number = float(text)
        except ValueError:
            return None
        return number if number > 0 else None
    return None


# Jobs are built by filling a fresh instance's __dict__ with every field: a frozen
# dataclass __init__ (one object.__setattr__ per field) would cost ten times as much, which
# is a third of a second for 50,000 jobs. Job has no __post_init__ to skip; if it ever gets
# one, the normal constructor is used.
JOB_FIELDS = tuple(f.name for f in fields(Job))
JOB_DEFAULTS: Dict[str, Any] = {f.name: f.default for f in fields(Job) if f.default is not MISSING}
_FAST_JOBS = not hasattr(Job, "__post_init__")
_new_object = object.__new__


def make_job(values: Dict[str, Any]) -> Job:
    if _FAST_JOBS and len(values) == len(JOB_FIELDS):
        job = _new_object(Job)
        job.__dict__.update(values)
        return job
    return Job(**values)


class Noted:
    """Builds jobs with make_job and notes each one's name and hash(job_state(job)), in build
    order, for the change feed. Hashed here, from the values just made, it costs nothing
    measurable; the same hashes taken later, over 50,000 jobs no longer in the CPU's caches,
    take about 45 ms (docs/performance.md, "Change feed")."""

    __slots__ = ("names", "states")

    def __init__(self) -> None:
        self.names: List[str] = []
        self.states: List[int] = []

    def job(self, values: Dict[str, Any]) -> Job:
        self.names.append(values["name"])
        self.states.append(hash(state_of_fields(values)))
        return make_job(values)


# Blocks of several threads overlap: the collector stays paused until the last one ends (a
# thread that ended first must not turn it back on under another thread's build).
_paused_lock = threading.Lock()
_paused_depth = 0
_paused_owner = False


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the block.

    While tens of thousands of dicts and tuples are built, the collector walks the whole
    growing heap again and again (a third of the parse time of 50,000 jobs), and nothing
    built here is cyclic. Other threads only lose collection for the same moment; blocks of
    several threads count as one pause, from the first start to the last end.
    """
    global _paused_depth, _paused_owner
    with _paused_lock:
        if _paused_depth == 0:
            _paused_owner = gc.isenabled()
            gc.disable()
        _paused_depth += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused_depth -= 1
            if _paused_depth == 0 and _paused_owner:
                _skip_young_collection()
                gc.enable()


def _skip_young_collection() -> None:
    """Move every object allocated while the collector was paused straight to the oldest
    generation, as if it had survived two collections.

    With the collector paused, the millions of objects just built all sit in the youngest
    generation, and the first allocation after `gc.enable()` collects it: one traversal of
    the whole new heap (about 1 s of a cold 50,000-job tree, measured). They are long-lived
    (the cached parse) and acyclic, so that traversal finds nothing; `freeze()` +
    `unfreeze()` splices them into the oldest generation in constant time instead. Any
    cyclic garbage other threads made meanwhile is still found by the next full collection.
    """
    gc.freeze()
    gc.unfreeze()
