"""The reference's time and duration formats (docs/api.md 1.9, docs/data.md B preamble).

Local time is the server's (`datetime.fromtimestamp` semantics); the golden answers were
captured with TZ=UTC.
"""

from __future__ import annotations

import datetime
import functools
import time
from typing import Optional, Union

from autosubmit_api import cache_registry

Number = Union[int, float]


@functools.lru_cache(maxsize=65536)
def fmt_dt(ts: Optional[Number]) -> Optional[str]:
    """`YYYY-MM-DD HH:MM:SS` local time of epoch seconds > 0 (truncated), else None; None too
    for a time the platform's clock cannot show. Cached: the job views format the same
    times for thousands of jobs."""
    if not ts or ts <= 0:
        return None
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(ts)))
    except (OverflowError, OSError, ValueError):
        return None


cache_registry.register_lru_cache("services.timefmt.fmt_dt", fmt_dt)


def fmt_dt_dash(ts: Optional[Number]) -> Optional[str]:
    """`YYYY-MM-DD-HH:MM:SS` local time for ts > 0, else None (/rundetail, Q3)."""
    if not ts or ts <= 0:
        return None
    return datetime.datetime.fromtimestamp(int(ts)).strftime("%Y-%m-%d-%H:%M:%S")


def fmt_utc_iso(ts: Optional[Number]) -> Optional[str]:
    """`YYYY-MM-DDTHH:MM:SS+00:00` in UTC for ts > 0, else None (v4 runs)."""
    if not ts or ts <= 0:
        return None
    return datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc).isoformat(timespec="seconds")


def fmt_local_iso(ts: Optional[Number]) -> Optional[str]:
    """`YYYY-MM-DDTHH:MM:SS+HH:MM`, local time with its offset, for ts > 0, else None (the
    v4 job detail, as upstream 4.2.0 sends it; every browser parses it)."""
    if not ts or ts <= 0:
        return None
    return datetime.datetime.fromtimestamp(int(ts)).astimezone().isoformat(timespec="seconds")


def td(seconds: Number) -> str:
    """Python's `str(timedelta(seconds=int(s)))`: `0:00:05`, `1714 days, 1:02:05`,
    `-1 day, 23:59:59`; built without a timedelta for s >= 0 (the job views call it per job)."""
    s = int(seconds)
    if s < 0:
        return str(datetime.timedelta(seconds=s))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    if days:
        return f"{days} day{'s' if days != 1 else ''}, {clock}"
    return clock
