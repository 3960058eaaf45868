"""How the job views show a status (docs/data.md A.9, docs/api.md 1.8): the code served, its
colour and badge text colour, and which statuses keep their place in the lists. The codes and
names themselves are autosubmit_api/job_status.py.
"""

from __future__ import annotations

from typing import AbstractSet, Any, Dict, List, Sequence

from autosubmit_api.job_status import (
    COMPLETED,
    READY,
    STATUS_NAMES,
    SUSPENDED,
    WAITING,
)

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


def interesting_first(indices: Sequence[int], codes: Sequence[int], quiet: AbstractSet[int] = QUIET_CODES) -> List[int]:
    """Jobs whose status is not quiet first, in reverse order, then the others in order (B.1.5)."""
    loud = [i for i in indices if codes[i] not in quiet]
    loud.reverse()
    return loud + [i for i in indices if codes[i] in quiet]
