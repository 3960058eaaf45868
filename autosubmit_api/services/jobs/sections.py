"""What a job's section sets for the views (docs/data.md B.0.2 step 5): platform, queue (qos),
processors and wallclock, with the platform's values as fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autosubmit_api.models import ExperimentConfig
from autosubmit_api.services.metrics import parse_processors


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
