"""The reference's time and duration formats (docs/api.md 1.9, docs/data.md B preamble).

Local time is the server's (`datetime.fromtimestamp` semantics); the golden answers were
captured with TZ=UTC.
"""

from __future__ import annotations

import datetime
from typing import Optional, Union

Number = Union[int, float]


def fmt_dt(ts: Optional[Number]) -> Optional[str]:
    """`YYYY-MM-DD HH:MM:SS` local time for ts > 0, else None."""
    if not ts or ts <= 0:
        return None
    return datetime.datetime.fromtimestamp(int(ts)).strftime("%Y-%m-%d %H:%M:%S")


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
    """Python `str(timedelta(seconds=s))`: `0:00:05`, `1714 days, 1:02:05`."""
    return str(datetime.timedelta(seconds=int(seconds)))
