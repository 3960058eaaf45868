"""Autosubmit's job statuses (docs/data.md A.9): the one table of codes and names, for the
readers (a 4.2 job table stores names), the views (a pickle stores codes) and the factory
that writes both. How a view shows a status (colours, badges) is services/jobs/status_display.py.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

STATUS_NAMES: Dict[int, str] = {
    -3: "SUSPENDED",
    -2: "UNKNOWN",
    -1: "FAILED",
    0: "WAITING",
    1: "READY",
    2: "SUBMITTED",
    3: "QUEUING",
    4: "RUNNING",
    5: "COMPLETED",
    6: "HELD",
    7: "PREPARED",
    8: "SKIPPED",
    9: "DELAYED",
}
STATUS_CODES: Dict[str, int] = {name: code for code, name in STATUS_NAMES.items()}
# /expcount lists the 13 names in this order (sorted on output anyway).
ALL_STATUS_NAMES: Tuple[str, ...] = tuple(STATUS_NAMES.values())

COMPLETED, FAILED, RUNNING, QUEUING, SUBMITTED, HELD = 5, -1, 4, 3, 2, 6
WAITING, READY, SUSPENDED, UNKNOWN = 0, 1, -3, -2


def status_name(code: Any) -> str:
    """The status name of a code; codes outside A.9 (and non-integers) are UNKNOWN
    (docs/decisions.md Q27)."""
    return STATUS_NAMES.get(code, "UNKNOWN") if isinstance(code, int) else "UNKNOWN"


def code_of_name(name: Any) -> int:
    """The code of a status name (case and surrounding blanks ignored), or of a code that is
    one of A.9's; UNKNOWN otherwise (booleans included), never an error."""
    if isinstance(name, str):
        return STATUS_CODES.get(name.strip().upper(), UNKNOWN)
    if isinstance(name, int) and not isinstance(name, bool) and name in STATUS_NAMES:
        return name
    return UNKNOWN
