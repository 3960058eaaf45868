"""The date range a chunk simulates, `date` and `date_plus` (docs/data.md B.0.5)."""

from __future__ import annotations

import calendar
import functools
from datetime import datetime, timedelta
from typing import Any, Optional, Tuple

from autosubmit_api import cache_registry


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
        n: Optional[int]
        c: Optional[int]
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


cache_registry.register_lru_cache("services.jobs.chunk_dates.chunk_range", chunk_range)
